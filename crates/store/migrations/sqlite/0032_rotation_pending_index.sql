-- Crisis rotation: each batch reads the next people still waiting for a
-- code in user order and issues exactly those. With (rotation_id, state)
-- alone, both steps went through every waiting person of the rotation
-- (and reading went through every rotation row of the organisation), so
-- issuing 10,000 codes visited millions of rows. This index answers both
-- directly and covers what the old one did.
CREATE INDEX rotation_people_pending ON rotation_people (rotation_id, state, user_id);
DROP INDEX rotation_people_by_state;
