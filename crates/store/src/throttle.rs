//! Failed-attempt counters taken before a secret is checked (issue 10: a
//! check-then-count gate let parallel guesses slip under the lock).

use crate::rows::get;
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::auth::lockout::{LockoutPolicy, ThrottleState, HARD_LOCK};
use portvakt_core::clock::UnixTime;
use portvakt_core::domain::Username;
use portvakt_core::ids::OrganisationId;
use portvakt_core::store::{StoreResult, ThrottleStore};

/// Counts one more failure (held until commit) and returns the new count
/// and `locked_until` as it was before.
async fn increment(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org: &OrganisationId,
    username: &Username,
    now: UnixTime,
) -> StoreResult<(u32, UnixTime)> {
    let row = sqlx::query(
        "INSERT INTO login_throttle (organisation_id, username, failures, last_failure_at, locked_until) \
         VALUES ($1, $2, 1, $3, 0) \
         ON CONFLICT (organisation_id, username) DO UPDATE \
         SET failures = login_throttle.failures + 1, last_failure_at = $3 \
         RETURNING failures, locked_until",
    )
    .bind(org.as_str())
    .bind(username.as_str())
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok((
        u32::try_from(get::<i64>(&row, "failures")?).unwrap_or(u32::MAX),
        get(&row, "locked_until")?,
    ))
}

async fn set_locked_until(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org: &OrganisationId,
    username: &Username,
    until: UnixTime,
) -> StoreResult<()> {
    sqlx::query(
        // The servicedesk's lock is lifted only by unlocking.
        "UPDATE login_throttle SET locked_until = $1 \
         WHERE organisation_id = $2 AND username = $3 AND NOT EXISTS \
         (SELECT 1 FROM users u WHERE u.organisation_id = $2 AND u.username = $3 AND u.lock_reason <> '')",
    )
    .bind(until)
    .bind(org.as_str())
    .bind(username.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn throttle_state(
        &self,
        org: &OrganisationId,
        username: &Username,
    ) -> StoreResult<ThrottleState> {
        let row = sqlx::query("SELECT failures, locked_until FROM login_throttle WHERE organisation_id = $1 AND username = $2")
            .bind(org.as_str())
            .bind(username.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match row {
            None => Ok(ThrottleState::default()),
            Some(r) => Ok(ThrottleState {
                failures: u32::try_from(get::<i64>(&r, "failures")?).unwrap_or(u32::MAX),
                locked_until: get(&r, "locked_until")?,
            }),
        }
    }

    /// The increment happens in the database, so two nodes counting at
    /// once never lose a failure (SECURITY.md G2).
    async fn record_failure(
        &self,
        org: &OrganisationId,
        username: &Username,
        now: UnixTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<ThrottleState> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let (failures, _) = increment(&mut tx, org, username, now).await?;
        let locked_until = policy.locked_until(failures, now);
        set_locked_until(&mut tx, org, username, locked_until).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(ThrottleState {
            failures,
            locked_until,
        })
    }

    async fn clear_failures(&self, org: &OrganisationId, username: &Username) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM login_throttle WHERE organisation_id = $1 AND username = $2 AND NOT EXISTS \
             (SELECT 1 FROM users u WHERE u.organisation_id = $1 AND u.username = $2 AND u.lock_reason <> '')",
        )
            .bind(org.as_str())
            .bind(username.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn begin_try(
        &self,
        org: &OrganisationId,
        username: &Username,
        now: UnixTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<Result<ThrottleState, ThrottleState>> {
        // The increment holds the row (PostgreSQL's row lock, SQLite's
        // writer lock) until commit, so tries are counted one at a time;
        // `locked_until` is read as it was before this try.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let (failures, before) = increment(&mut tx, org, username, now).await?;
        if before == HARD_LOCK || before > now {
            // Refused: nothing is counted.
            tx.rollback().await.map_err(db_err)?;
            return Ok(Err(ThrottleState {
                failures: failures.saturating_sub(1),
                locked_until: before,
            }));
        }
        let locked_until = policy.locked_until(failures, now);
        set_locked_until(&mut tx, org, username, locked_until).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Ok(ThrottleState {
            failures,
            locked_until,
        }))
    }

    async fn forgive_try(
        &self,
        org: &OrganisationId,
        username: &Username,
        now: UnixTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let row = sqlx::query(
            "UPDATE login_throttle SET failures = failures - 1 \
             WHERE organisation_id = $1 AND username = $2 AND failures > 0 \
             RETURNING failures, locked_until",
        )
        .bind(org.as_str())
        .bind(username.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(row) = row {
            let failures = u32::try_from(get::<i64>(&row, "failures")?).unwrap_or(u32::MAX);
            let locked: UnixTime = get(&row, "locked_until")?;
            // A lock that parallel failures reached stays for servicedesk.
            if locked != HARD_LOCK {
                let until = policy.locked_until(failures, now).min(locked);
                set_locked_until(&mut tx, org, username, until).await?;
            }
        }
        tx.commit().await.map_err(db_err)
    }
}
