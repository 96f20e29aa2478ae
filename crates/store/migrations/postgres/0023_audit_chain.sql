-- The audit log (issue 14): each organisation's admin_events become one
-- hash chain. An entry's place (seq), the previous entry's hash and its own
-- hash (see portvakt_core::audit). Entries recorded before this migration
-- have none until the organisation's next entry links them in, oldest first.
ALTER TABLE admin_events ADD COLUMN seq BIGINT;
ALTER TABLE admin_events ADD COLUMN prev_hash TEXT;
ALTER TABLE admin_events ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX admin_events_chain ON admin_events (organisation_id, seq);

-- Each chain's newest entry, kept apart from the entries so that removing
-- the newest entries shows; its row is also the lock appends queue on.
CREATE TABLE audit_heads (
    organisation_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
