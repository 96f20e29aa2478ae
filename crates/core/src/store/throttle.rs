use super::StoreResult;
use crate::auth::lockout::{LockoutPolicy, ThrottleState};
use crate::clock::UnixTime;
use crate::domain::Username;
use crate::ids::OrganisationId;
use async_trait::async_trait;

/// Failed-attempt counters, kept per (organisation, username) whether or
/// not the account exists, so locked and unknown accounts look alike.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    async fn throttle_state(
        &self,
        org: &OrganisationId,
        username: &Username,
    ) -> StoreResult<ThrottleState>;
    /// Counts one more failure atomically and returns the new state.
    async fn record_failure(
        &self,
        org: &OrganisationId,
        username: &Username,
        now: UnixTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<ThrottleState>;
    /// Forgets the failures and lifts a lock they caused; a servicedesk
    /// lock stays (see `UserStore::unlock_account`).
    async fn clear_failures(&self, org: &OrganisationId, username: &Username) -> StoreResult<()>;
    /// Takes one try before a secret is checked, atomically: counted as a
    /// failure at once (so parallel tries cannot all slip under the limit),
    /// unless the account is already delayed or locked, in which case
    /// nothing is counted and `Err` carries the state that refused it.
    async fn begin_try(
        &self,
        org: &OrganisationId,
        username: &Username,
        now: UnixTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<Result<ThrottleState, ThrottleState>>;
    /// Takes back one try whose secret was right (a lock set meanwhile stays).
    async fn forgive_try(
        &self,
        org: &OrganisationId,
        username: &Username,
        now: UnixTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<()>;
}
