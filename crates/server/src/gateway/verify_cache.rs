//! What `/auth/verify` needs per request, cached with bounded staleness so
//! the hot path does no database work: a session (with its user, groups
//! and methods) is re-read from the store at most once per `ttl`, and so is
//! an organisation's list of services and zones. A revoked session or a
//! changed rule therefore takes effect within `ttl` (one second by
//! default). Re-reading goes through `check_session`, which also keeps the
//! idle timeout honest: activity seen here refreshes `last_seen_at` at most
//! once a minute (written in the background, never waited for), and a
//! session idle too long is ended there.

use portvakt_core::access::Method;
use portvakt_core::apply::ZoneRecord;
use portvakt_core::auth::session::SessionToken;
use portvakt_core::auth::signin::{AuthService, SessionCheck};
use portvakt_core::domain::{Slug, ZoneCidrs};
use portvakt_core::handoff::SessionLink;
use portvakt_core::ids::OrganisationId;
use portvakt_core::store::{Organisation, Service, SessionRecord, Store, User};
use portvakt_core::StoreError;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// Entries kept before the cache is emptied and refilled (memory bound).
const MAX_ENTRIES: usize = 100_000;

pub struct ActiveSession {
    pub session: SessionRecord,
    pub user: User,
    pub groups: BTreeSet<Slug>,
    pub methods: BTreeSet<Method>,
}

pub struct OrgView {
    pub organisation: Organisation,
    pub services: Vec<(Service, BTreeSet<Slug>)>,
    pub zones: Vec<ZoneRecord>,
    /// The zones' ranges, parsed once.
    ranges: Vec<(Slug, ZoneCidrs)>,
}

impl OrgView {
    /// The service published at `host` (lower case, no port).
    #[must_use]
    pub fn service_at(&self, host: &str) -> Option<&(Service, BTreeSet<Slug>)> {
        self.services
            .iter()
            .find(|(s, _)| s.access.host.as_deref() == Some(host))
    }

    #[must_use]
    pub fn zone_of(&self, ip: IpAddr) -> Option<&Slug> {
        self.ranges
            .iter()
            .find(|(_, c)| c.contains(ip))
            .map(|(s, _)| s)
    }
}

struct Entry<T> {
    at: Instant,
    value: Option<Arc<T>>,
}

/// Loads after a miss wait on one of these, chosen by key: when an entry
/// goes stale under load, one request re-reads it and the others take
/// what it read, instead of every request in flight asking the database
/// at once.
const LOAD_GATES: usize = 64;

