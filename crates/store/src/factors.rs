//! Zones, second factors and pending-session counters.

use crate::rows::get;
use crate::{db_err, SqlStore};
use portvakt_core::apply::ZoneRecord;
use portvakt_core::clock::UnixTime;
use portvakt_core::domain::Slug;
use portvakt_core::ids::{FactorId, OrganisationId, UserId, ZoneId};
use portvakt_core::store::{Factor, FactorKind, StoreResult};
use portvakt_core::StoreError;

pub(crate) const FACTOR_COLUMNS: &str = "id, organisation_id, user_id, kind, label, secret, destination, confirmed, created_at, last_used_at";

pub(crate) fn factor_from_row(
    sealer: &crate::Sealer,
    r: &sqlx::any::AnyRow,
) -> StoreResult<Factor> {
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

impl SqlStore {
    pub(crate) async fn count_mfa_try_impl(&self, token_hash: &str) -> StoreResult<u32> {
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

    pub(crate) async fn zones_impl(&self, org: &OrganisationId) -> StoreResult<Vec<ZoneRecord>> {
        sqlx::query(
            "SELECT id, slug, name, cidrs FROM zones WHERE organisation_id = $1 ORDER BY slug",
        )
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(ZoneRecord {
                id: ZoneId::from_raw(get::<String>(r, "id")?),
                slug: Slug::from_stored(get(r, "slug")?),
                name: get(r, "name")?,
                cidrs: get(r, "cidrs")?,
            })
        })
        .collect()
    }

    pub(crate) async fn factors_impl(
        &self,
        org: &OrganisationId,
        user: &UserId,
    ) -> StoreResult<Vec<Factor>> {
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

    pub(crate) async fn add_factor_impl(&self, f: &Factor) -> StoreResult<()> {
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

    pub(crate) async fn confirm_factor_impl(
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

    pub(crate) async fn remove_factor_impl(
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

    pub(crate) async fn consume_totp_step_impl(
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
}
