//! Each organisation's issuer as the endpoints need it: the organisation,
//! its discovery document and JWK Set ready to send, and its parsed keys.
//! Entries are re-read at most once a second (like the verify cache), so
//! the endpoints do no database read per request, and a key rotation or a
//! new organisation is seen within a second on every server.

use crate::oidc::error::OAuthError;
use portvakt_core::clock::UnixTime;
use portvakt_core::domain::Slug;
use portvakt_core::ids::OrganisationId;
use portvakt_core::oidc::client::OidcClient;
use portvakt_core::oidc::discovery::{issuer, Metadata};
use portvakt_core::oidc::jose::{Alg, SigningKey};
use portvakt_core::oidc::keyring::KeyRing;
use portvakt_core::store::{Store, StoredSigningKey};
use portvakt_core::Clock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// One organisation's issuer.
pub struct Issuer {
    pub organisation: OrganisationId,
    pub issuer: String,
    pub discovery: axum::body::Bytes,
    pub keys: KeyRing,
    /// The organisation's registered apps.
    pub clients: Vec<Arc<OidcClient>>,
    jwks: axum::body::Bytes,
    /// When the JWK Set above stops being right (a key activates or leaves).
    jwks_until: Option<UnixTime>,
    loaded: Instant,
    refreshing: AtomicBool,
}

impl Issuer {
    /// The JWK Set document as of `now`.
    #[must_use]
    pub fn jwks(&self, now: UnixTime) -> axum::body::Bytes {
        if self.jwks_until.is_none_or(|t| now < t) {
            self.jwks.clone()
        } else {
            axum::body::Bytes::from(serde_json::to_vec(&self.keys.jwks(now)).unwrap_or_default())
        }
    }

    /// The client an app names, if it is one of this organisation's.
    #[must_use]
    pub fn client(&self, client_id: &str) -> Option<&Arc<OidcClient>> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// The key that signs tokens of `alg` now.
    ///
    /// # Errors
    /// When the organisation has no such key (it is created at start-up).
    pub fn signer(&self, alg: Alg, now: UnixTime) -> Result<&Arc<SigningKey>, OAuthError> {
        self.keys
            .signer(alg, now)
            .ok_or_else(|| OAuthError::Server(format!("no {} signing key", alg.as_str())))
    }
}

pub struct Issuers {
    entries: RwLock<HashMap<String, Arc<Issuer>>>,
    /// Parsed keys by `kid`: parsing (RSA especially) is done once per key,
    /// not once per refresh.
    parsed: Mutex<HashMap<String, Arc<SigningKey>>>,
    max_age: Duration,
}

impl Issuers {
    #[must_use]
    pub fn new(max_age: Duration) -> Self {
        Self {
            entries: RwLock::default(),
            parsed: Mutex::default(),
            max_age,
        }
    }

    /// The issuer of the organisation `slug`, or `NotFound`.
    ///
    /// # Errors
    /// `NotFound` for an unknown organisation; store or key failures.
    pub async fn get(
        &self,
        base: &str,
        store: &dyn Store,
        clock: &dyn Clock,
        slug: &str,
    ) -> Result<Arc<Issuer>, OAuthError> {
        let cached = self.entries.read().ok().and_then(|m| m.get(slug).cloned());
        if let Some(entry) = &cached {
            let fresh = entry.loaded.elapsed() < self.max_age;
            // One request re-reads a stale entry; the others keep using it
            // meanwhile rather than all reading the database at once.
            if fresh || entry.refreshing.swap(true, Ordering::AcqRel) {
                return Ok(entry.clone());
            }
        }
        // Whatever happens to this request (an error, or the client going
        // away and the future being dropped mid-load), the entry must not
        // stay marked as being refreshed: the guard clears the mark.
        let _refresh = cached.as_ref().map(|e| Refreshing(&e.refreshing));
        let loaded = self.load(base, store, clock, slug).await;
        let mut map = self
            .entries
            .write()
            .map_err(|_| OAuthError::Server("issuer cache poisoned".into()))?;
        match loaded {
            Ok(Some(entry)) => {
                let entry = Arc::new(entry);
                map.insert(slug.to_owned(), entry.clone());
                Ok(entry)
            }
            Ok(None) => {
                map.remove(slug);
                Err(OAuthError::NotFound)
            }
            Err(e) => Err(e),
        }
    }

