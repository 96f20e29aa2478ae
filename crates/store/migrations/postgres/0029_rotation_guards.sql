-- Crisis rotation, hardened (issue 15 review):
-- one runner issues a rotation's codes at a time (a lease it renews);
ALTER TABLE rotations ADD COLUMN runner TEXT;
ALTER TABLE rotations ADD COLUMN lease_until BIGINT;
-- a session is good only for the credentials it was made with: a rotation
-- moves the account on, so a sign-in that overlapped it is dead too;
ALTER TABLE users ADD COLUMN credential_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN credential_epoch BIGINT NOT NULL DEFAULT 0;
-- a session begun with a start code: the code's hash until the second
-- factor uses it up, then 'used' (proof enough to choose a first password).
ALTER TABLE sessions ADD COLUMN start_code TEXT;
