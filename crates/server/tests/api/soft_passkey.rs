//! A software passkey for the abuse tests: it signs whatever it is told to,
//! so a test can forge an origin, replay an answer or claim another user.
//! The honest path is proven in a real browser (e2e/tests/passkey.test.mjs).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use rand::RngCore;
use serde_cbor_2::Value;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub struct SoftPasskey {
    key: SigningKey,
    pub cred_id: Vec<u8>,
    pub user_handle: Vec<u8>,
    counter: u32,
    rp_id: String,
}

/// The options and ceremony id carried by a passkey page.
pub struct Prompt {
    pub options: serde_json::Value,
    pub ceremony: String,
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = rest[i..].find(';').unwrap() + i;
        let entity = &rest[i + 1..end];
        let c = match entity {
            "quot" => '"',
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            _ if entity.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&entity[2..], 16).unwrap()).unwrap()
            }
            _ => char::from_u32(entity[1..].parse().unwrap()).unwrap(),
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn attr<'a>(html: &'a str, marker: &str) -> &'a str {
    let i = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    &html[i..i + html[i..].find('"').unwrap()]
}

impl Prompt {
    pub fn from_page(html: &str) -> Self {
        Self {
            options: serde_json::from_str(&unescape(attr(html, "data-options=\""))).unwrap(),
            ceremony: attr(html, "name=\"ceremony\" value=\"").to_owned(),
        }
    }

    fn challenge(&self) -> &str {
        self.options["challenge"].as_str().unwrap()
    }
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

impl SoftPasskey {
    pub fn new(rp_id: &str) -> Self {
        let mut secret = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut secret);
        let mut cred_id = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut cred_id);
        Self {
            key: SigningKey::from_slice(&secret).unwrap(),
            cred_id,
            user_handle: Vec::new(),
            counter: 0,
            rp_id: rp_id.into(),
        }
    }

    fn auth_data(&mut self, attested: bool) -> Vec<u8> {
        self.counter += 1;
        let mut d = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        // User present + user verified (+ attested credential data).
        d.push(if attested { 0x45 } else { 0x05 });
        d.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            d.extend_from_slice(&[0u8; 16]);
            d.extend_from_slice(&u16::try_from(self.cred_id.len()).unwrap().to_be_bytes());
            d.extend_from_slice(&self.cred_id);
            let point = self.key.verifying_key().to_sec1_point(false);
            let xy = &point.as_bytes()[1..];
            let cose: BTreeMap<Value, Value> = [
                (Value::Integer(1), Value::Integer(2)),
                (Value::Integer(3), Value::Integer(-7)),
                (Value::Integer(-1), Value::Integer(1)),
                (Value::Integer(-2), Value::Bytes(xy[..32].to_vec())),
                (Value::Integer(-3), Value::Bytes(xy[32..].to_vec())),
            ]
            .into_iter()
            .collect();
            d.extend_from_slice(&serde_cbor_2::to_vec(&Value::Map(cose)).unwrap());
        }
        d
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    /// Answers a registration page as an authenticator at `origin` would.
    pub fn register(&mut self, prompt: &Prompt, origin: &str) -> String {
        let handle = prompt.options["user"]["id"].as_str().unwrap();
        self.user_handle = URL_SAFE_NO_PAD.decode(handle).unwrap();
        let client_data = Self::client_data("webauthn.create", prompt.challenge(), origin);
        let auth_data = self.auth_data(true);
        let att: BTreeMap<Value, Value> = [
            (Value::Text("fmt".into()), Value::Text("none".into())),
            (Value::Text("attStmt".into()), Value::Map(BTreeMap::new())),
            (Value::Text("authData".into()), Value::Bytes(auth_data)),
        ]
        .into_iter()
        .collect();
        json!({
            "id": b64(&self.cred_id), "rawId": b64(&self.cred_id), "type": "public-key",
            "extensions": {},
            "response": {
                "attestationObject": b64(&serde_cbor_2::to_vec(&Value::Map(att)).unwrap()),
                "clientDataJSON": b64(&client_data),
            }
        })
        .to_string()
    }

    /// Answers a sign-in page, signing for `origin`.
    pub fn assert(&mut self, prompt: &Prompt, origin: &str) -> String {
        let client_data = Self::client_data("webauthn.get", prompt.challenge(), origin);
        let auth_data = self.auth_data(false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let sig: DerSignature = self.key.sign(&signed);
        json!({
            "id": b64(&self.cred_id), "rawId": b64(&self.cred_id), "type": "public-key",
            "extensions": {},
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(sig.as_bytes()),
                "userHandle": b64(&self.user_handle),
            }
        })
        .to_string()
    }
}
