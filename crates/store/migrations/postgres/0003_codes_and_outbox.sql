-- One-time codes sent by e-mail (later SMS), and the outgoing message queue.
CREATE TABLE code_challenges (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    -- The pending session (or, for registering a factor, the session) the
    -- code is bound to: a code from one attempt never works in another.
    session_hash TEXT NOT NULL,
    purpose TEXT NOT NULL,
    channel TEXT NOT NULL,
    destination TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    tries BIGINT NOT NULL DEFAULT 0,
    used_at BIGINT
);
CREATE INDEX code_challenges_by_session ON code_challenges (session_hash);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

-- Where codes for an e-mail (later SMS) factor go.
ALTER TABLE factors ADD COLUMN destination TEXT;
