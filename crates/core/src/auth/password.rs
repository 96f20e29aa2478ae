//! Password hashing: Argon2id for everything we create; Argon2 (any variant)
//! and bcrypt accepted on verify so hashes can be migrated from another
//! system, and rehashed on the next successful sign-in.
//!
//! Hashing is CPU- and memory-heavy by design. It runs on blocking threads
//! behind a semaphore sized to the cores, with a bounded queue: a flood of
//! sign-ins gets a quick "busy" instead of starving every other request.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use thiserror::Error;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Params {
    /// OWASP's m=46 MiB, t=1, p=1 option, which also meets the ASVS appendix's
    /// preference for ≥ 46 MiB.
    fn default() -> Self {
        Self {
            memory_kib: 47_104,
            iterations: 1,
            parallelism: 1,
        }
    }
}

impl Argon2Params {
    /// Fast parameters for tests that are not about hashing cost.
    #[must_use]
    pub fn insecure_for_tests() -> Self {
        Self {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }

    /// # Errors
    /// When the parameters are outside what Argon2 allows.
    pub fn validate(&self) -> Result<(), HashError> {
        self.to_params().map(|_| ())
    }

    fn to_params(self) -> Result<Params, HashError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| HashError::Params(e.to_string()))
    }
}

#[derive(Debug, Error)]
pub enum HashError {
    #[error("too many password checks queued")]
    Busy,
    #[error("invalid Argon2 parameters: {0}")]
    Params(String),
    #[error("hashing failed: {0}")]
    Internal(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash is not Argon2id with the current parameters.
    pub needs_rehash: bool,
}

/// A stored hash format we can verify, checked before it is accepted from a
/// config file.
#[must_use]
pub fn is_supported_hash(s: &str) -> bool {
    if s.starts_with("$2a$") || s.starts_with("$2b$") || s.starts_with("$2y$") {
        return s.parse::<bcrypt::HashParts>().is_ok();
    }
    PasswordHash::new(s).is_ok_and(|h| h.algorithm.as_str().starts_with("argon2"))
}

/// The bcrypt cost in a stored hash's prefix (`$2b$12$…` → 12).
#[must_use]
pub fn bcrypt_cost(prefix: &str) -> Option<u32> {
    let rest = prefix
        .strip_prefix("$2a$")
        .or_else(|| prefix.strip_prefix("$2b$"))
        .or_else(|| prefix.strip_prefix("$2y$"))?;
    rest.get(..2)?.parse().ok().filter(|c| (4..=31).contains(c))
}

type Job = Box<dyn FnOnce() + Send>;

/// Threads that only hash passwords, at low CPU priority: a storm of
/// sign-ins then slows other sign-ins, not every page and forward-auth
/// check sharing the machine (docs/benchmarks.md, issue 4 b).
struct HashThreads {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashThreads {
    fn new(workers: usize) -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("portvakt-hash-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            // Without a thread the semaphore still bounds the queue; the
            // job below then fails instead of hanging.
            drop(spawned);
        }
        Self {
            jobs: std::sync::Mutex::new(tx),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs
            .lock()
            .map_err(|e| HashError::Internal(e.to_string()))?
            .send(job)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        rx.await.map_err(|e| HashError::Internal(e.to_string()))
    }
}

/// SCHED_BATCH at nice 9: under contention a hash thread gets about an
/// eighth of what a request-serving thread gets, so sign-ins slow down
/// but never stop. Where the OS refuses, the thread keeps normal priority.
/// Threads it starts afterwards inherit the priority (background work
/// uses that: the outbox, a crisis rotation).
pub fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadPriority, ThreadPriorityValue, ThreadSchedulePolicy,
        };
        // The crate maps 0..=99 onto nice 19..=-20; 23 is nice 9.
        if let Ok(p) = ThreadPriorityValue::try_from(23u8) {
            let _ = set_thread_priority_and_policy(
                thread_native_id(),
                ThreadPriority::Crossplatform(p),
                ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
            );
        }
    }
}

/// SCHED_IDLE: the thread runs only when nothing else on its core wants
/// to, and a thread of any other class that wakes up takes the core from
/// it at once. Bulk work that must not delay anyone's answer (issuing a
/// crisis rotation's codes) runs there while the machine has room; an
/// unprivileged thread cannot leave the class again, so callers watch for
/// starvation and go on elsewhere. `false` where the OS refuses.
#[must_use]
pub fn lowest_priority() -> bool {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadPriority, ThreadSchedulePolicy,
        };
        set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        )
        .is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

