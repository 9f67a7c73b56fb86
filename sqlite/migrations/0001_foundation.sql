-- Tenants, users, API keys, sessions, sign-in activity and the mail outbox.
-- Times are microseconds since the Unix epoch (see package sqlstore).
CREATE TABLE tenants (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE TABLE users (
    id                      INTEGER PRIMARY KEY,
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
    UNIQUE (tenant_id, email)
);
CREATE INDEX users_email ON users (email);
CREATE UNIQUE INDEX users_invitation_token_hash ON users (invitation_token_hash);

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
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
CREATE INDEX api_keys_user ON api_keys (tenant_id, user_id);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  BLOB    NOT NULL UNIQUE,
    ip          TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_activities (
    id              INTEGER PRIMARY KEY,
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
CREATE INDEX login_activities_user ON login_activities (user_id, created_at);
CREATE INDEX login_activities_created ON login_activities (created_at);

CREATE TABLE mail_outbox (
    id               INTEGER PRIMARY KEY,
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
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;
