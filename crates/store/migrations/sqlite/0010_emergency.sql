-- Emergency contacts per organisation (seed 000): the team told about every
-- incident, and the list of people an editor can message; and which batch
-- an outgoing message belongs to, for delivery reports.
CREATE TABLE emergency_contacts (
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    sort INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, kind, address)
);
ALTER TABLE outbox ADD COLUMN batch TEXT;
CREATE INDEX outbox_by_batch ON outbox (organisation_id, batch);
