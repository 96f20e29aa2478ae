-- Portable schema: text ids, integer Unix-second timestamps, integer flags.
-- The PostgreSQL folder holds the same tables with the same names.
CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

-- A username's domain picks its organisation, so a domain belongs to one.
CREATE TABLE organisation_domains (
    domain TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id)
);

CREATE TABLE user_groups_def (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (organisation_id, slug)
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (organisation_id, username)
);

CREATE TABLE group_members (
    organisation_id TEXT NOT NULL,
    group_id TEXT NOT NULL REFERENCES user_groups_def(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (organisation_id, user_id, group_id)
);

CREATE TABLE user_roles (
    organisation_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    PRIMARY KEY (organisation_id, user_id, role)
);

CREATE TABLE zones (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    cidrs TEXT NOT NULL,
    UNIQUE (organisation_id, slug)
);

CREATE TABLE services (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    url TEXT NOT NULL,
    category TEXT NOT NULL,
    sort INTEGER NOT NULL,
    UNIQUE (organisation_id, slug)
);

CREATE TABLE service_groups (
    organisation_id TEXT NOT NULL,
    service_id TEXT NOT NULL REFERENCES services(id),
    group_id TEXT NOT NULL REFERENCES user_groups_def(id),
    PRIMARY KEY (organisation_id, service_id, group_id)
);

-- Failed-attempt counters per (organisation, normalised username), whether
-- or not such a user exists, so every node sees the same count.
CREATE TABLE login_throttle (
    organisation_id TEXT NOT NULL,
    username TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, username)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    amr TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (organisation_id, user_id);

CREATE TABLE signin_events (
    id TEXT PRIMARY KEY,
    organisation_id TEXT,
    user_id TEXT,
    at INTEGER NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    method TEXT NOT NULL,
    result TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX signin_events_by_user ON signin_events (organisation_id, user_id, at);
