//! The storage interface. Each method is one use-case and one transaction in
//! the backend, so transactions never cross this trait. Every method that
//! touches organisation data takes the organisation: a query without it does
//! not exist, which is how one organisation's data stays out of another's
//! reach (seed 001).
//!
//! One sub-trait per concern, each beside its record types; [`Store`] is
//! all of them, so `dyn Store` callers reach every method without naming
//! the sub-trait.

mod breaches;
mod challenges;
mod coordination;
mod events;
mod factors;
mod freezes;
mod handoff;
mod intrusions;
mod oidc_clients;
mod oidc_grants;
mod oidc_keys;
mod organisations;
mod outbox;
mod probes;
mod provisioning;
mod rotations;
mod services;
mod sessions;
mod status;
mod throttle;
mod users;

pub use breaches::BreachStore;
pub use challenges::{Ceremony, ChallengeStore, CodeChallenge, CodeCheck, CodeLimit, Purpose};
pub use coordination::{CoordinationStore, Lead};
pub use events::{
    AdminEvent, AuditQuery, AuditState, EventResult, EventStore, SignInEvent, SignInMethod,
};
pub use factors::{Factor, FactorKind, FactorStore};
pub use freezes::FreezeStore;
pub use handoff::{AppsTicket, HandoffStore, SessionLink};
pub use intrusions::IntrusionStore;
pub use oidc_clients::OidcClientStore;
pub use oidc_grants::{
    CodeRecord, GrantRecord, Issue, NewRefreshToken, OidcGrantStore, Redeemed, Rotation, UserApp,
};
pub use oidc_keys::{OidcKeyStore, StoredSigningKey};
pub use organisations::{OrgStore, Organisation};
pub use outbox::{BatchReport, Channel, OutboxMessage, OutboxStore};
pub use probes::ProbeStore;
pub use provisioning::ProvisioningStore;
pub use rotations::RotationStore;
pub use services::{Service, ServiceStore};
pub use sessions::{
    Amr, DeviceSeen, NewSession, OthersEnded, SessionRecord, SessionStore, START_CODE_USED,
};
pub use status::StatusStore;
pub use throttle::ThrottleStore;
pub use users::{search_text, Group, User, UserFilter, UserListing, UserSearch, UserStore};

use crate::error::StoreError;

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything a backend stores. Implemented by implementing each sub-trait.
pub trait Store:
    OrgStore
    + UserStore
    + ServiceStore
    + ThrottleStore
    + SessionStore
    + FactorStore
    + ChallengeStore
    + OutboxStore
    + CoordinationStore
    + EventStore
    + StatusStore
    + ProbeStore
    + ProvisioningStore
    + HandoffStore
    + OidcKeyStore
    + OidcClientStore
    + OidcGrantStore
    + IntrusionStore
    + FreezeStore
    + RotationStore
    + BreachStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: OrgStore
        + UserStore
        + ServiceStore
        + ThrottleStore
        + SessionStore
        + FactorStore
        + ChallengeStore
        + OutboxStore
        + CoordinationStore
        + EventStore
        + StatusStore
        + ProbeStore
        + ProvisioningStore
        + HandoffStore
        + OidcKeyStore
        + OidcClientStore
        + OidcGrantStore
        + IntrusionStore
        + FreezeStore
        + RotationStore
        + BreachStore
        + Send
        + Sync
        + 'static
{
}
