-- Promotions: a price cut of one product at one store over a span of days, known in advance.
CREATE TABLE promotions (
    store_id     BIGINT NOT NULL REFERENCES locations (id),
    product_id   BIGINT NOT NULL REFERENCES products (id),
    first_day    DATE NOT NULL,
    last_day     DATE NOT NULL CHECK (last_day >= first_day),
    discount_pct SMALLINT NOT NULL CHECK (discount_pct BETWEEN 0 AND 95),
    PRIMARY KEY (store_id, product_id, first_day)
);
