use super::StoreResult;
use crate::access::Method;
use crate::clock::UnixTime;
use crate::ids::{OrganisationId, UserId};
use async_trait::async_trait;
use std::collections::BTreeSet;
use std::fmt;

/// How a session was signed in (its `amr`): the methods in the order they
/// were used, stored as their tokens separated by spaces (`pwd otp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amr(Vec<AmrToken>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum AmrToken {
    Known(Method),
    /// A token this version does not know: kept, so a session carried on
    /// (step-up, re-authentication) keeps it, but it counts for nothing.
    Unknown(String),
}

impl Amr {
    /// A sign-in with one method.
    #[must_use]
    pub fn of(method: Method) -> Self {
        Self(vec![AmrToken::Known(method)])
    }

    /// A stored `amr`. Nothing is refused: an unknown token is kept and
    /// can never satisfy a rule.
    #[must_use]
    pub fn from_stored(s: &str) -> Self {
        Self(
            s.split_whitespace()
                .map(|t| {
                    Method::from_amr_token(t)
                        .map_or_else(|| AmrToken::Unknown(t.to_owned()), AmrToken::Known)
                })
                .collect(),
        )
    }

    /// The methods used that this version knows.
    #[must_use]
    pub fn methods(&self) -> BTreeSet<Method> {
        self.0
            .iter()
            .filter_map(|t| match t {
                AmrToken::Known(m) => Some(*m),
                AmrToken::Unknown(_) => None,
            })
            .collect()
    }

    /// These methods, then `method` unless it was used already.
    #[must_use]
    pub fn with(mut self, method: Method) -> Self {
        if !self.0.contains(&AmrToken::Known(method)) {
            self.0.push(AmrToken::Known(method));
        }
        self
    }
}

impl fmt::Display for Amr {
    /// The stored form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(match t {
                AmrToken::Known(m) => m.amr(),
                AmrToken::Unknown(u) => u,
            })?;
        }
        Ok(())
    }
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
    pub amr: Amr,
    /// Password accepted but a second factor still to come: such a session
    /// opens nothing but the second-factor page.
    pub pending_mfa: bool,
    /// The user's [`User::credential_epoch`](super::User) when they proved
    /// who they are.
    pub credential_epoch: i64,
    /// Begun with a crisis rotation's start code: its hash until the
    /// second factor uses it up, then [`START_CODE_USED`].
    pub start_code: Option<String>,
}

/// [`NewSession::start_code`] once the code is used up: the session was
/// proved with it, which is enough to choose a first password.
pub const START_CODE_USED: &str = "used";

/// What [`SessionStore::remember_device`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceSeen {
    /// The browser had not signed in to the account before.
    pub new: bool,
    /// Nor had any other: the account's first known browser.
    pub first: bool,
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
    pub amr: Amr,
    pub pending_mfa: bool,
    /// Wrong second-factor codes entered in this (pending) session.
    pub mfa_tries: u32,
    /// Why it was ended, when someone ended it (`servicedesk`, `not_me`,
    /// `other_sessions_ended`, `password`, `reset`); empty otherwise.
    pub end_reason: String,
    pub credential_epoch: i64,
    pub start_code: Option<String>,
}

/// What [`SessionStore::revoke_other_sessions`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OthersEnded {
    pub sessions: u64,
    /// This call set the password requirement (false when it was already
    /// set: a repeated or parallel report, which is not reported again).
    pub newly_required: bool,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()>;
    async fn revoke_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()>;
    /// Ends every live session of one user, and in the same transaction
    /// every grant the user gave an app (their refresh tokens, and their
    /// access tokens at `/userinfo` and `/introspect`); returns how many
    /// sessions were ended.
    /// `reason` is kept with each session ([`SessionRecord::end_reason`]).
    async fn revoke_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<u64>;
    /// "This wasn't me" (issue 14): in one transaction, ends every live
    /// session of the user except `keep` (a token hash), every grant the
    /// user gave an app, and with `must_change` requires a new password
    /// before anything else.
    async fn revoke_other_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        keep: &str,
        must_change: bool,
        now: UnixTime,
    ) -> StoreResult<OthersEnded>;
    async fn list_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<Vec<SessionRecord>>;

    /// Counts one wrong second-factor code in a pending session; returns the new count.
    /// Remembers a browser (the hash of its device cookie) for the
    /// account; says whether it was new and whether the account knew no
    /// browser before (its first, which is no news). Browsers unseen for
    /// 400 days are forgotten.
    async fn remember_device(
        &self,
        org: &OrganisationId,
        user: &UserId,
        device_hash: &str,
        now: UnixTime,
    ) -> StoreResult<DeviceSeen>;
    /// Forgets the account's browsers but `keep` (a device hash), so an
    /// intruder's browser is new again (after "not me", a lock, a reset).
    async fn forget_devices(
        &self,
        org: &OrganisationId,
        user: &UserId,
        keep: Option<&str>,
    ) -> StoreResult<()>;
    async fn count_mfa_try(&self, token_hash: &str) -> StoreResult<u32>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_is_stored_as_before_and_unknown_tokens_count_for_nothing() {
        let amr = Amr::of(Method::Password).with(Method::App);
        assert_eq!(amr.to_string(), "pwd otp");
        assert_eq!(Amr::from_stored("pwd otp"), amr);
        assert_eq!(amr.methods(), [Method::Password, Method::App].into());
        assert_eq!(amr.clone().with(Method::App), amr, "once only");
        let odd = Amr::from_stored("hwk pwd").with(Method::Sms);
        assert_eq!(odd.to_string(), "hwk pwd sms");
        assert_eq!(odd.methods(), [Method::Password, Method::Sms].into());
        assert!(Amr::from_stored("hwk mfa").methods().is_empty());
        assert_eq!(Amr::from_stored("").to_string(), "");
    }
}
