-- Accounts: users, their refresh tokens and integrations' API keys. This migration runs with
-- search_path = control.
--
-- These tables are looked up by credential (an email, a token digest, a key prefix) before any
-- tenant is known, so they are not under the app.tenant_id row-level security of ingest_runs: the
-- store filters by tenant explicitly wherever a tenant is given. Deleting a tenant deletes its users
-- (and so their refresh tokens) and its keys.

CREATE TABLE users (
    id            UUID PRIMARY KEY,
    tenant_id     UUID REFERENCES tenants (id) ON DELETE CASCADE,
    email         TEXT NOT NULL UNIQUE,  -- lower-cased by the store
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'viewer', 'operator')),
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ NOT NULL,
    -- Operators are Fluxion staff and belong to no tenant; everyone else belongs to exactly one.
    CHECK ((role = 'operator') = (tenant_id IS NULL))
);
CREATE INDEX users_by_tenant ON users (tenant_id, email);

-- Refresh tokens (SHA-256 digests). A login starts a family; each refresh rotates the presented
-- token and adds the next one to the family; presenting a rotated or revoked one revokes the family.
CREATE TABLE refresh_tokens (
    id         UUID PRIMARY KEY,
    family     UUID NOT NULL,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash BYTEA NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    issued_at  TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    rotated_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

-- API keys: the prefix finds a key, the SHA-256 of the secret part checks it.
CREATE TABLE api_keys (
    id              UUID PRIMARY KEY,
    tenant_id       UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL UNIQUE,
    secret_hash     BYTEA NOT NULL CHECK (length(secret_hash) = 32),
    scopes          TEXT[] NOT NULL CHECK (scopes <@ ARRAY['read', 'ingest', 'ask', 'act']),
    rate_per_minute BIGINT CHECK (rate_per_minute >= 0),
    created_by      UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id, created_at DESC);
CREATE INDEX api_keys_by_creator ON api_keys (created_by);
