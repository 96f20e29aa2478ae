-- Change freezes (issue 15): while one is in force (lifted_at IS NULL),
-- risky changes to sign-in are refused. Lifting needs a proposal by one
-- person and an approval by another.
CREATE TABLE freezes (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    declared_at INTEGER NOT NULL,
    declared_by TEXT NOT NULL,
    lift_proposed_at INTEGER,
    lift_proposed_by TEXT,
    lifted_at INTEGER,
    lifted_by TEXT
);
CREATE UNIQUE INDEX freezes_one_in_force ON freezes (organisation_id) WHERE lifted_at IS NULL;
