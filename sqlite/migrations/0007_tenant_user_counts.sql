-- How many users each tenant has, kept by triggers in the same transaction
-- as every insert and delete, so a page of the user list does not count the
-- whole tenant on every request. A user never changes tenant.
CREATE TABLE tenant_user_counts (
    tenant_id  INTEGER PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    users      BIGINT  NOT NULL
);
INSERT INTO tenant_user_counts (tenant_id, users)
    SELECT tenant_id, COUNT(*) FROM users GROUP BY tenant_id;

CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
    INSERT INTO tenant_user_counts (tenant_id, users) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET users = users + 1;
END;

CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
    UPDATE tenant_user_counts SET users = users - 1 WHERE tenant_id = OLD.tenant_id;
END;
