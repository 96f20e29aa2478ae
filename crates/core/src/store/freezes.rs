use super::StoreResult;
use crate::clock::UnixTime;
use crate::freeze::Freeze;
use crate::ids::{EventId, OrganisationId, UserId};
use async_trait::async_trait;

/// Change freezes (issue 15): at most one active per organisation.
#[async_trait]
pub trait FreezeStore: Send + Sync {
    /// The organisation's freeze in force, if any.
    async fn active_freeze(&self, org: &OrganisationId) -> StoreResult<Option<Freeze>>;
    /// Declares a freeze; false when one is already in force.
    async fn declare_freeze(&self, f: &Freeze) -> StoreResult<bool>;
    /// Records who asks to lift the freeze `id`; false when it is not in
    /// force (or a lift is proposed already).
    async fn propose_lift(
        &self,
        org: &OrganisationId,
        id: &EventId,
        by: &UserId,
        now: UnixTime,
    ) -> StoreResult<bool>;
    /// Lifts the freeze `id`: only when a lift was proposed by someone
    /// other than `by` (`None`: the command line); checked in the statement.
    async fn lift_freeze(
        &self,
        org: &OrganisationId,
        id: &EventId,
        by: Option<&UserId>,
        now: UnixTime,
    ) -> StoreResult<bool>;
}
