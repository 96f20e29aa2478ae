use super::StoreResult;
use crate::apply::{Change, OrgSnapshot};
use crate::domain::Slug;
use async_trait::async_trait;

/// Declarative configuration, and the database as a whole.
#[async_trait]
pub trait ProvisioningStore: Send + Sync {
    /// Everything `apply` compares against for one organisation slug.
    async fn snapshot(&self, slug: &Slug) -> StoreResult<OrgSnapshot>;
    /// Applies all changes in one transaction: all or nothing.
    async fn apply_changes(&self, changes: &[Change]) -> StoreResult<()>;

    /// Runs the backend's consistency check; `Err` names what is wrong.
    async fn integrity_check(&self) -> StoreResult<()>;
}
