-- The order of an incident's updates, also within one second.
ALTER TABLE incident_updates ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
