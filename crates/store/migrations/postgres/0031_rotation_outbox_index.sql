-- Crisis rotation: messages that failed are found from the outbox side
-- each second, so people are reached from their message by index.
CREATE INDEX rotation_people_by_outbox ON rotation_people (outbox_id);