pub struct PasswordHasher {
    params: Argon2Params,
    threads: HashThreads,
    permits: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
    /// Verified against when the account does not exist, so unknown and
    /// known usernames cost the same time (SECURITY.md A1).
    dummy_hash: String,
    /// While accounts with imported bcrypt hashes exist, the highest bcrypt
    /// cost among them (0: none), and a dummy bcrypt hash at that cost.
    /// Every check then does one bcrypt and one Argon2 verification, so an
    /// imported account cannot be told from others by its slower check
    /// (issue 10 M4, SECURITY.md A1).
    bcrypt_cost: AtomicU32,
    bcrypt_dummy: std::sync::Mutex<Option<Arc<String>>>,
    /// When the stored hash kinds were last looked at (unix seconds).
    kinds_checked_at: std::sync::atomic::AtomicI64,
}

impl PasswordHasher {
    /// # Errors
    /// When the parameters are invalid.
    pub fn new(params: Argon2Params, workers: usize, max_queued: usize) -> Result<Self, HashError> {
        let mut dummy = [0u8; 24];
        rand::RngCore::fill_bytes(&mut OsRng, &mut dummy);
        let dummy_hash = hash_blocking(params, &dummy)?;
        Ok(Self {
            params,
            threads: HashThreads::new(workers.max(1)),
            permits: Arc::new(Semaphore::new(workers.max(1))),
            queued: Arc::new(AtomicUsize::new(0)),
            max_queued,
            dummy_hash,
            bcrypt_cost: AtomicU32::new(0),
            bcrypt_dummy: std::sync::Mutex::new(None),
            kinds_checked_at: std::sync::atomic::AtomicI64::new(i64::MIN),
        })
    }

    /// Whether the stored hash kinds are due to be looked at again (at most
    /// once a minute, so an `apply` from another process is noticed soon).
    pub fn kinds_due(&self, now: i64) -> bool {
        let last = self.kinds_checked_at.load(Ordering::SeqCst);
        (now.saturating_sub(last) >= 60 || now < last)
            && self
                .kinds_checked_at
                .compare_exchange(last, now, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
    }

    /// Tells the hasher which bcrypt costs the stored hashes use (from the
    /// store's [`bcrypt_costs`] of their prefixes); with none, checks do
    /// Argon2 only.
    ///
    /// # Errors
    /// When a dummy hash cannot be made.
    pub async fn set_bcrypt_costs(&self, costs: &[u32]) -> Result<(), HashError> {
        let cost = costs.iter().copied().max().unwrap_or(0);
        if cost == self.bcrypt_cost.load(Ordering::SeqCst) {
            return Ok(());
        }
        let dummy = if cost == 0 {
            None
        } else {
            let h = self
                .run(move || {
                    let mut pw = [0u8; 24];
                    rand::RngCore::fill_bytes(&mut OsRng, &mut pw);
                    bcrypt::hash(pw, cost).map_err(|e| HashError::Internal(e.to_string()))
                })
                .await??;
            Some(Arc::new(h))
        };
        *self
            .bcrypt_dummy
            .lock()
            .map_err(|e| HashError::Internal(e.to_string()))? = dummy;
        self.bcrypt_cost.store(cost, Ordering::SeqCst);
        Ok(())
    }

    #[must_use]
    pub fn params(&self) -> Argon2Params {
        self.params
    }

    /// Hashes a new password with the current parameters.
    ///
    /// # Errors
    /// [`HashError::Busy`] when the queue is full.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let params = self.params;
        let pw = password.as_bytes().to_vec();
        self.run(move || hash_blocking(params, &pw)).await?
    }

    /// Checks `password` against `stored`, or against a dummy hash when
    /// there is none, taking the same time either way.
    ///
    /// # Errors
    /// [`HashError::Busy`] when the queue is full.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<Verification, HashError> {
        let (hash, real) = match stored {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy_hash.clone(), false),
        };
        // The other kind's dummy, so both kinds of account do the same work.
        let padding = if hash.starts_with("$2") {
            Some(Arc::new(self.dummy_hash.clone()))
        } else {
            self.bcrypt_dummy
                .lock()
                .map_err(|e| HashError::Internal(e.to_string()))?
                .clone()
        };
        let params = self.params;
        let pw = password.as_bytes().to_vec();
        let v = self
            .run(move || {
                let v = verify_blocking(params, &pw, &hash);
                if let Some(p) = padding {
                    std::hint::black_box(verify_blocking(params, &pw, &p));
                }
                v
            })
            .await?;
        Ok(Verification {
            matches: v.matches && real,
            needs_rehash: v.needs_rehash,
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        if self.queued.fetch_add(1, Ordering::SeqCst) >= self.max_queued {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(HashError::Busy);
        }
        let permit = self.permits.clone().acquire_owned().await;
        self.queued.fetch_sub(1, Ordering::SeqCst);
        let permit = permit.map_err(|e| HashError::Internal(e.to_string()))?;
        let out = self.threads.run(f).await;
        drop(permit);
        out
    }
}

