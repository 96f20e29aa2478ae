//! Health probes: their definitions, each probe's last view, and the
//! per-component daily figures.

use crate::rows::get;
use crate::{db_err, Backend, SqlStore};
use async_trait::async_trait;
use portvakt_core::domain::Slug;
use portvakt_core::ids::OrganisationId;
use portvakt_core::probe::{DayFigure, Probe, ProbeOverview, ProbeSpec, ProbeState};
use portvakt_core::status::ComponentState;
use portvakt_core::store::{ProbeStore, StoreResult};
use portvakt_core::StoreError;

#[async_trait]
impl ProbeStore for SqlStore {
    /// One organisation's probes, or every organisation's (the runner).
    async fn probes(&self, org: Option<&OrganisationId>) -> StoreResult<Vec<Probe>> {
        sqlx::query(
            "SELECT organisation_id, slug, component, spec FROM status_probes \
             WHERE ($1 = '' OR organisation_id = $1) ORDER BY organisation_id, sort",
        )
        .bind(org.map_or("", OrganisationId::as_str))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            let spec: String = get(r, "spec")?;
            Ok(Probe {
                organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
                slug: Slug::from_stored(get(r, "slug")?),
                component: Slug::from_stored(get(r, "component")?),
                spec: serde_json::from_str::<ProbeSpec>(&spec)
                    .map_err(|e| StoreError::Corrupt(format!("probe spec: {e}")))?,
            })
        })
        .collect()
    }

    async fn probe_states(&self, org: &OrganisationId) -> StoreResult<Vec<ProbeState>> {
        self.states_where(org, "").await
    }

    /// Two small queries however many probes there are: the public page
    /// must not read hundreds of rows that say "fine".
    async fn probe_overview(&self, org: &OrganisationId) -> StoreResult<ProbeOverview> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(checked_at) AS latest FROM probe_states WHERE organisation_id = $1",
        )
        .bind(org.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let components = sqlx::query(
            "SELECT DISTINCT component FROM probe_states WHERE organisation_id = $1 ORDER BY component",
        )
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get(r, "component").map(Slug::from_stored))
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(ProbeOverview {
            watching: u32::try_from(get::<i64>(&r, "n")?).unwrap_or(u32::MAX),
            components,
            checked_at: get(&r, "latest")?,
            down: self.states_where(org, "AND down = 1 AND muted = 0").await?,
        })
    }

    async fn put_probe_states(&self, states: &[ProbeState]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for s in states {
            // Only probes the organisation file still defines; a state for
            // a removed probe would hold its component down for ever.
            sqlx::query(
                "INSERT INTO probe_states (organisation_id, probe, component, down, since, checked_at, last_error, impact) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS \
                 (SELECT 1 FROM status_probes WHERE organisation_id = $1 AND slug = $2 AND component = $3) \
                 ON CONFLICT (organisation_id, probe) DO UPDATE SET component = $3, down = $4, since = $5, \
                 checked_at = $6, last_error = $7, impact = $8, \
                 muted = CASE WHEN $4 = 0 THEN 0 ELSE probe_states.muted END",
            )
            .bind(s.organisation_id.as_str())
            .bind(s.probe.as_str())
            .bind(s.component.as_str())
            .bind(i64::from(s.down))
            .bind(s.since)
            .bind(s.checked_at)
            .bind(&s.last_error)
            .bind(s.impact.name())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn add_probe_figures(&self, figures: &[(OrganisationId, DayFigure)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for (org, f) in figures {
            sqlx::query(
                "INSERT INTO probe_days (organisation_id, component, day, checks, failures) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organisation_id, component, day) \
                 DO UPDATE SET checks = probe_days.checks + $4, failures = probe_days.failures + $5",
            )
            .bind(org.as_str())
            .bind(f.component.as_str())
            .bind(&f.day)
            .bind(f.checks)
            .bind(f.failures)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    /// One row per component, its days joined into one string by the
    /// database: a row costs far more than its bytes here (90 days of 50
    /// components took longer to fetch than the rest of the page).
    async fn probe_days(
        &self,
        org: &OrganisationId,
        since_day: &str,
    ) -> StoreResult<Vec<DayFigure>> {
        let joined = match self.backend {
            Backend::Sqlite => "group_concat(day || ':' || checks || ':' || failures, ',')",
            Backend::Postgres => {
                "string_agg(day || ':' || checks || ':' || failures, ',' ORDER BY day)"
            }
        };
        let rows = sqlx::query(&format!(
            "SELECT component, {joined} AS days FROM probe_days \
             WHERE organisation_id = $1 AND day >= $2 GROUP BY component ORDER BY component"
        ))
        .bind(org.as_str())
        .bind(since_day)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = Vec::new();
        for r in &rows {
            let component = Slug::from_stored(get(r, "component")?);
            let days: String = get(r, "days")?;
            let mut mine = days
                .split(',')
                .map(|d| {
                    let mut parts = d.split(':');
                    let bad = || StoreError::Corrupt("probe day".into());
                    let day = parts.next().ok_or_else(bad)?.to_owned();
                    let checks = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
                    let failures = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
                    Ok(DayFigure {
                        component: component.clone(),
                        day,
                        checks,
                        failures,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            mine.sort_by(|a, b| a.day.cmp(&b.day));
            out.extend(mine);
        }
        Ok(out)
    }

    async fn prune_probe_days(&self, before_day: &str) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM probe_days WHERE day < $1")
            .bind(before_day)
            .execute(&self.pool)
            .await
            .map_err(db_err)?
            .rows_affected())
    }
}

impl SqlStore {
    async fn states_where(
        &self,
        org: &OrganisationId,
        extra: &str,
    ) -> StoreResult<Vec<ProbeState>> {
        sqlx::query(&format!(
            "SELECT probe, component, down, since, checked_at, last_error, impact, muted FROM probe_states \
             WHERE organisation_id = $1 {extra} ORDER BY probe"
        ))
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            let impact: String = get(r, "impact")?;
            Ok(ProbeState {
                organisation_id: org.clone(),
                probe: Slug::from_stored(get(r, "probe")?),
                component: Slug::from_stored(get(r, "component")?),
                down: get::<i64>(r, "down")? != 0,
                since: get(r, "since")?,
                checked_at: get(r, "checked_at")?,
                last_error: get(r, "last_error")?,
                impact: ComponentState::parse(&impact)
                    .ok_or_else(|| StoreError::Corrupt("probe impact".into()))?,
                muted: get::<i64>(r, "muted")? != 0,
            })
        })
        .collect()
    }
}
