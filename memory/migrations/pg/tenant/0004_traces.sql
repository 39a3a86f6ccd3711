-- Traces: the record of every request (its span tree as JSON), newest first.
CREATE TABLE traces (
    id          UUID PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    duration_us BIGINT NOT NULL CHECK (duration_us >= 0),
    question    TEXT NOT NULL,
    body        JSONB NOT NULL
);
CREATE INDEX traces_started_at ON traces (started_at DESC);
