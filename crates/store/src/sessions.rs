use crate::rows::{self, get, SESSION_COLS};
use crate::{affected, db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::{OrganisationId, UserId};
use portvakt_core::store::{
    DeviceSeen, NewSession, OthersEnded, SessionRecord, SessionStore, StoreResult,
};

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(&self, s: &NewSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, organisation_id, user_id, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent, amr, pending_mfa, mfa_tries, credential_epoch, start_code) \
             VALUES ($1, $2, $3, $4, $4, $5, NULL, $6, $7, $8, $9, 0, $10, $11)",
        )
        .bind(&s.token_hash)
        .bind(s.organisation_id.as_str())
        .bind(s.user_id.as_str())
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .bind(s.amr.to_string())
        .bind(i64::from(s.pending_mfa))
        .bind(s.credential_epoch)
        .bind(s.start_code.clone())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE token_hash = $1");
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::session).transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL AND last_seen_at < $1")
            .bind(now)
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let n = revoke_user_sessions_in(&mut tx, org, user, reason, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(n)
    }

    async fn revoke_other_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        keep: &str,
        must_change: bool,
        now: UnixTime,
    ) -> StoreResult<OthersEnded> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let reason = if must_change {
            "not_me"
        } else {
            "other_sessions_ended"
        };
        let r = sqlx::query(
            "UPDATE sessions SET revoked_at = $1, end_reason = $5 WHERE organisation_id = $2 \
             AND user_id = $3 AND revoked_at IS NULL AND token_hash <> $4",
        )
        .bind(now)
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(keep)
        .bind(reason)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        crate::oidc_grants::revoke_user_grants_in(&mut tx, org, user, reason, now).await?;
        // Only one of parallel reports sets the requirement, so only that
        // one is recorded and reaches the emergency team.
        let newly_required = must_change
            && sqlx::query(
                "UPDATE users SET must_change_password = 1 \
                 WHERE organisation_id = $1 AND id = $2 AND must_change_password = 0",
            )
            .bind(org.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected()
                == 1;
        tx.commit().await.map_err(db_err)?;
        Ok(OthersEnded {
            sessions: affected(&r),
            newly_required,
        })
    }

    async fn list_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<Vec<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE organisation_id = $1 AND user_id = $2 \
             AND revoked_at IS NULL AND expires_at > $3 ORDER BY created_at DESC LIMIT 100"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::session)
            .collect()
    }

    async fn remember_device(
        &self,
        org: &OrganisationId,
        user: &UserId,
        device_hash: &str,
        now: UnixTime,
    ) -> StoreResult<DeviceSeen> {
        const FORGET_AFTER: i64 = 400 * 86_400;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "DELETE FROM known_devices WHERE organisation_id = $1 AND user_id = $2 AND last_seen < $3",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(now - FORGET_AFTER)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // How many browsers the account knows, and whether this is one.
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN device_hash = $3 THEN 1 ELSE 0 END), 0) AS this \
             FROM known_devices WHERE organisation_id = $1 AND user_id = $2",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(device_hash)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let known: i64 = crate::rows::get(&row, "n")?;
        let this: i64 = crate::rows::get(&row, "this")?;
        sqlx::query(
            "INSERT INTO known_devices (organisation_id, user_id, device_hash, first_seen, last_seen) \
             VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (organisation_id, user_id, device_hash) DO UPDATE SET last_seen = $4",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(device_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(DeviceSeen {
            new: this == 0,
            first: known == 0,
        })
    }

    async fn forget_devices(
        &self,
        org: &OrganisationId,
        user: &UserId,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM known_devices WHERE organisation_id = $1 AND user_id = $2 AND device_hash <> $3",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(keep.unwrap_or_default())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn count_mfa_try(&self, token_hash: &str) -> StoreResult<u32> {
        let row = sqlx::query("UPDATE sessions SET mfa_tries = mfa_tries + 1 WHERE token_hash = $1 RETURNING mfa_tries")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match row {
            Some(r) => Ok(u32::try_from(get::<i64>(&r, "mfa_tries")?).unwrap_or(u32::MAX)),
            None => Ok(u32::MAX),
        }
    }
}

/// Ends every session and app grant of a person inside `tx`.
pub(crate) async fn revoke_user_sessions_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org: &OrganisationId,
    user: &UserId,
    reason: &str,
    now: UnixTime,
) -> StoreResult<u64> {
    let r = sqlx::query(
        "UPDATE sessions SET revoked_at = $1, end_reason = $4 \
         WHERE organisation_id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(org.as_str())
    .bind(user.as_str())
    .bind(reason)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    crate::oidc_grants::revoke_user_grants_in(tx, org, user, "sessions_ended", now).await?;
    Ok(affected(&r))
}
