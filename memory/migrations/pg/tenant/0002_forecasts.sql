-- The latest forecast of every store × product, as the Forecast agent wrote it.
CREATE TABLE forecasts (
    store_id    BIGINT NOT NULL REFERENCES locations (id),
    product_id  BIGINT NOT NULL REFERENCES products (id),
    origin      DATE NOT NULL,
    model       TEXT NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    body        JSONB NOT NULL,
    PRIMARY KEY (store_id, product_id)
);
