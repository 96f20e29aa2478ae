-- A user's own choice of language, applied at sign-in; NULL follows the browser.
ALTER TABLE users ADD COLUMN language TEXT;
