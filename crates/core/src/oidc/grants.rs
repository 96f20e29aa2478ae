//! The protocol decisions of the token endpoint, free of HTTP: which
//! client may use which grant, with which scopes.

use super::client::{ClientKind, GrantType, OidcClient, USER_SCOPES};
use super::request::pkce_matches;
use crate::clock::UnixTime;
use crate::ids::ClientRowId;
use crate::store::{CodeRecord, User};
use std::collections::BTreeSet;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    #[error("this client may not use this grant")]
    UnauthorizedClient,
    #[error("a requested scope is not allowed")]
    InvalidScope,
}

/// The scope of a `client_credentials` token: what was asked for, each
/// part allowed to the client and none about a person; or, when nothing
/// was asked for, every such scope the client has.
///
/// # Errors
/// `UnauthorizedClient` for a public client or one without the grant;
/// `InvalidScope` for anything not allowed.
pub fn client_credentials_scope(
    client: &OidcClient,
    requested: Option<&str>,
) -> Result<String, GrantError> {
    if client.kind != ClientKind::Confidential
        || !client.grants.contains(&GrantType::ClientCredentials)
    {
        return Err(GrantError::UnauthorizedClient);
    }
    let service_scope = |s: &str| client.scopes.contains(s) && !USER_SCOPES.contains(&s);
    let scopes: BTreeSet<&str> = match requested {
        None => client
            .scopes
            .iter()
            .map(String::as_str)
            .filter(|s| service_scope(s))
            .collect(),
        Some(asked) => {
            let asked: BTreeSet<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
            if !asked.iter().all(|s| service_scope(s)) {
                return Err(GrantError::InvalidScope);
            }
            asked
        }
    };
    Ok(scopes.into_iter().collect::<Vec<_>>().join(" "))
}

/// What the token endpoint was shown with a code (RFC 6749 §4.1.3).
#[derive(Debug, Clone)]
pub struct CodeExchange {
    pub client_row_id: ClientRowId,
    pub redirect_uri: String,
    pub code_verifier: Option<String>,
}

impl CodeExchange {
    /// Whether `code`, just won (see `OidcGrantStore::redeem_codes`), may
    /// be exchanged by this caller at `now`: its own
    /// client, the same redirect URI, not expired, the PKCE verifier
    /// matching (every code carries a challenge, so a missing verifier is
    /// refused too; SECURITY.md D2), and its person neither disabled nor
    /// due to change their password.
    #[must_use]
    pub fn accepts(&self, code: &CodeRecord, user: &User, now: UnixTime) -> bool {
        let pkce_ok = match (&code.code_challenge, &self.code_verifier) {
            (Some(challenge), Some(v)) => pkce_matches(challenge, v),
            _ => false,
        };
        code.client_row_id == self.client_row_id
            && code.redirect_uri == self.redirect_uri
            && now < code.expires_at
            && pkce_ok
            && user.is_active()
            // "Det här var inte jag" (or a reset by someone else) since the
            // code was issued: no new grant until the password is changed.
            && !user.must_change_password
            && user.id == code.user_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ClientRowId, OrganisationId};
    use crate::oidc::jose::Alg;

    fn client(kind: ClientKind, grants: &[GrantType], scopes: &[&str]) -> OidcClient {
        OidcClient {
            id: ClientRowId::generate(),
            organisation_id: OrganisationId::generate(),
            client_id: "svc".into(),
            name: "Svc".into(),
            kind,
            secret_hash: None,
            redirect_uris: vec![],
            grants: grants.iter().copied().collect(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            audience: None,
            signing_alg: Alg::Es256,
            first_party: false,
            groups: BTreeSet::new(),
            access: crate::access::ServiceAccess::default(),
        }
    }

    #[test]
    fn client_credentials_scopes() {
        let c = client(
            ClientKind::Confidential,
            &[GrantType::ClientCredentials],
            &["api:read", "api:write", "openid", "email"],
        );
        assert_eq!(
            client_credentials_scope(&c, None).unwrap(),
            "api:read api:write"
        );
        assert_eq!(
            client_credentials_scope(&c, Some("api:write  api:read")).unwrap(),
            "api:read api:write"
        );
        assert_eq!(client_credentials_scope(&c, Some("")).unwrap(), "");
        for bad in ["openid", "api:read email", "api:admin"] {
            assert_eq!(
                client_credentials_scope(&c, Some(bad)),
                Err(GrantError::InvalidScope),
                "{bad}"
            );
        }
        let code_only = client(
            ClientKind::Confidential,
            &[GrantType::AuthorizationCode],
            &["api"],
        );
        assert_eq!(
            client_credentials_scope(&code_only, None),
            Err(GrantError::UnauthorizedClient)
        );
        let public = client(
            ClientKind::Public,
            &[GrantType::ClientCredentials],
            &["api"],
        );
        assert_eq!(
            client_credentials_scope(&public, None),
            Err(GrantError::UnauthorizedClient)
        );
    }
}
