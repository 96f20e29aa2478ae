-- Apps registered as OpenID clients of an organisation (issue 13), as the
-- organisation file declares them. Lists are stored as text: redirect URIs
-- as a JSON array (compared byte for byte), the rest space-separated; the
-- access rule uses the services' encoding (zones, methods, open_hours).
CREATE TABLE oidc_clients (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    client_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    grants TEXT NOT NULL,
    scopes TEXT NOT NULL,
    audience TEXT,
    signing_alg TEXT NOT NULL,
    first_party INTEGER NOT NULL,
    groups TEXT NOT NULL,
    zones TEXT,
    methods TEXT,
    open_hours TEXT NOT NULL,
    UNIQUE (organisation_id, client_id)
);
