//! Status-page components, incidents and their updates.

use crate::rows::get;
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::domain::Slug;
use portvakt_core::ids::{EventId, OrganisationId};
use portvakt_core::status::{
    Component, ComponentState, Correction, Incident, IncidentUpdate, Phase,
};
use portvakt_core::store::{StatusStore, StoreResult};
use portvakt_core::StoreError;
use std::collections::HashMap;

/// Which incidents to read.
#[derive(Clone, Copy)]
enum Which {
    /// Open ones and those resolved at or after `since`, newest first, at
    /// most `limit`, every update; drafts only or published only.
    Window {
        since: UnixTime,
        limit: u32,
        drafts: bool,
    },
    /// What the status page shows: every open published incident, and the
    /// `resolved` newest resolved at or after `since`, with all updates.
    Shown { since: UnixTime, resolved: u32 },
}

impl Which {
    /// The condition on `incidents i` (organisation `$1`, then the
    /// variant's binds).
    fn predicate(self) -> &'static str {
        match self {
            Which::Window { .. } => {
                "i.organisation_id = $1 AND (i.resolved_at IS NULL OR i.resolved_at >= $2) AND i.draft = $3"
            }
            Which::Shown { .. } => {
                "i.organisation_id = $1 AND i.draft = 0 AND (i.resolved_at IS NULL OR i.id IN \
                 (SELECT r.id FROM incidents r WHERE r.organisation_id = $1 AND r.draft = 0 \
                 AND r.resolved_at >= $2 ORDER BY r.created_at DESC, r.id LIMIT $3))"
            }
        }
    }
}

impl Which {
    /// Binds the organisation and the variant's values, in the order the
    /// predicate numbers them.
    fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
        org: &'q OrganisationId,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        let q = q.bind(org.as_str());
        match self {
            Which::Window {
                since,
                limit,
                drafts,
            } => q
                .bind(since)
                .bind(i64::from(drafts))
                .bind(i64::from(limit.min(1000))),
            Which::Shown { since, resolved } => q.bind(since).bind(i64::from(resolved)),
        }
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("status {what}"))
}

impl SqlStore {
    async fn select_incidents(
        &self,
        org: &OrganisationId,
        which: Which,
    ) -> StoreResult<Vec<Incident>> {
        let pred = which.predicate();
        let limit = if matches!(which, Which::Window { .. }) {
            " LIMIT $4"
        } else {
            ""
        };
        let sql = format!(
            "SELECT i.id, i.title, i.title_en, i.maintenance, i.phase, i.created_at, i.resolved_at \
             FROM incidents i WHERE {pred} ORDER BY i.created_at DESC, i.id{limit}"
        );
        let rows = which
            .bind(sqlx::query(&sql), org)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let drafts = matches!(which, Which::Window { drafts: true, .. });
        let mut incidents = Vec::with_capacity(rows.len());
        let mut index = HashMap::new();
        for r in &rows {
            let id: String = get(r, "id")?;
            let phase: String = get(r, "phase")?;
            index.insert(id.clone(), incidents.len());
            incidents.push(Incident {
                id,
                organisation_id: org.clone(),
                title: get(r, "title")?,
                title_en: get(r, "title_en")?,
                maintenance: get::<i64>(r, "maintenance")? != 0,
                draft: drafts,
                phase: Phase::parse(&phase).ok_or_else(|| corrupt("phase"))?,
                affected: Vec::new(),
                created_at: get(r, "created_at")?,
                resolved_at: get(r, "resolved_at")?,
                updates: Vec::new(),
            });
        }
        if incidents.is_empty() {
            return Ok(incidents);
        }
        // The components and updates of these incidents, in two queries
        // rather than two per incident. CROSS JOIN keeps SQLite walking from
        // the organisation's incidents (indexed) instead of scanning every
        // update; PostgreSQL plans it as a plain join.
        let sql = format!(
            "SELECT c.incident_id, c.component, c.impact FROM incidents i \
             CROSS JOIN incident_components c WHERE c.incident_id = i.id AND {pred} \
             ORDER BY c.component"
        );
        for r in which
            .bind(sqlx::query(&sql), org)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
        {
            let id: String = get(&r, "incident_id")?;
            if let Some(&i) = index.get(&id) {
                let impact: String = get(&r, "impact")?;
                incidents[i].affected.push((
                    Slug::from_stored(get(&r, "component")?),
                    ComponentState::parse(&impact).ok_or_else(|| corrupt("impact"))?,
                ));
            }
        }
        let sql = format!(
            "SELECT u.incident_id, u.at, u.phase, u.body, u.body_en FROM incidents i \
             CROSS JOIN incident_updates u WHERE u.incident_id = i.id AND {pred} \
             ORDER BY u.at DESC, u.seq DESC"
        );
        for r in which
            .bind(sqlx::query(&sql), org)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
        {
            let id: String = get(&r, "incident_id")?;
            if let Some(&i) = index.get(&id) {
                let phase: String = get(&r, "phase")?;
                incidents[i].updates.push(IncidentUpdate {
                    at: get(&r, "at")?,
                    phase: Phase::parse(&phase).ok_or_else(|| corrupt("phase"))?,
                    body: get(&r, "body")?,
                    body_en: get(&r, "body_en")?,
                });
            }
        }
        Ok(incidents)
    }
}

