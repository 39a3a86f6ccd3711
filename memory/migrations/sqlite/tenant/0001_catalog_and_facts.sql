-- One tenant's data (one file per tenant).

CREATE TABLE locations (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    city TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('store', 'warehouse'))
);

CREATE TABLE suppliers (
    id                INTEGER PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    lead_time_mean    REAL NOT NULL CHECK (lead_time_mean > 0),
    lead_time_sd      REAL NOT NULL CHECK (lead_time_sd >= 0),
    moq               REAL NOT NULL CHECK (moq >= 0),
    order_days        INTEGER NOT NULL CHECK (order_days BETWEEN 1 AND 127)
);

CREATE TABLE products (
    id               INTEGER PRIMARY KEY,
    code             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    brand            TEXT NOT NULL,
    category         TEXT NOT NULL,
    unit             TEXT NOT NULL,
    pack_size        INTEGER NOT NULL CHECK (pack_size >= 1),
    shelf_life_days  INTEGER CHECK (shelf_life_days >= 1),
    cost_usd_cents   INTEGER NOT NULL CHECK (cost_usd_cents >= 0),
    price_usd_cents  INTEGER NOT NULL CHECK (price_usd_cents >= 0),
    supplier_id      INTEGER REFERENCES suppliers (id)
);

CREATE TABLE product_barcodes (
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    barcode    TEXT NOT NULL,
    PRIMARY KEY (product_id, barcode)
);
CREATE INDEX product_barcodes_by_barcode ON product_barcodes (barcode);

-- Sales lines; (day, line_key) identifies a line so that re-ingesting it changes nothing.
CREATE TABLE sales (
    id               INTEGER PRIMARY KEY,
    day              TEXT NOT NULL,
    line_key         TEXT NOT NULL,
    store_id         INTEGER NOT NULL REFERENCES locations (id),
    product_id       INTEGER NOT NULL REFERENCES products (id),
    sold_at          TEXT NOT NULL,
    quantity         REAL NOT NULL CHECK (quantity >= 0),
    amount_minor     INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    rate_micros      INTEGER NOT NULL CHECK (rate_micros > 0),
    amount_usd_cents INTEGER NOT NULL,
    UNIQUE (day, line_key)
);
-- No index by store and product: series are read from daily_demand, and the (day, line_key) index
-- serves the rare read of one series' lines by day range. Every index costs ingest speed.

-- Daily demand, maintained in the same transaction as the sales and stock that feed it.
CREATE TABLE daily_demand (
    store_id          INTEGER NOT NULL REFERENCES locations (id),
    product_id        INTEGER NOT NULL REFERENCES products (id),
    day               TEXT NOT NULL,
    units             REAL NOT NULL DEFAULT 0,
    revenue_usd_cents INTEGER NOT NULL DEFAULT 0,
    out_of_stock      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (store_id, product_id, day)
) WITHOUT ROWID;

-- New sales lines (not those ignored as already stored: triggers fire only for inserted rows) add to
-- the daily aggregate inside SQLite, with no round trip per line.
CREATE TRIGGER sales_feed_daily_demand AFTER INSERT ON sales BEGIN
    INSERT INTO daily_demand (store_id, product_id, day, units, revenue_usd_cents)
    VALUES (NEW.store_id, NEW.product_id, NEW.day, NEW.quantity, NEW.amount_usd_cents)
    ON CONFLICT (store_id, product_id, day) DO UPDATE SET units = units + excluded.units,
        revenue_usd_cents = revenue_usd_cents + excluded.revenue_usd_cents;
END;

CREATE TABLE stock_snapshots (
    location_id INTEGER NOT NULL REFERENCES locations (id),
    product_id  INTEGER NOT NULL REFERENCES products (id),
    day         TEXT NOT NULL,
    on_hand     REAL NOT NULL,
    PRIMARY KEY (location_id, product_id, day)
) WITHOUT ROWID;

-- A snapshot at or below zero at a store marks that day out of stock (censored demand); a later
-- positive count of the same day clears the mark. Upserts fire the UPDATE trigger, new rows the INSERT one.
CREATE TRIGGER stock_snapshot_inserted AFTER INSERT ON stock_snapshots
WHEN (SELECT kind FROM locations WHERE id = NEW.location_id) = 'store'
BEGIN
    INSERT INTO daily_demand (store_id, product_id, day, out_of_stock)
    SELECT NEW.location_id, NEW.product_id, NEW.day, 1 WHERE NEW.on_hand <= 0
    ON CONFLICT (store_id, product_id, day) DO UPDATE SET out_of_stock = 1;
    UPDATE daily_demand SET out_of_stock = 0
    WHERE NEW.on_hand > 0 AND store_id = NEW.location_id AND product_id = NEW.product_id AND day = NEW.day
      AND out_of_stock = 1;
END;

CREATE TRIGGER stock_snapshot_updated AFTER UPDATE OF on_hand ON stock_snapshots
WHEN (SELECT kind FROM locations WHERE id = NEW.location_id) = 'store'
BEGIN
    INSERT INTO daily_demand (store_id, product_id, day, out_of_stock)
    SELECT NEW.location_id, NEW.product_id, NEW.day, 1 WHERE NEW.on_hand <= 0
    ON CONFLICT (store_id, product_id, day) DO UPDATE SET out_of_stock = 1;
    UPDATE daily_demand SET out_of_stock = 0
    WHERE NEW.on_hand > 0 AND store_id = NEW.location_id AND product_id = NEW.product_id AND day = NEW.day
      AND out_of_stock = 1;
END;

CREATE TABLE lots (
    location_id INTEGER NOT NULL REFERENCES locations (id),
    product_id  INTEGER NOT NULL REFERENCES products (id),
    code        TEXT NOT NULL,
    quantity    REAL NOT NULL CHECK (quantity >= 0),
    received_on TEXT NOT NULL,
    expires_on  TEXT NOT NULL,
    PRIMARY KEY (location_id, product_id, code)
);

CREATE TABLE purchase_orders (
    id             INTEGER PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,
    supplier_id    INTEGER NOT NULL REFERENCES suppliers (id),
    destination_id INTEGER NOT NULL REFERENCES locations (id),
    ordered_on     TEXT NOT NULL,
    expected_on    TEXT NOT NULL
);

CREATE TABLE purchase_order_lines (
    order_id   INTEGER NOT NULL REFERENCES purchase_orders (id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity   REAL NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE transfers (
    id          INTEGER PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,
    from_id     INTEGER NOT NULL REFERENCES locations (id),
    to_id       INTEGER NOT NULL REFERENCES locations (id),
    shipped_on  TEXT NOT NULL,
    expected_on TEXT NOT NULL
);

CREATE TABLE transfer_lines (
    transfer_id INTEGER NOT NULL REFERENCES transfers (id) ON DELETE CASCADE,
    product_id  INTEGER NOT NULL REFERENCES products (id),
    quantity    REAL NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (transfer_id, product_id)
);

CREATE TABLE events (
    day  TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (day, name)
);

CREATE TABLE ingest_runs (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    rows_read     INTEGER NOT NULL,
    rows_written  INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    status        TEXT NOT NULL
);
