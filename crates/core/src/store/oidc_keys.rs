//! The OpenID provider's signing keys, per organisation. Private keys
//! reach the backend as PKCS#8 and are sealed there; a backend without a
//! sealing key refuses to store them.

use super::StoreResult;
use crate::clock::UnixTime;
use crate::ids::OrganisationId;
use crate::oidc::jose::Alg;
use crate::oidc::keyring::KeyTimes;
use async_trait::async_trait;
use zeroize::Zeroizing;

/// A key as stored: the private key opened, the times as written.
pub struct StoredSigningKey {
    pub kid: String,
    pub alg: Alg,
    pub pkcs8: Zeroizing<Vec<u8>>,
    pub times: KeyTimes,
}

#[async_trait]
pub trait OidcKeyStore: Send + Sync {
    /// The organisation's keys that are still published at `now`.
    async fn oidc_signing_keys(
        &self,
        org: &OrganisationId,
        now: UnixTime,
    ) -> StoreResult<Vec<StoredSigningKey>>;

    /// Stores `keys` if the organisation has none yet, in one transaction.
    /// `false`: it already had keys (an earlier start, or another server
    /// starting at the same moment); nothing was written.
    async fn create_first_oidc_keys(
        &self,
        org: &OrganisationId,
        keys: &[StoredSigningKey],
    ) -> StoreResult<bool>;

    /// Adds `key` and has every other published key of its algorithm
    /// leave the JWK Set at `retire_others_at` (rotation). One transaction.
    async fn add_oidc_key(
        &self,
        org: &OrganisationId,
        key: &StoredSigningKey,
        retire_others_at: UnixTime,
    ) -> StoreResult<()>;

    /// Whether private keys are sealed before they are stored; keys are
    /// never written otherwise.
    fn seals_keys(&self) -> bool;
}
