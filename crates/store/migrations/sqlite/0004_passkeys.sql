-- Passkeys (WebAuthn). A passkey is a factor of kind 'passkey' whose
-- destination is its credential id; credential ids are unique across the
-- installation, which a passwordless sign-in relies on.
CREATE UNIQUE INDEX factors_passkey_credential ON factors (destination) WHERE kind = 'passkey';

-- The server half of each WebAuthn challenge: taken (deleted) exactly once
-- when the browser answers, so a signed response cannot be replayed.
CREATE TABLE webauthn_ceremonies (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    organisation_id TEXT,
    user_id TEXT,
    session_hash TEXT,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
