-- Built-in reverse proxy: the internal address of a service Portvakt
-- publishes itself (NULL = not proxied).
ALTER TABLE services ADD COLUMN upstream TEXT;
