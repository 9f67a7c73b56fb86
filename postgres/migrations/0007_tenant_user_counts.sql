-- How many users each tenant has, kept by statement-level triggers in the
-- same transaction as every insert and delete, so a page of the user list
-- does not count the whole tenant on every request. A user never changes
-- tenant.
CREATE TABLE tenant_user_counts (
    tenant_id  BIGINT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    users      BIGINT NOT NULL
);
INSERT INTO tenant_user_counts (tenant_id, users)
    SELECT tenant_id, COUNT(*) FROM users GROUP BY tenant_id;

CREATE FUNCTION steward_users_counted_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tenant_user_counts (tenant_id, users)
        SELECT n.tenant_id, COUNT(*) FROM new_rows n GROUP BY n.tenant_id
    ON CONFLICT (tenant_id) DO UPDATE SET users = tenant_user_counts.users + EXCLUDED.users;
    RETURN NULL;
END $$;

CREATE FUNCTION steward_users_counted_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_user_counts c SET users = c.users - o.n
        FROM (SELECT tenant_id, COUNT(*) AS n FROM old_rows GROUP BY tenant_id) o
        WHERE c.tenant_id = o.tenant_id;
    RETURN NULL;
END $$;

CREATE TRIGGER users_count_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION steward_users_counted_in();
CREATE TRIGGER users_count_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION steward_users_counted_out();
