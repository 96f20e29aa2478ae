//! Forgotten password: reset with a factor registered *beforehand* (seed
//! 003). Every request gets the same answer whether or not the account
//! exists or has a factor (SECURITY.md A1, A5): codes go to every
//! registered address and number, an authenticator's code is accepted too,
//! and someone who never registered is told to visit servicedesk.

use super::codes::{self, MAX_TRIES};
use super::guard::{CODE_BUDGET, RESET_BUDGET};
use super::password::HashError;
use super::password_rules::{check_new_password_of, PasswordContext, PasswordRuleError};
use super::session::SessionToken;
use super::signin::{AuthService, ClientInfo};
use crate::domain::{Language, Username};
use crate::error::StoreError;
use crate::ids::EventId;
use crate::store::{
    CodeChallenge, CodeCheck, CodeLimit, EventResult, FactorKind, Purpose, SignInMethod,
};
use thiserror::Error;

/// What proved the right to reset, to be used up once the password is accepted.
enum Proof {
    Sent(String),
    App((crate::ids::FactorId, i64)),
}

/// The event reason for a refused attempt.
pub(crate) fn refusal_reason(r: super::guard::Refusal) -> &'static str {
    match r {
        super::guard::Refusal::Throttled { .. } => "throttled",
        super::guard::Refusal::Locked => "locked",
        super::guard::Refusal::IpThrottled => "ip_throttled",
    }
}

/// What to deliver for a reset request. `code` is `None` when nothing is
/// to be sent; the caller answers the same either way.
#[derive(Debug)]
pub struct ResetStarted {
    pub code: Option<String>,
    pub expires_at: i64,
    pub organisation: Option<crate::ids::OrganisationId>,
    /// Registered addresses and numbers, each to get the code.
    pub destinations: Vec<(FactorKind, String)>,
    /// The account's own language, for the texts that carry the code.
    pub language: Option<Language>,
}

#[derive(Debug, Error)]
pub enum ResetError {
    /// Wrong, expired or used code, or no such attempt: one answer for all.
    #[error("code not accepted")]
    Code,
    #[error("new password rejected: {0}")]
    Rule(#[from] PasswordRuleError),
    #[error("server busy")]
    Busy,
    /// The organisation's change freeze refuses resets (issue 15); only
    /// said to someone who typed the right code.
    #[error("changes frozen")]
    Frozen(crate::freeze::Freeze),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<HashError> for ResetError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => ResetError::Busy,
            other => ResetError::Store(StoreError::Backend(other.to_string())),
        }
    }
}

