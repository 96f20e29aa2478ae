use super::StoreResult;
use crate::apply::ZoneRecord;
use crate::domain::{MfaPolicy, Slug};
use crate::ids::OrganisationId;
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub slug: Slug,
    pub name: String,
    /// E-mail style domains whose usernames belong here (`exempelkommun.se`).
    pub domains: Vec<String>,
    pub mfa_policy: MfaPolicy,
    /// How the public reaches the organisation when things are down
    /// (phone, e-mail, visiting address and hours), on the status page.
    pub status_contact: String,
    /// Country codes (digits) whose mobile numbers may receive codes;
    /// `["46"]` unless the organisation file says otherwise (issue 10 L1).
    pub sms_country_codes: Vec<String>,
    /// When a person is e-mailed about their own sign-in (issue 14).
    pub signin_notices: crate::domain::SigninNotices,
}

/// Organisations and what their file says about them as a whole: network
/// zones and emergency contacts.
#[async_trait]
pub trait OrgStore: Send + Sync {
    async fn organisation(&self, id: &OrganisationId) -> StoreResult<Option<Organisation>>;
    async fn organisation_by_slug(&self, slug: &Slug) -> StoreResult<Option<Organisation>>;
    async fn organisation_by_domain(&self, domain: &str) -> StoreResult<Option<Organisation>>;
    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>>;

    async fn zones(&self, org: &OrganisationId) -> StoreResult<Vec<ZoneRecord>>;

    /// (team, list) of the organisation's emergency contacts, in file order.
    async fn emergency_contacts(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<(Vec<String>, Vec<String>)>;
}
