//! Registered OpenID clients: read for the provider's cache and `apply`'s
//! snapshot, written by `apply` in its transaction.

use crate::rows::{self, get};
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::domain::Slug;
use portvakt_core::ids::{ClientRowId, OrganisationId};
use portvakt_core::oidc::client::{ClientKind, GrantType, OidcClient};
use portvakt_core::oidc::jose::Alg;
use portvakt_core::store::{OidcClientStore, StoreResult};
use portvakt_core::StoreError;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};

const COLS: &str =
    "id, organisation_id, client_id, name, kind, secret_hash, redirect_uris, grants, \
                    scopes, audience, signing_alg, first_party, groups, zones, methods, open_hours";

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ').filter(|w| !w.is_empty())
}

fn client(r: &AnyRow) -> StoreResult<OidcClient> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("client {what}"));
    let kind: String = get(r, "kind")?;
    let alg: String = get(r, "signing_alg")?;
    let uris: String = get(r, "redirect_uris")?;
    let grants: String = get(r, "grants")?;
    let scopes: String = get(r, "scopes")?;
    let groups: String = get(r, "groups")?;
    Ok(OidcClient {
        id: ClientRowId::from_raw(get::<String>(r, "id")?),
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        client_id: get(r, "client_id")?,
        name: get(r, "name")?,
        kind: ClientKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        secret_hash: get(r, "secret_hash")?,
        redirect_uris: serde_json::from_str(&uris).map_err(|_| corrupt("redirect_uris"))?,
        grants: words(&grants)
            .map(|g| GrantType::parse(g).ok_or_else(|| corrupt("grants")))
            .collect::<Result<_, _>>()?,
        scopes: words(&scopes).map(str::to_owned).collect(),
        audience: get(r, "audience")?,
        signing_alg: Alg::parse(&alg).ok_or_else(|| corrupt("signing_alg"))?,
        first_party: get::<i64>(r, "first_party")? != 0,
        groups: words(&groups)
            .map(|g| Slug::parse(g).ok_or_else(|| corrupt("groups")))
            .collect::<Result<_, _>>()?,
        access: rows::rule_access(r)?,
    })
}

pub(crate) async fn clients_in(
    pool: &sqlx::AnyPool,
    org: &OrganisationId,
) -> StoreResult<Vec<OidcClient>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM oidc_clients WHERE organisation_id = $1 ORDER BY client_id"
    ))
    .bind(org.as_str())
    .fetch_all(pool)
    .await
    .map_err(db_err)?
    .iter()
    .map(client)
    .collect()
}

#[async_trait]
impl OidcClientStore for SqlStore {
    async fn oidc_clients(&self, org: &OrganisationId) -> StoreResult<Vec<OidcClient>> {
        clients_in(&self.pool, org).await
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(" ")
}

/// Inserts or updates `c` (keyed by its row id, within `org`).
pub(crate) async fn put(
    tx: &mut Transaction<'_, Any>,
    org: &OrganisationId,
    c: &OidcClient,
) -> StoreResult<()> {
    let (zones, methods, open) = rows::access_columns(&c.access);
    let uris = serde_json::to_string(&c.redirect_uris)
        .map_err(|e| StoreError::Backend(format!("redirect_uris: {e}")))?;
    sqlx::query(
        "INSERT INTO oidc_clients (id, organisation_id, client_id, name, kind, secret_hash, \
         redirect_uris, grants, scopes, audience, signing_alg, first_party, groups, zones, methods, open_hours) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (id) DO UPDATE SET name = $4, kind = $5, secret_hash = $6, redirect_uris = $7, \
         grants = $8, scopes = $9, audience = $10, signing_alg = $11, first_party = $12, groups = $13, \
         zones = $14, methods = $15, open_hours = $16 WHERE oidc_clients.organisation_id = $2",
    )
    .bind(c.id.as_str())
    .bind(org.as_str())
    .bind(&c.client_id)
    .bind(&c.name)
    .bind(c.kind.as_str())
    .bind(c.secret_hash.clone())
    .bind(uris)
    .bind(join(c.grants.iter().map(|g| g.as_str())))
    .bind(join(c.scopes.iter().map(String::as_str)))
    .bind(c.audience.clone())
    .bind(c.signing_alg.as_str())
    .bind(i64::from(c.first_party))
    .bind(join(c.groups.iter().map(Slug::as_str)))
    .bind(zones)
    .bind(methods)
    .bind(open)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn remove(
    tx: &mut Transaction<'_, Any>,
    org: &OrganisationId,
    id: &ClientRowId,
    now: i64,
) -> StoreResult<()> {
    // Its people's grants end with it: their tokens stop at once.
    sqlx::query(
        "UPDATE oidc_grants SET revoked_at = $3, revoke_reason = 'client_removed' \
         WHERE organisation_id = $1 AND client_row_id = $2 AND revoked_at IS NULL",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    sqlx::query("DELETE FROM oidc_clients WHERE organisation_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}
