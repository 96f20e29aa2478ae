use crate::rows::get;
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::apply::ZoneRecord;
use portvakt_core::domain::{MfaPolicy, Slug};
use portvakt_core::ids::{OrganisationId, ZoneId};
use portvakt_core::store::{OrgStore, Organisation, StoreResult};
use portvakt_core::StoreError;
use sqlx::any::AnyRow;

impl SqlStore {
    pub(crate) async fn org_from_row(&self, row: &AnyRow) -> StoreResult<Organisation> {
        let id: String = get(row, "id")?;
        let domains = sqlx::query(
            "SELECT domain FROM organisation_domains WHERE organisation_id = $1 ORDER BY domain",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get::<String>(r, "domain"))
        .collect::<Result<Vec<_>, _>>()?;
        Ok(Organisation {
            id: OrganisationId::from_raw(id),
            slug: Slug::from_stored(get(row, "slug")?),
            name: get(row, "name")?,
            domains,
            mfa_policy: MfaPolicy::parse(&get::<String>(row, "mfa_policy")?)
                .ok_or_else(|| StoreError::Corrupt("unknown mfa_policy".into()))?,
            status_contact: get(row, "status_contact")?,
            sms_country_codes: get::<String>(row, "sms_country_codes")?
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            signin_notices: portvakt_core::domain::SigninNotices::from_storage(&get::<String>(
                row,
                "signin_notices",
            )?),
        })
    }

    async fn one_org(&self, sql: &str, arg: &str) -> StoreResult<Option<Organisation>> {
        let row = sqlx::query(sql)
            .bind(arg)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match row {
            Some(r) => Ok(Some(self.org_from_row(&r).await?)),
            None => Ok(None),
        }
    }
}

#[async_trait]
impl OrgStore for SqlStore {
    async fn organisation(&self, id: &OrganisationId) -> StoreResult<Option<Organisation>> {
        self.one_org(
            "SELECT id, slug, name, mfa_policy, status_contact, sms_country_codes, signin_notices FROM organisations WHERE id = $1",
            id.as_str(),
        )
        .await
    }

    async fn organisation_by_slug(&self, slug: &Slug) -> StoreResult<Option<Organisation>> {
        self.one_org(
            "SELECT id, slug, name, mfa_policy, status_contact, sms_country_codes, signin_notices FROM organisations WHERE slug = $1",
            slug.as_str(),
        )
        .await
    }

    async fn organisation_by_domain(&self, domain: &str) -> StoreResult<Option<Organisation>> {
        self.one_org(
            "SELECT o.id, o.slug, o.name, o.mfa_policy, o.status_contact, o.sms_country_codes, o.signin_notices FROM organisations o \
             JOIN organisation_domains d ON d.organisation_id = o.id WHERE d.domain = $1",
            domain,
        )
        .await
    }

    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>> {
        let rows = sqlx::query(
            "SELECT id, slug, name, mfa_policy, status_contact, sms_country_codes, signin_notices FROM organisations ORDER BY slug",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.org_from_row(r).await?);
        }
        Ok(out)
    }

    async fn zones(&self, org: &OrganisationId) -> StoreResult<Vec<ZoneRecord>> {
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

    async fn emergency_contacts(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<(Vec<String>, Vec<String>)> {
        let mut team = Vec::new();
        let mut list = Vec::new();
        for r in sqlx::query(
            "SELECT kind, address FROM emergency_contacts WHERE organisation_id = $1 ORDER BY kind, sort",
        )
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        {
            let kind: String = get(&r, "kind")?;
            let address: String = get(&r, "address")?;
            if kind == "team" {
                team.push(address);
            } else {
                list.push(address);
            }
        }
        Ok((team, list))
    }
}
