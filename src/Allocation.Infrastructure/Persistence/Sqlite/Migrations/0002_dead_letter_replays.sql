-- Operators replay dead letters; the last replay's time and outcome are kept with the message.
ALTER TABLE dead_letters ADD COLUMN replayed_at TEXT NULL;
ALTER TABLE dead_letters ADD COLUMN replay_outcome TEXT NULL;
