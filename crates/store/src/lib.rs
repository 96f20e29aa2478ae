//! Portvakt's storage: one implementation of [`portvakt_core::store::Store`]
//! (one file per sub-trait) for SQLite (embedded, the default) and
//! PostgreSQL (several nodes on one database).
//!
//! Why one crate and not one per backend: the schema uses only portable
//! types (text ids, integer Unix seconds, integer flags) and the SQL only
//! portable syntax (`$n` parameters, `ON CONFLICT`, `RETURNING`), so the
//! queries are written once and run through sqlx's `Any` driver. What differs
//! lives in one place each: the migration folders (same file names, checked
//! by a test) and [`Backend`]-specific statements such as the integrity
//! check. Both backends run the same conformance suite from
//! `portvakt_core::store_suite`.

mod breaches;
mod challenges;
mod coordination;
mod events;
mod factors;
pub mod files;
mod freezes;
mod handoff;
mod intrusions;
mod oidc_clients;
mod oidc_grants;
mod oidc_keys;
mod organisations;
mod outbox;
mod probes;
mod provisioning;
mod rotations;
mod rows;
mod seal;
mod services;
mod sessions;
mod status;
pub mod testing;
mod throttle;
mod users;

use portvakt_core::StoreError;
use sqlx::any::{AnyPoolOptions, AnyQueryResult};
use sqlx::{AnyPool, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    sealer: seal::Sealer,
    /// One connection kept for the token endpoint's batches of code
    /// exchanges (see `oidc_grants`): batch after batch on the same
    /// connection keeps its page cache valid, where the pool's round robin
    /// would have each batch re-read what the others wrote.
    exchanges: tokio::sync::Mutex<Option<sqlx::AnyConnection>>,
}

pub use seal::Sealer;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Whether migration `version` had been applied before this start (false
/// on a new database).
async fn migration_applied(pool: &AnyPool, version: i64) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = $1")
        .bind(version)
        .fetch_one(pool)
        .await
        .is_ok_and(|n| n > 0)
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return StoreError::Conflict(d.constraint().unwrap_or("unique").to_owned());
        }
    }
    StoreError::Backend(e.to_string())
}

impl SqlStore {
    /// Opens (and for SQLite creates) the database and runs migrations.
    ///
    /// # Errors
    /// When the URL is neither `sqlite:` nor `postgres:`, the database cannot
    /// be reached, or a migration fails.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_sized(url, None).await
    }

    /// [`SqlStore::connect`] with one connection, for a worker that does
    /// one thing after another. With SQLite this matters: each connection
    /// keeps its own page cache, and a commit on one makes the others read
    /// their pages again; several connections taking turns (a returned
    /// connection goes back to the pool a moment later, so the next query
    /// often opens another) read the database over and over.
    ///
    /// # Errors
    /// As [`SqlStore::connect`].
    pub async fn connect_single(url: &str) -> Result<Self, StoreError> {
        Self::connect_sized(url, Some(1)).await
    }

    async fn connect_sized(url: &str, max: Option<u32>) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            let url = if url.contains('?') {
                url.to_owned()
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(StoreError::Backend(
                "database URL must start with sqlite: or postgres:".into(),
            ));
        };
        let file = (backend == Backend::Sqlite)
            .then(|| files::sqlite_path(&url))
            .flatten();
        if let Some(path) = &file {
            files::create_private(path).map_err(|e| {
                StoreError::Backend(format!("database file {}: {e}", path.display()))
            })?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max.unwrap_or(if backend == Backend::Sqlite { 4 } else { 16 }))
            // A worker's one connection is kept: with SQLite its thread has
            // the priority of the thread that opened it (see `IdleLane`).
            .idle_timeout(if max == Some(1) {
                None
            } else {
                Some(std::time::Duration::from_secs(600))
            })
            .max_lifetime(if max == Some(1) {
                None
            } else {
                Some(std::time::Duration::from_secs(1800))
            })
            // A SQLite connection is a file handle in this process: it
            // cannot go stale, and testing it costs a round trip to its
            // thread on every acquire. A PostgreSQL one can.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; FULL makes
                        // every acknowledged commit survive a power cut, not
                        // only a crash; busy_timeout lets the CLI and the
                        // server share the file.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                            // 8 MiB of pages per connection (SQLite's
                            // default is 2 MiB): the token endpoint's
                            // indexes stay in memory.
                            "PRAGMA cache_size = -8192",
                            // Statement journals of multi-row writes stay in
                            // memory rather than in files under /var/tmp.
                            "PRAGMA temp_store = MEMORY",
                        ] {
                            conn.execute(pragma).await?;
                        }
                        if max == Some(1) {
                            // A worker's one connection holds what it
                            // works through (a rotation of 10,000 people
                            // touches about 40 MiB) instead of reading it
                            // again and again.
                            conn.execute("PRAGMA cache_size = -65536").await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(db_err)?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        // Entries from before the audit chain are linked once, right after
        // the migration that brings the chain (0023), and never again: rows
        // someone un-links later stay outside the chain for `audit verify`.
        let chain_existed = migration_applied(&pool, 23).await;
        let search_existed = migration_applied(&pool, 25).await;
        migrator
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migration: {e}")))?;
        if let Some(path) = &file {
            files::restrict(path).map_err(|e| {
                StoreError::Backend(format!("database file {}: {e}", path.display()))
            })?;
        }
        let store = Self {
            pool,
            backend,
            sealer: Sealer::default(),
            exchanges: tokio::sync::Mutex::new(None),
        };
        if !chain_existed {
            events::link_earlier_entries(&store).await?;
        }
        if !search_existed {
            users::fill_search_text(&store).await?;
        }
        Ok(store)
    }

    /// Seals second-factor secrets with `key` from now on (see `seal`).
    #[must_use]
    pub fn with_secret_key(mut self, key: &[u8; 32]) -> Self {
        self.sealer = Sealer::new(key);
        self
    }

    /// Whether secrets are sealed.
    #[must_use]
    pub fn seals_secrets(&self) -> bool {
        self.sealer.is_on()
    }

    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection (checkpointing SQLite's WAL).
    pub async fn close(&self) {
        if let Some(conn) = self.exchanges.lock().await.take() {
            let _ = sqlx::Connection::close(conn).await;
        }
        self.pool.close().await;
    }
}

pub(crate) fn affected(r: &AnyQueryResult) -> u64 {
    r.rows_affected()
}

/// Listing limits are capped in the store, whatever the caller asks for
/// (SECURITY.md C4).
pub(crate) fn clamp_limit(limit: u32) -> i64 {
    i64::from(limit.min(100))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn names(dir: &str) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        let root = env!("CARGO_MANIFEST_DIR");
        assert_eq!(
            names(&format!("{root}/migrations/sqlite")),
            names(&format!("{root}/migrations/postgres"))
        );
    }
}
