-- Tenants' IP access control rules: once a tenant has one, its users may
-- authenticate only from addresses that match a rule. ip is an address or
-- a CIDR range in canonical form.
CREATE TABLE ip_access_rules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    ip          TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX ip_access_rules_tenant ON ip_access_rules (tenant_id, id);

-- Failed authentications per client address, in short time buckets
-- (bucket is the bucket's start in microseconds). Old buckets are pruned,
-- so the table holds a few rows per address that failed recently.
CREATE TABLE auth_failures (
    ip       TEXT    NOT NULL,
    bucket   BIGINT  NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (ip, bucket)
);
CREATE INDEX auth_failures_bucket ON auth_failures (bucket);

-- Addresses refused for a while after too many failed authentications.
CREATE TABLE auth_bans (
    ip           TEXT   PRIMARY KEY,
    banned_until BIGINT NOT NULL
);
CREATE INDEX auth_bans_until ON auth_bans (banned_until);
