-- Private action templates. agent_options is the JSON text the client sent
-- (compacted), kept as text so it round-trips unchanged.
CREATE TABLE templates (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    vendor         TEXT    NOT NULL DEFAULT '',
    product        TEXT    NOT NULL DEFAULT '',
    agent_type     TEXT    NOT NULL,
    agent_options  TEXT    NOT NULL DEFAULT '{}',
    created_by     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    updated_by     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    UNIQUE (tenant_id, name)
);
CREATE INDEX templates_created_by ON templates (created_by);
CREATE INDEX templates_updated_by ON templates (updated_by);
