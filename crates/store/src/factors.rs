//! Second factors, passkeys among them.

use crate::rows::get;
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::{FactorId, OrganisationId, UserId};
use portvakt_core::store::{Factor, FactorKind, FactorStore, StoreResult};
use portvakt_core::StoreError;

const FACTOR_COLUMNS: &str = "id, organisation_id, user_id, kind, label, secret, destination, confirmed, created_at, last_used_at";

fn factor_from_row(sealer: &crate::Sealer, r: &sqlx::any::AnyRow) -> StoreResult<Factor> {
    let user_id = UserId::from_raw(get::<String>(r, "user_id")?);
    let secret: Option<String> = get(r, "secret")?;
    let kind: String = get(r, "kind")?;
    Ok(Factor {
        id: FactorId::from_raw(get::<String>(r, "id")?),
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        secret: secret.map(|s| sealer.open(&user_id, &s)).transpose()?,
        user_id,
        kind: FactorKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("factor kind {kind}")))?,
        label: get(r, "label")?,
        destination: get(r, "destination")?,
        confirmed: get::<i64>(r, "confirmed")? != 0,
        created_at: get(r, "created_at")?,
        last_used_at: get(r, "last_used_at")?,
    })
}

#[async_trait]
impl FactorStore for SqlStore {
    async fn factors(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Factor>> {
        sqlx::query(&format!(
            "SELECT {FACTOR_COLUMNS} FROM factors WHERE organisation_id = $1 AND user_id = $2 ORDER BY created_at, id"
        ))
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| factor_from_row(&self.sealer, r))
        .collect()
    }

    async fn add_factor(&self, f: &Factor) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO factors (id, organisation_id, user_id, kind, label, secret, destination, last_step, confirmed, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $9, 0, $7, $8, NULL)",
        )
        .bind(f.id.as_str())
        .bind(f.organisation_id.as_str())
        .bind(f.user_id.as_str())
        .bind(f.kind.as_str())
        .bind(&f.label)
        .bind(
            f.secret
                .as_deref()
                .map(|s| self.sealer.seal(&f.user_id, s))
                .transpose()?,
        )
        .bind(i64::from(f.confirmed))
        .bind(f.created_at)
        .bind(f.destination.clone())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn confirm_factor(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        label: &str,
        step: i64,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE factors SET confirmed = 1, label = $1, last_step = $2 \
             WHERE organisation_id = $3 AND user_id = $4 AND id = $5 AND confirmed = 0",
        )
        .bind(label)
        .bind(step)
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn remove_factor(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        keep_one: bool,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Delete first (taking the write lock), then check what is left:
        // roll back if that would leave no confirmed factor.
        let r = sqlx::query(
            "DELETE FROM factors WHERE organisation_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        if keep_one {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM factors WHERE organisation_id = $1 AND user_id = $2 AND confirmed = 1")
                .bind(org.as_str())
                .bind(user.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
            if get::<i64>(&row, "n")? == 0 {
                tx.rollback().await.map_err(db_err)?;
                return Ok(false);
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn consume_totp_step(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        step: i64,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE factors SET last_step = $1, last_used_at = $2 \
             WHERE organisation_id = $3 AND user_id = $4 AND id = $5 AND confirmed = 1 AND last_step < $1",
        )
        .bind(step)
        .bind(now)
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn factor_by_credential(&self, credential_id: &str) -> StoreResult<Option<Factor>> {
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

    async fn update_factor_secret(
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
}
