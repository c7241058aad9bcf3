-- PostgreSQL's schema: the same tables as SQLite's, with PostgreSQL's types. Text compares byte by byte
-- (COLLATE "C"), as SQLite's does, so that lists page in the same order on both databases.

-- Write model: one row per product (the aggregate), its batches and its allocated lines.
CREATE TABLE products (
    sku            text    COLLATE "C" NOT NULL PRIMARY KEY,
    version_number integer NOT NULL
);

-- allocated_quantity is the sum of the batch's allocations, kept with them in every change, so that a
-- product loads without reading its lines.
CREATE TABLE batches (
    id                 bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reference          text    COLLATE "C" NOT NULL UNIQUE,
    sku                text    COLLATE "C" NOT NULL REFERENCES products (sku),
    purchased_quantity integer NOT NULL CHECK (purchased_quantity >= 0),
    allocated_quantity integer NOT NULL DEFAULT 0 CHECK (allocated_quantity >= 0),
    eta                date    NULL,
    -- The last upstream change (a stream entry's id) applied to the quantity.
    last_change        text    NULL
);
CREATE INDEX ix_batches_sku ON batches (sku, id);

-- id grows with every allocation, so the most recent line of a batch is its highest id.
CREATE TABLE allocations (
    id       bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    orderid  text    COLLATE "C" NOT NULL,
    sku      text    COLLATE "C" NOT NULL,
    qty      integer NOT NULL CHECK (qty > 0),
    batch_id bigint  NOT NULL REFERENCES batches (id),
    UNIQUE (orderid, sku)
);
CREATE INDEX ix_allocations_batch ON allocations (batch_id, id);

-- Read model for GET /allocations/{orderid}: a view over the write model.
CREATE VIEW allocations_view AS
SELECT a.orderid AS orderid, a.sku AS sku, b.reference AS batchref
FROM allocations a
JOIN batches b ON b.id = a.batch_id;

-- Transactional outbox: every domain event, written in the transaction that raised it. Times are Unix
-- milliseconds. Ids follow commit order for the events of one product (its lock orders the writers).
CREATE TABLE outbox (
    id              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      text    NOT NULL UNIQUE,
    type            text    NOT NULL,
    payload         text    NOT NULL,
    created_at      bigint  NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    failures        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint  NULL,
    last_error      text    NULL,
    dispatched_at   bigint  NULL
);
CREATE INDEX ix_outbox_pending ON outbox (type, id) WHERE dispatched_at IS NULL;
CREATE INDEX ix_outbox_dispatched ON outbox (dispatched_at) WHERE dispatched_at IS NOT NULL;

-- Messages the service refused and events it gave up on, whatever their bytes: as text when UTF-8, else
-- base64; with the size they arrived with, and whether only their first bytes were kept.
CREATE TABLE dead_letters (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source           text        NOT NULL,
    payload          text        NOT NULL,
    payload_encoding text        NOT NULL DEFAULT 'utf-8',
    payload_size     bigint      NOT NULL,
    truncated        boolean     NOT NULL DEFAULT false,
    error            text        NOT NULL,
    created_at       timestamptz NOT NULL,
    replayed_at      timestamptz NULL,
    replay_outcome   text        NULL,
    message_id       text        NULL
);
CREATE INDEX ix_dead_letters_created ON dead_letters (created_at);

-- Readiness writes a row here, per instance, so that it fails when the database cannot take writes.
CREATE TABLE heartbeats (
    instance text   NOT NULL PRIMARY KEY,
    beat_at  bigint NOT NULL
);
