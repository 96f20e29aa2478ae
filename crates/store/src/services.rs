use crate::rows::{self, get, SERVICE_COLS};
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::domain::Slug;
use portvakt_core::ids::{OrganisationId, UserId};
use portvakt_core::store::{Service, ServiceStore, StoreResult};
use std::collections::{BTreeSet, HashMap};

#[async_trait]
impl ServiceStore for SqlStore {
    async fn services_with_groups(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<(Service, BTreeSet<Slug>)>> {
        let mut groups: HashMap<String, BTreeSet<Slug>> = HashMap::new();
        for r in sqlx::query(
            "SELECT sg.service_id, g.slug FROM service_groups sg \
             JOIN user_groups_def g ON g.id = sg.group_id AND g.organisation_id = sg.organisation_id \
             WHERE sg.organisation_id = $1",
        )
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        {
            groups
                .entry(get(&r, "service_id")?)
                .or_default()
                .insert(Slug::from_stored(get(&r, "slug")?));
        }
        let sql = format!(
            "SELECT {SERVICE_COLS} FROM services s WHERE s.organisation_id = $1 ORDER BY s.sort, s.slug"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                let s = rows::service(r)?;
                let g = groups.remove(s.id.as_str()).unwrap_or_default();
                Ok((s, g))
            })
            .collect()
    }

    async fn proxied_hosts(&self) -> StoreResult<Vec<String>> {
        sqlx::query(
            "SELECT DISTINCT host FROM services WHERE upstream IS NOT NULL AND host IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get(r, "host"))
        .collect()
    }

    async fn services_for_user(
        &self,
        org: &OrganisationId,
        user: &UserId,
    ) -> StoreResult<Vec<Service>> {
        let sql = format!(
            "SELECT DISTINCT {SERVICE_COLS} FROM services s \
             JOIN service_groups sg ON sg.service_id = s.id AND sg.organisation_id = s.organisation_id \
             JOIN group_members m ON m.group_id = sg.group_id AND m.organisation_id = s.organisation_id \
             WHERE s.organisation_id = $1 AND m.user_id = $2 ORDER BY s.sort, s.slug"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(user.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::service)
            .collect()
    }
}
