-- One tenant's schema (t_<slug>). This migration runs with search_path = that schema, as the
-- application role, which therefore owns the tables (it must, to create monthly sales partitions).

CREATE TABLE locations (
    id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('store', 'warehouse'))
);

CREATE TABLE suppliers (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    lead_time_mean DOUBLE PRECISION NOT NULL CHECK (lead_time_mean > 0),
    lead_time_sd   DOUBLE PRECISION NOT NULL CHECK (lead_time_sd >= 0),
    moq            DOUBLE PRECISION NOT NULL CHECK (moq >= 0),
    order_days     BIGINT NOT NULL CHECK (order_days BETWEEN 1 AND 127)
);

CREATE TABLE products (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    brand           TEXT NOT NULL,
    category        TEXT NOT NULL,
    unit            TEXT NOT NULL,
    pack_size       BIGINT NOT NULL CHECK (pack_size >= 1),
    shelf_life_days BIGINT CHECK (shelf_life_days >= 1),
    cost_usd_cents  BIGINT NOT NULL CHECK (cost_usd_cents >= 0),
    price_usd_cents BIGINT NOT NULL CHECK (price_usd_cents >= 0),
    supplier_id     BIGINT REFERENCES suppliers (id)
);

CREATE TABLE product_barcodes (
    product_id BIGINT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    barcode    TEXT NOT NULL,
    PRIMARY KEY (product_id, barcode)
);
CREATE INDEX product_barcodes_by_barcode ON product_barcodes (barcode);

-- Sales lines, partitioned by month of `day`; partitions are created on demand by the ingest.
-- (day, line_key) identifies a line so that re-ingesting it changes nothing. No foreign keys and no
-- index by store and product: ids are resolved from codes inside the writing transaction (locations
-- and products are never deleted), series are read from daily_demand, and every per-row check or
-- index costs ingest throughput.
CREATE TABLE sales (
    day              DATE NOT NULL,
    line_key         TEXT NOT NULL,
    store_id         BIGINT NOT NULL,
    product_id       BIGINT NOT NULL,
    sold_at          TIMESTAMP NOT NULL,
    quantity         DOUBLE PRECISION NOT NULL CHECK (quantity >= 0),
    amount_minor     BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    rate_micros      BIGINT NOT NULL CHECK (rate_micros > 0),
    amount_usd_cents BIGINT NOT NULL,
    PRIMARY KEY (day, line_key)
) PARTITION BY RANGE (day);

-- The daily aggregate, maintained in the same transaction as the sales and stock that feed it
-- (no foreign keys, for the same reason as sales).
CREATE TABLE daily_demand (
    store_id          BIGINT NOT NULL,
    product_id        BIGINT NOT NULL,
    day               DATE NOT NULL,
    units             DOUBLE PRECISION NOT NULL DEFAULT 0,
    revenue_usd_cents BIGINT NOT NULL DEFAULT 0,
    out_of_stock      BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (store_id, product_id, day)
);

CREATE TABLE stock_snapshots (
    location_id BIGINT NOT NULL REFERENCES locations (id),
    product_id  BIGINT NOT NULL REFERENCES products (id),
    day         DATE NOT NULL,
    on_hand     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (location_id, product_id, day)
);

CREATE TABLE lots (
    location_id BIGINT NOT NULL REFERENCES locations (id),
    product_id  BIGINT NOT NULL REFERENCES products (id),
    code        TEXT NOT NULL,
    quantity    DOUBLE PRECISION NOT NULL CHECK (quantity >= 0),
    received_on DATE NOT NULL,
    expires_on  DATE NOT NULL,
    PRIMARY KEY (location_id, product_id, code)
);

CREATE TABLE purchase_orders (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,
    supplier_id    BIGINT NOT NULL REFERENCES suppliers (id),
    destination_id BIGINT NOT NULL REFERENCES locations (id),
    ordered_on     DATE NOT NULL,
    expected_on    DATE NOT NULL
);

CREATE TABLE purchase_order_lines (
    order_id   BIGINT NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity   DOUBLE PRECISION NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE transfers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    from_id     BIGINT NOT NULL REFERENCES locations (id),
    to_id       BIGINT NOT NULL REFERENCES locations (id),
    shipped_on  DATE NOT NULL,
    expected_on DATE NOT NULL
);

CREATE TABLE transfer_lines (
    transfer_id BIGINT NOT NULL REFERENCES transfers (id) ON DELETE CASCADE,
    product_id  BIGINT NOT NULL REFERENCES products (id),
    quantity    DOUBLE PRECISION NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (transfer_id, product_id)
);

CREATE TABLE events (
    day  DATE NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (day, name)
);
