//! Session tokens and the rules for when a session ends.

use crate::clock::UnixTime;
use crate::store::SessionRecord;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A bearer token handed to the browser. 256 random bits (SECURITY.md: ≥ 128).
pub struct SessionToken(String);

impl SessionToken {
    #[must_use]
    pub fn generate() -> Self {
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        Self(URL_SAFE_NO_PAD.encode(b))
    }
    #[must_use]
    pub fn from_cookie(s: &str) -> Self {
        Self(s.to_owned())
    }
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// What the store keeps: SHA-256, hex. The token has full entropy, so a
    /// fast hash is enough (no password-style stretching needed).
    #[must_use]
    pub fn hash(&self) -> String {
        hash_token(&self.0)
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

#[must_use]
pub fn hash_token(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = Sha256::digest(token.as_bytes());
    let mut s = String::with_capacity(64);
    for b in d {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle_secs: i64,
    pub absolute_secs: i64,
    /// `last_seen_at` is written at most this often, so a busy session does
    /// not cost a database write per request. The idle clock runs from the
    /// stored value, so a session may end up to this much early, never late.
    pub touch_interval_secs: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_secs: 15 * 60,
            absolute_secs: 12 * 3600,
            touch_interval_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Valid { needs_touch: bool },
    Idle,
    Expired,
    Revoked,
}

impl SessionPolicy {
    #[must_use]
    pub fn evaluate(&self, s: &SessionRecord, now: UnixTime) -> SessionState {
        if s.revoked_at.is_some() {
            SessionState::Revoked
        } else if now >= s.expires_at {
            SessionState::Expired
        } else if now - s.last_seen_at >= self.idle_secs {
            SessionState::Idle
        } else {
            SessionState::Valid {
                needs_touch: now - s.last_seen_at >= self.touch_interval_secs,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Method;
    use crate::ids::{OrganisationId, UserId};
    use crate::store::Amr;

    fn rec(created: i64, seen: i64) -> SessionRecord {
        SessionRecord {
            token_hash: String::new(),
            organisation_id: OrganisationId::from_raw("o"),
            user_id: UserId::from_raw("u"),
            created_at: created,
            last_seen_at: seen,
            expires_at: created + 12 * 3600,
            revoked_at: None,
            ip: String::new(),
            user_agent: String::new(),
            amr: Amr::of(Method::Password),
            pending_mfa: false,
            mfa_tries: 0,
            end_reason: String::new(),
            credential_epoch: 0,
            start_code: None,
        }
    }

    #[test]
    fn idle_absolute_and_touch_rules() {
        let p = SessionPolicy::default();
        assert_eq!(
            p.evaluate(&rec(0, 0), 30),
            SessionState::Valid { needs_touch: false }
        );
        assert_eq!(
            p.evaluate(&rec(0, 0), 61),
            SessionState::Valid { needs_touch: true }
        );
        assert_eq!(p.evaluate(&rec(0, 0), 900), SessionState::Idle);
        assert_eq!(p.evaluate(&rec(0, 43_000), 43_200), SessionState::Expired);
    }

    #[test]
    fn tokens_are_unique_and_hash_is_stable() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.as_str().len() >= 43);
        assert_eq!(a.hash(), hash_token(a.as_str()));
    }
}
