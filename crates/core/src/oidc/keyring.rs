//! Which of an organisation's keys signs and which are published, derived
//! from each key's times rather than a stored status: two servers on one
//! database agree without a background job, and tests move a clock.
//!
//! A key is published from the moment it is stored (so apps that cache the
//! JWK Set learn it before it signs anything) until its `unpublish_at`. It
//! signs from `activates_at`; of the keys of one algorithm that may sign,
//! the one activated last does.

use super::jose::{Alg, Jwk, PublicKey, SigningKey};
use crate::clock::UnixTime;
use std::sync::Arc;

/// When a stored key signs and when it leaves the JWK Set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTimes {
    pub created_at: UnixTime,
    pub activates_at: UnixTime,
    pub unpublish_at: Option<UnixTime>,
}

impl KeyTimes {
    #[must_use]
    pub fn published(&self, now: UnixTime) -> bool {
        self.unpublish_at.is_none_or(|t| now < t)
    }

    #[must_use]
    pub fn may_sign(&self, now: UnixTime) -> bool {
        self.activates_at <= now && self.published(now)
    }
}

/// An organisation's parsed keys.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    keys: Vec<(Arc<SigningKey>, KeyTimes)>,
}

impl KeyRing {
    #[must_use]
    pub fn new(keys: Vec<(Arc<SigningKey>, KeyTimes)>) -> Self {
        Self { keys }
    }

    /// The key that signs new tokens of `alg` now.
    #[must_use]
    pub fn signer(&self, alg: Alg, now: UnixTime) -> Option<&Arc<SigningKey>> {
        self.keys
            .iter()
            .filter(|(k, t)| k.alg() == alg && t.may_sign(now))
            .max_by_key(|(_, t)| (t.activates_at, t.created_at))
            .map(|(k, _)| k)
    }

    /// The keys tokens may be verified with now, with their `kid`s.
    pub fn published(&self, now: UnixTime) -> impl Iterator<Item = (&str, &PublicKey)> {
        self.keys
            .iter()
            .filter(move |(_, t)| t.published(now))
            .map(|(k, _)| (k.kid(), k.public()))
    }

    /// The JWK Set document (RFC 7517 §5).
    #[must_use]
    pub fn jwks(&self, now: UnixTime) -> JwkSet {
        JwkSet {
            keys: self.published(now).map(|(_, p)| p.jwk()).collect(),
        }
    }

    /// When the published set next changes after `now` (a key starts
    /// signing or leaves the set), so a cache knows how long it holds.
    #[must_use]
    pub fn next_change(&self, now: UnixTime) -> Option<UnixTime> {
        self.keys
            .iter()
            .flat_map(|(_, t)| [Some(t.activates_at), t.unpublish_at])
            .flatten()
            .filter(|&t| t > now)
            .min()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: Alg) -> Arc<SigningKey> {
        Arc::new(SigningKey::generate(alg).unwrap().1)
    }

    #[test]
    fn the_newest_active_key_signs_and_a_new_key_is_published_before_it_signs() {
        let old = key(Alg::Es256);
        let new = key(Alg::Es256);
        let rs = key(Alg::Rs256);
        let ring = KeyRing::new(vec![
            (
                old.clone(),
                KeyTimes {
                    created_at: 0,
                    activates_at: 0,
                    unpublish_at: Some(2000),
                },
            ),
            (
                new.clone(),
                KeyTimes {
                    created_at: 500,
                    activates_at: 1000,
                    unpublish_at: None,
                },
            ),
            (
                rs.clone(),
                KeyTimes {
                    created_at: 0,
                    activates_at: 0,
                    unpublish_at: None,
                },
            ),
        ]);
        assert_eq!(ring.signer(Alg::Es256, 600).unwrap().kid(), old.kid());
        assert_eq!(ring.jwks(600).keys.len(), 3, "the next key is announced");
        assert_eq!(ring.signer(Alg::Es256, 1000).unwrap().kid(), new.kid());
        assert_eq!(ring.jwks(1500).keys.len(), 3, "the old key still verifies");
        assert_eq!(ring.jwks(2000).keys.len(), 2, "then it is gone");
        assert!(ring.published(2000).all(|(kid, _)| kid != old.kid()));
        assert_eq!(ring.signer(Alg::Rs256, 5000).unwrap().kid(), rs.kid());
        assert_eq!(ring.next_change(600), Some(1000));
        assert_eq!(ring.next_change(1000), Some(2000));
        assert_eq!(ring.next_change(2000), None);
    }
}
