//! Sign-in events, and admin events (issue 10 L7): appended, never
//! changed; read per organisation, newest first. Admin events form each
//! organisation's audit chain (issue 14, `portvakt_core::audit`).

use crate::rows::{self, get};
use crate::{clamp_limit, db_err, Backend, SqlStore};
use async_trait::async_trait;
use portvakt_core::audit::{self, AuditEntry, ChainHead};
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::{EventId, OrganisationId, UserId};
use portvakt_core::store::{
    AdminEvent, AuditQuery, AuditState, EventStore, SignInEvent, StoreResult,
};
use sqlx::{Any, Transaction};

const SIGNIN_EVENT_COLS: &str =
    "id, organisation_id, user_id, at, ip, user_agent, method, result, reason, zone";

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

fn audit_entry_from_row(r: &sqlx::any::AnyRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        event: admin_event_from_row(r)?,
        seq: get(r, "seq")?,
        prev_hash: get(r, "prev_hash")?,
        hash: get(r, "hash")?,
    })
}

/// A head row; seq 0 is the placeholder of a chain not yet started.
fn head_from_row(r: &sqlx::any::AnyRow) -> StoreResult<Option<ChainHead>> {
    let seq: i64 = get(r, "seq")?;
    Ok((seq > 0).then(|| ChainHead {
        seq,
        hash: get(r, "hash").unwrap_or_default(),
    }))
}

/// Locks the organisation's chain for this transaction and returns its
/// head. On SQLite the first statement's write lock serialises appends; on
/// PostgreSQL the head row's lock does (`FOR UPDATE` waits for the other
/// append and then reads its head).
async fn take_head(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    org: &OrganisationId,
) -> StoreResult<Option<ChainHead>> {
    sqlx::query(
        "INSERT INTO audit_heads (organisation_id, seq, hash) VALUES ($1, 0, '') \
         ON CONFLICT (organisation_id) DO NOTHING",
    )
    .bind(org.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    };
    let row = sqlx::query(&format!(
        "SELECT seq, hash FROM audit_heads WHERE organisation_id = $1{lock}"
    ))
    .bind(org.as_str())
    .fetch_one(&mut **tx)
    .await
    .map_err(db_err)?;
    head_from_row(&row)
}

