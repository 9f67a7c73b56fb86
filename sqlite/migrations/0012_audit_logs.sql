-- The audit log: one record per change, written in the change's own
-- transaction. No foreign keys: a record outlives the user and the tenant
-- it names (listing hides records older than their tenant, since SQLite
-- may give a deleted tenant's id again). inputs and outputs are JSON text
-- without secrets.
CREATE TABLE audit_logs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id           BIGINT,
    user_id             BIGINT,
    user_email          TEXT    NOT NULL DEFAULT '',
    user_name           TEXT    NOT NULL DEFAULT '',
    operation_name      TEXT    NOT NULL,
    inputs              TEXT    NOT NULL DEFAULT '{}',
    outputs             TEXT    NOT NULL DEFAULT '{}',
    request_ip          TEXT    NOT NULL DEFAULT '',
    request_user_agent  TEXT    NOT NULL DEFAULT '',
    story_id            BIGINT,
    created_at          BIGINT  NOT NULL,
    updated_at          BIGINT  NOT NULL
);
CREATE INDEX audit_logs_tenant_created ON audit_logs (tenant_id, created_at, id);
CREATE INDEX audit_logs_tenant_user ON audit_logs (tenant_id, user_id, created_at);
CREATE INDEX audit_logs_created ON audit_logs (created_at);
