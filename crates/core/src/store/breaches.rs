use super::StoreResult;
use crate::breach::{Breach, BreachId, Phase};
use crate::clock::UnixTime;
use crate::ids::OrganisationId;
use async_trait::async_trait;

/// The breach register (issue 15). Every method takes the organisation: a
/// breach shared by several organisations is one part per organisation,
/// and a DPO reaches only their own part.
#[async_trait]
pub trait BreachStore: Send + Sync {
    /// Records new parts (one per organisation; several share a
    /// `group_id`), each numbered next in its organisation, in one
    /// transaction. Returns them with their numbers.
    async fn create_breaches(&self, parts: &[Breach]) -> StoreResult<Vec<Breach>>;
    async fn breach(&self, org: &OrganisationId, id: &BreachId) -> StoreResult<Option<Breach>>;
    /// The organisation's breaches, newest discovery first.
    async fn breaches(&self, org: &OrganisationId) -> StoreResult<Vec<Breach>>;
    /// How many other organisations have a part of the same breach.
    async fn breach_group_size(&self, org: &OrganisationId, group_id: &str) -> StoreResult<u32>;
    /// Replaces title, discovery time and details (`updated_at` set);
    /// `false` if there is no such breach in the organisation.
    async fn update_breach(&self, b: &Breach) -> StoreResult<bool>;
    async fn add_breach_phase(
        &self,
        org: &OrganisationId,
        id: &BreachId,
        phase: &Phase,
    ) -> StoreResult<bool>;
    async fn breach_phases(&self, org: &OrganisationId, id: &BreachId) -> StoreResult<Vec<Phase>>;
    /// Where the organisation's data protection officers read mail: the
    /// address of every active account with the role.
    async fn dpo_addresses(&self, org: &OrganisationId) -> StoreResult<Vec<String>>;
    /// Breaches of any organisation whose report to IMY is undecided (for
    /// the reminder worker), with the reminders already sent for each.
    async fn undecided_breaches(&self) -> StoreResult<Vec<(Breach, Vec<i64>)>>;
    /// Records a reminder and queues its messages, in one transaction;
    /// `false` (nothing queued) if it was sent already (another server).
    async fn send_breach_reminder(
        &self,
        org: &OrganisationId,
        id: &BreachId,
        hours: i64,
        messages: &[crate::store::OutboxMessage],
        now: UnixTime,
    ) -> StoreResult<bool>;
}
