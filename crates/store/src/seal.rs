//! Second-factor secrets (authenticator seeds, passkey credentials) are
//! sealed with AES-256-GCM before they reach the database, so a copy of
//! the database alone (a backup, a dump after a breach) does not let
//! anyone produce codes. The key lives outside the database
//! (`secret_key_file`). Each value is bound to its user as associated
//! data, so a sealed value moved to another account does not open.
//!
//! Stored form: `enc1:` + base64(nonce ‖ ciphertext+tag). Values without
//! the prefix are from before a key was configured; they are read as they
//! are and sealed by [`SqlStore::seal_plain_secrets`] at start-up.

use crate::{db_err, SqlStore};
use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use portvakt_core::ids::UserId;
use portvakt_core::store::StoreResult;
use portvakt_core::StoreError;

const PREFIX: &str = "enc1:";
const NONCE_LEN: usize = 12;

/// The key, or none (secrets stored as they are, with a warning at start).
#[derive(Clone, Default)]
pub struct Sealer(Option<Aes256Gcm>);

impl Sealer {
    #[must_use]
    pub fn new(key: &[u8; 32]) -> Self {
        Self(Some(Aes256Gcm::new(key.into())))
    }

    #[must_use]
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    fn aad(user: &UserId) -> Vec<u8> {
        format!("portvakt-factor:{}", user.as_str()).into_bytes()
    }

    /// # Errors
    /// Only if the cipher fails (it does not for these sizes).
    pub fn seal(&self, user: &UserId, plain: &str) -> StoreResult<String> {
        if self.0.is_none() {
            return Ok(plain.to_owned());
        }
        self.seal_bytes(&Self::aad(user), plain.as_bytes())
    }

    /// # Errors
    /// A sealed value without the key, or one that does not open with it
    /// (wrong key, tampered, or moved to another user).
    pub fn open(&self, user: &UserId, stored: &str) -> StoreResult<String> {
        if !stored.starts_with(PREFIX) {
            return Ok(stored.to_owned());
        }
        let plain = self.open_bytes(&Self::aad(user), stored)?;
        String::from_utf8(plain).map_err(|_| {
            StoreError::Corrupt("a factor secret does not open with the configured key".into())
        })
    }

    /// Seals `plain` bound to `aad`. Unlike [`Sealer::seal`], refuses to
    /// work without a key: callers store the result only sealed.
    ///
    /// # Errors
    /// No key configured, or the cipher fails.
    pub fn seal_bytes(&self, aad: &[u8], plain: &[u8]) -> StoreResult<String> {
        let Some(cipher) = &self.0 else {
            return Err(StoreError::Backend(
                "a secret_key_file is needed to store this secret".into(),
            ));
        };
        let nonce = Nonce::generate();
        let sealed = cipher
            .encrypt(&nonce, Payload { msg: plain, aad })
            .map_err(|_| StoreError::Backend("sealing a secret failed".into()))?;
        let mut raw = nonce.to_vec();
        raw.extend_from_slice(&sealed);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(raw)
        ))
    }

    /// Opens a value sealed by [`Sealer::seal_bytes`] with the same `aad`.
    ///
    /// # Errors
    /// Not sealed, no key, wrong key, tampered, or a different `aad`.
    pub fn open_bytes(&self, aad: &[u8], stored: &str) -> StoreResult<Vec<u8>> {
        let bad =
            || StoreError::Corrupt("a sealed secret does not open with the configured key".into());
        let b64 = stored.strip_prefix(PREFIX).ok_or_else(bad)?;
        let cipher = self.0.as_ref().ok_or_else(|| {
            StoreError::Corrupt("a secret is sealed but no secret_key_file is configured".into())
        })?;
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .map_err(|_| bad())?;
        if raw.len() < NONCE_LEN {
            return Err(bad());
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| bad())?;
        cipher
            .decrypt(&nonce, Payload { msg: body, aad })
            .map_err(|_| bad())
    }
}

impl SqlStore {
    /// Seals every secret still stored in the clear, in one transaction;
    /// returns how many. Nothing to do without a key.
    ///
    /// # Errors
    /// Store failures (nothing is changed then).
    pub async fn seal_plain_secrets(&self) -> StoreResult<u64> {
        if !self.sealer.is_on() {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rows = sqlx::query(
            "SELECT id, user_id, secret FROM factors WHERE secret IS NOT NULL AND secret NOT LIKE 'enc1:%'",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        for r in &rows {
            let id: String = crate::rows::get(r, "id")?;
            let user = UserId::from_raw(crate::rows::get::<String>(r, "user_id")?);
            let plain: String = crate::rows::get(r, "secret")?;
            sqlx::query("UPDATE factors SET secret = $1 WHERE id = $2")
                .bind(self.sealer.seal(&user, &plain)?)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
    }
}

impl SqlStore {
    /// Opens every stored secret with this store's key (or as it is, if
    /// it is in the clear) and seals it with `new`, in one transaction: a
    /// secret that does not open stops the rotation and nothing changes.
    /// Returns how many were re-sealed.
    ///
    /// # Errors
    /// A secret that does not open, or store failures.
    pub async fn reseal_secrets(&self, new: &Sealer) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let rows = sqlx::query("SELECT id, user_id, secret FROM factors WHERE secret IS NOT NULL")
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        for r in &rows {
            let id: String = crate::rows::get(r, "id")?;
            let user = UserId::from_raw(crate::rows::get::<String>(r, "user_id")?);
            let stored: String = crate::rows::get(r, "secret")?;
            let plain = self.sealer.open(&user, &stored)?;
            sqlx::query("UPDATE factors SET secret = $1 WHERE id = $2")
                .bind(new.seal(&user, &plain)?)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let keys = crate::oidc_keys::reseal(&mut tx, &self.sealer, new).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX) + keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_key_and_for_their_user() {
        let s = Sealer::new(&[7; 32]);
        let anna = UserId::from_raw("usr_anna");
        let erik = UserId::from_raw("usr_erik");
        let sealed = s.seal(&anna, "JBSWY3DPEHPK3PXP").unwrap();
        assert!(sealed.starts_with("enc1:"));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_ne!(
            sealed,
            s.seal(&anna, "JBSWY3DPEHPK3PXP").unwrap(),
            "fresh nonce"
        );
        assert_eq!(s.open(&anna, &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(s.open(&erik, &sealed).is_err(), "bound to its user");
        assert!(
            Sealer::new(&[8; 32]).open(&anna, &sealed).is_err(),
            "wrong key"
        );
        assert!(Sealer::default().open(&anna, &sealed).is_err(), "no key");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(s.open(&anna, &tampered).is_err(), "tampered");
        assert_eq!(
            s.open(&anna, "PLAIN").unwrap(),
            "PLAIN",
            "legacy values read as they are"
        );
        assert_eq!(Sealer::default().seal(&anna, "x").unwrap(), "x");
    }
}
