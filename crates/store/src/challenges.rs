//! One-time codes and WebAuthn ceremonies.

use crate::rows::get;
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::auth::codes;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::{OrganisationId, UserId};
use portvakt_core::store::{
    Ceremony, ChallengeStore, CodeChallenge, CodeCheck, CodeLimit, Purpose, StoreResult,
};
use portvakt_core::StoreError;

#[async_trait]
impl ChallengeStore for SqlStore {
    async fn create_ceremony(&self, c: &Ceremony) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Unanswered ceremonies are dropped here rather than by a sweeper, so
        // the table stays as small as the number of ceremonies in flight.
        sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_at < $1")
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id, purpose, organisation_id, user_id, session_hash, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&c.id)
        .bind(c.purpose.to_string())
        .bind(c.user.as_ref().map(|(o, _)| o.as_str().to_owned()))
        .bind(c.user.as_ref().map(|(_, u)| u.as_str().to_owned()))
        .bind(c.session_hash.clone())
        .bind(&c.state)
        .bind(c.created_at)
        .bind(c.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn take_ceremony(
        &self,
        id: &str,
        purpose: &Purpose,
        now: UnixTime,
    ) -> StoreResult<Option<Ceremony>> {
        // DELETE … RETURNING: of two concurrent answers, one gets the row.
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id = $1 AND purpose = $2 \
             RETURNING id, purpose, organisation_id, user_id, session_hash, state, created_at, expires_at",
        )
        .bind(id)
        .bind(purpose.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let expires_at: i64 = get(&r, "expires_at")?;
        if expires_at < now {
            return Ok(None);
        }
        let org: Option<String> = get(&r, "organisation_id")?;
        let user: Option<String> = get(&r, "user_id")?;
        let stored: String = get(&r, "purpose")?;
        Ok(Some(Ceremony {
            id: get(&r, "id")?,
            purpose: Purpose::parse(&stored)
                .ok_or_else(|| StoreError::Corrupt(format!("ceremony purpose {stored}")))?,
            user: org
                .zip(user)
                .map(|(o, u)| (OrganisationId::from_raw(o), UserId::from_raw(u))),
            session_hash: get(&r, "session_hash")?,
            state: get(&r, "state")?,
            created_at: get(&r, "created_at")?,
            expires_at,
        }))
    }

    async fn create_challenge(&self, c: &CodeChallenge) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        insert_challenge(&mut tx, c).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn latest_challenge_at(
        &self,
        session_hash: &str,
        purpose: &Purpose,
    ) -> StoreResult<Option<UnixTime>> {
        let row = sqlx::query("SELECT MAX(created_at) AS t FROM code_challenges WHERE session_hash = $1 AND purpose = $2")
            .bind(session_hash)
            .bind(purpose.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        get(&row, "t")
    }

    async fn use_challenge(
        &self,
        session_hash: &str,
        purpose: &Purpose,
        code: &str,
        now: UnixTime,
        max_tries: u32,
    ) -> StoreResult<CodeCheck> {
        match self
            .check_challenge(session_hash, purpose, code, now, max_tries)
            .await?
        {
            CodeCheck::Accepted { id, destination } => {
                if self.redeem_challenge(&id, now).await? {
                    Ok(CodeCheck::Accepted { id, destination })
                } else {
                    Ok(CodeCheck::Void)
                }
            }
            other => Ok(other),
        }
    }

    async fn check_challenge(
        &self,
        session_hash: &str,
        purpose: &Purpose,
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
        .bind(purpose.to_string())
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

    async fn create_challenge_within(
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
            .bind(any_purpose(l.purpose.as_ref()))
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

    async fn redeem_challenge(&self, id: &str, now: UnixTime) -> StoreResult<bool> {
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

    async fn count_challenges(
        &self,
        org: &OrganisationId,
        user: &UserId,
        purpose: Option<&Purpose>,
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
        .bind(any_purpose(purpose))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u32::try_from(get::<i64>(&row, "n")?).unwrap_or(u32::MAX))
    }

    async fn challenge_owner(
        &self,
        session_hash: &str,
        purpose: &Purpose,
        now: UnixTime,
    ) -> StoreResult<Option<(OrganisationId, UserId)>> {
        let row = sqlx::query(
            "SELECT organisation_id, user_id FROM code_challenges \
             WHERE session_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(session_hash)
        .bind(purpose.to_string())
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some((
                OrganisationId::from_raw(get::<String>(&r, "organisation_id")?),
                UserId::from_raw(get::<String>(&r, "user_id")?),
            ))),
        }
    }

    async fn void_challenges(
        &self,
        session_hash: &str,
        purpose: &Purpose,
        now: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE code_challenges SET used_at = $1 WHERE session_hash = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now)
            .bind(session_hash)
            .bind(purpose.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// A purpose to count codes for, where the empty text (no purpose is
/// stored as that) stands for every purpose.
fn any_purpose(purpose: Option<&Purpose>) -> String {
    purpose.map(ToString::to_string).unwrap_or_default()
}

/// Voids the session's earlier codes for the purpose and stores the new one.
async fn insert_challenge(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    c: &CodeChallenge,
) -> StoreResult<()> {
    sqlx::query("UPDATE code_challenges SET used_at = $1 WHERE session_hash = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(c.created_at)
            .bind(&c.session_hash)
            .bind(c.purpose.to_string())
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
        .bind(c.purpose.to_string())
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
