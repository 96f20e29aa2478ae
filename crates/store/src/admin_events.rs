//! Admin events (issue 10 L7): appended, never changed; read per
//! organisation, newest first.

use crate::rows::get;
use crate::{db_err, SqlStore};
use portvakt_core::ids::{EventId, OrganisationId, UserId};
use portvakt_core::store::{AdminEvent, EventResult, StoreResult};

const COLUMNS: &str =
    "id, organisation_id, actor_id, at, ip, user_agent, action, target, result, detail";

fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<AdminEvent> {
    Ok(AdminEvent {
        id: EventId::from_raw(get::<String>(r, "id")?),
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        actor_id: UserId::from_raw(get::<String>(r, "actor_id")?),
        at: get(r, "at")?,
        ip: get(r, "ip")?,
        user_agent: get(r, "user_agent")?,
        action: get(r, "action")?,
        target: get(r, "target")?,
        result: if get::<String>(r, "result")? == "success" {
            EventResult::Success
        } else {
            EventResult::Failure
        },
        detail: get(r, "detail")?,
    })
}

impl SqlStore {
    pub(crate) async fn record_admin_event_impl(&self, e: &AdminEvent) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO admin_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(e.id.as_str())
        .bind(e.organisation_id.as_str())
        .bind(e.actor_id.as_str())
        .bind(e.at)
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(&e.action)
        .bind(&e.target)
        .bind(e.result.as_str())
        .bind(&e.detail)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    pub(crate) async fn admin_events_impl(
        &self,
        org: &OrganisationId,
        limit: i64,
    ) -> StoreResult<Vec<AdminEvent>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM admin_events WHERE organisation_id = $1 \
             ORDER BY at DESC, id DESC LIMIT $2"
        ))
        .bind(org.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(from_row)
        .collect()
    }
}
