//! Tickets and session links for the apps origin.

use crate::rows::get;
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::OrganisationId;
use portvakt_core::store::{AppsTicket, HandoffStore, SessionLink, StoreResult};

fn link_from_row(r: &sqlx::any::AnyRow) -> StoreResult<SessionLink> {
    Ok(SessionLink {
        link_hash: get(r, "link_hash")?,
        session_hash: get(r, "session_hash")?,
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        created_at: get(r, "created_at")?,
        expires_at: get(r, "expires_at")?,
    })
}

#[async_trait]
impl HandoffStore for SqlStore {
    async fn create_apps_ticket(&self, t: &AppsTicket, now: UnixTime) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Swept here rather than by a worker: both tables stay as small as
        // what is in use.
        for table in ["apps_tickets", "session_links"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE expires_at < $1"))
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query(
            "INSERT INTO apps_tickets (ticket_hash, session_hash, state_hash, organisation_id, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&t.ticket_hash)
        .bind(&t.session_hash)
        .bind(&t.state_hash)
        .bind(t.organisation_id.as_str())
        .bind(t.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn exchange_apps_ticket(
        &self,
        ticket_hash: &str,
        state_hash: &str,
        link_hash: &str,
        now: UnixTime,
        link_expires_at: UnixTime,
    ) -> StoreResult<Option<SessionLink>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // DELETE … RETURNING: of many concurrent redemptions, one gets the
        // row. It is taken by the ticket alone and the state compared after,
        // so a try with the wrong browser's state uses the ticket up: one
        // that leaked (a failed page's address read by an app's script)
        // is then worth nothing (issue 10 H2).
        let row = sqlx::query(
            "DELETE FROM apps_tickets WHERE ticket_hash = $1 \
             RETURNING session_hash, state_hash, organisation_id, expires_at",
        )
        .bind(ticket_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(r) = row else {
            tx.commit().await.map_err(db_err)?;
            return Ok(None);
        };
        let expires_at: i64 = get(&r, "expires_at")?;
        if expires_at < now || get::<String>(&r, "state_hash")? != state_hash {
            tx.commit().await.map_err(db_err)?;
            return Ok(None);
        }
        let link = SessionLink {
            link_hash: link_hash.to_owned(),
            session_hash: get(&r, "session_hash")?,
            organisation_id: OrganisationId::from_raw(get::<String>(&r, "organisation_id")?),
            created_at: now,
            expires_at: link_expires_at,
        };
        sqlx::query(
            "INSERT INTO session_links (link_hash, session_hash, organisation_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&link.link_hash)
        .bind(&link.session_hash)
        .bind(link.organisation_id.as_str())
        .bind(link.created_at)
        .bind(link.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(link))
    }

    async fn session_link(
        &self,
        link_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<SessionLink>> {
        let row = sqlx::query(
            "SELECT link_hash, session_hash, organisation_id, created_at, expires_at \
             FROM session_links WHERE link_hash = $1 AND expires_at >= $2",
        )
        .bind(link_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.as_ref().map(link_from_row).transpose()
    }
}
