-- Health probes: drafts opened by a failing probe wait for an editor;
-- probe definitions come from the organisation file; each probe's last
-- view survives restarts; uptime history is one row per component and
-- Stockholm day, never raw results, so it stays small for years.
ALTER TABLE incidents ADD COLUMN draft INTEGER NOT NULL DEFAULT 0;

CREATE TABLE status_probes (
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    slug TEXT NOT NULL,
    component TEXT NOT NULL,
    spec TEXT NOT NULL,
    sort INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, slug)
);

CREATE TABLE probe_states (
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    probe TEXT NOT NULL,
    component TEXT NOT NULL,
    down INTEGER NOT NULL,
    since INTEGER NOT NULL,
    checked_at INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    impact TEXT NOT NULL,
    PRIMARY KEY (organisation_id, probe)
);

CREATE TABLE probe_days (
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    component TEXT NOT NULL,
    day TEXT NOT NULL,
    checks INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, component, day)
);
