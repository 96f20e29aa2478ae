-- Second factors, the organisation's MFA policy and pending (password-only)
-- sessions waiting for their second factor.
ALTER TABLE organisations ADD COLUMN mfa_policy TEXT NOT NULL DEFAULT 'outside_internal';

CREATE TABLE factors (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    label TEXT NOT NULL,
    secret TEXT,
    last_step INTEGER NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX factors_by_user ON factors (organisation_id, user_id);

ALTER TABLE sessions ADD COLUMN pending_mfa INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN mfa_tries INTEGER NOT NULL DEFAULT 0;
