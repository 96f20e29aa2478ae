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
use crate::ids::OrganisationId;
use crate::store::{CodeLimit, Purpose};
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
pub const CODE_BUDGET: [CodeLimit; 3] = [
    CodeLimit {
        purpose: None,
        window_secs: 60,
        max: 5,
    },
    CodeLimit {
        purpose: None,
        window_secs: 3600,
        max: 8,
    },
    CodeLimit {
        purpose: None,
        window_secs: 24 * 3600,
        max: 20,
    },
];
/// Forgotten-password attempts one account may start within each window
/// (each one is a code sent or an app-code chance), on top of [`CODE_BUDGET`].
pub const RESET_BUDGET: [CodeLimit; 2] = [
    CodeLimit {
        purpose: Some(Purpose::Reset),
        window_secs: 3600,
        max: 3,
    },
    CodeLimit {
        purpose: Some(Purpose::Reset),
        window_secs: 24 * 3600,
        max: 10,
    },
];

impl AuthService {
    /// Takes one try for the account before its secret is checked: counted
    /// as a failure at once, in the store, so parallel tries cannot all get
    /// past the limit; refused (and not counted) when the address or the
    /// account has failed too often. Counters are kept per (organisation,
    /// username) whether or not the account exists, so the answer reveals
    /// nothing. A right secret then calls [`AuthService::forgive_try`] or
    /// clears the counter.
    ///
    /// # Errors
    /// Store failures; a refusal is `Ok(Err(_))`.
    pub async fn take_try(
        &self,
        org: &OrganisationId,
        username: &Username,
        client: &ClientInfo,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let now = self.clock.now();
        if self.ip_throttle.is_blocked(client.ip, now) {
            return Ok(Err(Refusal::IpThrottled));
        }
        Ok(
            match self
                .store
                .begin_try(org, username, now, &self.lockout)
                .await?
            {
                Ok(_) => Ok(()),
                Err(state) => Err(refusal(state, now).unwrap_or(Refusal::Locked)),
            },
        )
    }

    /// A try taken with [`AuthService::take_try`] whose secret was right but
    /// that is not a finished sign-in yet (a second factor is still due).
    ///
    /// # Errors
    /// Store failures.
    pub async fn forgive_try(
        &self,
        org: &OrganisationId,
        username: &Username,
    ) -> Result<(), StoreError> {
        self.store
            .forgive_try(org, username, self.clock.now(), &self.lockout)
            .await
    }

    /// A wrong secret: the account's try is already counted; this counts
    /// it against the address too.
    pub fn wrong_secret(&self, client: &ClientInfo) {
        self.ip_throttle.record_failure(client.ip, self.clock.now());
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
