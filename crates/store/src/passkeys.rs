//! Passkey credentials and WebAuthn ceremonies.

use crate::factors::{factor_from_row, FACTOR_COLUMNS};
use crate::rows::get;
use crate::{db_err, SqlStore};
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::{FactorId, OrganisationId, UserId};
use portvakt_core::store::{Ceremony, Factor, StoreResult};

impl SqlStore {
    pub(crate) async fn factor_by_credential_impl(
        &self,
        credential_id: &str,
    ) -> StoreResult<Option<Factor>> {
        sqlx::query(&format!(
            "SELECT {FACTOR_COLUMNS} FROM factors WHERE kind = 'passkey' AND destination = $1"
        ))
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(|r| factor_from_row(&self.sealer, r))
        .transpose()
    }

    pub(crate) async fn update_factor_secret_impl(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        secret: &str,
        now: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE factors SET secret = $1, last_used_at = $2 \
             WHERE organisation_id = $3 AND user_id = $4 AND id = $5",
        )
        .bind(self.sealer.seal(user, secret)?)
        .bind(now)
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub(crate) async fn create_ceremony_impl(&self, c: &Ceremony) -> StoreResult<()> {
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
        .bind(&c.purpose)
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

    pub(crate) async fn take_ceremony_impl(
        &self,
        id: &str,
        purpose: &str,
        now: UnixTime,
    ) -> StoreResult<Option<Ceremony>> {
        // DELETE … RETURNING: of two concurrent answers, one gets the row.
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id = $1 AND purpose = $2 \
             RETURNING id, purpose, organisation_id, user_id, session_hash, state, created_at, expires_at",
        )
        .bind(id)
        .bind(purpose)
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
        Ok(Some(Ceremony {
            id: get(&r, "id")?,
            purpose: get(&r, "purpose")?,
            user: org
                .zip(user)
                .map(|(o, u)| (OrganisationId::from_raw(o), UserId::from_raw(u))),
            session_hash: get(&r, "session_hash")?,
            state: get(&r, "state")?,
            created_at: get(&r, "created_at")?,
            expires_at,
        }))
    }
}
