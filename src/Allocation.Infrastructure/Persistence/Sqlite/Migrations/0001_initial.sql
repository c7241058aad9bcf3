-- Write model: one row per product (the aggregate), its batches and its allocated lines.
CREATE TABLE products (
    sku            TEXT    NOT NULL PRIMARY KEY,
    version_number INTEGER NOT NULL
) WITHOUT ROWID;

-- allocated_quantity is the sum of the batch's allocations, kept with them in every change, so that a
-- product loads without reading its lines.
CREATE TABLE batches (
    id                 INTEGER PRIMARY KEY,
    reference          TEXT    NOT NULL UNIQUE,
    sku                TEXT    NOT NULL REFERENCES products (sku),
    purchased_quantity INTEGER NOT NULL CHECK (purchased_quantity >= 0),
    allocated_quantity INTEGER NOT NULL DEFAULT 0 CHECK (allocated_quantity >= 0),
    eta                TEXT    NULL
);
CREATE INDEX ix_batches_sku ON batches (sku, id);

-- id grows with every allocation, so the most recent line of a batch is its highest id.
CREATE TABLE allocations (
    id       INTEGER PRIMARY KEY,
    orderid  TEXT    NOT NULL,
    sku      TEXT    NOT NULL,
    qty      INTEGER NOT NULL CHECK (qty > 0),
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    UNIQUE (orderid, sku)
);
CREATE INDEX ix_allocations_batch ON allocations (batch_id, id);

-- Read model for GET /allocations/{orderid}: a view over the write model, so it is consistent with
-- every committed change by construction; served by the (orderid, sku) index.
CREATE VIEW allocations_view AS
SELECT a.orderid AS orderid, a.sku AS sku, b.reference AS batchref
FROM allocations a
JOIN batches b ON b.id = a.batch_id;

-- Transactional outbox: every domain event, written in the transaction that raised it; id is commit
-- order. Times are Unix milliseconds.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    type            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NULL,
    last_error      TEXT    NULL,
    dispatched_at   INTEGER NULL
);
CREATE INDEX ix_outbox_pending ON outbox (type, id) WHERE dispatched_at IS NULL;
CREATE INDEX ix_outbox_dispatched ON outbox (dispatched_at) WHERE dispatched_at IS NOT NULL;

-- Messages the service refused: inbound ones it could not apply, outbound ones that failed validation.
CREATE TABLE dead_letters (
    id         INTEGER PRIMARY KEY,
    source     TEXT NOT NULL,
    payload    TEXT NOT NULL,
    error      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
