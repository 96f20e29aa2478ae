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
