//! The apps registered as OpenID clients, per organisation. Written only
//! by `apply` (through [`super::ProvisioningStore`]); read here.

use super::StoreResult;
use crate::ids::OrganisationId;
use crate::oidc::client::OidcClient;
use async_trait::async_trait;

#[async_trait]
pub trait OidcClientStore: Send + Sync {
    /// Every client of the organisation, by `client_id`.
    async fn oidc_clients(&self, org: &OrganisationId) -> StoreResult<Vec<OidcClient>>;
}
