//! Claims on queued messages and the probe leader's lock (see
//! `portvakt_core::coordination`).

use crate::outbox::outbox_message;
use crate::{db_err, Backend, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::store::{CoordinationStore, Lead};
use portvakt_core::store::{OutboxMessage, StoreResult};
use sqlx::{AnyConnection, Connection, Row};

/// Advisory locks taken by Portvakt use this first key, so they cannot
/// meet another application's locks on a shared server ("PV").
const LOCK_CLASS: i32 = 0x5056;

#[async_trait]
impl CoordinationStore for SqlStore {
    async fn claim_due_messages(
        &self,
        now: UnixTime,
        limit: u32,
        lease_until: UnixTime,
    ) -> StoreResult<Vec<OutboxMessage>> {
        // PostgreSQL: rows another server is claiming are skipped, not
        // waited for. The outer condition is checked again on each row
        // after its lock, so a row claimed meanwhile is never taken twice.
        // SQLite has one writer at a time, which makes the UPDATE atomic.
        let skip_locked = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET next_attempt_at = $1 \
             WHERE sent_at IS NULL AND next_attempt_at <= $2 AND id IN (\
               SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $2 \
               ORDER BY next_attempt_at, id LIMIT $3{skip_locked}) \
             RETURNING id, organisation_id, channel, recipient, subject, body, created_at, attempts"
        );
        let mut claimed = sqlx::query(&sql)
            .bind(lease_until)
            .bind(now)
            .bind(i64::from(limit.min(100)))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(outbox_message)
            .collect::<StoreResult<Vec<_>>>()?;
        claimed.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(claimed)
    }

    async fn try_lead(&self, task: &str) -> StoreResult<Option<Box<dyn Lead>>> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(Box::new(OnlyServer)));
        }
        // A session-level advisory lock lives as long as the connection
        // that took it, so the connection leaves the pool for good: when
        // this server stops or loses the database, the lock goes with it.
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let got: bool = sqlx::query("SELECT pg_try_advisory_lock($1, hashtext($2)) AS got")
            .bind(LOCK_CLASS)
            .bind(task)
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?
            .try_get("got")
            .map_err(db_err)?;
        Ok(got.then(|| Box::new(AdvisoryLead(conn.detach())) as Box<dyn Lead>))
    }
}

/// SQLite: one server owns the file, so it leads.
struct OnlyServer;

#[async_trait]
impl Lead for OnlyServer {
    async fn still_leading(&mut self) -> bool {
        true
    }
}

/// The connection holding the advisory lock; dropping it closes the
/// connection, which releases the lock.
struct AdvisoryLead(AnyConnection);

#[async_trait]
impl Lead for AdvisoryLead {
    async fn still_leading(&mut self) -> bool {
        self.0.ping().await.is_ok()
    }
}
