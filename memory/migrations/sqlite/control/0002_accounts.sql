-- Accounts: users, their refresh tokens and integrations' API keys. Deployment-wide, because a
-- credential (an email, a token, a key prefix) is what names the tenant. Deleting a tenant deletes
-- its users (and so their refresh tokens) and its keys.
-- Timestamps are RFC 3339 UTC text with exactly six fractional digits, so they also sort as text.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    email         TEXT NOT NULL UNIQUE,  -- lower-cased by the store
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'viewer', 'operator')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    -- Operators are Fluxion staff and belong to no tenant; everyone else belongs to exactly one.
    CHECK ((role = 'operator') = (tenant_id IS NULL))
);
CREATE INDEX users_by_tenant ON users (tenant_id, email);

-- Refresh tokens (SHA-256 digests). A login starts a family; each refresh rotates the presented
-- token and adds the next one to the family; presenting a rotated or revoked one revokes the family.
CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    family     TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    issued_at  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    rotated_at TEXT,
    revoked_at TEXT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

-- API keys: the prefix finds a key, the SHA-256 of the secret part checks it.
CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL UNIQUE,
    secret_hash     BLOB NOT NULL CHECK (length(secret_hash) = 32),
    scopes          TEXT NOT NULL,  -- a JSON array of scope names
    rate_per_minute INTEGER CHECK (rate_per_minute >= 0),
    created_by      TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    revoked_at      TEXT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at DESC);
CREATE INDEX api_keys_by_creator ON api_keys (created_by);
