//! Sign-in events, and admin events (issue 10 L7): appended, never
//! changed; read per organisation, newest first.

use crate::rows::{self, get};
use crate::{clamp_limit, db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::ids::{EventId, OrganisationId, UserId};
use portvakt_core::store::{AdminEvent, EventStore, SignInEvent, StoreResult};

const ADMIN_EVENT_COLS: &str =
    "id, organisation_id, actor_id, at, ip, user_agent, action, target, result, detail";

fn admin_event_from_row(r: &sqlx::any::AnyRow) -> StoreResult<AdminEvent> {
    Ok(AdminEvent {
        id: EventId::from_raw(get::<String>(r, "id")?),
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        actor_id: UserId::from_raw(get::<String>(r, "actor_id")?),
        at: get(r, "at")?,
        ip: get(r, "ip")?,
        user_agent: get(r, "user_agent")?,
        action: get(r, "action")?,
        target: get(r, "target")?,
        result: rows::event_result(r)?,
        detail: get(r, "detail")?,
    })
}

#[async_trait]
impl EventStore for SqlStore {
    async fn record_signin_event(&self, e: &SignInEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signin_events (id, organisation_id, user_id, at, ip, user_agent, method, result, reason, zone) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id.as_str())
        .bind(e.organisation_id.as_ref().map(|o| o.as_str().to_owned()))
        .bind(e.user_id.as_ref().map(|u| u.as_str().to_owned()))
        .bind(e.at)
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(e.method.as_str())
        .bind(e.result.as_str())
        .bind(&e.reason)
        .bind(&e.zone)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn signin_events_for_user(
        &self,
        org: &OrganisationId,
        user: &UserId,
        limit: u32,
    ) -> StoreResult<Vec<SignInEvent>> {
        sqlx::query(
            "SELECT id, organisation_id, user_id, at, ip, user_agent, method, result, reason, zone FROM signin_events \
             WHERE organisation_id = $1 AND user_id = $2 ORDER BY at DESC, id LIMIT $3",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::event)
        .collect()
    }

    async fn record_admin_event(&self, e: &AdminEvent) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO admin_events ({ADMIN_EVENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
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

    async fn admin_events(&self, org: &OrganisationId, limit: u32) -> StoreResult<Vec<AdminEvent>> {
        sqlx::query(&format!(
            "SELECT {ADMIN_EVENT_COLS} FROM admin_events WHERE organisation_id = $1 \
             ORDER BY at DESC, id DESC LIMIT $2"
        ))
        .bind(org.as_str())
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(admin_event_from_row)
        .collect()
    }
}
