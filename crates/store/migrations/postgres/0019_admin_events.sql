-- Administrative actions and refused admin requests (issue 10 L7), per
-- organisation, in UTC unix seconds; the audit log builds on this table.
CREATE TABLE admin_events (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX admin_events_by_org ON admin_events (organisation_id, at);
