//! One-time codes and the outgoing message queue.

use crate::rows::get;
use crate::{db_err, SqlStore};
use portvakt_core::auth::codes;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::OrganisationId;
use portvakt_core::store::{CodeChallenge, CodeCheck, CodeLimit, OutboxMessage, StoreResult};

impl SqlStore {
    pub(crate) async fn create_challenge_impl(&self, c: &CodeChallenge) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        insert_challenge(&mut tx, c).await?;
        tx.commit().await.map_err(db_err)
    }

    pub(crate) async fn create_challenge_within_impl(
        &self,
        c: &CodeChallenge,
        limits: &[CodeLimit],
    ) -> StoreResult<Option<UnixTime>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // A no-op write to the account's row first: PostgreSQL holds that
        // row until commit and SQLite takes its writer lock, so two
        // requests for one account count and insert one after the other.
        sqlx::query("UPDATE users SET id = id WHERE organisation_id = $1 AND id = $2")
            .bind(c.organisation_id.as_str())
            .bind(c.user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for l in limits {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM code_challenges \
                 WHERE organisation_id = $1 AND user_id = $2 AND created_at > $3 \
                 AND ($4 = '' OR purpose = $4)",
            )
            .bind(c.organisation_id.as_str())
            .bind(c.user_id.as_str())
            .bind(c.created_at - l.window_secs)
            .bind(l.purpose)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            if get::<i64>(&row, "n")? >= i64::from(l.max) {
                tx.rollback().await.map_err(db_err)?;
                return Ok(Some(c.created_at + l.window_secs.min(3600)));
            }
        }
        insert_challenge(&mut tx, c).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(None)
    }

    pub(crate) async fn latest_challenge_at_impl(
        &self,
        session_hash: &str,
        purpose: &str,
    ) -> StoreResult<Option<UnixTime>> {
        let row = sqlx::query("SELECT MAX(created_at) AS t FROM code_challenges WHERE session_hash = $1 AND purpose = $2")
            .bind(session_hash)
            .bind(purpose)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        get(&row, "t")
    }

    pub(crate) async fn use_challenge_impl(
        &self,
        session_hash: &str,
        purpose: &str,
        code: &str,
        now: UnixTime,
        max_tries: u32,
    ) -> StoreResult<CodeCheck> {
        match self
            .check_challenge_impl(session_hash, purpose, code, now, max_tries)
            .await?
        {
            CodeCheck::Accepted { id, destination } => {
                if self.redeem_challenge_impl(&id, now).await? {
                    Ok(CodeCheck::Accepted { id, destination })
                } else {
                    Ok(CodeCheck::Void)
                }
            }
            other => Ok(other),
        }
    }

    pub(crate) async fn check_challenge_impl(
        &self,
        session_hash: &str,
        purpose: &str,
        code: &str,
        now: UnixTime,
        max_tries: u32,
    ) -> StoreResult<CodeCheck> {
        // Count the try first, in the database, so parallel guesses cannot
        // exceed the limit; then compare. Using the challenge up is a
        // separate conditional update that only one request can win.
        let row = sqlx::query(
            "UPDATE code_challenges SET tries = tries + 1 \
             WHERE id = (SELECT id FROM code_challenges WHERE session_hash = $1 AND purpose = $2 ORDER BY created_at DESC, id DESC LIMIT 1) \
             AND used_at IS NULL AND expires_at > $3 AND tries < $4 \
             RETURNING id, code_hash, tries, destination",
        )
        .bind(session_hash)
        .bind(purpose)
        .bind(now)
        .bind(i64::from(max_tries))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(CodeCheck::Void);
        };
        let id: String = get(&row, "id")?;
        let stored: String = get(&row, "code_hash")?;
        let tries = u32::try_from(get::<i64>(&row, "tries")?).unwrap_or(u32::MAX);
        if codes::hash(&id, code) != stored {
            return Ok(CodeCheck::Wrong {
                tries_left: max_tries.saturating_sub(tries),
            });
        }
        Ok(CodeCheck::Accepted {
            id,
            destination: get(&row, "destination")?,
        })
    }

    pub(crate) async fn redeem_challenge_impl(&self, id: &str, now: UnixTime) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE code_challenges SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    pub(crate) async fn count_challenges_impl(
        &self,
        org: &OrganisationId,
        user: &portvakt_core::ids::UserId,
        purpose: &str,
        since: UnixTime,
    ) -> StoreResult<u32> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM code_challenges \
             WHERE organisation_id = $1 AND user_id = $2 AND created_at >= $3 \
             AND ($4 = '' OR purpose = $4)",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(since)
        .bind(purpose)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u32::try_from(get::<i64>(&row, "n")?).unwrap_or(u32::MAX))
    }

    pub(crate) async fn challenge_owner_impl(
        &self,
        session_hash: &str,
        purpose: &str,
        now: UnixTime,
    ) -> StoreResult<Option<(OrganisationId, portvakt_core::ids::UserId)>> {
        let row = sqlx::query(
            "SELECT organisation_id, user_id FROM code_challenges \
             WHERE session_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(session_hash)
        .bind(purpose)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some((
                OrganisationId::from_raw(get::<String>(&r, "organisation_id")?),
                portvakt_core::ids::UserId::from_raw(get::<String>(&r, "user_id")?),
            ))),
        }
    }

    pub(crate) async fn void_challenges_impl(
        &self,
        session_hash: &str,
        purpose: &str,
        now: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE code_challenges SET used_at = $1 WHERE session_hash = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now)
            .bind(session_hash)
            .bind(purpose)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    pub(crate) async fn enqueue_message_impl(&self, m: &OutboxMessage) -> StoreResult<()> {
        outbox_insert(m, None)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    pub(crate) async fn due_messages_impl(
        &self,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<OutboxMessage>> {
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
        .map(|r| {
            Ok(OutboxMessage {
                id: get(r, "id")?,
                organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
                channel: get(r, "channel")?,
                recipient: get(r, "recipient")?,
                subject: get(r, "subject")?,
                body: get(r, "body")?,
                created_at: get(r, "created_at")?,
                attempts: u32::try_from(get::<i64>(r, "attempts")?).unwrap_or(u32::MAX),
            })
        })
        .collect()
    }

    pub(crate) async fn mark_sent_impl(&self, id: &str, now: UnixTime) -> StoreResult<()> {
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

    pub(crate) async fn mark_failed_impl(
        &self,
        id: &str,
        error: &str,
        next: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3")
            .bind(error)
            .bind(next)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// The one INSERT into the outbox, for single messages and batches.
pub(crate) fn outbox_insert<'q>(
    m: &'q OutboxMessage,
    batch: Option<&'q str>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO outbox (id, organisation_id, channel, recipient, subject, body, created_at, attempts, next_attempt_at, sent_at, last_error, batch) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $7, NULL, NULL, $8)",
    )
    .bind(&m.id)
    .bind(m.organisation_id.as_str())
    .bind(&m.channel)
    .bind(&m.recipient)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(m.created_at)
    .bind(batch)
}

/// Voids the session's earlier codes for the purpose and stores the new one.
async fn insert_challenge(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    c: &CodeChallenge,
) -> StoreResult<()> {
    sqlx::query("UPDATE code_challenges SET used_at = $1 WHERE session_hash = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(c.created_at)
            .bind(&c.session_hash)
            .bind(&c.purpose)
            .execute(&mut **tx)
            .await
            .map_err(db_err)?;
    sqlx::query(
            "INSERT INTO code_challenges (id, organisation_id, user_id, session_hash, purpose, channel, destination, code_hash, created_at, expires_at, tries, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, NULL)",
        )
        .bind(&c.id)
        .bind(c.organisation_id.as_str())
        .bind(c.user_id.as_str())
        .bind(&c.session_hash)
        .bind(&c.purpose)
        .bind(c.channel.as_str())
        .bind(&c.destination)
        .bind(&c.code_hash)
        .bind(c.created_at)
        .bind(c.expires_at)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}
