//! The storage interface. Each method is one use-case and one transaction in
//! the backend, so transactions never cross this trait. Every method that
//! touches organisation data takes the organisation: a query without it does
//! not exist, which is how one organisation's data stays out of another's
//! reach (seed 001).

use crate::apply::ZoneRecord;
use crate::apply::{Change, OrgSnapshot};
use crate::auth::lockout::{LockoutPolicy, ThrottleState};
use crate::clock::UnixTime;
use crate::domain::{MfaPolicy, Role, Slug, Username};
use crate::error::StoreError;
use crate::ids::{EventId, FactorId, GroupId, OrganisationId, ServiceId, UserId};
use async_trait::async_trait;

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: OrganisationId,
    pub slug: Slug,
    pub name: String,
    /// E-mail style domains whose usernames belong here (`exempelkommun.se`).
    pub domains: Vec<String>,
    pub mfa_policy: MfaPolicy,
    /// How the public reaches the organisation when things are down
    /// (phone, e-mail, visiting address and hours), on the status page.
    pub status_contact: String,
    /// Country codes (digits) whose mobile numbers may receive codes;
    /// `["46"]` unless the organisation file says otherwise (issue 10 L1).
    pub sms_country_codes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub organisation_id: OrganisationId,
    pub username: Username,
    pub display_name: String,
    pub email: Option<String>,
    /// `None` for users whose password lives elsewhere (later: LDAP) or who
    /// have none yet.
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: UnixTime,
    /// The user's own choice of language ("sv", "en"), `None` to follow
    /// the browser. Applied at sign-in; `apply` never changes it.
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub slug: Slug,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: ServiceId,
    pub slug: Slug,
    pub name: String,
    pub description: String,
    pub url: String,
    pub category: String,
    pub sort: i64,
    /// A built-in icon name (`mail`, `money`, …); empty for the generic one.
    pub icon: String,
    pub access: crate::access::ServiceAccess,
}

/// A session as created at sign-in. Only the hash of the token is stored, so
/// a copy of the database does not let anyone take over a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub token_hash: String,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub ip: String,
    pub user_agent: String,
    /// Authentication methods used, space separated (`pwd`, `otp`, later `sms`, `hwk`).
    pub amr: String,
    /// Password accepted but a second factor still to come: such a session
    /// opens nothing but the second-factor page.
    pub pending_mfa: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub created_at: UnixTime,
    pub last_seen_at: UnixTime,
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
    pub ip: String,
    pub user_agent: String,
    pub amr: String,
    pub pending_mfa: bool,
    /// Wrong second-factor codes entered in this (pending) session.
    pub mfa_tries: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorKind {
    Totp,
    /// Codes by e-mail: a weaker factor (NIST), recorded as such in `amr`.
    Email,
    /// Codes by SMS: "restricted" (NIST), recorded as `sms` in `amr`.
    Sms,
    /// A WebAuthn passkey: phishing-resistant, user-verifying; `secret`
    /// holds the credential (public key, counter), `destination` its id.
    Passkey,
}

impl FactorKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FactorKind::Totp => "totp",
            FactorKind::Email => "email",
            FactorKind::Sms => "sms",
            FactorKind::Passkey => "passkey",
        }
    }
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "totp" => Some(FactorKind::Totp),
            "email" => Some(FactorKind::Email),
            "sms" => Some(FactorKind::Sms),
            "passkey" => Some(FactorKind::Passkey),
            _ => None,
        }
    }
}

/// A code sent to the user, waiting to be typed in.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeChallenge {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    /// The session the code belongs to (SECURITY.md A4: a code from attempt
    /// A fails in attempt B).
    pub session_hash: String,
    /// `signin` or `register`.
    pub purpose: String,
    pub channel: FactorKind,
    pub destination: String,
    pub code_hash: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

/// A WebAuthn ceremony in progress: the server half of a challenge, kept
/// server-side so a signed response can be used once and only for the
/// ceremony it answers.
#[derive(Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// 256-bit random, sent to the browser with the options.
    pub id: String,
    /// `register`, `second`, `signin` or `reset`.
    pub purpose: String,
    /// The account, when known before the ceremony (registration, second factor).
    pub user: Option<(OrganisationId, UserId)>,
    /// The session the ceremony belongs to, when there is one.
    pub session_hash: Option<String>,
    /// The webauthn-rs state, serialised.
    pub state: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

