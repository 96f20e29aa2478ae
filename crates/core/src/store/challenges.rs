use super::{FactorKind, StoreResult};
use crate::clock::UnixTime;
use crate::ids::{OrganisationId, UserId};
use async_trait::async_trait;

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

/// One-time codes and WebAuthn ceremonies: challenges the user answers
/// once, and the per-account budget for sending codes.
#[async_trait]
pub trait ChallengeStore: Send + Sync {
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
    /// Like [`ChallengeStore::use_challenge`], but a right code is not used
    /// up: the caller checks what else it needs (a new password's rules)
    /// and then calls [`ChallengeStore::redeem_challenge`] with the
    /// returned id.
    async fn check_challenge(
        &self,
        session_hash: &str,
        purpose: &str,
        code: &str,
        now: UnixTime,
        max_tries: u32,
    ) -> StoreResult<CodeCheck>;
    /// Stores a new code like [`ChallengeStore::create_challenge`], but only
    /// while the account is within every limit (counted over its
    /// challenges, with the account's row locked, so parallel requests
    /// cannot overshoot). `Some(time)` when a limit is reached: when to try
    /// again, roughly.
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
}
