-- What the servicedesk's user list searches (issue 14): username, name and
-- e-mail, lowercased by Portvakt (Unicode-aware; SQLite's lower() is not).
-- Filled for existing users by the start that applies this migration.
ALTER TABLE users ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
