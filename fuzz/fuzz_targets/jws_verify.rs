//! Issue 13 (SECURITY.md D7): the token verifier accepts nothing but a
//! token signed by one of the organisation's keys. The only message this
//! key ever signed is the seed corpus's `valid` token, so any other signing
//! input that verifies is a forgery or a parsing bug; no input may panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portvakt_core::oidc::jose::{verify_own, Alg, SigningKey};
use std::sync::OnceLock;

/// A throw-away P-256 test key (PKCS#8), used only here.
const TEST_KEY: &str = "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104201dd4de6a145051a10d63c4e8c8f486cf1cc6e439c8c9b90cea31fd4dae075ae7a1440342000454a6ef88d750b3624df523d9c04f48d8be085b517840c29893a97120e457796d1bcfe18ff79b61fdbe6a0e642254263169c24b2a9d7d10ec0ecf7a2d3d79cb31";
const SIGNED: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6Ik55YzBTR2tOUnc1VEtZeGdvZnBJM0JycXJhUWY0ajZFZ1FFcGo3ZG9fQjQiLCJ0eXAiOiJhdCtqd3QifQ.eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xL29pZGMveCIsInN1YiI6InVzcl8xIiwiZXhwIjoxfQ";

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let der: Vec<u8> = (0..TEST_KEY.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&TEST_KEY[i..i + 2], 16).unwrap())
            .collect();
        SigningKey::from_pkcs8(Alg::Es256, &der).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let k = key();
    if verify_own([(k.kid(), k.public())], token).is_ok() {
        let signed = token.rsplit_once('.').map(|(s, _)| s);
        assert_eq!(signed, Some(SIGNED), "{token:?}");
    }
});
