-- The order of an incident's updates, also within one second.
ALTER TABLE incident_updates ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
