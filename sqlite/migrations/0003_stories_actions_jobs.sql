-- Stories, actions (Tines' agents), the links between them, events, and the
-- job queue. Times are microseconds since the Unix epoch (see package sqlstore).
CREATE TABLE stories (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    guid         TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX stories_tenant ON stories (tenant_id, id);

-- Every tenant starts with a default story (new tenants get one from CreateTenant).
INSERT INTO stories (tenant_id, guid, name, created_at, updated_at)
SELECT id, lower(hex(randomblob(16))), 'Default story', created_at, created_at FROM tenants ORDER BY id;

CREATE TABLE actions (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    story_id         INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    guid             TEXT    NOT NULL UNIQUE,
    type             TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    options          TEXT    NOT NULL DEFAULT '{}',
    keep_events_for  BIGINT  NOT NULL DEFAULT 0,
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    last_event_at    BIGINT,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE INDEX actions_tenant ON actions (tenant_id, id);
CREATE INDEX actions_story ON actions (story_id);

CREATE TABLE action_links (
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    source_id    INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    receiver_id  INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    PRIMARY KEY (source_id, receiver_id)
);
CREATE INDEX action_links_receiver ON action_links (receiver_id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    action_id   INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    story_id    INTEGER NOT NULL,
    payload     TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_action ON events (tenant_id, action_id, id);

-- The job queue. state: 0 queued (run_at may be in the future: scheduled),
-- 1 in progress (leased by worker until lease_until), 2 retry (due at
-- run_at), 3 dead. Done jobs are deleted. No foreign keys: queue writes stay
-- cheap, and a job whose action is gone is dropped when it runs. AUTOINCREMENT
-- keeps ids of finished jobs and removed events from being reused.
CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id      INTEGER NOT NULL,
    action_id      INTEGER NOT NULL,
    event_id       INTEGER,
    kind           TEXT    NOT NULL,
    state          SMALLINT NOT NULL,
    retry_count    INTEGER NOT NULL DEFAULT 0,
    run_at         BIGINT  NOT NULL,
    lease_until    BIGINT,
    worker         TEXT,
    started_at     BIGINT,
    last_retry_at  BIGINT,
    error_class    TEXT    NOT NULL DEFAULT '',
    error_message  TEXT    NOT NULL DEFAULT '',
    died_at        BIGINT,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX jobs_fetch ON jobs (run_at, id) WHERE state = 0;
CREATE INDEX jobs_retry_due ON jobs (run_at) WHERE state = 2;
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE state = 1;
CREATE INDEX jobs_dead ON jobs (tenant_id, died_at) WHERE state = 3;
-- Jobs in progress are left out of the two admin indexes: the hot path
-- (lease, finish) then touches them once per job instead of three times,
-- and the few jobs in progress are found through jobs_lease. Admin lists
-- and the oldest queued job read them in (created_at, id) order, which no
-- other index offers, so planners cannot prefer walking the primary key.
CREATE INDEX jobs_tenant_state ON jobs (tenant_id, state, created_at, id) WHERE state <> 1;
CREATE INDEX jobs_action_state ON jobs (tenant_id, action_id, state, created_at, id) WHERE state <> 1;

-- Exact queue sizes per tenant, action and state, maintained in the same
-- transaction as every job change so that counts never scan the queue.
-- Each transaction adds its changes to one of several shards (chosen at
-- random on PostgreSQL; always 0 on SQLite), so that concurrent workers do
-- not queue behind one hot row; readers sum the shards. Rows with
-- action_id 0 hold each tenant's totals.
CREATE TABLE job_counts (
    tenant_id  INTEGER NOT NULL,
    action_id  INTEGER NOT NULL,
    state      SMALLINT NOT NULL,
    shard      SMALLINT NOT NULL,
    n          BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, action_id, state, shard)
);
