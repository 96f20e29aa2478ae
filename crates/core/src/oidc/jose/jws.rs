//! JWS compact serialisation (RFC 7515 §7.1) for the tokens Portvakt
//! issues, and the verifier for tokens it is shown back (access tokens at
//! `/userinfo` and `/introspect`, `id_token_hint`).
//!
//! The verifier accepts only what Portvakt itself produces: three
//! segments of strict base64url, a header with nothing but `alg`, `kid`
//! and `typ`, a `kid` naming one of this organisation's published keys,
//! and an `alg` equal to that key's algorithm. So `alg: none`, HMAC with a
//! public key as the secret, keys carried in the token (`jwk`, `jku`,
//! `x5u`, `x5c`) and `crit` extensions never reach a signature check
//! (SECURITY.md D7).

use super::b64;
use super::keys::{KeyError, PublicKey, SigningKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// Far above any token Portvakt issues; a bound on what is parsed.
const MAX_TOKEN_LEN: usize = 8 * 1024;

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    kid: &'a str,
    typ: &'a str,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadHeader {
    alg: String,
    kid: String,
    #[serde(default)]
    typ: Option<String>,
}

/// A signed token: `typ` is `JWT` for ID tokens, `at+jwt` for access
/// tokens (RFC 9068 §2.1).
///
/// # Errors
/// When the claims do not serialise or the signature fails.
pub fn sign(key: &SigningKey, typ: &str, claims: &impl Serialize) -> Result<String, KeyError> {
    let header = serde_json::to_vec(&Header {
        alg: key.alg().as_str(),
        kid: key.kid(),
        typ,
    })
    .map_err(|_| KeyError::Sign)?;
    let payload = serde_json::to_vec(claims).map_err(|_| KeyError::Sign)?;
    let mut token = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 400);
    token.push_str(&b64(&header));
    token.push('.');
    token.push_str(&b64(&payload));
    let sig = key.sign_bytes(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64(&sig));
    Ok(token)
}

/// Why a presented token was not accepted. The caller answers
/// `invalid_token` (or an inactive introspection) for every one of them;
/// the variants exist for logs and tests.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS")]
    Malformed,
    #[error("header not accepted")]
    Header,
    #[error("unknown key")]
    UnknownKey,
    #[error("algorithm does not match the key")]
    Algorithm,
    #[error("bad signature")]
    Signature,
}