    async fn load(
        &self,
        base: &str,
        store: &dyn Store,
        clock: &dyn Clock,
        slug: &str,
    ) -> Result<Option<Issuer>, OAuthError> {
        let Some(slug) = Slug::parse(slug) else {
            return Ok(None);
        };
        let Some(org) = store.organisation_by_slug(&slug).await? else {
            return Ok(None);
        };
        let now = clock.now();
        let mut stored = store.oidc_signing_keys(&org.id, now).await?;
        if stored.is_empty() {
            ensure_keys(store, &org.id, now).await?;
            stored = store.oidc_signing_keys(&org.id, now).await?;
        }
        let keys = KeyRing::new(
            stored
                .iter()
                .map(|k| Ok((self.parse(k)?, k.times)))
                .collect::<Result<_, OAuthError>>()?,
        );
        let clients = store
            .oidc_clients(&org.id)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect();
        let issuer = issuer(base, &org.slug);
        let discovery = serde_json::to_vec(&Metadata::new(issuer.clone()))
            .map_err(|e| OAuthError::Server(e.to_string()))?;
        let jwks =
            serde_json::to_vec(&keys.jwks(now)).map_err(|e| OAuthError::Server(e.to_string()))?;
        Ok(Some(Issuer {
            organisation: org.id,
            issuer,
            discovery: discovery.into(),
            jwks_until: keys.next_change(now),
            jwks: jwks.into(),
            keys,
            clients,
            loaded: Instant::now(),
            refreshing: AtomicBool::new(false),
        }))
    }

    fn parse(&self, k: &StoredSigningKey) -> Result<Arc<SigningKey>, OAuthError> {
        let mut parsed = self
            .parsed
            .lock()
            .map_err(|_| OAuthError::Server("key cache poisoned".into()))?;
        if let Some(key) = parsed.get(&k.kid) {
            return Ok(key.clone());
        }
        let key = Arc::new(
            SigningKey::from_pkcs8(k.alg, &k.pkcs8)
                .map_err(|e| OAuthError::Server(e.to_string()))?,
        );
        if key.kid() != k.kid {
            return Err(OAuthError::Server(format!(
                "stored key {} has another kid",
                k.kid
            )));
        }
        parsed.insert(k.kid.clone(), key.clone());
        Ok(key)
    }
}

/// Clears an entry's "being refreshed" mark when dropped.
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Creates the organisation's first ES256 and RS256 keys unless it has
/// keys already (every server may call this at start; one set is stored).
///
/// # Errors
/// Store failures, including a store that does not seal keys.
pub async fn ensure_keys(
    store: &dyn Store,
    org: &OrganisationId,
    now: UnixTime,
) -> Result<bool, OAuthError> {
    if !store.oidc_signing_keys(org, now).await?.is_empty() {
        return Ok(false);
    }
    // RSA key generation takes tens of milliseconds: off the async threads.
    let keys = tokio::task::spawn_blocking(move || {
        [Alg::Es256, Alg::Rs256]
            .into_iter()
            .map(|alg| {
                let (pkcs8, key) = SigningKey::generate(alg)?;
                Ok(StoredSigningKey {
                    kid: key.kid().to_owned(),
                    alg,
                    pkcs8,
                    times: portvakt_core::oidc::keyring::KeyTimes {
                        created_at: now,
                        activates_at: now,
                        unpublish_at: None,
                    },
                })
            })
            .collect::<Result<Vec<_>, portvakt_core::oidc::jose::KeyError>>()
    })
    .await
    .map_err(|e| OAuthError::Server(e.to_string()))?
    .map_err(|e| OAuthError::Server(e.to_string()))?;
    Ok(store.create_first_oidc_keys(org, &keys).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use portvakt_core::store::ProvisioningStore;
    use portvakt_core::ManualClock;

    /// An aborted request (the client went away mid-refresh) must not leave
    /// the entry marked as being refreshed, or it would never be re-read:
    /// removed clients and rotated keys would live on (review H1).
    #[tokio::test]
    async fn a_refresh_dropped_halfway_does_not_freeze_the_entry() {
        let dir = std::env::temp_dir().join(format!(
            "portvakt-issuers-{}",
            portvakt_core::ids::EventId::generate().as_str()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = portvakt_store::SqlStore::connect(&url)
            .await
            .unwrap()
            .with_secret_key(&[3; 32]);
        let org = portvakt_core::store_suite::sample_org("frys", "CANARY");
        let snap = store.snapshot(&org.slug).await.unwrap();
        let changes: Vec<_> = portvakt_core::apply::plan(&org, &snap, 1)
            .into_iter()
            .map(|p| p.change)
            .collect();
        store.apply_changes(&changes).await.unwrap();
        let clock = ManualClock::new(1000);
        // Every entry is stale at once, so every call refreshes.
        let issuers = Issuers::new(Duration::ZERO);
        let mut current = issuers
            .get("http://127.0.0.1", &store, &clock, "frys")
            .await
            .unwrap();
        // A refresh can finish within its first poll when the database
        // answers fast enough; try until one is cut off halfway.
        let mut cut = false;
        for _ in 0..200 {
            match tokio::time::timeout(
                Duration::ZERO,
                issuers.get("http://127.0.0.1", &store, &clock, "frys"),
            )
            .await
            {
                Err(_) => {
                    cut = true;
                    break;
                }
                Ok(entry) => current = entry.unwrap(),
            }
        }
        assert!(cut, "a refresh was cut off halfway");
        assert!(
            !current.refreshing.load(Ordering::Acquire),
            "the mark is cleared"
        );
        let again = issuers
            .get("http://127.0.0.1", &store, &clock, "frys")
            .await
            .unwrap();
        assert!(!Arc::ptr_eq(&current, &again), "the entry is read again");
        std::fs::remove_dir_all(&dir).ok();
    }
}