impl AuthService {
    /// Starts a reset for whatever was typed as the username, bound to
    /// the browser that holds the token hashed as `session_hash`. The
    /// caller answers before this runs (the answer depends on nothing it
    /// finds), so known and unknown names cannot be told apart by time.
    ///
    /// # Errors
    /// Store failures only.
    pub async fn start_reset(
        &self,
        raw_username: &str,
        client: &ClientInfo,
        session_hash: String,
    ) -> Result<ResetStarted, StoreError> {
        let now = self.clock.now();
        let mut started = ResetStarted {
            code: None,
            expires_at: now + self.code_validity_secs,
            organisation: None,
            destinations: Vec::new(),
            language: None,
        };
        if self.ip_throttle.is_blocked(client.ip, now) {
            return Ok(started);
        }
        let Some(username) = Username::parse(raw_username).ok() else {
            return Ok(started);
        };
        let Some(org) = self.resolve_organisation(&username).await? else {
            return Ok(started);
        };
        // No code is sent while the organisation's changes are frozen.
        if self.store.active_freeze(&org.id).await?.is_some() {
            return Ok(started);
        }
        let user = self
            .store
            .user_by_username(&org.id, &username)
            .await?
            .filter(crate::store::User::is_active);
        let Some(user) = user else {
            // Counted like a failure, so probing many names is throttled.
            self.ip_throttle.record_failure(client.ip, now);
            return Ok(started);
        };
        // A crisis rotation took the password away: the start code (or the
        // servicedesk) gives a new one, never a factor an intruder may
        // have registered (issue 15).
        if user.password_hash.is_none() && self.store.in_rotation(&org.id, &user.id).await? {
            self.event_for(
                SignInMethod::Reset,
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                "in_rotation",
            )
            .await?;
            return Ok(started);
        }
        let factors = self.store.factors(&org.id, &user.id).await?;
        let confirmed: Vec<_> = factors.into_iter().filter(|f| f.confirmed).collect();
        if confirmed.is_empty() {
            self.event_for(
                SignInMethod::Reset,
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                "no_factor_registered",
            )
            .await?;
            return Ok(started);
        }
        // Each reset is a code chance and usually messages: a budget per
        // account, whatever address the requests come from, checked and
        // stored in one step so a burst cannot overshoot it (H1).
        let id = EventId::generate().to_string();
        let code = codes::generate();
        let limits: Vec<CodeLimit> = RESET_BUDGET.iter().chain(&CODE_BUDGET).cloned().collect();
        let over = self
            .store
            .create_challenge_within(
                &CodeChallenge {
                    code_hash: codes::hash(&id, &code),
                    id,
                    organisation_id: org.id.clone(),
                    user_id: user.id.clone(),
                    session_hash,
                    purpose: Purpose::Reset,
                    channel: FactorKind::Email,
                    destination: String::new(),
                    created_at: now,
                    expires_at: started.expires_at,
                },
                &limits,
            )
            .await?;
        if over.is_some() {
            self.event_for(
                SignInMethod::Reset,
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                "reset_limited",
            )
            .await?;
            return Ok(started);
        }
        let mut destinations = Vec::new();
        for f in &confirmed {
            let Some(d) = f.destination.clone() else {
                continue;
            };
            match f.kind {
                FactorKind::Email => destinations.push((f.kind, d)),
                FactorKind::Sms if self.may_text(&user, &d).await? => {
                    destinations.push((f.kind, d));
                }
                _ => {}
            }
        }
        started.destinations = destinations;
        started.code = Some(code);
        started.organisation = Some(org.id.clone());
        started.language = user.language;
        self.event_for(
            SignInMethod::Reset,
            Some(&org.id),
            Some(&user),
            client,
            EventResult::Success,
            "reset_code_sent",
        )
        .await?;
        Ok(started)
    }

