-- A built-in icon name per service (empty = the generic one).
ALTER TABLE services ADD COLUMN icon TEXT NOT NULL DEFAULT '';
