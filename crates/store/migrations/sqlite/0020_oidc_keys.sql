-- Signing keys of each organisation's OpenID provider (issue 13). The
-- private key is PKCS#8, sealed with secret_key_file (never stored in the
-- clear). Which key signs and which are published follows from the times.
CREATE TABLE oidc_signing_keys (
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    kid TEXT NOT NULL,
    alg TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    activates_at INTEGER NOT NULL,
    unpublish_at INTEGER,
    PRIMARY KEY (organisation_id, kid)
);
-- One row per organisation whose provider has been set up: inserting it
-- is what lets exactly one of several servers starting together store the
-- first keys.
CREATE TABLE oidc_issuers (
    organisation_id TEXT PRIMARY KEY REFERENCES organisations(id),
    created_at INTEGER NOT NULL
);