pub struct VerifyCache {
    ttl: Duration,
    gates: [tokio::sync::Mutex<()>; LOAD_GATES],
    /// Keyed afresh at each start, so nobody can choose tokens whose loads
    /// all wait on the gate a given person's session uses.
    gate_hasher: std::collections::hash_map::RandomState,
    /// Hosts the built-in proxy serves, and when they were read.
    hosts: RwLock<(Option<Instant>, std::collections::HashSet<String>)>,
    sessions: RwLock<HashMap<String, Entry<ActiveSession>>>,
    /// The apps origin's session links, by link hash.
    links: RwLock<HashMap<String, Entry<SessionLink>>>,
    orgs: RwLock<HashMap<OrganisationId, Entry<OrgView>>>,
    /// Sessions whose `last_seen_at` is being written (see `touch_later`).
    touching: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

fn fresh<K: std::hash::Hash + Eq, T>(
    map: &RwLock<HashMap<K, Entry<T>>>,
    key: &K,
    ttl: Duration,
) -> Option<Option<Arc<T>>> {
    let guard = map.read().ok()?;
    let e = guard.get(key)?;
    (e.at.elapsed() < ttl).then(|| e.value.clone())
}

fn put<K: std::hash::Hash + Eq, T>(
    map: &RwLock<HashMap<K, Entry<T>>>,
    key: K,
    value: Option<Arc<T>>,
) {
    if let Ok(mut guard) = map.write() {
        if guard.len() >= MAX_ENTRIES {
            guard.clear();
        }
        guard.insert(
            key,
            Entry {
                at: Instant::now(),
                value,
            },
        );
    }
}

impl VerifyCache {
    #[must_use]
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            gates: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            gate_hasher: std::collections::hash_map::RandomState::new(),
            hosts: RwLock::new((None, std::collections::HashSet::new())),
            sessions: RwLock::new(HashMap::new()),
            links: RwLock::new(HashMap::new()),
            orgs: RwLock::new(HashMap::new()),
            touching: Arc::default(),
        }
    }

    /// Re-reads the published hosts when the list is older than `ttl`.
    ///
    /// # Errors
    /// Store failures.
    pub async fn refresh_proxied_hosts(&self, store: &dyn Store) -> Result<(), StoreError> {
        let stale = self
            .hosts
            .read()
            .map_or(true, |h| h.0.is_none_or(|at| at.elapsed() >= self.ttl));
        if stale {
            let _loading = self.gate("proxied hosts").lock().await;
            let still_stale = self
                .hosts
                .read()
                .map_or(true, |h| h.0.is_none_or(|at| at.elapsed() >= self.ttl));
            if !still_stale {
                return Ok(());
            }
            let hosts = store.proxied_hosts().await?;
            if let Ok(mut h) = self.hosts.write() {
                *h = (Some(Instant::now()), hosts.into_iter().collect());
            }
        }
        Ok(())
    }

    fn gate<K: std::hash::Hash + ?Sized>(&self, key: &K) -> &tokio::sync::Mutex<()> {
        use std::hash::BuildHasher;
        let h = self.gate_hasher.hash_one(key);
        &self.gates[(h % LOAD_GATES as u64) as usize]
    }

    #[must_use]
    pub fn is_proxied_host(&self, host: &str) -> bool {
        self.hosts.read().is_ok_and(|h| h.1.contains(host))
    }

    /// The active (fully signed-in) session behind a cookie token.
    ///
    /// # Errors
    /// Store failures.
    pub async fn session(
        &self,
        auth: &AuthService,
        token: &SessionToken,
    ) -> Result<Option<Arc<ActiveSession>>, StoreError> {
        self.session_by_hash(auth, &token.hash()).await
    }

    /// The active session with this stored hash (behind a session link).
    ///
    /// # Errors
    /// Store failures.
    pub async fn session_by_hash(
        &self,
        auth: &AuthService,
        hash: &str,
    ) -> Result<Option<Arc<ActiveSession>>, StoreError> {
        let hash = hash.to_owned();
        if let Some(hit) = fresh(&self.sessions, &hash, self.ttl) {
            return Ok(hit);
        }
        let _loading = self.gate(&hash).lock().await;
        if let Some(hit) = fresh(&self.sessions, &hash, self.ttl) {
            return Ok(hit);
        }
        let (check, touch) = auth.check_session_hash_untouched(&hash).await?;
        if let Some(now) = touch {
            self.touch_later(auth.store.clone(), &hash, now);
        }
        let value = match check {
            SessionCheck::Active { session, user } => {
                let groups = auth
                    .store
                    .user_groups(&user.organisation_id, &user.id)
                    .await?
                    .into_iter()
                    .map(|g| g.slug)
                    .collect();
                Some(Arc::new(ActiveSession {
                    methods: session.amr.methods(),
                    session: *session,
                    user: *user,
                    groups,
                }))
            }
            _ => None,
        };
        put(&self.sessions, hash, value.clone());
        Ok(value)
    }

    /// Writes a session's `last_seen_at` in the background, at most one
    /// write per session at a time: while another writer holds the
    /// database (up to its busy timeout), answers go on from what was read
    /// and the writes do not pile up on the connections.
    fn touch_later(&self, store: Arc<dyn Store>, hash: &str, now: i64) {
        let Ok(mut busy) = self.touching.lock() else {
            return;
        };
        if !busy.insert(hash.to_owned()) {
            return;
        }
        drop(busy);
        let touching = self.touching.clone();
        let hash = hash.to_owned();
        tokio::spawn(async move {
            if let Err(e) = store.touch_session(&hash, now).await {
                tracing::warn!(error = %e, "session activity not recorded");
            }
            if let Ok(mut busy) = touching.lock() {
                busy.remove(&hash);
            }
        });
    }

    /// The unexpired session link with this hash. A link outlives its
    /// session only in this cache's `ttl`: the session itself is checked
    /// on every use.
    ///
    /// # Errors
    /// Store failures.
    pub async fn link(
        &self,
        store: &dyn Store,
        link_hash: &str,
        now: i64,
    ) -> Result<Option<Arc<SessionLink>>, StoreError> {
        let key = link_hash.to_owned();
        if let Some(hit) = fresh(&self.links, &key, self.ttl) {
            return Ok(hit.filter(|l| l.expires_at >= now));
        }
        let value = store.session_link(link_hash, now).await?.map(Arc::new);
        put(&self.links, key, value.clone());
        Ok(value)
    }

    /// An organisation's services and zones.
    ///
    /// # Errors
    /// Store failures.
    pub async fn organisation(
        &self,
        store: &dyn Store,
        id: &OrganisationId,
    ) -> Result<Option<Arc<OrgView>>, StoreError> {
        if let Some(hit) = fresh(&self.orgs, id, self.ttl) {
            return Ok(hit);
        }
        let _loading = self.gate(id).lock().await;
        if let Some(hit) = fresh(&self.orgs, id, self.ttl) {
            return Ok(hit);
        }
        let value = match store.organisation(id).await? {
            Some(organisation) => {
                let services = store.services_with_groups(id).await?;
                let zones = store.zones(id).await?;
                let ranges = zones
                    .iter()
                    .filter_map(|z| {
                        // A zone that no longer parses counts as outside.
                        let c = ZoneCidrs::parse(&z.cidrs.split(',').collect::<Vec<_>>()).ok()?;
                        Some((z.slug.clone(), c))
                    })
                    .collect();
                Some(Arc::new(OrgView {
                    organisation,
                    services,
                    zones,
                    ranges,
                }))
            }
            None => None,
        };
        put(&self.orgs, id.clone(), value.clone());
        Ok(value)
    }
}
