//! The tokens the provider issues: RFC 9068 JWT access tokens (and, with
//! the code flow, OpenID Connect ID tokens).

use super::jose::{self, KeyError, SigningKey};
use crate::clock::UnixTime;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// An access token's claims (RFC 9068 §2.2). For a service acting as
/// itself (`client_credentials`) `sub` is the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub iat: UnixTime,
    pub exp: UnixTime,
    pub jti: String,
    pub scope: String,
    /// For a person's token: the grant it belongs to, so revoking the
    /// grant ends the token at `/userinfo` and `/introspect` at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<UnixTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// `typ` of access tokens (RFC 9068 §2.1), so one is never taken for an
/// ID token.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

impl AccessClaims {
    /// # Errors
    /// When signing fails.
    pub fn sign(&self, key: &SigningKey) -> Result<String, KeyError> {
        jose::sign(key, ACCESS_TOKEN_TYP, self)
    }
}

/// A random token identifier (128 bits, base64url).
#[must_use]
pub fn new_jti() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    jose::b64(&b)
}

/// An ID token's claims (OpenID Connect Core §2, §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub azp: String,
    pub exp: UnixTime,
    pub iat: UnixTime,
    pub auth_time: UnixTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub acr: String,
    pub amr: Vec<String>,
    pub at_hash: String,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// The claims about the person, by scope (also `/userinfo`'s answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

impl IdClaims {
    /// # Errors
    /// When signing fails.
    pub fn sign(&self, key: &SigningKey) -> Result<String, KeyError> {
        jose::sign(key, "JWT", self)
    }
}

/// `at_hash` (OpenID Connect Core §3.1.3.6): the left half of the
/// access token's SHA-256 (both ES256 and RS256 use SHA-256), base64url.
#[must_use]
pub fn at_hash(access_token: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(access_token.as_bytes());
    jose::b64(&d[..16])
}

/// A new random secret for a code or refresh token (256 bits, base64url).
#[must_use]
pub fn new_secret() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    jose::b64(&b)
}

/// How codes, refresh tokens and request ids are stored.
#[must_use]
pub fn secret_hash(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
