//! An app registered as an OpenID/OAuth client of one organisation, as the
//! organisation file declares it, and the checks its fields must pass.

use super::jose::Alg;
use crate::access::ServiceAccess;
use crate::domain::Slug;
use crate::ids::OrganisationId;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

pub use crate::ids::ClientRowId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Keeps a secret (a server-side app).
    Confidential,
    /// Cannot keep a secret (a single-page or mobile app): PKCE instead.
    Public,
}

impl ClientKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confidential" => Some(Self::Confidential),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

/// The grants Portvakt implements. Implicit and password grants do not
/// exist here (RFC 9700 §2.1.2, §2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [Self; 3] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// Scopes that concern a signed-in person; meaningless (and refused) for a
/// service acting as itself.
pub const USER_SCOPES: [&str; 5] = ["openid", "profile", "email", "groups", "offline_access"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClient {
    pub id: ClientRowId,
    pub organisation_id: OrganisationId,
    pub client_id: String,
    pub name: String,
    pub kind: ClientKind,
    /// `sha256:<hex>` of the secret; `None` for public clients.
    pub secret_hash: Option<String>,
    /// Compared byte for byte with what the app sends (RFC 9700 §4.1.1).
    pub redirect_uris: Vec<String>,
    pub grants: BTreeSet<GrantType>,
    pub scopes: BTreeSet<String>,
    /// `aud` of access tokens; the `client_id` when not set.
    pub audience: Option<String>,
    pub signing_alg: Alg,
    /// No consent screen: the organisation's own app.
    pub first_party: bool,
    /// Who may sign in to it: the same rule language as services.
    pub groups: BTreeSet<Slug>,
    pub access: ServiceAccess,
}

impl OidcClient {
    /// Whether `secret` is this client's secret.
    #[must_use]
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret_hash.as_deref().is_some_and(|stored| {
            constant_time_eq(stored.as_bytes(), hash_secret(secret).as_bytes())
        })
    }

    /// The audience of the access tokens it gets.
    #[must_use]
    pub fn audience(&self) -> &str {
        self.audience.as_deref().unwrap_or(&self.client_id)
    }
}

/// How a client secret is stored. SHA-256 suffices: secrets are generated
/// (256 random bits) or required to be long, so there is no dictionary to
/// search, and a slow hash would make `/token` a lever for CPU exhaustion.
#[must_use]
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A stored-form hash as `apply` accepts it: `sha256:` and 64 lowercase hex.
#[must_use]
pub fn is_secret_hash(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Shortest secret `portvakt oidc hash-secret` accepts.
pub const MIN_SECRET_LEN: usize = 32;

/// A new client secret: 32 random bytes, base64url (43 characters).
#[must_use]
pub fn generate_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `client_id`: 3–64 of `[a-z0-9._-]`, starting with a letter or digit.
#[must_use]
pub fn is_client_id(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

/// A scope token an organisation may define (RFC 6749 §3.3, narrowed):
/// 1–64 of `[a-z0-9:._/-]`.
#[must_use]
pub fn is_scope_token(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || matches!(b, b':' | b'.' | b'_' | b'/' | b'-')
        })
}

/// Why a redirect URI cannot be registered (RFC 9700 §2.1, §4.1; RFC 8252).
///
/// # Errors
/// The reason, in words for the organisation file's error list.
pub fn check_redirect_uri(raw: &str) -> Result<(), String> {
    if raw.len() > 2000 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be an absolute URL without spaces, at most 2000 characters".into());
    }
    let u = url::Url::parse(raw).map_err(|_| "must be an absolute URL".to_owned())?;
    // Compared byte for byte later: it must already be in the form every
    // parser agrees on, or an app and Portvakt could read it differently.
    if u.as_str() != raw {
        return Err(format!("write it in its normal form: {}", u.as_str()));
    }
    if u.fragment().is_some() || raw.contains('#') {
        return Err("must not contain a fragment (#)".into());
    }
    if u.username() != "" || u.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    let host = u.host_str().unwrap_or_default();
    let loopback = matches!(host, "127.0.0.1" | "[::1]" | "localhost");
    match u.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("must be https:// (http:// only for 127.0.0.1, [::1] or localhost)".into()),
        // A native app's private-use scheme (RFC 8252 §7.1): reverse DNS.
        s if s.contains('.') && u.host().is_none() => Ok(()),
        _ => {
            Err("must be https://, loopback http:// or an app scheme like se.kommun.app:/cb".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hash_and_compare() {
        let s = generate_secret();
        assert_eq!(s.len(), 43);
        let h = hash_secret(&s);
        assert!(is_secret_hash(&h));
        assert!(!is_secret_hash("sha256:ABC"));
        assert!(!is_secret_hash(&h.to_uppercase()));
        assert_eq!(
            hash_secret("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn redirect_uris_are_https_loopback_or_app_schemes() {
        for ok in [
            "https://grafana.exempelkommun.se/login/generic_oauth",
            "http://127.0.0.1:8080/cb",
            "http://[::1]/cb",
            "http://localhost:3000/callback?x=1",
            "se.exempelkommun.app:/oauth2redirect",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://grafana.exempelkommun.se/cb",
            "https://grafana.exempelkommun.se/cb#frag",
            "https://user:pw@grafana.exempelkommun.se/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "https://a b/",
            "HTTPS://app.exempelkommun.se/cb",
            "https:app.exempelkommun.se/cb",
            "http://%31%32%37.0.0.1/cb",
            "https://app.exempelkommun.se/a/../cb",
            "https://app.exempelkommun.se",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_ids_and_scopes() {
        assert!(is_client_id("grafana"));
        assert!(is_client_id("nextcloud.skola-1"));
        assert!(!is_client_id("ab"));
        assert!(!is_client_id("Grafana"));
        assert!(!is_client_id("-x-"));
        assert!(is_scope_token("api:read"));
        assert!(!is_scope_token("a b"));
        assert!(!is_scope_token(""));
    }
}
