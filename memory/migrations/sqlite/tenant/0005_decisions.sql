-- What the agents decided and what people did with it, and idempotent ingest requests.
-- Timestamps are RFC 3339 UTC text with exactly six fractional digits, so that they sort as text
-- (listings page on (created_at, id)).

-- Alerts: one row per situation while it lasts. A scan updates the live (open or acknowledged) row of
-- its deduplication key; a key seen again after it was resolved gets a new row.
CREATE TABLE alerts (
    id               TEXT PRIMARY KEY,
    dedup_key        TEXT NOT NULL,
    store            TEXT NOT NULL,
    product          TEXT,
    kind             TEXT NOT NULL,
    severity         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    body             TEXT NOT NULL,  -- the alert as JSON
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    acknowledged_by  TEXT,
    acknowledged_at  TEXT,
    feedback_verdict TEXT CHECK (feedback_verdict IN ('useful', 'wrong')),
    feedback_by      TEXT,
    feedback_at      TEXT,
    feedback_note    TEXT,
    CHECK ((feedback_verdict IS NULL) = (feedback_by IS NULL) AND (feedback_by IS NULL) = (feedback_at IS NULL))
);
-- At most one live alert per situation.
CREATE UNIQUE INDEX alerts_live_key ON alerts (dedup_key) WHERE status <> 'resolved';
CREATE INDEX alerts_by_status ON alerts (status, created_at DESC, id DESC);
CREATE INDEX alerts_by_time ON alerts (created_at DESC, id DESC);

-- Recommendations: a pending one is updated in place by the next optimisation with the same key;
-- deciding it moves it out of pending exactly once.
CREATE TABLE recommendations (
    id          TEXT PRIMARY KEY,
    dedup_key   TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('order', 'transfer')),
    store       TEXT NOT NULL,
    product     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'superseded')),
    body        TEXT NOT NULL,  -- the recommendation as JSON
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    decided_by  TEXT,
    decided_at  TEXT,
    note        TEXT,
    executed_as TEXT
);
-- At most one pending recommendation per situation.
CREATE UNIQUE INDEX recommendations_pending_key ON recommendations (dedup_key) WHERE status = 'pending';
CREATE INDEX recommendations_by_status ON recommendations (status, created_at DESC, id DESC);
CREATE INDEX recommendations_by_time ON recommendations (created_at DESC, id DESC);

-- Idempotent ingest: the key of a request applied once, written in the same transaction as its
-- changes, with what identifies the request (fingerprint) and what applying it did (summary, JSON).
CREATE TABLE ingest_requests (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    summary     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
