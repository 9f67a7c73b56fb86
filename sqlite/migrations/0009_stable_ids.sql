-- steward:foreign-keys-off
-- Ids are never reused. A table whose id is a plain INTEGER PRIMARY KEY
-- hands the largest id out again once the newest row is deleted, so a
-- script or a webhook URL that kept an old id would silently reach a new
-- organisation, user or action. AUTOINCREMENT forbids that, but SQLite
-- cannot add it to an existing table: each table is rebuilt (create, copy
-- with its ids, drop, rename) with its indexes and triggers, and the
-- sequence of each is seeded from the largest id in use, including ids
-- that tables without foreign keys (jobs, job_counts) still refer to.
--
-- The first line asks the migration runner to run this file with foreign
-- key enforcement off (dropping a table would otherwise delete every row
-- that refers to it) and to check every foreign key before committing.

CREATE TABLE new_tenants (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    instance    BOOLEAN NOT NULL DEFAULT FALSE,
    tyk_fields  TEXT    NOT NULL DEFAULT '{}'
);
INSERT INTO new_tenants (id, name, created_at, updated_at, instance, tyk_fields)
    SELECT id, name, created_at, updated_at, instance, tyk_fields FROM tenants;
DROP TABLE tenants;
ALTER TABLE new_tenants RENAME TO tenants;
CREATE UNIQUE INDEX tenants_instance ON tenants (instance) WHERE instance;

CREATE TABLE new_users (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id               INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email                   TEXT    NOT NULL,
    first_name              TEXT    NOT NULL DEFAULT '',
    last_name               TEXT    NOT NULL DEFAULT '',
    admin                   BOOLEAN NOT NULL DEFAULT FALSE,
    tenant_permissions      TEXT    NOT NULL DEFAULT '[]',
    is_active               BOOLEAN NOT NULL DEFAULT TRUE,
    scim_uid                TEXT,
    password_hash           TEXT    NOT NULL DEFAULT '',
    invitation_token_hash   BLOB,
    invitation_sent_at      BIGINT,
    invitation_expires_at   BIGINT,
    invitation_accepted_at  BIGINT,
    locked_until            BIGINT,
    last_seen_at            BIGINT,
    created_at              BIGINT  NOT NULL,
    updated_at              BIGINT  NOT NULL,
    failed_logins_after     BIGINT  NOT NULL DEFAULT 0,
    tyk_permissions         TEXT    NOT NULL DEFAULT '{}',
    group_id                TEXT    NOT NULL DEFAULT '',
    password_max_days       INTEGER NOT NULL DEFAULT 0,
    password_updated_at     BIGINT,
    access_key_id           BIGINT,
    UNIQUE (tenant_id, email)
);
INSERT INTO new_users (id, tenant_id, email, first_name, last_name, admin, tenant_permissions, is_active, scim_uid,
        password_hash, invitation_token_hash, invitation_sent_at, invitation_expires_at, invitation_accepted_at,
        locked_until, last_seen_at, created_at, updated_at, failed_logins_after, tyk_permissions, group_id,
        password_max_days, password_updated_at, access_key_id)
    SELECT id, tenant_id, email, first_name, last_name, admin, tenant_permissions, is_active, scim_uid,
        password_hash, invitation_token_hash, invitation_sent_at, invitation_expires_at, invitation_accepted_at,
        locked_until, last_seen_at, created_at, updated_at, failed_logins_after, tyk_permissions, group_id,
        password_max_days, password_updated_at, access_key_id FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;
CREATE INDEX users_email ON users (email);
CREATE UNIQUE INDEX users_invitation_token_hash ON users (invitation_token_hash);
CREATE INDEX users_tenant_id ON users (tenant_id, id);
CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
    INSERT INTO tenant_user_counts (tenant_id, users) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET users = users + 1;
END;
CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
    UPDATE tenant_user_counts SET users = users - 1 WHERE tenant_id = OLD.tenant_id;
END;

CREATE TABLE new_api_keys (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    prefix        TEXT    NOT NULL,
    hash          BLOB    NOT NULL UNIQUE,
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT,
    expires_at    BIGINT,
    revoked_at    BIGINT
);
INSERT INTO new_api_keys (id, tenant_id, user_id, name, prefix, hash, created_at, last_used_at, expires_at, revoked_at)
    SELECT id, tenant_id, user_id, name, prefix, hash, created_at, last_used_at, expires_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE new_api_keys RENAME TO api_keys;
CREATE INDEX api_keys_user ON api_keys (tenant_id, user_id);

CREATE TABLE new_sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  BLOB    NOT NULL UNIQUE,
    ip          TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
INSERT INTO new_sessions (id, tenant_id, user_id, token_hash, ip, user_agent, created_at, expires_at)
    SELECT id, tenant_id, user_id, token_hash, ip, user_agent, created_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE new_sessions RENAME TO sessions;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE new_login_activities (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id       INTEGER REFERENCES tenants(id) ON DELETE CASCADE,
    user_id         INTEGER REFERENCES users(id) ON DELETE CASCADE,
    email           TEXT    NOT NULL DEFAULT '',
    ip              TEXT    NOT NULL DEFAULT '',
    user_agent      TEXT    NOT NULL DEFAULT '',
    referrer        TEXT    NOT NULL DEFAULT '',
    success         BOOLEAN NOT NULL,
    failure_reason  TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL
);
INSERT INTO new_login_activities (id, tenant_id, user_id, email, ip, user_agent, referrer, success, failure_reason, created_at)
    SELECT id, tenant_id, user_id, email, ip, user_agent, referrer, success, failure_reason, created_at FROM login_activities;
