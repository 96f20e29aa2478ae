//! The JOSE layer of the OpenID provider: signing keys and JWS compact
//! tokens. Every cryptographic operation is ring's (ECDSA P-256, RSASSA
//! PKCS#1 v1.5 with SHA-256, SHA-256); the `rsa` crate only generates RSA
//! keys, which ring cannot. What is written here is the framing
//! (base64url, the JSON header, `header.payload.signature`) and a
//! deliberately narrow verifier that accepts only this organisation's own
//! tokens.

mod jws;
mod keys;

pub use jws::{sign, verify_own, JwsError, VerifiedToken};
pub use keys::{Alg, Jwk, KeyError, PublicKey, SigningKey};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
