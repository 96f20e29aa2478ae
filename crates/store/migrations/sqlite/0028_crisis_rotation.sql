-- Crisis rotation (issue 15): the organisation's channels and hand-over
-- contacts (from its file), and one row per person per rotation, which is
-- what makes a rotation resumable: every step moves a row on from a known
-- state, in the same transaction as its effect.
CREATE TABLE crisis_plans (
    organisation_id TEXT PRIMARY KEY REFERENCES organisations(id),
    channels TEXT NOT NULL,
    mailbox_url TEXT,
    mailbox_auth_env TEXT,
    code_hours INTEGER NOT NULL
);

CREATE TABLE crisis_contacts (
    organisation_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    manager TEXT,
    unit TEXT,
    mailbox_id TEXT,
    PRIMARY KEY (organisation_id, user_id)
);

CREATE TABLE rotations (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    started_by TEXT,
    started_at INTEGER NOT NULL,
    group_slug TEXT,
    revoke_passkeys INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    phase TEXT NOT NULL,
    people INTEGER NOT NULL
);
CREATE UNIQUE INDEX rotations_one_issuing ON rotations (organisation_id) WHERE phase = 'issuing';
CREATE INDEX rotations_by_org ON rotations (organisation_id, started_at);

CREATE TABLE rotation_people (
    rotation_id TEXT NOT NULL REFERENCES rotations(id),
    organisation_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    -- One line per channel that can reach the person: "channel address".
    route TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    -- Channels that failed the person, comma-separated, for the report.
    failed TEXT NOT NULL DEFAULT '',
    code_hash TEXT,
    -- The code sealed under the installation key: for hand-out lists and
    -- sending again; emptied when the code is used or void.
    code_sealed TEXT,
    outbox_id TEXT,
    issued_at INTEGER,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    handed_out_at INTEGER,
    PRIMARY KEY (rotation_id, user_id)
);
CREATE INDEX rotation_people_by_user ON rotation_people (organisation_id, user_id);
CREATE INDEX rotation_people_by_state ON rotation_people (rotation_id, state);
