//! The one gate every secret passes before it is checked, and the one
//! counter every wrong secret adds to: passwords at sign-in, `/reauth` and
//! `/password`, app codes and sent codes at sign-in, reset codes and app
//! codes in the forgotten-password flow (SECURITY.md A4, A5; issue 10 H1,
//! M1, M2). A second place that checks a secret without this gate would be
//! a way around the lock, which is what the attack on the first wave found.
//!
//! It also holds the per-account budget for codes sent by e-mail or SMS and
//! for starting resets (issue 10 H1, L1), so no flow can make Portvakt send
//! an unbounded number of messages to one person.

use super::lockout::ThrottleState;
use super::signin::{AuthService, ClientInfo};
use crate::clock::UnixTime;
use crate::domain::Username;
use crate::error::StoreError;
use crate::ids::{OrganisationId, UserId};
use thiserror::Error;

/// Why a secret was not even looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Refusal {
    /// Too many failures for the account: wait until then.
    #[error("temporarily throttled")]
    Throttled { until: UnixTime },
    /// Locked until servicedesk unlocks it.
    #[error("locked")]
    Locked,
    /// Too many failures from this address.
    #[error("too many attempts from this address")]
    IpThrottled,
}

/// Codes (sign-in, registering an address or number, reset) one account
/// may be sent within each window, whatever the flow. A person who asks
/// for a code, waits, and asks again stays far below these; a script that
/// restarts flows to make Portvakt send messages hits them at once.
pub const CODE_BUDGET: [(i64, u32); 3] = [(60, 3), (3600, 8), (24 * 3600, 20)];
/// Forgotten-password attempts one account may start within each window
/// (each one is a code or an app-code chance).
pub const RESET_BUDGET: [(i64, u32); 2] = [(3600, 3), (24 * 3600, 10)];

impl AuthService {
    /// Refuses before any secret is checked when the address or the account
    /// has failed too often. Counters are kept per (organisation, username)
    /// whether or not the account exists, so the answer reveals nothing.
    ///
    /// # Errors
    /// Store failures; a refusal is `Ok(Err(_))`.
    pub async fn gate(
        &self,
        org: &OrganisationId,
        username: &Username,
        client: &ClientInfo,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let now = self.clock.now();
        if self.ip_throttle.is_blocked(client.ip, now) {
            return Ok(Err(Refusal::IpThrottled));
        }
        let state = self.store.throttle_state(org, username).await?;
        Ok(refusal(state, now).map_or(Ok(()), Err))
    }

    /// One wrong secret: counts against the account (growing delay, then a
    /// lock) and against the address.
    ///
    /// # Errors
    /// Store failures.
    pub async fn count_wrong(
        &self,
        org: &OrganisationId,
        username: &Username,
        client: &ClientInfo,
    ) -> Result<ThrottleState, StoreError> {
        let now = self.clock.now();
        self.ip_throttle.record_failure(client.ip, now);
        self.store
            .record_failure(org, username, now, &self.lockout)
            .await
    }

    /// Whether the account may be sent another code (`purpose` empty)
    /// or start another reset (`reset`): `Some(time)` when it may again.
    ///
    /// # Errors
    /// Store failures.
    pub async fn code_budget_exhausted(
        &self,
        org: &OrganisationId,
        user: &UserId,
        purpose: &str,
    ) -> Result<Option<UnixTime>, StoreError> {
        let budget: &[(i64, u32)] = if purpose.is_empty() {
            &CODE_BUDGET
        } else {
            &RESET_BUDGET
        };
        let now = self.clock.now();
        for &(window, max) in budget {
            let sent = self
                .store
                .count_challenges(org, user, purpose, now - window)
                .await?;
            if sent >= max {
                return Ok(Some(now + window.min(3600)));
            }
        }
        Ok(None)
    }
}

/// The refusal a throttle state calls for right now, if any.
#[must_use]
pub fn refusal(state: ThrottleState, now: UnixTime) -> Option<Refusal> {
    if state.is_hard_locked() {
        Some(Refusal::Locked)
    } else if state.is_delayed(now) {
        Some(Refusal::Throttled {
            until: state.locked_until,
        })
    } else {
        None
    }
}