impl std::fmt::Debug for Ceremony {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ceremony")
            .field("purpose", &self.purpose)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// At most `max` codes for `purpose` (empty: any) per account in `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLimit {
    pub purpose: &'static str,
    pub window_secs: i64,
    pub max: u32,
}

/// The outcome of typing a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right code (used up, except from `check_challenge`). Carries the
    /// challenge and where the code was sent.
    Accepted {
        id: String,
        destination: String,
    },
    Wrong {
        tries_left: u32,
    },
    /// Expired, used, too many tries, or no code was sent.
    Void,
}

/// An e-mail (later SMS) waiting to be sent by the outbox worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: UnixTime,
    pub attempts: u32,
}

/// How far one batch of messages has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    pub batch: String,
    pub subject: String,
    pub created_at: UnixTime,
    pub total: u32,
    pub sent: u32,
    /// Tried and failed at least once, not sent yet (still retried unless given up).
    pub failing: u32,
    /// One of the errors, for the report.
    pub last_error: Option<String>,
}

/// A registered second factor.
#[derive(Clone, PartialEq, Eq)]
pub struct Factor {
    pub id: FactorId,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub kind: FactorKind,
    /// The user's own name for it ("Jobbtelefonen").
    pub label: String,
    /// TOTP: the base32 secret.
    pub secret: Option<String>,
    /// E-mail: the address codes go to.
    pub destination: Option<String>,
    /// Not usable until the user proves it works by entering a code.
    pub confirmed: bool,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

impl std::fmt::Debug for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factor")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

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

#[async_trait]
pub trait Store:
    crate::handoff::HandoffStore + crate::coordination::CoordinationStore + Send + Sync + 'static
{
    // Organisations
    async fn organisation(&self, id: &OrganisationId) -> StoreResult<Option<Organisation>>;
    async fn organisation_by_slug(&self, slug: &Slug) -> StoreResult<Option<Organisation>>;
    async fn organisation_by_domain(&self, domain: &str) -> StoreResult<Option<Organisation>>;
    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>>;

    // Users
    async fn user(&self, org: &OrganisationId, id: &UserId) -> StoreResult<Option<User>>;
    async fn user_by_username(
        &self,
        org: &OrganisationId,
        username: &Username,
    ) -> StoreResult<Option<User>>;
    /// A page of users ordered by username; `limit` is capped at 100 (SECURITY.md C4).
    async fn list_users(
        &self,
        org: &OrganisationId,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<User>>;
    async fn user_groups(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Group>>;
    async fn user_roles(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Role>>;
    /// Stores a new hash; `must_change` marks a password set by someone else.
    async fn set_password_hash(
        &self,
        org: &OrganisationId,
        user: &UserId,
        hash: &str,
        must_change: bool,
    ) -> StoreResult<()>;

    /// The distinct first seven characters (`$2b$12$`) of stored bcrypt
    /// hashes, installation-wide: which bcrypt costs imported accounts use,
    /// so every password check can do the same work (issue 10 M4).
    async fn bcrypt_prefixes(&self) -> StoreResult<Vec<String>>;

    // Failed-attempt counters, kept per (organisation, username) whether or
    // not the account exists, so locked and unknown accounts look alike.
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

    // Sessions
    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()>;
    async fn revoke_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()>;
    /// Ends every live session of one user; returns how many were ended.
    async fn revoke_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<u64>;
    async fn list_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<Vec<SessionRecord>>;

    /// Counts one wrong second-factor code in a pending session; returns the new count.
    async fn count_mfa_try(&self, token_hash: &str) -> StoreResult<u32>;

    // Zones and second factors
    async fn zones(&self, org: &OrganisationId) -> StoreResult<Vec<ZoneRecord>>;
    async fn factors(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Factor>>;
    async fn add_factor(&self, factor: &Factor) -> StoreResult<()>;
    /// Marks a factor usable, recording the TOTP step that proved it.
    async fn confirm_factor(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        label: &str,
        step: i64,
    ) -> StoreResult<bool>;
    /// Removes a factor. With `keep_one`, refuses (returns false) when it
    /// is the user's last confirmed factor; the check and the delete are
    /// one transaction.
    async fn remove_factor(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        keep_one: bool,
    ) -> StoreResult<bool>;
    /// Accepts a TOTP step only if it is newer than any used before with
    /// this factor: true exactly once per step, even under concurrency.
    async fn consume_totp_step(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        step: i64,
        now: UnixTime,
    ) -> StoreResult<bool>;

    /// The passkey with this credential id, in whichever organisation: a
    /// passwordless sign-in starts from the credential alone. Credential ids
    /// are unique across the installation.
    async fn factor_by_credential(&self, credential_id: &str) -> StoreResult<Option<Factor>>;
    /// Stores a factor's updated secret (a passkey's signature counter) and
    /// when it was last used.
    async fn update_factor_secret(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        secret: &str,
        now: UnixTime,
    ) -> StoreResult<()>;

    // WebAuthn ceremonies
    /// Stores a ceremony; expired ones are dropped on the way.
    async fn create_ceremony(&self, c: &Ceremony) -> StoreResult<()>;
    /// Removes and returns a live ceremony of this purpose: exactly once,
    /// even under concurrency, so a response can never be replayed.
    async fn take_ceremony(
        &self,
        id: &str,
        purpose: &str,
        now: UnixTime,
    ) -> StoreResult<Option<Ceremony>>;

    // One-time codes and the outbox
    /// Stores a new code; earlier codes of the same session and purpose are voided.
    async fn create_challenge(&self, c: &CodeChallenge) -> StoreResult<()>;
    /// When the newest code for this session and purpose was sent (resend throttling).
    async fn latest_challenge_at(
        &self,
        session_hash: &str,
        purpose: &str,
    ) -> StoreResult<Option<UnixTime>>;
    /// Checks a code against the newest live challenge of the session;
    /// counts the try, and uses the challenge up when right — exactly once
    /// under concurrency.
    async fn use_challenge(
        &self,
        session_hash: &str,
        purpose: &str,
        code: &str,
        now: UnixTime,
        max_tries: u32,
    ) -> StoreResult<CodeCheck>;
    /// Like [`Store::use_challenge`], but a right code is not used up: the
    /// caller checks what else it needs (a new password's rules) and then
    /// calls [`Store::redeem_challenge`] with the returned id.
    async fn check_challenge(
        &self,
        session_hash: &str,
        purpose: &str,
        code: &str,
        now: UnixTime,
        max_tries: u32,
    ) -> StoreResult<CodeCheck>;
    /// Stores a new code like [`Store::create_challenge`], but only while the
    /// account is within every limit (counted over its challenges, with the
    /// account's row locked, so parallel requests cannot overshoot).
    /// `Some(time)` when a limit is reached: when to try again, roughly.
    async fn create_challenge_within(
        &self,
        c: &CodeChallenge,
        limits: &[CodeLimit],
    ) -> StoreResult<Option<UnixTime>>;
    /// Uses up one live challenge: true exactly once, even under concurrency.
    async fn redeem_challenge(&self, id: &str, now: UnixTime) -> StoreResult<bool>;
    /// How many codes were issued to one account since `since`, for `purpose`
    /// (empty: every purpose).
    async fn count_challenges(
        &self,
        org: &OrganisationId,
        user: &UserId,
        purpose: &str,
        since: UnixTime,
    ) -> StoreResult<u32>;
    /// The account a live code of this session and purpose belongs to.
    async fn challenge_owner(
        &self,
        session_hash: &str,
        purpose: &str,
        now: UnixTime,
    ) -> StoreResult<Option<(OrganisationId, UserId)>>;
    /// Uses up every live code of this session and purpose.
    async fn void_challenges(
        &self,
        session_hash: &str,
        purpose: &str,
        now: UnixTime,
    ) -> StoreResult<()>;
    async fn enqueue_message(&self, m: &OutboxMessage) -> StoreResult<()>;
    async fn due_messages(&self, now: UnixTime, limit: u32) -> StoreResult<Vec<OutboxMessage>>;
    async fn mark_sent(&self, id: &str, now: UnixTime) -> StoreResult<()>;
    async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: UnixTime,
    ) -> StoreResult<()>;

    // Events
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

    // Portal and access decisions
    /// Every service of the organisation in display order, each with the
    /// slugs of the groups it is shared with.
    async fn services_with_groups(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<(Service, std::collections::BTreeSet<Slug>)>>;
    /// Host names Portvakt's own reverse proxy publishes (services with an
    /// upstream and a host), across the installation: only names, so a
    /// request can be told apart from one for Portvakt's own pages.
    async fn proxied_hosts(&self) -> StoreResult<Vec<String>>;
    /// Services shared with any group the user belongs to, in display order.
    async fn services_for_user(
        &self,
        org: &OrganisationId,
        user: &UserId,
    ) -> StoreResult<Vec<Service>>;

    /// Sets a user's language ("sv", "en" or `None`); false when there is
    /// no such user in the organisation.
    async fn set_user_language(
        &self,
        org: &OrganisationId,
        user: &UserId,
        language: Option<&str>,
    ) -> StoreResult<bool>;

    // Status page
    async fn status_components(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<crate::status::Component>>;
    /// Open incidents, and those resolved at or after `since`, newest
    /// first, at most `limit` (capped at 1000), each with its updates.
    async fn incidents(
        &self,
        org: &OrganisationId,
        since: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<crate::status::Incident>>;
    /// What the status page shows: every open published incident with all
    /// its updates, and the `resolved` newest resolved at or after `since`
    /// with only their newest update; newest first.
    async fn incidents_shown(
        &self,
        org: &OrganisationId,
        since: UnixTime,
        resolved: u32,
    ) -> StoreResult<Vec<crate::status::Incident>>;
    /// Stores a new incident with its components and first update, in one
    /// transaction.
    async fn create_incident(&self, incident: &crate::status::Incident) -> StoreResult<()>;
    /// Adds an update and moves the incident to its phase (resolving it
    /// when the phase is `resolved`). False when there is no such open
    /// incident in this organisation.
    async fn add_incident_update(
        &self,
        org: &OrganisationId,
        incident: &str,
        update: &crate::status::IncidentUpdate,
    ) -> StoreResult<bool>;

    /// Drafts opened by probes, not yet confirmed or withdrawn, newest
    /// first. `incidents` never returns drafts.
    async fn draft_incidents(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<crate::status::Incident>>;
    /// Makes an open draft public with the editor's (title, title_en) and
    /// (body, body_en). False when there is no such open draft.
    async fn publish_draft(
        &self,
        org: &OrganisationId,
        incident: &str,
        title: (&str, &str),
        body: (&str, &str),
    ) -> StoreResult<bool>;
    /// Closes an open draft unseen (the probe recovered, or an editor
    /// dismissed it), and mutes the probes that still see its components
    /// down until they come up. False when there is no such open draft.
    async fn withdraw_draft(
        &self,
        org: &OrganisationId,
        incident: &str,
        now: UnixTime,
    ) -> StoreResult<bool>;

    // Health probes
    /// One organisation's probes in file order, or everyone's with `None`.
    async fn probes(&self, org: Option<&OrganisationId>) -> StoreResult<Vec<crate::probe::Probe>>;
    async fn probe_states(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<crate::probe::ProbeState>>;
    /// The count, newest check and down views of the organisation's probes.
    async fn probe_overview(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<crate::probe::ProbeOverview>;
    /// Upserts probe views, in one transaction; views of probes the
    /// organisation no longer defines are dropped.
    async fn put_probe_states(&self, states: &[crate::probe::ProbeState]) -> StoreResult<()>;
    /// Adds checks and failures to the per-component daily figures.
    async fn add_probe_figures(
        &self,
        figures: &[(OrganisationId, crate::probe::DayFigure)],
    ) -> StoreResult<()>;
    /// The organisation's daily figures from `since_day` (`YYYY-MM-DD`).
    async fn probe_days(
        &self,
        org: &OrganisationId,
        since_day: &str,
    ) -> StoreResult<Vec<crate::probe::DayFigure>>;
    /// Forgets figures older than `before_day`; returns how many rows.
    async fn prune_probe_days(&self, before_day: &str) -> StoreResult<u64>;

    /// (team, list) of the organisation's emergency contacts, in file order.
    async fn emergency_contacts(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<(Vec<String>, Vec<String>)>;
    /// Queues messages that belong together (one notice to many), in one
    /// transaction, so their delivery can be reported.
    async fn enqueue_batch(&self, batch: &str, messages: &[OutboxMessage]) -> StoreResult<()>;
    /// Delivery of the organisation's newest batches, newest first.
    async fn batch_reports(
        &self,
        org: &OrganisationId,
        limit: u32,
    ) -> StoreResult<Vec<BatchReport>>;

    // Declarative configuration
    /// Everything `apply` compares against for one organisation slug.
    async fn snapshot(&self, slug: &Slug) -> StoreResult<OrgSnapshot>;
    /// Applies all changes in one transaction: all or nothing.
    async fn apply_changes(&self, changes: &[Change]) -> StoreResult<()>;

    // Operations
    /// Runs the backend's consistency check; `Err` names what is wrong.
    async fn integrity_check(&self) -> StoreResult<()>;
}
