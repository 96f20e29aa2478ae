//! Authenticator apps (TOTP, RFC 6238): SHA-1, 6 digits, 30 s steps, one
//! step of tolerance either way. Each accepted code's step is remembered and
//! only later steps are accepted afterwards, so a code works once
//! (SECURITY.md A3; the store's `consume_totp_step` makes that atomic).

use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

pub const STEP_SECS: u64 = 30;
pub const DIGITS: usize = 6;

/// A shared secret: 160 random bits (SECURITY.md), kept as base32.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(String);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(…)")
    }
}

impl TotpSecret {
    #[must_use]
    pub fn generate() -> Self {
        let mut b = [0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut b);
        Self(Secret::Raw(b.to_vec()).to_encoded().to_string())
    }

    /// Parses a base32 secret (spaces and case ignored), e.g. one imported
    /// from another system. At least 128 bits.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        let cleaned: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        let cleaned = cleaned.trim_end_matches('=').to_owned();
        let bytes = Secret::Encoded(cleaned.clone()).to_bytes().ok()?;
        (bytes.len() >= 16).then_some(Self(cleaned))
    }

    #[must_use]
    pub fn base32(&self) -> &str {
        &self.0
    }

    /// The secret in groups of four, for typing into an app by hand.
    #[must_use]
    pub fn grouped(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn totp(&self, issuer: Option<String>, account: String) -> Option<TOTP> {
        let bytes = Secret::Encoded(self.0.clone()).to_bytes().ok()?;
        TOTP::new(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECS,
            bytes,
            issuer,
            account,
        )
        .ok()
    }

    /// The `otpauth://` URI that Google and Microsoft Authenticator read.
    #[must_use]
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Option<String> {
        let issuer = issuer.replace(':', " ");
        self.totp(Some(issuer), account.replace(':', " "))
            .map(|t| t.get_url())
    }

    /// The code for a Unix time (tests and tools).
    #[must_use]
    pub fn code_at(&self, unix: u64) -> Option<String> {
        self.totp(None, String::new()).map(|t| t.generate(unix))
    }

    /// The time step a code belongs to, looking one step back and ahead.
    /// Codes are digits only; spaces typed by the user are ignored.
    #[must_use]
    pub fn matching_step(&self, code: &str, unix: i64) -> Option<u64> {
        let code: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let t = self.totp(None, String::new())?;
        let now = u64::try_from(unix).ok()?;
        let step = now / STEP_SECS;
        let mut found = None;
        // Check every candidate, in constant time each, so timing says
        // nothing about which step matched.
        for s in [step.saturating_sub(1), step, step + 1] {
            if t.check(&code, s * STEP_SECS) && found.is_none() {
                found = Some(s);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, truncated to our 6 digits.
    #[test]
    fn rfc6238_sha1_vectors() {
        let secret = TotpSecret(
            Secret::Raw(b"12345678901234567890".to_vec())
                .to_encoded()
                .to_string(),
        );
        for (t, full) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(secret.code_at(t).unwrap(), &full[2..], "t={t}");
        }
    }

    /// RFC 4226 appendix D: HOTP values are TOTP at time = counter × 30.
    #[test]
    fn rfc4226_hotp_vectors() {
        let secret = TotpSecret(
            Secret::Raw(b"12345678901234567890".to_vec())
                .to_encoded()
                .to_string(),
        );
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(secret.code_at(counter as u64 * 30).unwrap(), *code);
        }
    }

    #[test]
    fn tolerance_is_one_step_and_input_is_tidied() {
        let s = TotpSecret::generate();
        assert_eq!(s.base32().len(), 32, "160 bits");
        let now = 1_800_000_015_i64;
        let code = s.code_at(1_800_000_000 - 30).unwrap();
        assert!(s.matching_step(&code, now).is_some());
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(s.matching_step(&spaced, now).is_some());
        assert!(s.matching_step(&code, now + 60).is_none(), "two steps late");
        assert!(s.matching_step("12345a", now).is_none());
        let uri = s
            .otpauth_uri("Portvakt Exempelkommun", "anna@exempelkommun.se")
            .unwrap();
        assert!(
            uri.starts_with(
                "otpauth://totp/Portvakt%20Exempelkommun:anna%40exempelkommun.se?secret="
            ),
            "{uri}"
        );
        assert_eq!(TotpSecret::parse(&s.grouped().to_lowercase()), Some(s));
    }
}
