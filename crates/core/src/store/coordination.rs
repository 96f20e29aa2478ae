//! What several servers on one database agree on through it: who sends a
//! queued message, and which server runs the probes.

use super::{OutboxMessage, StoreResult};
use crate::clock::UnixTime;
use async_trait::async_trait;

#[async_trait]
pub trait CoordinationStore: Send + Sync {
    /// Claims up to `limit` messages due at `now` for this server: each is
    /// returned to exactly one caller, however many servers ask at once,
    /// and is not due again before `lease_until` unless marked sent or
    /// failed first. A server that dies holding a claim delays its messages
    /// until the lease runs out; then another server sends them.
    async fn claim_due_messages(
        &self,
        now: UnixTime,
        limit: u32,
        lease_until: UnixTime,
    ) -> StoreResult<Vec<OutboxMessage>>;

    /// Tries to become the one server that runs `task`. `None`: another
    /// server holds it now. The returned lead lasts until it is dropped or
    /// the database loses this server (a crash, a cut connection); on a
    /// single-server backend it is always granted.
    async fn try_lead(&self, task: &str) -> StoreResult<Option<Box<dyn Lead>>>;
}

/// Held by the server that runs a task (see [`CoordinationStore::try_lead`]).
#[async_trait]
pub trait Lead: Send {
    /// Whether the database still counts this server as the leader.
    async fn still_leading(&mut self) -> bool;
}
