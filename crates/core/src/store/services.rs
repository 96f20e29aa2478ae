use super::StoreResult;
use crate::domain::Slug;
use crate::ids::{OrganisationId, ServiceId, UserId};
use async_trait::async_trait;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: ServiceId,
    pub slug: Slug,
    pub name: String,
    pub description: String,
    pub url: String,
    pub category: String,
    pub sort: i64,
    /// A built-in icon name (`mail`, `money`, …); empty for the generic one.
    pub icon: String,
    pub access: crate::access::ServiceAccess,
}

/// The portal and access decisions.
#[async_trait]
pub trait ServiceStore: Send + Sync {
    /// Every service of the organisation in display order, each with the
    /// slugs of the groups it is shared with.
    async fn services_with_groups(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<(Service, BTreeSet<Slug>)>>;
    /// Host names Portvakt's own reverse proxy publishes (services with an
    /// upstream and a host), across the installation: only names, so a
    /// request can be told apart from one for Portvakt's own pages.
    async fn proxied_hosts(&self) -> StoreResult<Vec<String>>;
    /// Services shared with any group the user belongs to, in display order.
    async fn services_for_user(
        &self,
        org: &OrganisationId,
        user: &UserId,
    ) -> StoreResult<Vec<Service>>;
}
