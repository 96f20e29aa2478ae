-- The OpenID provider's authorization code flow (issue 13). Secrets
-- (request ids, codes, refresh tokens) are stored as SHA-256 hashes.

-- An authorization request waiting for the person to sign in, step up or
-- consent; short-lived.
CREATE TABLE oidc_requests (
    id_hash TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    request TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oidc_requests_expiry ON oidc_requests (expires_at);

-- What a person allowed an app: the tokens issued from one sign-in.
-- Revoking it ends its refresh tokens and its access tokens at /userinfo
-- and /introspect.
CREATE TABLE oidc_grants (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    client_row_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    scope TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    amr TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoke_reason TEXT
);
CREATE INDEX oidc_grants_by_user ON oidc_grants (organisation_id, user_id);

-- Authorization codes: once, within 60 s; a second use revokes the grant
-- the first one made.
CREATE TABLE oidc_codes (
    code_hash TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    client_row_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    auth_time INTEGER NOT NULL,
    amr TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    grant_id TEXT
);
CREATE INDEX oidc_codes_expiry ON oidc_codes (expires_at);

-- Refresh tokens, rotated on each use; a used one shown again revokes
-- its grant.
CREATE TABLE oidc_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    grant_id TEXT NOT NULL REFERENCES oidc_grants(id),
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX oidc_refresh_by_grant ON oidc_refresh_tokens (grant_id);

-- What a person agreed to share with an app that is not the organisation's own.
CREATE TABLE oidc_consents (
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    client_row_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, user_id, client_row_id)
);
