-- Action egress control rules (Tines' allowlist of what a tenant's actions
-- may reach). A rule has an ip (address or CIDR, canonical text) or an fqdn,
-- never both; allowed_action_types is a JSON array of "http-request" and
-- "send-email".
CREATE TABLE egress_rules (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id             INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    ip                    TEXT   NOT NULL DEFAULT '',
    fqdn                  TEXT   NOT NULL DEFAULT '',
    description           TEXT   NOT NULL,
    allowed_action_types  TEXT   NOT NULL DEFAULT '["http-request"]',
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    CHECK ((ip = '') <> (fqdn = ''))
);
CREATE INDEX egress_rules_tenant ON egress_rules (tenant_id, id);

-- How many actions an event has passed through since its chain began (a
-- webhook or a run by hand starts at 0). Past STEWARD_MAX_EVENT_DEPTH an
-- event is not passed on, which bounds any loop.
ALTER TABLE events ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;

-- Loop detection reads a tenant's whole link graph.
CREATE INDEX action_links_tenant ON action_links (tenant_id);
