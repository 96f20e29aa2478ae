-- The network zone (slug) a sign-in event came from; empty when outside
-- every zone or when the organisation is unknown.
ALTER TABLE signin_events ADD COLUMN zone TEXT NOT NULL DEFAULT '';
