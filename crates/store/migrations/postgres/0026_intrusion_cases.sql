-- Intrusion cases (issue 14, seed 000 "Misstänkt intrång i användarkonto"):
-- a case per suspected intrusion, on one or more accounts of one
-- organisation, with notes, a checklist and uploaded evidence. Every row
-- carries its organisation and every read is scoped by it.
CREATE TABLE intrusion_cases (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    -- Shown to people ("Ärende 3"), counted per organisation.
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    opened_by TEXT NOT NULL,
    -- 'servicedesk' (opened by hand) or 'not_me' ("Det här var inte jag").
    source TEXT NOT NULL,
    -- The sign-in event the person reported, or ''.
    reported_event TEXT NOT NULL DEFAULT '',
    closed_at BIGINT,
    closed_by TEXT,
    outcome TEXT NOT NULL DEFAULT '',
    outcome_note TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX intrusion_cases_number ON intrusion_cases (organisation_id, number);

CREATE TABLE intrusion_case_accounts (
    case_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX intrusion_case_accounts_by_user ON intrusion_case_accounts (organisation_id, user_id);

-- A note has a time of its own (when it happened), besides when it was written.
CREATE TABLE intrusion_case_notes (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    written_at BIGINT NOT NULL,
    author_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX intrusion_case_notes_by_case ON intrusion_case_notes (case_id, at);

CREATE TABLE intrusion_case_steps (
    case_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    step TEXT NOT NULL,
    done_at BIGINT NOT NULL,
    done_by TEXT NOT NULL,
    PRIMARY KEY (case_id, step)
);

-- Uploaded files, never served inline; the name is the uploader's, shown
-- as text and never used as a path or a header.
CREATE TABLE intrusion_case_evidence (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    content BYTEA NOT NULL
);
CREATE INDEX intrusion_case_evidence_by_case ON intrusion_case_evidence (case_id, uploaded_at);

-- A lock set by the servicedesk, with its reason; only "Lås upp" lifts it.
-- On the account itself, so every session check refuses a locked account
-- (a sign-in racing the lock gets a session that never works).
ALTER TABLE users ADD COLUMN lock_reason TEXT NOT NULL DEFAULT '';

-- A temporary password (oral hand-over) stops working at this time.
ALTER TABLE users ADD COLUMN password_expires_at BIGINT;

-- The timeline reads the admin actions on an account by target.
CREATE INDEX admin_events_by_target ON admin_events (organisation_id, target, at);
CREATE INDEX admin_events_by_actor ON admin_events (organisation_id, actor_id, at);

-- Sign-in notices (issue 14): when the organisation e-mails a person about
-- their own sign-in ('outside', 'new_device', comma-separated; '' never).
ALTER TABLE organisations ADD COLUMN signin_notices TEXT NOT NULL DEFAULT '';

-- Browsers that have signed in to an account: the SHA-256 of a random
-- cookie of their own, so a sign-in from a new one can be told apart.
CREATE TABLE known_devices (
    organisation_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    device_hash TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, user_id, device_hash)
);
