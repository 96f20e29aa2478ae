-- An editor dismissed a probe's draft as a false alarm: the probe no longer
-- sets the public state until it comes up again.
ALTER TABLE probe_states ADD COLUMN muted BIGINT NOT NULL DEFAULT 0;
