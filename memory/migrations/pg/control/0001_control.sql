-- The control schema: tenants, and shared tables protected by row-level security.
-- This migration runs with search_path = control.

CREATE TABLE tenants (
    id         UUID PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Import and sync runs of every tenant in one table: rows are visible only to the tenant set in
-- the transaction-local app.tenant_id (NULLIF: a pooled connection reports '' once it has been set).
CREATE TABLE ingest_runs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id),
    source        TEXT NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ NOT NULL,
    rows_read     BIGINT NOT NULL,
    rows_written  BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    status        TEXT NOT NULL
);
CREATE INDEX ingest_runs_by_tenant ON ingest_runs (tenant_id, id DESC);

ALTER TABLE ingest_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ingest_runs
    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
