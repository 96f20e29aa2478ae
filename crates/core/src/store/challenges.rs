use super::{FactorKind, StoreResult};
use crate::clock::UnixTime;
use crate::ids::{FactorId, OrganisationId, UserId};
use async_trait::async_trait;
use std::fmt;

/// What a code or a ceremony is for. A code or ceremony is only ever
/// looked up with the purpose it was made for, so one issued for one step
/// cannot answer another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// A code: the second step of a sign-in. A ceremony: signing in with a
    /// passkey alone.
    SignIn,
    /// A ceremony: a passkey as the second step of a sign-in.
    SecondFactor,
    /// A code or a ceremony: a forgotten password.
    Reset,
    /// A ceremony: registering a passkey.
    Register,
    /// A code: proving an address or number being registered. Bound to
    /// that factor, so a code sent to one cannot confirm another.
    Confirm(FactorId),
}

impl Purpose {
    /// The stored form, as [`fmt::Display`] writes it.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "signin" => Some(Purpose::SignIn),
            "second" => Some(Purpose::SecondFactor),
            "reset" => Some(Purpose::Reset),
            "register" => Some(Purpose::Register),
            other => other
                .strip_prefix("register:")
                .filter(|id| !id.is_empty())
                .map(|id| Purpose::Confirm(FactorId::from_raw(id))),
        }
    }
}

impl fmt::Display for Purpose {
    /// The stored form: a word, or `register:` and the factor's id.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Purpose::SignIn => f.write_str("signin"),
            Purpose::SecondFactor => f.write_str("second"),
            Purpose::Reset => f.write_str("reset"),
            Purpose::Register => f.write_str("register"),
            Purpose::Confirm(id) => write!(f, "register:{id}"),
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
    pub purpose: Purpose,
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
    pub purpose: Purpose,
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

/// At most `max` codes for `purpose` (`None`: any) per account in `window_secs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLimit {
    pub purpose: Option<Purpose>,
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
        purpose: &Purpose,
        now: UnixTime,
    ) -> StoreResult<Option<Ceremony>>;

    /// Stores a new code; earlier codes of the same session and purpose are voided.
    async fn create_challenge(&self, c: &CodeChallenge) -> StoreResult<()>;
    /// When the newest code for this session and purpose was sent (resend throttling).
    async fn latest_challenge_at(
        &self,
        session_hash: &str,
        purpose: &Purpose,
    ) -> StoreResult<Option<UnixTime>>;
    /// Checks a code against the newest live challenge of the session;
    /// counts the try, and uses the challenge up when right — exactly once
    /// under concurrency.
    async fn use_challenge(
        &self,
        session_hash: &str,
        purpose: &Purpose,
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
        purpose: &Purpose,
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
    /// (`None`: every purpose).
    async fn count_challenges(
        &self,
        org: &OrganisationId,
        user: &UserId,
        purpose: Option<&Purpose>,
        since: UnixTime,
    ) -> StoreResult<u32>;
    /// The account a live code of this session and purpose belongs to.
    async fn challenge_owner(
        &self,
        session_hash: &str,
        purpose: &Purpose,
        now: UnixTime,
    ) -> StoreResult<Option<(OrganisationId, UserId)>>;
    /// Uses up every live code of this session and purpose.
    async fn void_challenges(
        &self,
        session_hash: &str,
        purpose: &Purpose,
        now: UnixTime,
    ) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_are_stored_as_before_and_read_back() {
        let confirm = Purpose::Confirm(FactorId::from_raw("fac_1f"));
        for (p, stored) in [
            (Purpose::SignIn, "signin"),
            (Purpose::SecondFactor, "second"),
            (Purpose::Reset, "reset"),
            (Purpose::Register, "register"),
            (confirm, "register:fac_1f"),
        ] {
            assert_eq!(p.to_string(), stored);
            assert_eq!(Purpose::parse(stored), Some(p));
        }
        for bad in ["", "step_up", "Signin", "register:", "signin "] {
            assert_eq!(Purpose::parse(bad), None, "{bad:?}");
        }
    }
}