DROP TABLE login_activities;
ALTER TABLE new_login_activities RENAME TO login_activities;
CREATE INDEX login_activities_user ON login_activities (user_id, created_at);
CREATE INDEX login_activities_created ON login_activities (created_at);
CREATE INDEX login_activities_user_failed ON login_activities (user_id, id) WHERE success = FALSE;

CREATE TABLE new_mail_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id        INTEGER REFERENCES tenants(id) ON DELETE CASCADE,
    recipient        TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    next_attempt_at  BIGINT  NOT NULL,
    sent_at          BIGINT,
    created_at       BIGINT  NOT NULL
);
INSERT INTO new_mail_outbox (id, tenant_id, recipient, subject, body, attempts, last_error, next_attempt_at, sent_at, created_at)
    SELECT id, tenant_id, recipient, subject, body, attempts, last_error, next_attempt_at, sent_at, created_at FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE new_mail_outbox RENAME TO mail_outbox;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;

CREATE TABLE new_stories (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id    INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    guid         TEXT    NOT NULL UNIQUE,
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
INSERT INTO new_stories (id, tenant_id, guid, name, description, created_at, updated_at)
    SELECT id, tenant_id, guid, name, description, created_at, updated_at FROM stories;
DROP TABLE stories;
ALTER TABLE new_stories RENAME TO stories;
CREATE INDEX stories_tenant ON stories (tenant_id, id);

CREATE TABLE new_templates (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO new_templates (id, tenant_id, name, description, vendor, product, agent_type, agent_options,
        created_by, updated_by, created_at, updated_at)
    SELECT id, tenant_id, name, description, vendor, product, agent_type, agent_options,
        created_by, updated_by, created_at, updated_at FROM templates;
DROP TABLE templates;
ALTER TABLE new_templates RENAME TO templates;
CREATE INDEX templates_created_by ON templates (created_by);
CREATE INDEX templates_updated_by ON templates (updated_by);

CREATE TABLE new_actions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
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
    updated_at       BIGINT  NOT NULL,
    template_id      BIGINT  REFERENCES templates(id) ON DELETE SET NULL
);
INSERT INTO new_actions (id, tenant_id, story_id, guid, type, name, options, keep_events_for, disabled,
        last_event_at, created_at, updated_at, template_id)
    SELECT id, tenant_id, story_id, guid, type, name, options, keep_events_for, disabled,
        last_event_at, created_at, updated_at, template_id FROM actions;
DROP TABLE actions;
ALTER TABLE new_actions RENAME TO actions;
CREATE INDEX actions_tenant ON actions (tenant_id, id);
CREATE INDEX actions_story ON actions (story_id);

-- Each sequence starts after the largest id in use anywhere: jobs and
-- job_counts have no foreign keys and may still name a deleted tenant or
-- action, which must never come back as a different one.
DELETE FROM sqlite_sequence WHERE name IN ('tenants', 'users', 'api_keys', 'sessions', 'login_activities',
    'mail_outbox', 'stories', 'templates', 'actions');
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'tenants', MAX(
        COALESCE((SELECT MAX(id) FROM tenants), 0),
        COALESCE((SELECT MAX(tenant_id) FROM jobs), 0),
        COALESCE((SELECT MAX(tenant_id) FROM job_counts), 0),
        COALESCE((SELECT MAX(tenant_id) FROM events), 0))
    UNION ALL SELECT 'users', COALESCE((SELECT MAX(id) FROM users), 0)
    UNION ALL SELECT 'api_keys', MAX(
        COALESCE((SELECT MAX(id) FROM api_keys), 0),
        COALESCE((SELECT MAX(access_key_id) FROM users), 0))
    UNION ALL SELECT 'sessions', COALESCE((SELECT MAX(id) FROM sessions), 0)
    UNION ALL SELECT 'login_activities', MAX(
        COALESCE((SELECT MAX(id) FROM login_activities), 0),
        COALESCE((SELECT MAX(failed_logins_after) FROM users), 0))
    UNION ALL SELECT 'mail_outbox', COALESCE((SELECT MAX(id) FROM mail_outbox), 0)
    UNION ALL SELECT 'stories', MAX(
        COALESCE((SELECT MAX(id) FROM stories), 0),
        COALESCE((SELECT MAX(story_id) FROM events), 0))
    UNION ALL SELECT 'templates', COALESCE((SELECT MAX(id) FROM templates), 0)
    UNION ALL SELECT 'actions', MAX(
        COALESCE((SELECT MAX(id) FROM actions), 0),
        COALESCE((SELECT MAX(action_id) FROM jobs), 0),
        COALESCE((SELECT MAX(action_id) FROM job_counts), 0));
