-- The personal-data breach register (issue 15). One row per organisation's
-- part; parts of one breach across organisations share group_id. The form's
-- fields are kept as JSON (details), the ones queried as columns.
CREATE TABLE breaches (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    group_id TEXT,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    discovered_at BIGINT NOT NULL,
    reporting TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX breaches_number ON breaches (organisation_id, number);
CREATE INDEX breaches_by_group ON breaches (group_id);
CREATE INDEX breaches_undecided ON breaches (reporting);

-- Art. 33(4): information added in phases.
CREATE TABLE breach_phases (
    breach_id TEXT NOT NULL REFERENCES breaches(id),
    organisation_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    by_user TEXT NOT NULL,
    text TEXT NOT NULL,
    submitted BIGINT NOT NULL
);
CREATE INDEX breach_phases_by_breach ON breach_phases (breach_id, at);

-- Reminders of the 72-hour clock, each sent once.
CREATE TABLE breach_reminders (
    breach_id TEXT NOT NULL REFERENCES breaches(id),
    hours BIGINT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (breach_id, hours)
);
