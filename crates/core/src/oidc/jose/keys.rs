//! Signing keys: generated, stored as PKCS#8 (sealed by the store), parsed
//! once into ring key pairs, and published as JWKs (RFC 7517) whose `kid`
//! is the RFC 7638 thumbprint.

use super::b64;
use ring::rand::SystemRandom;
use ring::signature::{
    self, EcdsaKeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The signature algorithms Portvakt issues (never `none`, never HMAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alg {
    Es256,
    Rs256,
}

impl Alg {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// Exactly `ES256` or `RS256`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key could not be generated")]
    Generate,
    #[error("the stored key is not a valid {0} key")]
    Rejected(&'static str),
    #[error("signing failed")]
    Sign,
}

enum Pair {
    Es(EcdsaKeyPair),
    Rs(RsaKeyPair),
}

/// A private key, parsed once and kept for as long as it signs.
pub struct SigningKey {
    kid: String,
    alg: Alg,
    pair: Pair,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// RSA modulus size for new keys: the common minimum every client accepts.
const RSA_BITS: usize = 2048;

impl SigningKey {
    /// A new key and its PKCS#8 document (to be sealed and stored).
    ///
    /// # Errors
    /// When the system's random source fails.
    pub fn generate(alg: Alg) -> Result<(Zeroizing<Vec<u8>>, Self), KeyError> {
        let der = match alg {
            Alg::Es256 => Zeroizing::new(
                EcdsaKeyPair::generate_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &SystemRandom::new(),
                )
                .map_err(|_| KeyError::Generate)?
                .as_ref()
                .to_vec(),
            ),
            Alg::Rs256 => {
                use rsa::pkcs8::EncodePrivateKey;
                let key = rsa::RsaPrivateKey::new(&mut rand010::rng(), RSA_BITS)
                    .map_err(|_| KeyError::Generate)?;
                let doc = key.to_pkcs8_der().map_err(|_| KeyError::Generate)?;
                Zeroizing::new(doc.as_bytes().to_vec())
            }
        };
        let key = Self::from_pkcs8(alg, &der)?;
        Ok((der, key))
    }

    /// Parses a stored PKCS#8 key.
    ///
    /// # Errors
    /// When the document is not a valid key of `alg`.
    pub fn from_pkcs8(alg: Alg, der: &[u8]) -> Result<Self, KeyError> {
        let (pair, public) = match alg {
            Alg::Es256 => {
                let kp = EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                    &SystemRandom::new(),
                )
                .map_err(|_| KeyError::Rejected("ES256"))?;
                let public =
                    PublicKey::ec(kp.public_key().as_ref()).ok_or(KeyError::Rejected("ES256"))?;
                (Pair::Es(kp), public)
            }
            Alg::Rs256 => {
                let kp = RsaKeyPair::from_pkcs8(der).map_err(|_| KeyError::Rejected("RS256"))?;
                let c = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(kp.public());
                (Pair::Rs(kp), PublicKey::rsa(c.n, c.e))
            }
        };
        Ok(Self {
            kid: public.thumbprint(),
            alg,
            pair,
            public,
        })
    }

    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    #[must_use]
    pub fn alg(&self) -> Alg {
        self.alg
    }

    #[must_use]
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The signature over `message`, as JWS wants it (ECDSA as r‖s).
    pub(super) fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Es(kp) => kp
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyError::Sign),
            Pair::Rs(kp) => {
                let mut sig = vec![0; kp.public().modulus_len()];
                kp.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| KeyError::Sign)?;
                Ok(sig)
            }
        }
    }
}

/// The public half of a signing key: what JWKS publishes and what
/// verifies this organisation's own tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// P-256, the coordinates of the point (32 bytes each).
    Ec { x: Vec<u8>, y: Vec<u8> },
    /// RSA, big-endian modulus and exponent without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

/// One key of a JWK Set as published (RFC 7517, 7518 §6).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

fn strip_leading_zeros(b: &[u8]) -> Vec<u8> {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b[first..].to_vec()
}

impl PublicKey {
    /// From an uncompressed SEC1 point (0x04 ‖ x ‖ y).
    fn ec(point: &[u8]) -> Option<Self> {
        match point {
            [4, rest @ ..] if rest.len() == 64 => Some(Self::Ec {
                x: rest[..32].to_vec(),
                y: rest[32..].to_vec(),
            }),
            _ => None,
        }
    }

    fn rsa(n: Vec<u8>, e: Vec<u8>) -> Self {
        Self::Rsa {
            n: strip_leading_zeros(&n),
            e: strip_leading_zeros(&e),
        }
    }

    #[must_use]
    pub fn alg(&self) -> Alg {
        match self {
            Self::Ec { .. } => Alg::Es256,
            Self::Rsa { .. } => Alg::Rs256,
        }
    }

    /// RFC 7638: SHA-256 over the required members in lexicographic order,
    /// without whitespace, base64url.
    #[must_use]
    pub fn thumbprint(&self) -> String {
        let canonical = match self {
            Self::Ec { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64(x),
                b64(y)
            ),
            Self::Rsa { n, e } => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(e), b64(n)),
        };
        b64(&Sha256::digest(canonical.as_bytes()))
    }

    /// The key as published in the JWK Set.
    #[must_use]
    pub fn jwk(&self) -> Jwk {
        let kid = self.thumbprint();
        match self {
            Self::Ec { x, y } => Jwk {
                kty: "EC",
                use_: "sig",
                alg: "ES256",
                kid,
                crv: Some("P-256"),
                x: Some(b64(x)),
                y: Some(b64(y)),
                n: None,
                e: None,
            },
            Self::Rsa { n, e } => Jwk {
                kty: "RSA",
                use_: "sig",
                alg: "RS256",
                kid,
                crv: None,
                x: None,
                y: None,
                n: Some(b64(n)),
                e: Some(b64(e)),
            },
        }
    }

    /// Whether `sig` is this key's signature over `message`.
    pub(super) fn verifies(&self, message: &[u8], sig: &[u8]) -> bool {
        match self {
            Self::Ec { x, y } => {
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, sig)
                    .is_ok()
            }
            Self::Rsa { n, e } => signature::RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, message, sig)
                .is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_thumbprint_vector() {
        // RFC 7638 §3.1: the example RSA key and its thumbprint.
        let n = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        )
        .unwrap();
        let key = PublicKey::rsa(n, vec![1, 0, 1]);
        assert_eq!(
            key.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn generated_keys_reparse_to_the_same_kid_and_sign() {
        for alg in [Alg::Es256, Alg::Rs256] {
            let (der, key) = SigningKey::generate(alg).unwrap();
            let again = SigningKey::from_pkcs8(alg, &der).unwrap();
            assert_eq!(key.kid(), again.kid());
            assert_eq!(key.public().alg(), alg);
            let sig = key.sign_bytes(b"message").unwrap();
            assert!(again.public().verifies(b"message", &sig));
            assert!(!again.public().verifies(b"messagf", &sig));
            let jwk = key.public().jwk();
            assert_eq!(jwk.kid, key.kid());
            assert_eq!(jwk.alg, alg.as_str());
        }
    }

    #[test]
    fn a_key_of_one_kind_is_not_read_as_the_other() {
        let (der, _) = SigningKey::generate(Alg::Es256).unwrap();
        assert!(SigningKey::from_pkcs8(Alg::Rs256, &der).is_err());
        assert!(SigningKey::from_pkcs8(Alg::Es256, b"garbage").is_err());
    }
}
