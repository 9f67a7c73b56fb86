-- Tyk-compatible API: organisation fields kept as sent, the hidden instance
-- tenant that holds super users, and the user fields Tyk clients read.
ALTER TABLE tenants ADD COLUMN instance BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tenants ADD COLUMN tyk_fields TEXT NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX tenants_instance ON tenants (instance) WHERE instance;

ALTER TABLE users ADD COLUMN tyk_permissions TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN group_id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN password_max_days BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN password_updated_at BIGINT;
ALTER TABLE users ADD COLUMN access_key_id BIGINT;
-- Best available answer for passwords set before this column existed.
UPDATE users SET password_updated_at = updated_at WHERE password_hash <> '';
