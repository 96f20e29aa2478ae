-- The status page: components (from the organisation file), incidents and
-- planned maintenance with their affected components and updates.
CREATE TABLE status_components (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    grp TEXT NOT NULL,
    alternatives TEXT NOT NULL,
    sort INTEGER NOT NULL,
    UNIQUE (organisation_id, slug)
);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    title TEXT NOT NULL,
    title_en TEXT NOT NULL,
    maintenance INTEGER NOT NULL,
    phase TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX incidents_by_org ON incidents (organisation_id, created_at);

CREATE TABLE incident_components (
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    organisation_id TEXT NOT NULL,
    component TEXT NOT NULL,
    impact TEXT NOT NULL,
    PRIMARY KEY (incident_id, component)
);

CREATE TABLE incident_updates (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    organisation_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    phase TEXT NOT NULL,
    body TEXT NOT NULL,
    body_en TEXT NOT NULL
);
CREATE INDEX incident_updates_by_incident ON incident_updates (incident_id, at);
