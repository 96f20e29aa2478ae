use super::StoreResult;
use crate::clock::UnixTime;
use crate::ids::OrganisationId;
use async_trait::async_trait;

/// A ticket as stored: only its hash, bound to one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppsTicket {
    pub ticket_hash: String,
    pub session_hash: String,
    /// Hash of the apps origin's `state` cookie in the browser that asked.
    pub state_hash: String,
    pub organisation_id: OrganisationId,
    pub expires_at: UnixTime,
}

/// The apps origin's token for a portal session, stored hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLink {
    pub link_hash: String,
    pub session_hash: String,
    pub organisation_id: OrganisationId,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// The store's part of the hand-over to the apps origin ([`crate::handoff`]).
#[async_trait]
pub trait HandoffStore: Send + Sync {
    /// Stores a fresh ticket; expired tickets and links are dropped here.
    async fn create_apps_ticket(&self, ticket: &AppsTicket, now: UnixTime) -> StoreResult<()>;
    /// Takes the ticket if it was minted for `state_hash` (exactly once,
    /// whatever the concurrency: SECURITY.md G3) and, if it was still
    /// valid, stores a link to its session with hash `link_hash`; one
    /// transaction.
    async fn exchange_apps_ticket(
        &self,
        ticket_hash: &str,
        state_hash: &str,
        link_hash: &str,
        now: UnixTime,
        link_expires_at: UnixTime,
    ) -> StoreResult<Option<SessionLink>>;
    /// The unexpired link with this hash.
    async fn session_link(
        &self,
        link_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<SessionLink>>;
}