async fn set_head(
    tx: &mut Transaction<'_, Any>,
    org: &OrganisationId,
    entry: &AuditEntry,
) -> StoreResult<()> {
    sqlx::query("UPDATE audit_heads SET seq = $1, hash = $2 WHERE organisation_id = $3")
        .bind(entry.seq)
        .bind(&entry.hash)
        .bind(org.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Links entries recorded before the chain existed (migration 0023) into
/// their organisation's chain, oldest first. Run once, by the start that
/// applies the migration; after it, every entry is linked as it is written.
pub(crate) async fn link_earlier_entries(store: &SqlStore) -> StoreResult<()> {
    let orgs: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT organisation_id FROM admin_events WHERE seq IS NULL")
            .fetch_all(&store.pool)
            .await
            .map_err(db_err)?;
    for org in orgs.into_iter().map(OrganisationId::from_raw) {
        let mut tx = store.pool.begin().await.map_err(db_err)?;
        let mut head = take_head(&mut tx, store.backend, &org).await?;
        if head.is_some() {
            // Already a chain: rows outside it were not written by
            // Portvakt; `audit verify` reports them, nothing links them.
            continue;
        }
        let rows = sqlx::query(&format!(
            "SELECT {ADMIN_EVENT_COLS} FROM admin_events \
             WHERE organisation_id = $1 AND seq IS NULL ORDER BY at, id"
        ))
        .bind(org.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for r in &rows {
            let entry = audit::link(&org, head.as_ref(), admin_event_from_row(r)?);
            sqlx::query(
                "UPDATE admin_events SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4",
            )
            .bind(entry.seq)
            .bind(&entry.prev_hash)
            .bind(&entry.hash)
            .bind(entry.event.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            set_head(&mut tx, &org, &entry).await?;
            head = Some(ChainHead {
                seq: entry.seq,
                hash: entry.hash,
            });
        }
        tx.commit().await.map_err(db_err)?;
    }
    Ok(())
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

    async fn signin_history(
        &self,
        org: &OrganisationId,
        user: &UserId,
        since: UnixTime,
        before: Option<(UnixTime, EventId)>,
        limit: u32,
    ) -> StoreResult<Vec<SignInEvent>> {
        // Without a cursor, one later than any event: one statement text.
        let (at, id) = before.map_or((i64::MAX, String::new()), |(a, i)| (a, i.to_string()));
        sqlx::query(&format!(
            "SELECT {SIGNIN_EVENT_COLS} FROM signin_events \
             WHERE organisation_id = $1 AND user_id = $2 AND at >= $3 \
             AND (at < $4 OR (at = $4 AND id < $5)) \
             ORDER BY at DESC, id DESC LIMIT $6"
        ))
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(since)
        .bind(at)
        .bind(id)
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::event)
        .collect()
    }

    async fn signin_event(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &EventId,
    ) -> StoreResult<Option<SignInEvent>> {
        sqlx::query(&format!(
            "SELECT {SIGNIN_EVENT_COLS} FROM signin_events \
             WHERE organisation_id = $1 AND user_id = $2 AND id = $3"
        ))
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(rows::event)
        .transpose()
    }

    async fn record_admin_event(&self, e: &AdminEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let head = take_head(&mut tx, self.backend, &e.organisation_id).await?;
        let entry = audit::link(&e.organisation_id, head.as_ref(), e.clone());
        sqlx::query(&format!(
            "INSERT INTO admin_events ({ADMIN_EVENT_COLS}, seq, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
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
        .bind(entry.seq)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        set_head(&mut tx, &e.organisation_id, &entry).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn audit_entries(
        &self,
        org: &OrganisationId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        sqlx::query(&format!(
            "SELECT {ADMIN_EVENT_COLS}, seq, prev_hash, hash FROM admin_events \
             WHERE organisation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
        ))
        .bind(org.as_str())
        .bind(after_seq)
        .bind(i64::from(limit.min(1000)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(audit_entry_from_row)
        .collect()
    }

    async fn audit_state(&self, org: &OrganisationId) -> StoreResult<AuditState> {
        let head = sqlx::query("SELECT seq, hash FROM audit_heads WHERE organisation_id = $1")
            .bind(org.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| head_from_row(&r))
            .transpose()?
            .flatten();
        let unlinked: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM admin_events WHERE organisation_id = $1 AND (seq IS NULL OR seq < 1)",
        )
        .bind(org.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(AuditState {
            head,
            unlinked: u64::try_from(unlinked).unwrap_or(0),
        })
    }

    async fn audit_page(
        &self,
        org: &OrganisationId,
        q: &AuditQuery,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>> {
        // Optional filters as `($n IS NULL OR …)` keep one statement text
        // (prepared once); NULLs are bound typed.
        sqlx::query(&format!(
            "SELECT {ADMIN_EVENT_COLS}, seq, prev_hash, hash FROM admin_events \
             WHERE organisation_id = $1 AND seq >= 1 \
             AND ($2 = '' OR actor_id = $2 OR target = $2 \
                  OR substr(target, 1, length($2) + 1) = $2 || '/') \
             AND at >= $3 AND at < $4 AND seq < $5 \
             ORDER BY seq DESC LIMIT $6"
        ))
        .bind(org.as_str())
        .bind(q.person.as_ref().map_or("", |p| p.as_str()))
        .bind(q.from.unwrap_or(i64::MIN))
        .bind(q.until.unwrap_or(i64::MAX))
        .bind(q.before_seq.unwrap_or(i64::MAX))
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(audit_entry_from_row)
        .collect()
    }

    async fn account_actions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        before: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<AdminEvent>> {
        // Three index walks (by target, by target prefix, by actor), each
        // stopping after `limit` rows; `/` + 1 is `0`, so the prefix is a
        // range the index can use.
        let part = |cond: &str| {
            format!(
                "SELECT * FROM (SELECT {ADMIN_EVENT_COLS} FROM admin_events \
                 WHERE organisation_id = $1 AND {cond} AND at < $5 \
                 ORDER BY at DESC LIMIT $6) AS p"
            )
        };
        let sql = format!(
            "{} UNION ALL {} UNION ALL {}",
            part("target = $2"),
            part("target >= $3 AND target < $4"),
            part("actor_id = $2"),
        );
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<AdminEvent> = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(format!("{user}/"))
            .bind(format!("{user}0"))
            .bind(before)
            .bind(clamp_limit(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(admin_event_from_row)
            .collect::<StoreResult<Vec<_>>>()?
            .into_iter()
            .filter(|e| seen.insert(e.id.clone()))
            .collect();
        out.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.id.cmp(&a.id)));
        out.truncate(usize::try_from(clamp_limit(limit)).unwrap_or(100));
        Ok(out)
    }

    async fn admin_events(&self, org: &OrganisationId, limit: u32) -> StoreResult<Vec<AdminEvent>> {
        sqlx::query(&format!(
            "SELECT {ADMIN_EVENT_COLS} FROM admin_events WHERE organisation_id = $1 \
             ORDER BY seq DESC, at DESC, id DESC LIMIT $2"
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
