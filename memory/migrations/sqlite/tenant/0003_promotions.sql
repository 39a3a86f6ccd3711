-- Promotions: a price cut of one product at one store over a span of days, known in advance.
CREATE TABLE promotions (
    store_id     INTEGER NOT NULL REFERENCES locations (id),
    product_id   INTEGER NOT NULL REFERENCES products (id),
    first_day    TEXT NOT NULL,
    last_day     TEXT NOT NULL,
    discount_pct INTEGER NOT NULL CHECK (discount_pct BETWEEN 0 AND 95),
    PRIMARY KEY (store_id, product_id, first_day)
);
