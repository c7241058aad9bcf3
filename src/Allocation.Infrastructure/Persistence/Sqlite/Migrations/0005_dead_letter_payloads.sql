-- A dead letter keeps its message whatever its bytes: as text when it is UTF-8, else as base64; with
-- the size it arrived with, and whether only its first bytes were kept.
ALTER TABLE dead_letters ADD COLUMN payload_encoding TEXT NOT NULL DEFAULT 'utf-8';
ALTER TABLE dead_letters ADD COLUMN payload_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dead_letters ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;
UPDATE dead_letters SET payload_size = length(CAST(payload AS BLOB));

-- Times are written in one format from now on ("yyyy-MM-dd HH:mm:ss.fffffff+00:00"), so that they
-- compare as text for the retention; the older rows' "T" becomes a space.
UPDATE dead_letters SET created_at = replace(created_at, 'T', ' '), replayed_at = replace(replayed_at, 'T', ' ');
CREATE INDEX ix_dead_letters_created ON dead_letters (created_at);