fn argon2(params: Argon2Params) -> Result<Argon2<'static>, HashError> {
    Ok(Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        params.to_params()?,
    ))
}

/// Synchronous hash, for the CLI and benchmarks.
///
/// # Errors
/// When the parameters are invalid.
pub fn hash_blocking(params: Argon2Params, password: &[u8]) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2(params)?
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Internal(e.to_string()))
}

fn verify_blocking(params: Argon2Params, password: &[u8], stored: &str) -> Verification {
    if stored.starts_with("$2") {
        let matches = bcrypt::verify(password, stored).unwrap_or(false);
        return Verification {
            matches,
            needs_rehash: true,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verification {
            matches: false,
            needs_rehash: true,
        };
    };
    let matches = Argon2::default().verify_password(password, &parsed).is_ok();
    let current = parsed.algorithm == argon2::ARGON2ID_IDENT
        && Params::try_from(&parsed).is_ok_and(|p| {
            p.m_cost() == params.memory_kib
                && p.t_cost() == params.iterations
                && p.p_cost() == params.parallelism
        });
    Verification {
        matches,
        needs_rehash: !current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2_round_trip_and_rehash_on_param_change() {
        let h = PasswordHasher::new(Argon2Params::insecure_for_tests(), 2, 10).unwrap();
        let stored = h.hash("correct horse battery staple").await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        let v = h
            .verify("correct horse battery staple", Some(&stored))
            .await
            .unwrap();
        assert_eq!(
            v,
            Verification {
                matches: true,
                needs_rehash: false
            }
        );
        assert!(!h.verify("wrong", Some(&stored)).await.unwrap().matches);

        let stronger = Argon2Params {
            memory_kib: 128,
            ..Argon2Params::insecure_for_tests()
        };
        let h2 = PasswordHasher::new(stronger, 1, 10).unwrap();
        assert!(
            h2.verify("correct horse battery staple", Some(&stored))
                .await
                .unwrap()
                .needs_rehash
        );
    }

    #[tokio::test]
    async fn bcrypt_hashes_verify_and_ask_for_rehash() {
        let h = PasswordHasher::new(Argon2Params::insecure_for_tests(), 1, 10).unwrap();
        let stored = bcrypt::hash("gammalt-lösenord-123", 4).unwrap();
        assert!(is_supported_hash(&stored));
        let v = h
            .verify("gammalt-lösenord-123", Some(&stored))
            .await
            .unwrap();
        assert_eq!(
            v,
            Verification {
                matches: true,
                needs_rehash: true
            }
        );
    }

    #[tokio::test]
    async fn with_bcrypt_accounts_every_check_does_both_kinds_of_work() {
        let h = PasswordHasher::new(Argon2Params::insecure_for_tests(), 1, 10).unwrap();
        assert_eq!(bcrypt_cost("$2b$12$"), Some(12));
        assert_eq!(bcrypt_cost("$2y$05$"), Some(5));
        assert_eq!(bcrypt_cost("$argon2"), None);
        h.set_bcrypt_costs(&[4, 6]).await.unwrap();
        let dummy = h.bcrypt_dummy.lock().unwrap().clone().unwrap();
        assert!(dummy.starts_with("$2b$06$"));
        // Still right and wrong as before.
        let stored = h.hash("ett långt lösenord").await.unwrap();
        assert!(
            h.verify("ett långt lösenord", Some(&stored))
                .await
                .unwrap()
                .matches
        );
        assert!(!h.verify("fel", None).await.unwrap().matches);
        h.set_bcrypt_costs(&[]).await.unwrap();
        assert!(h.bcrypt_dummy.lock().unwrap().is_none());
    }

    #[tokio::test]
    async fn missing_hash_never_matches() {
        let h = PasswordHasher::new(Argon2Params::insecure_for_tests(), 1, 10).unwrap();
        assert!(!h.verify("", None).await.unwrap().matches);
        assert!(!is_supported_hash("plaintext"));
        assert!(!is_supported_hash("$md5$abc"));
    }
}
