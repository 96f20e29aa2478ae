use super::StoreResult;
use crate::clock::UnixTime;
use crate::ids::{EventId, OrganisationId, UserId};
use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventResult {
    Success,
    Failure,
}

impl EventResult {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventResult::Success => "success",
            EventResult::Failure => "failure",
        }
    }
}

/// One sign-in attempt, kept for sign-in history, investigations and the
/// audit log. Holds no password and, for unknown accounts, no username: a
/// mistyped password in the username field must not be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInEvent {
    pub id: EventId,
    pub organisation_id: Option<OrganisationId>,
    pub user_id: Option<UserId>,
    pub at: UnixTime,
    pub ip: String,
    pub user_agent: String,
    pub method: String,
    pub result: EventResult,
    /// Machine-readable reason (`ok`, `bad_password`, `unknown_user`, `throttled`, …).
    pub reason: String,
    /// The network zone (slug) the client was in; empty when outside all.
    pub zone: String,
}

/// One administrative action, or an admin request refused for lack of a
/// role (issue 10 L7, SECURITY.md F1): who, from where, when (UTC), what,
/// on what, and how it ended. The audit log builds on these; no passwords,
/// codes, tokens or message texts are ever put here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminEvent {
    pub id: EventId,
    pub organisation_id: OrganisationId,
    pub actor_id: UserId,
    pub at: UnixTime,
    pub ip: String,
    pub user_agent: String,
    /// `user.unlock`, `user.end_sessions`, `user.remove_factor`,
    /// `incident.open`, `incident.update`, `incident.publish_draft`,
    /// `incident.withdraw_draft`, `emergency.message`, `refused`.
    pub action: String,
    /// What it was done to: a user id, a user/factor pair, an incident id,
    /// or (for `refused`) the method and path asked for.
    pub target: String,
    pub result: EventResult,
    /// Machine-readable detail: `ok`, `forbidden`, a count (`sessions=3`).
    pub detail: String,
}

/// Sign-in and admin events: appended, never changed.
#[async_trait]
pub trait EventStore: Send + Sync {
    async fn record_signin_event(&self, event: &SignInEvent) -> StoreResult<()>;
    async fn signin_events_for_user(
        &self,
        org: &OrganisationId,
        user: &UserId,
        limit: u32,
    ) -> StoreResult<Vec<SignInEvent>>;

    async fn record_admin_event(&self, event: &AdminEvent) -> StoreResult<()>;
    /// The organisation's admin events, newest first.
    async fn admin_events(&self, org: &OrganisationId, limit: u32) -> StoreResult<Vec<AdminEvent>>;
}