#[async_trait]
impl StatusStore for SqlStore {
    async fn status_components(&self, org: &OrganisationId) -> StoreResult<Vec<Component>> {
        sqlx::query(
            "SELECT slug, name, grp, alternatives, sort FROM status_components \
             WHERE organisation_id = $1 ORDER BY sort, slug",
        )
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(Component {
                organisation_id: org.clone(),
                slug: Slug::from_stored(get(r, "slug")?),
                name: get(r, "name")?,
                group: get(r, "grp")?,
                alternatives: get(r, "alternatives")?,
                sort: get(r, "sort")?,
            })
        })
        .collect()
    }

    async fn incidents(
        &self,
        org: &OrganisationId,
        since: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<Incident>> {
        self.select_incidents(
            org,
            Which::Window {
                since,
                limit,
                drafts: false,
            },
        )
        .await
    }

    async fn incidents_shown(
        &self,
        org: &OrganisationId,
        since: UnixTime,
        resolved: u32,
    ) -> StoreResult<Vec<Incident>> {
        self.select_incidents(
            org,
            Which::Shown {
                since,
                resolved: resolved.min(1000),
            },
        )
        .await
    }

    async fn create_incident(&self, i: &Incident) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO incidents (id, organisation_id, title, title_en, maintenance, phase, created_at, resolved_at, draft) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&i.id)
        .bind(i.organisation_id.as_str())
        .bind(&i.title)
        .bind(&i.title_en)
        .bind(i64::from(i.maintenance))
        .bind(i.phase.name())
        .bind(i.created_at)
        .bind(i.resolved_at)
        .bind(i64::from(i.draft))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_components(&mut tx, &i.organisation_id, &i.id, &i.affected).await?;
        for u in &i.updates {
            insert_update(&mut tx, &i.organisation_id, &i.id, u).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn add_incident_update(
        &self,
        org: &OrganisationId,
        incident: &str,
        u: &IncidentUpdate,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let resolved = (u.phase == Phase::Resolved).then_some(u.at);
        let r = sqlx::query(
            "UPDATE incidents SET phase = $1, resolved_at = $2 \
             WHERE organisation_id = $3 AND id = $4 AND resolved_at IS NULL AND draft = 0",
        )
        .bind(u.phase.name())
        .bind(resolved)
        .bind(org.as_str())
        .bind(incident)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        insert_update(&mut tx, org, incident, u).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn correct_incident(
        &self,
        org: &OrganisationId,
        incident: &str,
        c: &Correction,
        u: &IncidentUpdate,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let r = sqlx::query(
            "UPDATE incidents SET title = $1, title_en = $2 \
             WHERE organisation_id = $3 AND id = $4 AND resolved_at IS NULL AND draft = 0",
        )
        .bind(&c.title)
        .bind(&c.title_en)
        .bind(org.as_str())
        .bind(incident)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM incident_components WHERE organisation_id = $1 AND incident_id = $2",
        )
        .bind(org.as_str())
        .bind(incident)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_components(&mut tx, org, incident, &c.affected).await?;
        insert_update(&mut tx, org, incident, u).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn draft_incidents(&self, org: &OrganisationId) -> StoreResult<Vec<Incident>> {
        self.select_incidents(
            org,
            Which::Window {
                since: UnixTime::MAX,
                limit: 100,
                drafts: true,
            },
        )
        .await
    }

    async fn publish_draft(
        &self,
        org: &OrganisationId,
        incident: &str,
        title: (&str, &str),
        body: (&str, &str),
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let r = sqlx::query(
            "UPDATE incidents SET draft = 0, title = $1, title_en = $2 \
             WHERE organisation_id = $3 AND id = $4 AND draft = 1 AND resolved_at IS NULL",
        )
        .bind(title.0)
        .bind(title.1)
        .bind(org.as_str())
        .bind(incident)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        // A draft has exactly the one update the probe wrote; the editor's
        // wording replaces it.
        sqlx::query(
            "UPDATE incident_updates SET body = $1, body_en = $2 WHERE organisation_id = $3 AND incident_id = $4",
        )
        .bind(body.0)
        .bind(body.1)
        .bind(org.as_str())
        .bind(incident)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn withdraw_draft(
        &self,
        org: &OrganisationId,
        incident: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let r = sqlx::query(
            "UPDATE incidents SET resolved_at = $1, phase = 'resolved' \
             WHERE organisation_id = $2 AND id = $3 AND draft = 1 AND resolved_at IS NULL",
        )
        .bind(now)
        .bind(org.as_str())
        .bind(incident)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        // A dismissed draft was a false alarm: the probes that still see
        // its components down stop setting the public state until they
        // come up again.
        sqlx::query(
            "UPDATE probe_states SET muted = 1 WHERE organisation_id = $1 AND down = 1 \
             AND component IN (SELECT component FROM incident_components WHERE incident_id = $2)",
        )
        .bind(org.as_str())
        .bind(incident)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}

async fn insert_components(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org: &OrganisationId,
    incident: &str,
    affected: &[(Slug, ComponentState)],
) -> StoreResult<()> {
    for (component, impact) in affected {
        sqlx::query(
            "INSERT INTO incident_components (incident_id, organisation_id, component, impact) VALUES ($1, $2, $3, $4)",
        )
        .bind(incident)
        .bind(org.as_str())
        .bind(component.as_str())
        .bind(impact.name())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

async fn insert_update(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org: &OrganisationId,
    incident: &str,
    u: &IncidentUpdate,
) -> StoreResult<()> {
    // Within the transaction that also moves the incident, so the count
    // is exact.
    let seq: i64 = get(
        &sqlx::query("SELECT COUNT(*) AS n FROM incident_updates WHERE incident_id = $1")
            .bind(incident)
            .fetch_one(&mut **tx)
            .await
            .map_err(db_err)?,
        "n",
    )?;
    sqlx::query(
        "INSERT INTO incident_updates (id, incident_id, organisation_id, at, phase, body, body_en, seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(EventId::generate().to_string())
    .bind(incident)
    .bind(org.as_str())
    .bind(u.at)
    .bind(u.phase.name())
    .bind(&u.body)
    .bind(&u.body_en)
    .bind(seq)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}
