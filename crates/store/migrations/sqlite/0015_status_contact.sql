-- How the public reaches the organisation when things are down, shown on
-- the status page (seed 002: "Komma i kontakt med kommunen").
ALTER TABLE organisations ADD COLUMN status_contact TEXT NOT NULL DEFAULT '';
