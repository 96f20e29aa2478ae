//! The code flow's records. Each method is one transaction; the single
//! winner of a code or a refresh token is decided by an `UPDATE … WHERE
//! used_at IS NULL` that only one caller can make (SECURITY.md D3, G3).

use crate::rows::{self, get, USER_COLS};
use crate::{db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::{ClientRowId, OrganisationId, UserId};
use portvakt_core::store::{
    CodeRecord, GrantRecord, Issue, NewRefreshToken, OidcGrantStore, Redeemed, Rotation,
    StoreResult, User, UserApp,
};
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

const GRANT_COLS: &str = "id, organisation_id, client_row_id, user_id, scope, auth_time, amr, \
                          created_at, expires_at, revoked_at";

/// The grant columns as `g.…`, for queries that join the grant.
fn joined_grant_cols() -> String {
    GRANT_COLS
        .split(", ")
        .map(|c| format!("g.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn grant_row(r: &AnyRow) -> StoreResult<GrantRecord> {
    Ok(GrantRecord {
        id: get(r, "id")?,
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        client_row_id: ClientRowId::from_raw(get::<String>(r, "client_row_id")?),
        user_id: UserId::from_raw(get::<String>(r, "user_id")?),
        scope: get(r, "scope")?,
        auth_time: get(r, "auth_time")?,
        amr: get(r, "amr")?,
        created_at: get(r, "created_at")?,
        expires_at: get(r, "expires_at")?,
        revoked_at: get(r, "revoked_at")?,
    })
}

async fn revoke_in(
    tx: &mut Transaction<'_, Any>,
    org: &OrganisationId,
    id: &str,
    reason: &str,
    now: UnixTime,
) -> StoreResult<bool> {
    let n = sqlx::query(
        "UPDATE oidc_grants SET revoked_at = $1, revoke_reason = $2 \
         WHERE organisation_id = $3 AND id = $4 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(org.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?
    .rows_affected();
    sqlx::query(
        "UPDATE oidc_refresh_tokens SET used_at = COALESCE(used_at, $1) \
         WHERE organisation_id = $2 AND grant_id = $3",
    )
    .bind(now)
    .bind(org.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(n > 0)
}

/// Revokes every live grant of a user (and their refresh tokens) inside
/// the caller's transaction.
pub(crate) async fn revoke_user_grants_in(
    tx: &mut Transaction<'_, Any>,
    org: &OrganisationId,
    user: &UserId,
    reason: &str,
    now: UnixTime,
) -> StoreResult<u64> {
    sqlx::query(
        "UPDATE oidc_refresh_tokens SET used_at = COALESCE(used_at, $1) WHERE organisation_id = $2 \
         AND grant_id IN (SELECT id FROM oidc_grants WHERE organisation_id = $2 AND user_id = $3)",
    )
    .bind(now)
    .bind(org.as_str())
    .bind(user.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(sqlx::query(
        "UPDATE oidc_grants SET revoked_at = $1, revoke_reason = $2 \
         WHERE organisation_id = $3 AND user_id = $4 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(org.as_str())
    .bind(user.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_err)?
    .rows_affected())
}

/// Appends `count` parameters `$first, $(first+step), …` separated by commas.
fn push_params(sql: &mut String, first: usize, step: usize, count: usize) {
    for i in 0..count {
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "${}", first + step * i);
    }
}

/// Grant ids start with the time, so new grants (and their refresh
/// tokens' grant index) are appended to the end of their B-trees rather
/// than written into random pages.
fn new_grant_id(now: UnixTime) -> String {
    format!("grt_{now:010x}{}", portvakt_core::oidc::tokens::new_jti())
}

const CODE_COLS: &str = "organisation_id, client_row_id, user_id, redirect_uri, scope, nonce, \
                         code_challenge, auth_time, amr, expires_at, used_at";

fn code_row(r: &AnyRow) -> StoreResult<CodeRecord> {
    Ok(CodeRecord {
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        client_row_id: ClientRowId::from_raw(get::<String>(r, "client_row_id")?),
        user_id: UserId::from_raw(get::<String>(r, "user_id")?),
        redirect_uri: get(r, "redirect_uri")?,
        scope: get(r, "scope")?,
        nonce: get(r, "nonce")?,
        code_challenge: get(r, "code_challenge")?,
        auth_time: get(r, "auth_time")?,
        amr: get(r, "amr")?,
        expires_at: get(r, "expires_at")?,
        used_at: get(r, "used_at")?,
    })
}

/// Stores the grants (and refresh tokens) of a batch: two statements
/// whatever its size.
async fn insert_grants(
    tx: &mut Transaction<'_, Any>,
    org: &OrganisationId,
    issues: &[Issue],
) -> StoreResult<()> {
    if issues.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO oidc_grants (id, organisation_id, client_row_id, user_id, scope, auth_time, \
         amr, created_at, expires_at) VALUES ",
    );
    for i in 0..issues.len() {
        let b = 2 + 8 * i;
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "(${b}, $1, {})", rows::params(b + 1, 7));
    }
    let mut q = sqlx::query(&sql).bind(org.as_str());
    for Issue { grant: g, .. } in issues {
        q = q
            .bind(g.id.as_str())
            .bind(g.client_row_id.as_str())
            .bind(g.user_id.as_str())
            .bind(g.scope.as_str())
            .bind(g.auth_time)
            .bind(g.amr.as_str())
            .bind(g.created_at)
            .bind(g.expires_at);
    }
    q.execute(&mut **tx).await.map_err(db_err)?;

    let refresh: Vec<(&str, &NewRefreshToken)> = issues
        .iter()
        .filter_map(|i| i.refresh.as_ref().map(|t| (i.grant.id.as_str(), t)))
        .collect();
    if refresh.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO oidc_refresh_tokens (token_hash, organisation_id, grant_id, expires_at) VALUES ",
    );
    for i in 0..refresh.len() {
        let b = 2 + 3 * i;
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "(${b}, $1, ${}, ${})", b + 1, b + 2);
    }
    let mut q = sqlx::query(&sql).bind(org.as_str());
    for (grant, t) in refresh {
        q = q.bind(t.token_hash.as_str()).bind(grant).bind(t.expires_at);
    }
    q.execute(&mut **tx).await.map_err(db_err)?;
    Ok(())
}

async fn insert_refresh(
    tx: &mut Transaction<'_, Any>,
    org: &OrganisationId,
    grant_id: &str,
    t: &NewRefreshToken,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO oidc_refresh_tokens (token_hash, organisation_id, grant_id, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&t.token_hash)
    .bind(org.as_str())
    .bind(grant_id)
    .bind(t.expires_at)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// One batch of code exchanges, in one transaction on `conn`.
async fn redeem_batch(
    conn: &mut sqlx::AnyConnection,
    org: &OrganisationId,
    code_hashes: &[String],
    now: UnixTime,
    decide: &(dyn for<'c> Fn(usize, &'c CodeRecord, &'c User) -> Option<Issue> + Send + Sync),
) -> StoreResult<Vec<Redeemed>> {
    let mut tx = sqlx::Connection::begin(conn).await.map_err(db_err)?;

    // The write comes first (see rotate_refresh_token): one statement
    // marks every unused code of the batch used and returns it, so the
    // codes won are exactly the rows returned. Each code's grant id is
    // set now, so a later reuse finds what to revoke.
    let grant_ids: Vec<String> = (0..code_hashes.len()).map(|_| new_grant_id(now)).collect();
    let mut sql = String::from("UPDATE oidc_codes SET used_at = $1, grant_id = CASE code_hash");
    for i in 0..code_hashes.len() {
        let _ = write!(sql, " WHEN ${} THEN ${}", 3 + 2 * i, 4 + 2 * i);
    }
    sql.push_str(" END WHERE organisation_id = $2 AND used_at IS NULL AND code_hash IN (");
    push_params(&mut sql, 3, 2, code_hashes.len());
    let _ = write!(sql, ") RETURNING code_hash, {CODE_COLS}");
    let mut q = sqlx::query(&sql).bind(now).bind(org.as_str());
    for (h, g) in code_hashes.iter().zip(&grant_ids) {
        q = q.bind(h.as_str()).bind(g.as_str());
    }
    let mut won = HashMap::new();
    for r in q.fetch_all(&mut *tx).await.map_err(db_err)? {
        won.insert(get::<String>(&r, "code_hash")?, code_row(&r)?);
    }
    // The people of the codes won, in one read.
    let user_ids: BTreeSet<&str> = won.values().map(|c| c.user_id.as_str()).collect();
    let mut users = HashMap::new();
    if !user_ids.is_empty() {
        let mut sql =
            format!("SELECT {USER_COLS} FROM users WHERE organisation_id = $1 AND id IN (");
        push_params(&mut sql, 2, 1, user_ids.len());
        sql.push(')');
        let mut q = sqlx::query(&sql).bind(org.as_str());
        for id in &user_ids {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *tx).await.map_err(db_err)? {
            let u = rows::user(&r)?;
            users.insert(u.id.as_str().to_owned(), u);
        }
    }

    let mut out = Vec::with_capacity(code_hashes.len());
    let mut lost = Vec::new();
    let mut issues = Vec::new();
    // A code shown again within the batch: as if it came just after
    // the first showing (the first is decided, then revoked).
    let mut first_showing: HashMap<&str, usize> = HashMap::new();
    let mut shown_again = Vec::new();
    for (i, h) in code_hashes.iter().enumerate() {
        let Some(code) = won.get(h.as_str()) else {
            lost.push(h.as_str());
            out.push(Redeemed::Unknown);
            continue;
        };
        if let Some(&first) = first_showing.get(h.as_str()) {
            shown_again.push(first);
            out.push(Redeemed::Reused);
            continue;
        }
        first_showing.insert(h.as_str(), i);
        let Some(user) = users.get(code.user_id.as_str()) else {
            out.push(Redeemed::Refused);
            continue;
        };
        match decide(i, code, user) {
            Some(mut issue) => {
                // The grant gets the id the code now points to.
                issue.grant.id.clone_from(&grant_ids[i]);
                issues.push(issue.clone());
                out.push(Redeemed::Issued {
                    code: Box::new(code.clone()),
                    user: Box::new(user.clone()),
                    grant: Box::new(issue.grant),
                });
            }
            None => out.push(Redeemed::Refused),
        }
    }
    insert_grants(&mut tx, org, &issues).await?;
    for first in shown_again {
        if let Redeemed::Issued { grant, .. } = &out[first] {
            revoke_in(&mut tx, org, &grant.id, "code_reused", now).await?;
        }
    }

    // Codes not won: unknown, or used before (then the grant of their
    // first use is revoked).
    if !lost.is_empty() {
        let mut sql = String::from(
            "SELECT code_hash, grant_id FROM oidc_codes WHERE organisation_id = $1 AND code_hash IN (",
        );
        push_params(&mut sql, 2, 1, lost.len());
        sql.push(')');
        let mut q = sqlx::query(&sql).bind(org.as_str());
        for h in &lost {
            q = q.bind(*h);
        }
        let mut used = HashMap::new();
        for r in q.fetch_all(&mut *tx).await.map_err(db_err)? {
            used.insert(
                get::<String>(&r, "code_hash")?,
                get::<Option<String>>(&r, "grant_id")?,
            );
        }
        for (h, o) in code_hashes.iter().zip(out.iter_mut()) {
            if let (Redeemed::Unknown, Some(first)) = (&*o, used.get(h.as_str())) {
                if let Some(g) = first {
                    revoke_in(&mut tx, org, g, "code_reused", now).await?;
                }
                *o = Redeemed::Reused;
            }
        }
    }
    tx.commit().await.map_err(db_err)?;
    Ok(out)
}

#[async_trait]
impl OidcGrantStore for SqlStore {
    async fn put_auth_request(
        &self,
        org: &OrganisationId,
        id_hash: &str,
        request: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM oidc_requests WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO oidc_requests (id_hash, organisation_id, request, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(org.as_str())
        .bind(request)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn auth_request(
        &self,
        org: &OrganisationId,
        id_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<(String, UnixTime)>> {
        sqlx::query(
            "SELECT request, created_at FROM oidc_requests \
             WHERE organisation_id = $1 AND id_hash = $2 AND expires_at > $3",
        )
        .bind(org.as_str())
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|r| Ok((get(&r, "request")?, get(&r, "created_at")?)))
        .transpose()
    }

    async fn drop_auth_request(&self, org: &OrganisationId, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM oidc_requests WHERE organisation_id = $1 AND id_hash = $2")
            .bind(org.as_str())
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn create_code(&self, code_hash: &str, c: &CodeRecord, now: UnixTime) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // Used codes are kept until they expire, so a second use is seen.
        sqlx::query("DELETE FROM oidc_codes WHERE organisation_id = $1 AND expires_at <= $2")
            .bind(c.organisation_id.as_str())
            .bind(now - 600)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO oidc_codes (code_hash, organisation_id, client_row_id, user_id, redirect_uri, \
             scope, nonce, code_challenge, auth_time, amr, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(code_hash)
        .bind(c.organisation_id.as_str())
        .bind(c.client_row_id.as_str())
        .bind(c.user_id.as_str())
        .bind(&c.redirect_uri)
        .bind(&c.scope)
        .bind(c.nonce.clone())
        .bind(c.code_challenge.clone())
        .bind(c.auth_time)
        .bind(&c.amr)
        .bind(c.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn redeem_codes(
        &self,
        org: &OrganisationId,
        code_hashes: &[String],
        now: UnixTime,
        decide: &(dyn for<'c> Fn(usize, &'c CodeRecord, &'c User) -> Option<Issue> + Send + Sync),
    ) -> StoreResult<Vec<Redeemed>> {
        if code_hashes.is_empty() {
            return Ok(Vec::new());
        }
        let mut held = self.exchanges.lock().await;
        let conn = match &mut *held {
            Some(conn) => conn,
            None => held.insert(self.pool.acquire().await.map_err(db_err)?.detach()),
        };
        let out = redeem_batch(conn, org, code_hashes, now, decide).await;
        if out.is_err() {
            // It may be broken (a lost PostgreSQL connection): a fresh one
            // next time.
            held.take();
        }
        out
    }

    async fn rotate_refresh_token(
        &self,
        org: &OrganisationId,
        client: &ClientRowId,
        old_hash: &str,
        new: &NewRefreshToken,
        now: UnixTime,
    ) -> StoreResult<Rotation> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The write comes first: on SQLite a transaction that reads and
        // then writes can fail to upgrade its lock under concurrency, where
        // one that writes first waits its turn. Only a token of this client
        // is touched.
        let won = sqlx::query(
            "UPDATE oidc_refresh_tokens SET used_at = $1 \
             WHERE organisation_id = $2 AND token_hash = $3 AND used_at IS NULL \
             AND grant_id IN (SELECT id FROM oidc_grants WHERE organisation_id = $2 AND client_row_id = $4)",
        )
        .bind(now)
        .bind(org.as_str())
        .bind(old_hash)
        .bind(client.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            == 1;
        let row = sqlx::query(&format!(
            "SELECT t.expires_at AS token_expires_at, {} \
             FROM oidc_refresh_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
             WHERE t.organisation_id = $1 AND t.token_hash = $2 AND g.organisation_id = $1 \
             AND g.client_row_id = $3",
            joined_grant_cols()
        ))
        .bind(org.as_str())
        .bind(old_hash)
        .bind(client.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(Rotation::Invalid);
        };
        let grant = grant_row(&row)?;
        if !won {
            // Shown again after it was exchanged: someone else holds a copy.
            // Strict, no grace window (RFC 9700 §4.14.2).
            let revoked = revoke_in(&mut tx, org, &grant.id, "refresh_reused", now).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(if revoked || grant.revoked_at.is_none() {
                Rotation::Reused
            } else {
                Rotation::Invalid
            });
        }
        let expires: UnixTime = get(&row, "token_expires_at")?;
        if !grant.live(now) || expires <= now {
            tx.commit().await.map_err(db_err)?;
            return Ok(Rotation::Invalid);
        }
        insert_refresh(&mut tx, org, &grant.id, new).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Rotation::Rotated(grant))
    }

    async fn grant(&self, org: &OrganisationId, id: &str) -> StoreResult<Option<GrantRecord>> {
        sqlx::query(&format!(
            "SELECT {GRANT_COLS} FROM oidc_grants WHERE organisation_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(grant_row)
        .transpose()
    }

    async fn grant_of_refresh_token(
        &self,
        org: &OrganisationId,
        client: &ClientRowId,
        token_hash: &str,
    ) -> StoreResult<Option<GrantRecord>> {
        let cols = joined_grant_cols();
        sqlx::query(&format!(
            "SELECT {cols} FROM oidc_refresh_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
             WHERE t.organisation_id = $1 AND t.token_hash = $2 AND g.organisation_id = $1 \
             AND g.client_row_id = $3"
        ))
        .bind(org.as_str())
        .bind(token_hash)
        .bind(client.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(grant_row)
        .transpose()
    }

    async fn revoke_grant(
        &self,
        org: &OrganisationId,
        id: &str,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let revoked = revoke_in(&mut tx, org, id, reason, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(revoked)
    }

    async fn revoke_user_grants(
        &self,
        org: &OrganisationId,
        user: &UserId,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let n = revoke_user_grants_in(&mut tx, org, user, reason, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(n)
    }

    async fn user_apps(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<Vec<UserApp>> {
        let mut apps: Vec<UserApp> = Vec::new();
        for r in sqlx::query(
            "SELECT client_row_id, MAX(created_at) AS since FROM oidc_grants \
             WHERE organisation_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3 \
             GROUP BY client_row_id",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        {
            apps.push(UserApp {
                client_row_id: ClientRowId::from_raw(get::<String>(&r, "client_row_id")?),
                signed_in_since: Some(get(&r, "since")?),
                consented: false,
            });
        }
        for r in sqlx::query(
            "SELECT client_row_id FROM oidc_consents WHERE organisation_id = $1 AND user_id = $2",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        {
            let id = ClientRowId::from_raw(get::<String>(&r, "client_row_id")?);
            match apps.iter_mut().find(|a| a.client_row_id == id) {
                Some(a) => a.consented = true,
                None => apps.push(UserApp {
                    client_row_id: id,
                    signed_in_since: None,
                    consented: true,
                }),
            }
        }
        Ok(apps)
    }

    async fn end_user_app(
        &self,
        org: &OrganisationId,
        user: &UserId,
        client: &ClientRowId,
        now: UnixTime,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM oidc_grants WHERE organisation_id = $1 AND user_id = $2 \
             AND client_row_id = $3 AND revoked_at IS NULL",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(client.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for id in &ids {
            revoke_in(&mut tx, org, id, "ended_by_user", now).await?;
        }
        sqlx::query(
            "DELETE FROM oidc_consents WHERE organisation_id = $1 AND user_id = $2 AND client_row_id = $3",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(client.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX))
    }

    async fn consent(
        &self,
        org: &OrganisationId,
        user: &UserId,
        client: &ClientRowId,
    ) -> StoreResult<Option<String>> {
        sqlx::query_scalar(
            "SELECT scope FROM oidc_consents WHERE organisation_id = $1 AND user_id = $2 AND client_row_id = $3",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(client.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn put_consent(
        &self,
        org: &OrganisationId,
        user: &UserId,
        client: &ClientRowId,
        scope: &str,
        now: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oidc_consents (organisation_id, user_id, client_row_id, scope, granted_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organisation_id, user_id, client_row_id) \
             DO UPDATE SET scope = $4, granted_at = $5",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(client.as_str())
        .bind(scope)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
