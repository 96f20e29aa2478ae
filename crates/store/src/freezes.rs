//! Change freezes (issue 15). "In force" is `lifted_at IS NULL`; a partial
//! unique index keeps it to one per organisation, and lifting checks the
//! four eyes in the statement itself.

use crate::rows::get;
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::freeze::Freeze;
use portvakt_core::ids::{EventId, OrganisationId, UserId};
use portvakt_core::store::{FreezeStore, StoreResult};
use portvakt_core::StoreError;

#[async_trait]
impl FreezeStore for SqlStore {
    async fn active_freeze(&self, org: &OrganisationId) -> StoreResult<Option<Freeze>> {
        let Some(r) = sqlx::query(
            "SELECT id, reason, declared_at, declared_by, lift_proposed_at, lift_proposed_by \
             FROM freezes WHERE organisation_id = $1 AND lifted_at IS NULL",
        )
        .bind(org.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let proposed = match (
            get::<Option<String>>(&r, "lift_proposed_by")?,
            get::<Option<i64>>(&r, "lift_proposed_at")?,
        ) {
            (Some(by), Some(at)) => Some((UserId::from_raw(by), at)),
            _ => None,
        };
        Ok(Some(Freeze {
            id: EventId::from_raw(get::<String>(&r, "id")?),
            organisation_id: org.clone(),
            reason: get(&r, "reason")?,
            declared_at: get(&r, "declared_at")?,
            declared_by: UserId::from_raw(get::<String>(&r, "declared_by")?),
            lift_proposed: proposed,
        }))
    }

    async fn declare_freeze(&self, f: &Freeze) -> StoreResult<bool> {
        let r = sqlx::query(
            "INSERT INTO freezes (id, organisation_id, reason, declared_at, declared_by) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(f.id.as_str())
        .bind(f.organisation_id.as_str())
        .bind(&f.reason)
        .bind(f.declared_at)
        .bind(f.declared_by.as_str())
        .execute(&self.pool)
        .await;
        match r.map_err(db_err) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn propose_lift(
        &self,
        org: &OrganisationId,
        id: &EventId,
        by: &UserId,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE freezes SET lift_proposed_at = $4, lift_proposed_by = $3 \
             WHERE organisation_id = $1 AND id = $2 AND lifted_at IS NULL AND lift_proposed_by IS NULL",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(by.as_str())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn lift_freeze(
        &self,
        org: &OrganisationId,
        id: &EventId,
        by: Option<&UserId>,
        now: UnixTime,
    ) -> StoreResult<bool> {
        // `by` empty is the command line, never the proposer.
        let r = sqlx::query(
            "UPDATE freezes SET lifted_at = $4, lifted_by = $3 \
             WHERE organisation_id = $1 AND id = $2 AND lifted_at IS NULL \
             AND lift_proposed_by IS NOT NULL AND lift_proposed_by <> $3",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(by.map_or("", UserId::as_str))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }
}
