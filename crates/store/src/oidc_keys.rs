//! The OpenID provider's signing keys, sealed like factor secrets but
//! bound to their organisation and `kid`, so a key copied to another
//! organisation's row does not open.

use crate::seal::Sealer;
use crate::{db_err, rows, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::OrganisationId;
use portvakt_core::oidc::jose::Alg;
use portvakt_core::oidc::keyring::KeyTimes;
use portvakt_core::store::{OidcKeyStore, StoreResult, StoredSigningKey};
use portvakt_core::StoreError;
use sqlx::any::AnyRow;
use sqlx::{Any, Transaction};
use zeroize::Zeroizing;

fn aad(org: &str, kid: &str) -> Vec<u8> {
    format!("portvakt-oidc-key:{org}:{kid}").into_bytes()
}

fn stored_key(sealer: &Sealer, org: &OrganisationId, r: &AnyRow) -> StoreResult<StoredSigningKey> {
    let kid: String = rows::get(r, "kid")?;
    let alg: String = rows::get(r, "alg")?;
    let alg =
        Alg::parse(&alg).ok_or_else(|| StoreError::Corrupt(format!("key algorithm {alg}")))?;
    let sealed: String = rows::get(r, "private_key")?;
    let pkcs8 = Zeroizing::new(sealer.open_bytes(&aad(org.as_str(), &kid), &sealed)?);
    Ok(StoredSigningKey {
        kid,
        alg,
        pkcs8,
        times: KeyTimes {
            created_at: rows::get(r, "created_at")?,
            activates_at: rows::get(r, "activates_at")?,
            unpublish_at: rows::get(r, "unpublish_at")?,
        },
    })
}

async fn insert(
    tx: &mut Transaction<'_, Any>,
    sealer: &Sealer,
    org: &OrganisationId,
    key: &StoredSigningKey,
) -> StoreResult<()> {
    let sealed = sealer.seal_bytes(&aad(org.as_str(), &key.kid), &key.pkcs8)?;
    sqlx::query(
        "INSERT INTO oidc_signing_keys \
         (organisation_id, kid, alg, private_key, created_at, activates_at, unpublish_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(org.as_str())
    .bind(&key.kid)
    .bind(key.alg.as_str())
    .bind(sealed)
    .bind(key.times.created_at)
    .bind(key.times.activates_at)
    .bind(key.times.unpublish_at)
    .execute(&mut **tx)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl OidcKeyStore for SqlStore {
    async fn oidc_signing_keys(
        &self,
        org: &OrganisationId,
        now: UnixTime,
    ) -> StoreResult<Vec<StoredSigningKey>> {
        sqlx::query(
            "SELECT kid, alg, private_key, created_at, activates_at, unpublish_at \
             FROM oidc_signing_keys WHERE organisation_id = $1 \
             AND (unpublish_at IS NULL OR unpublish_at > $2) ORDER BY created_at, kid",
        )
        .bind(org.as_str())
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| stored_key(&self.sealer, org, r))
        .collect()
    }

    async fn create_first_oidc_keys(
        &self,
        org: &OrganisationId,
        keys: &[StoredSigningKey],
    ) -> StoreResult<bool> {
        let Some(created_at) = keys.iter().map(|k| k.times.created_at).min() else {
            return Ok(false);
        };
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The issuer row is the one writer's ticket: a second server's
        // insert waits for the first to commit, then inserts nothing.
        let claimed = sqlx::query(
            "INSERT INTO oidc_issuers (organisation_id, created_at) VALUES ($1, $2) \
             ON CONFLICT (organisation_id) DO NOTHING",
        )
        .bind(org.as_str())
        .bind(created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if claimed == 0 {
            return Ok(false);
        }
        for key in keys {
            insert(&mut tx, &self.sealer, org, key).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn add_oidc_key(
        &self,
        org: &OrganisationId,
        key: &StoredSigningKey,
        retire_others_at: UnixTime,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "UPDATE oidc_signing_keys SET unpublish_at = $1 \
             WHERE organisation_id = $2 AND alg = $3 \
             AND (unpublish_at IS NULL OR unpublish_at > $1)",
        )
        .bind(retire_others_at)
        .bind(org.as_str())
        .bind(key.alg.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert(&mut tx, &self.sealer, org, key).await?;
        tx.commit().await.map_err(db_err)
    }

    fn seals_keys(&self) -> bool {
        self.sealer.is_on()
    }
}

/// Re-seals every signing key from `old` to `new` inside the secret-key
/// rotation's transaction; returns how many.
pub(crate) async fn reseal(
    tx: &mut Transaction<'_, Any>,
    old: &Sealer,
    new: &Sealer,
) -> StoreResult<u64> {
    let rows = sqlx::query("SELECT organisation_id, kid, private_key FROM oidc_signing_keys")
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
    for r in &rows {
        let org: String = rows::get(r, "organisation_id")?;
        let kid: String = rows::get(r, "kid")?;
        let sealed: String = rows::get(r, "private_key")?;
        let aad = aad(&org, &kid);
        let plain = Zeroizing::new(old.open_bytes(&aad, &sealed)?);
        sqlx::query(
            "UPDATE oidc_signing_keys SET private_key = $1 WHERE organisation_id = $2 AND kid = $3",
        )
        .bind(new.seal_bytes(&aad, &plain)?)
        .bind(&org)
        .bind(&kid)
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    }
    Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
}