/// A token whose signature one of the organisation's keys verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    pub kid: String,
    pub typ: Option<String>,
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Verifies a token Portvakt issued with one of `keys` (the
/// organisation's published keys, each with its `kid`).
///
/// # Errors
/// See [`JwsError`]. Claims (`iss`, `exp`, `aud`…) are the caller's to check.
pub fn verify_own<'k>(
    keys: impl IntoIterator<Item = (&'k str, &'k PublicKey)>,
    token: &str,
) -> Result<VerifiedToken, JwsError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(JwsError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed);
    };
    let decode = |seg: &str| URL_SAFE_NO_PAD.decode(seg).map_err(|_| JwsError::Malformed);
    let header: ReadHeader = serde_json::from_slice(&decode(h)?).map_err(|_| JwsError::Header)?;
    let payload = decode(p)?;
    let sig = decode(s)?;
    let key = keys
        .into_iter()
        .find_map(|(kid, key)| (kid == header.kid).then_some(key))
        .ok_or(JwsError::UnknownKey)?;
    if header.alg != key.alg().as_str() {
        return Err(JwsError::Algorithm);
    }
    let signed = &token.as_bytes()[..h.len() + 1 + p.len()];
    if !key.verifies(signed, &sig) {
        return Err(JwsError::Signature);
    }
    let claims = serde_json::from_slice(&payload).map_err(|_| JwsError::Malformed)?;
    Ok(VerifiedToken {
        kid: header.kid,
        typ: header.typ,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::super::keys::Alg;
    use super::*;
    use serde_json::json;

    fn keys() -> (SigningKey, SigningKey) {
        (
            SigningKey::generate(Alg::Es256).unwrap().1,
            SigningKey::generate(Alg::Rs256).unwrap().1,
        )
    }

    fn published(ks: &[&SigningKey]) -> Vec<(String, PublicKey)> {
        ks.iter()
            .map(|k| (k.kid().to_owned(), k.public().clone()))
            .collect()
    }

    fn check(pubs: &[(String, PublicKey)], token: &str) -> Result<VerifiedToken, JwsError> {
        verify_own(pubs.iter().map(|(k, p)| (k.as_str(), p)), token)
    }

    fn forge(header: &serde_json::Value, claims: &serde_json::Value, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes()),
            b64(sig)
        )
    }

    #[test]
    fn round_trip_with_both_algorithms() {
        let (es, rs) = keys();
        let pubs = published(&[&es, &rs]);
        for key in [&es, &rs] {
            let token = sign(key, "at+jwt", &json!({"sub": "usr_1", "n": 1})).unwrap();
            let v = check(&pubs, &token).unwrap();
            assert_eq!(v.kid, key.kid());
            assert_eq!(v.typ.as_deref(), Some("at+jwt"));
            assert_eq!(v.claims["sub"], "usr_1");
        }
    }

    #[test]
    fn everything_but_our_own_tokens_is_refused() {
        let (es, rs) = keys();
        let (other, _) = keys();
        let pubs = published(&[&es, &rs]);
        let claims = json!({"sub": "usr_1"});
        let good = sign(&es, "JWT", &claims).unwrap();
        let sig = good.rsplit('.').next().unwrap().to_owned();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();

        // alg: none, with and without a signature.
        let none = json!({"alg": "none", "kid": es.kid(), "typ": "JWT"});
        assert_eq!(
            check(&pubs, &forge(&none, &claims, b"")),
            Err(JwsError::Algorithm)
        );
        assert_eq!(
            check(
                &pubs,
                &format!(
                    "{}.{}.",
                    b64(none.to_string().as_bytes()),
                    b64(claims.to_string().as_bytes())
                )
            ),
            Err(JwsError::Algorithm)
        );
        // HS256 "signed" with the public key as the secret.
        let hs = json!({"alg": "HS256", "kid": rs.kid()});
        assert_eq!(
            check(&pubs, &forge(&hs, &claims, &sig)),
            Err(JwsError::Algorithm)
        );
        // An ES256 kid with RS256 claimed, and the other way round.
        let mixed = json!({"alg": "RS256", "kid": es.kid()});
        assert_eq!(
            check(&pubs, &forge(&mixed, &claims, &sig)),
            Err(JwsError::Algorithm)
        );
        // Keys or extensions carried in the header.
        for extra in ["jwk", "jku", "x5u", "x5c", "crit", "cty", "b64"] {
            let mut h = json!({"alg": "ES256", "kid": es.kid()});
            h[extra] = json!("x");
            assert_eq!(
                check(&pubs, &forge(&h, &claims, &sig)),
                Err(JwsError::Header),
                "{extra}"
            );
        }
        // No kid, an unknown kid, another organisation's key.
        let h = json!({"alg": "ES256"});
        assert_eq!(
            check(&pubs, &forge(&h, &claims, &sig)),
            Err(JwsError::Header)
        );
        let foreign = sign(&other, "JWT", &claims).unwrap();
        assert_eq!(check(&pubs, &foreign), Err(JwsError::UnknownKey));
        // A changed payload, a flipped signature bit.
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[1] = b64(json!({"sub": "usr_2"}).to_string().as_bytes());
        assert_eq!(check(&pubs, &parts.join(".")), Err(JwsError::Signature));
        let mut flipped = sig.clone();
        flipped[5] ^= 1;
        let h = json!({"alg": "ES256", "kid": es.kid(), "typ": "JWT"});
        assert_eq!(
            check(&pubs, &forge(&h, &claims, &flipped)),
            Err(JwsError::Signature)
        );
        // Framing.
        for bad in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            &format!("{good}="),
            &format!("{good}."),
        ] {
            assert!(check(&pubs, bad).is_err(), "{bad}");
        }
        let padded = good.replacen('.', "=.", 1);
        assert!(check(&pubs, &padded).is_err());
        assert_eq!(check(&pubs, &"a".repeat(9000)), Err(JwsError::Malformed));
        // The good one still passes.
        assert!(check(&pubs, &good).is_ok());
    }
}
