-- Access rules and forward-auth host per service (issue 4). NULL zones or
-- methods mean "from anywhere" / "any sign-in"; open_hours holds opening hours
-- separated by ';' (empty = always).
ALTER TABLE services ADD COLUMN zones TEXT;
ALTER TABLE services ADD COLUMN methods TEXT;
ALTER TABLE services ADD COLUMN open_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE services ADD COLUMN host TEXT;
