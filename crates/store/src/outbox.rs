use crate::rows::{get, params};
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::OrganisationId;
use portvakt_core::store::{BatchReport, Channel, OutboxMessage, OutboxStore, StoreResult};
use portvakt_core::StoreError;
use sqlx::any::AnyRow;
use std::fmt::Write;

#[async_trait]
impl OutboxStore for SqlStore {
    async fn enqueue_message(&self, m: &OutboxMessage) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        outbox_insert_many(&mut conn, &[m], None).await
    }

    async fn due_messages(&self, now: UnixTime, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        sqlx::query(
            "SELECT id, organisation_id, channel, recipient, subject, body, created_at, attempts FROM outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit.min(100)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(outbox_message)
        .collect()
    }

    async fn mark_sent(&self, id: &str, now: UnixTime) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, body = '' WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn mark_sent_many(&self, ids: &[String], now: UnixTime) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for id in ids {
            sqlx::query(
                "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, body = '' WHERE id = $2",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn mark_failed(&self, id: &str, error: &str, next: UnixTime) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3")
            .bind(error)
            .bind(next)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn enqueue_batch(&self, batch: &str, messages: &[OutboxMessage]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let all: Vec<&OutboxMessage> = messages.iter().collect();
        outbox_insert_many(&mut tx, &all, Some(batch)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn batch_reports(
        &self,
        org: &OrganisationId,
        limit: u32,
    ) -> StoreResult<Vec<BatchReport>> {
        let rows = sqlx::query(
            "SELECT batch, MIN(subject) AS subject, MIN(created_at) AS created_at, COUNT(*) AS total, \
             SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END) AS sent, \
             SUM(CASE WHEN sent_at IS NULL AND last_error IS NOT NULL THEN 1 ELSE 0 END) AS failing, \
             MAX(last_error) AS last_error \
             FROM outbox WHERE organisation_id = $1 AND batch IS NOT NULL \
             GROUP BY batch ORDER BY MIN(created_at) DESC, batch LIMIT $2",
        )
        .bind(org.as_str())
        .bind(i64::from(limit.min(100)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let n = |c: &str| -> StoreResult<u32> {
                    Ok(u32::try_from(get::<i64>(r, c)?).unwrap_or(u32::MAX))
                };
                Ok(BatchReport {
                    batch: get(r, "batch")?,
                    subject: get(r, "subject")?,
                    created_at: get(r, "created_at")?,
                    total: n("total")?,
                    sent: n("sent")?,
                    failing: n("failing")?,
                    last_error: get(r, "last_error")?,
                })
            })
            .collect()
    }
}

/// Messages inserted per statement by [`outbox_insert_many`]: one
/// statement instead of one per message (each is a round trip to the
/// database's thread), but not many more: binding numbered parameters
/// costs the square of their number with SQLite (each is found by name).
pub(crate) const INSERT_MANY: usize = 25;

/// The one INSERT into the outbox, for single messages and batches,
/// [`INSERT_MANY`] per statement.
pub(crate) async fn outbox_insert_many(
    conn: &mut sqlx::AnyConnection,
    messages: &[&OutboxMessage],
    batch: Option<&str>,
) -> StoreResult<()> {
    for chunk in messages.chunks(INSERT_MANY) {
        let mut sql = String::from(
            "INSERT INTO outbox (id, organisation_id, channel, recipient, subject, body, created_at, attempts, next_attempt_at, sent_at, last_error, batch) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = 2 + i * 7;
            if i > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "({}, 0, ${}, NULL, NULL, $1)", params(b, 7), b + 6);
        }
        let mut q = sqlx::query(&sql).bind(batch);
        for m in chunk {
            q = q
                .bind(&m.id)
                .bind(m.organisation_id.as_str())
                .bind(m.channel.as_str())
                .bind(&m.recipient)
                .bind(&m.subject)
                .bind(&m.body)
                .bind(m.created_at);
        }
        q.execute(&mut *conn).await.map_err(db_err)?;
    }
    Ok(())
}

/// An outbox row as read by `due_messages` and `claim_due_messages`.
pub(crate) fn outbox_message(r: &AnyRow) -> StoreResult<OutboxMessage> {
    let channel: String = get(r, "channel")?;
    Ok(OutboxMessage {
        id: get(r, "id")?,
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        channel: Channel::parse(&channel)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox channel {channel}")))?,
        recipient: get(r, "recipient")?,
        subject: get(r, "subject")?,
        body: get(r, "body")?,
        created_at: get(r, "created_at")?,
        attempts: u32::try_from(get::<i64>(r, "attempts")?).unwrap_or(u32::MAX),
    })
}
