-- Publishing by path on a separate apps origin (issue 10 H2). A ticket
-- carries a portal session to the apps origin once, within 60 s; the link
-- is the apps origin's own token for that session. A ticket is bound to the
-- browser that asked for it by the hash of the apps origin's state cookie.
-- Only hashes are stored.
CREATE TABLE apps_tickets (
    ticket_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    state_hash TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX apps_tickets_expiry ON apps_tickets (expires_at);

CREATE TABLE session_links (
    link_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    organisation_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX session_links_expiry ON session_links (expires_at);
