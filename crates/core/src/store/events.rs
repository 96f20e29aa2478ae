use super::StoreResult;
use crate::access::Method;
use crate::audit::{AuditEntry, ChainHead};
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

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [EventResult::Success, EventResult::Failure]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// What a sign-in event is about: a way of signing in (named by its `amr`
/// token), or a step around signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    Password,
    /// An authenticator app; also a refusal before any second-factor
    /// code is looked at, and removing a factor of any kind.
    App,
    Sms,
    /// A code by e-mail; also confirming a new address or number.
    Email,
    Passkey,
    /// A wrong code sent by e-mail or SMS (which of them is not looked up).
    SentCode,
    /// A forgotten password, by code or passkey.
    Reset,
    /// A step-up begun for a service that asks for a stronger method.
    StepUp,
}

impl SignInMethod {
    pub const ALL: [SignInMethod; 8] = [
        SignInMethod::Password,
        SignInMethod::App,
        SignInMethod::Sms,
        SignInMethod::Email,
        SignInMethod::Passkey,
        SignInMethod::SentCode,
        SignInMethod::Reset,
        SignInMethod::StepUp,
    ];

    /// The stored form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "pwd",
            SignInMethod::App => "otp",
            SignInMethod::Sms => "sms",
            SignInMethod::Email => "email",
            SignInMethod::Passkey => "passkey",
            SignInMethod::SentCode => "sent_code",
            SignInMethod::Reset => "reset",
            SignInMethod::StepUp => "step_up",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl From<Method> for SignInMethod {
    fn from(m: Method) -> Self {
        match m {
            Method::Password => SignInMethod::Password,
            Method::App => SignInMethod::App,
            Method::Sms => SignInMethod::Sms,
            Method::Email => SignInMethod::Email,
            Method::Passkey => SignInMethod::Passkey,
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
    pub method: SignInMethod,
    pub result: EventResult,
    /// Machine-readable reason (`ok`, `bad_password`, `unknown_user`,
    /// `throttled`, …), some with a verifier's detail (`rejected:…`).
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
    /// `incident.withdraw_draft`, `incident.correct`, `emergency.message`,
    /// `refused`.
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

    /// A person's sign-in events newest first: from `since` on, and when
    /// paging older than `before` (its time and id); at most `limit` (up
    /// to 100).
    async fn signin_history(
        &self,
        org: &OrganisationId,
        user: &UserId,
        since: UnixTime,
        before: Option<(UnixTime, EventId)>,
        limit: u32,
    ) -> StoreResult<Vec<SignInEvent>>;
    /// One of the person's sign-in events.
    async fn signin_event(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &EventId,
    ) -> StoreResult<Option<SignInEvent>>;

    /// Appends the event to its organisation's audit chain (issue 14), in
    /// one transaction with the chain's head; appends queue on the head.
    async fn record_admin_event(&self, event: &AdminEvent) -> StoreResult<()>;
    /// The organisation's admin events, newest first.
    async fn admin_events(&self, org: &OrganisationId, limit: u32) -> StoreResult<Vec<AdminEvent>>;

    /// The chain in order: entries after `after_seq`, at most `limit`
    /// (up to 1,000).
    async fn audit_entries(
        &self,
        org: &OrganisationId,
        after_seq: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
    /// The chain's head, and how many entries sit outside the chain (no
    /// place, or a place below 1: none, unless rows were put into the
    /// table by hand).
    async fn audit_state(&self, org: &OrganisationId) -> StoreResult<AuditState>;
    /// Entries newest first, filtered, for reading (at most `limit`, up to
    /// 100).
    async fn audit_page(
        &self,
        org: &OrganisationId,
        query: &AuditQuery,
        limit: u32,
    ) -> StoreResult<Vec<AuditEntry>>;
    /// What was done to an account (the target is the account, or a thing
    /// of it such as `usr_…/fac_…`) or by it, newest first, before
    /// `before`; at most `limit` (up to 100). Each part reads only its
    /// newest rows, however long the history (an intrusion case's
    /// timeline).
    async fn account_actions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        before: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<AdminEvent>>;
}

/// The head of a chain and what lies outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditState {
    pub head: Option<ChainHead>,
    pub unlinked: u64,
}

/// A filter on the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Entries by this person, or about them.
    pub person: Option<UserId>,
    /// From this time on (inclusive).
    pub from: Option<UnixTime>,
    /// Before this time.
    pub until: Option<UnixTime>,
    /// Older than this entry (paging).
    pub before_seq: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_round_trip() {
        for m in SignInMethod::ALL {
            assert_eq!(SignInMethod::parse(m.as_str()), Some(m));
        }
        for r in [EventResult::Success, EventResult::Failure] {
            assert_eq!(EventResult::parse(r.as_str()), Some(r));
        }
        assert_eq!(SignInMethod::parse("password"), None);
        assert_eq!(EventResult::parse("Success"), None);
    }

    #[test]
    fn a_method_is_recorded_by_its_amr_token() {
        for m in Method::ALL {
            assert_eq!(SignInMethod::from(m).as_str(), m.amr());
        }
    }
}
