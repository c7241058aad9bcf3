-- The outbox's retry budget: failures counts the attempts that spend it (the destination answered and
-- refused); attempts counts every try, outages included, and sets the backoff.
ALTER TABLE outbox ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

-- An outbound dead letter keeps its event's message id, which a replay sends again.
ALTER TABLE dead_letters ADD COLUMN message_id TEXT NULL;
