-- The last upstream change (a stream entry's id, "<ms>-<seq>") applied to each batch's quantity, so a
-- repeated or overtaken change is recognised and changes nothing.
ALTER TABLE batches ADD COLUMN last_change TEXT NULL;
