-- Readiness writes a row here, per instance, so that it fails when the database cannot take writes.
CREATE TABLE heartbeats (
    instance TEXT    NOT NULL PRIMARY KEY,
    beat_at  INTEGER NOT NULL
) WITHOUT ROWID;