    /// Sets a new password for the attempt's account when `code` is the sent
    /// code or a current code from one of its authenticator apps. Ends every
    /// session of the account and lifts a lock. Answers with the account
    /// (as it was read before the change), whose contacts are then told.
    ///
    /// Order matters (issue 10): the try is counted against the name typed
    /// at `/reset` before any code is looked at, whether or not an account
    /// or an attempt exists, so the lock counter says nothing about the
    /// account (A1); the code is checked before the password rules, so a
    /// rule message is only ever shown to someone holding the right code
    /// (M3); the code is used up only once the new password is accepted.
    /// A delayed or locked account may still use a code *sent* to an
    /// address registered beforehand (five tries, a budget of resets): that
    /// is the way back from a lock; app codes are not checked then (H1).
    ///
    /// # Errors
    /// One answer for every code problem (wrong, expired, tried too often,
    /// no such attempt); password rule violations.
    pub async fn finish_reset(
        &self,
        token: &SessionToken,
        typed_username: &str,
        code: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<crate::store::User, ResetError> {
        let now = self.clock.now();
        let hash = token.hash();
        let owner = self
            .store
            .challenge_owner(&hash, &Purpose::Reset, now)
            .await?;
        // A code sent before the servicedesk locked or disabled the account
        // no longer resets it: the same answer as no attempt at all.
        let user = match &owner {
            Some((org_id, user_id)) => self
                .store
                .user(org_id, user_id)
                .await?
                .filter(crate::store::User::is_active),
            None => None,
        };
        let org = match &user {
            Some(u) => self.store.organisation(&u.organisation_id).await?,
            None => None,
        };
        let (Some(user), Some(org)) = (user, org) else {
            return self.no_reset_attempt(typed_username, client).await;
        };
        if let Some(f) = self.store.active_freeze(&org.id).await? {
            return Err(ResetError::Frozen(f));
        }
        let admitted = self.take_try(&org.id, &user.username, client).await?;
        let normalised = codes::normalise(code);
        let proof = match self
            .store
            .check_challenge(&hash, &Purpose::Reset, &normalised, now, MAX_TRIES)
            .await?
        {
            CodeCheck::Accepted { id, .. } => Some(Proof::Sent(id)),
            CodeCheck::Void => None,
            CodeCheck::Wrong { .. } if admitted.is_ok() => {
                self.matching_totp(&user, code, now).await?.map(Proof::App)
            }
            CodeCheck::Wrong { .. } => None,
        };
        let Some(proof) = proof else {
            let reason = match admitted {
                Ok(()) => {
                    self.wrong_secret(client);
                    "bad_code"
                }
                Err(r) => refusal_reason(r),
            };
            self.event_for(
                SignInMethod::Reset,
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                reason,
            )
            .await?;
            return Err(ResetError::Code);
        };
        // Only someone with the right code gets here, so a rule message
        // reveals nothing about the account; the code stays usable and the
        // try is taken back.
        if let Err(rule) = self.check_reset_password(&org, &user, new_password) {
            if admitted.is_ok() {
                self.forgive_try(&org.id, &user.username).await?;
            }
            return Err(rule.into());
        }
        let used = match proof {
            Proof::Sent(id) => self.store.redeem_challenge(&id, now).await?,
            Proof::App((factor, step)) => {
                let ok = self
                    .store
                    .consume_totp_step(&org.id, &user.id, &factor, step, now)
                    .await?;
                if ok {
                    self.store
                        .void_challenges(&hash, &Purpose::Reset, now)
                        .await?;
                }
                ok
            }
        };
        if !used {
            return Err(ResetError::Code);
        }
        self.complete_reset(&user, new_password, client, "password_reset")
            .await
    }

    /// `/reset/code` in a browser with no live attempt (an unknown name, a
    /// name without a registered method, an expired attempt): the same
    /// answer, and the try counted against the name typed, as for a real
    /// account (A1).
    async fn no_reset_attempt<T>(
        &self,
        typed_username: &str,
        client: &ClientInfo,
    ) -> Result<T, ResetError> {
        let username = Username::parse(typed_username).ok();
        let org = match &username {
            Some(u) => self.resolve_organisation(u).await?,
            None => None,
        };
        let (Some(username), Some(org)) = (username, org) else {
            self.wrong_secret(client);
            return Err(ResetError::Code);
        };
        let user = self.store.user_by_username(&org.id, &username).await?;
        let reason = match self.take_try(&org.id, &username, client).await? {
            Ok(()) => {
                self.wrong_secret(client);
                "no_reset_attempt"
            }
            Err(r) => refusal_reason(r),
        };
        self.event_for(
            SignInMethod::Reset,
            Some(&org.id),
            user.as_ref(),
            client,
            EventResult::Failure,
            reason,
        )
        .await?;
        Err(ResetError::Code)
    }

    /// The change freeze in force for the organisation a typed username
    /// belongs to (by its domain alone, so it says nothing about the
    /// account).
    ///
    /// # Errors
    /// Store failures.
    pub async fn freeze_for(
        &self,
        raw_username: &str,
    ) -> Result<Option<crate::freeze::Freeze>, StoreError> {
        let Ok(username) = Username::parse(raw_username) else {
            return Ok(None);
        };
        match self.resolve_organisation(&username).await? {
            Some(org) => self.store.active_freeze(&org.id).await,
            None => Ok(None),
        }
    }

    /// The password rules for a reset (length, common passwords, the
    /// organisation's name, the username).
    pub(crate) fn check_reset_password(
        &self,
        org: &crate::store::Organisation,
        user: &crate::store::User,
        new_password: &str,
    ) -> Result<(), PasswordRuleError> {
        let words = [org.name.as_str(), org.slug.as_str()];
        check_new_password_of(
            new_password,
            &PasswordContext {
                min_length: self.min_password_length,
                organisation_words: &words,
                username: user.username.as_str(),
            },
            &[user.display_name.as_str()],
        )
    }

    /// The end of every reset, by code or passkey: the new password, every
    /// session ended, a lock lifted, and an event. Answers with the person
    /// whose password it was, so they can be told.
    pub(crate) async fn complete_reset<E: From<HashError> + From<StoreError>>(
        &self,
        user: &crate::store::User,
        new_password: &str,
        client: &ClientInfo,
        reason: &str,
    ) -> Result<crate::store::User, E> {
        let (org, id) = (&user.organisation_id, &user.id);
        let new_hash = self.hasher.hash(new_password).await?;
        self.store
            .set_password_hash(org, id, &new_hash, false)
            .await?;
        self.store
            .revoke_user_sessions(org, id, "reset", self.clock.now())
            .await?;
        self.store.clear_failures(org, &user.username).await?;
        self.event_for(
            SignInMethod::Reset,
            Some(org),
            Some(user),
            client,
            EventResult::Success,
            reason,
        )
        .await?;
        Ok(user.clone())
    }
}
