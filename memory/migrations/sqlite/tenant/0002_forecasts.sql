-- The latest forecast of every store × product, as the Forecast agent wrote it.
CREATE TABLE forecasts (
    store_id    INTEGER NOT NULL REFERENCES locations (id),
    product_id  INTEGER NOT NULL REFERENCES products (id),
    origin      TEXT NOT NULL,
    model       TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    body        TEXT NOT NULL,
    PRIMARY KEY (store_id, product_id)
);
