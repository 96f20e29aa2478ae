//! The sign-in use-case and the session checks that follow it.
//!
//! Every path through [`AuthService::sign_in`] that fails for a reason the
//! caller could use to learn whether an account exists gives the same error
//! after the same work: unknown users are checked against a dummy hash and
//! get failure counters like real ones (SECURITY.md A1).

use super::ip_throttle::IpThrottle;
use super::lockout::LockoutPolicy;
use super::password::{HashError, PasswordHasher};
use super::password_rules::{check_new_password_of, PasswordContext, PasswordRuleError};
use super::session::{SessionPolicy, SessionState, SessionToken};
use crate::access::Method;
use crate::clock::{Clock, UnixTime};
use crate::domain::{Slug, Username};
use crate::error::StoreError;
use crate::ids::{EventId, OrganisationId};
use crate::store::{
    Amr, EventResult, NewSession, Organisation, SessionRecord, SignInEvent, SignInMethod, Store,
    User,
};
use std::net::IpAddr;
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SignInError {
    /// Wrong username or password, or an account that cannot be told apart from one.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// Too many failures for this username: try again after the given time.
    #[error("temporarily throttled")]
    Throttled { until: UnixTime },
    /// Locked until servicedesk unlocks it.
    #[error("locked")]
    Locked,
    /// Too many failures from this address.
    #[error("too many attempts from this address")]
    IpThrottled,
    /// The account is disabled (only said to someone who knew the password).
    #[error("disabled")]
    Disabled,
    /// A second factor is required here but none is registered (only said
    /// to someone who knew the password).
    #[error("no second factor registered")]
    NoSecondFactor,
    /// A temporary password (oral hand-over) past its day (only said to
    /// someone who knew it).
    #[error("temporary password expired")]
    TemporaryPasswordExpired,
    /// A crisis rotation's start code past its time (only said to someone
    /// who typed the right code).
    #[error("start code expired")]
    StartCodeExpired,
    /// A start code already used once (only said to someone who typed it).
    #[error("start code used")]
    StartCodeUsed,
    #[error("server busy")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("hashing: {0}")]
    Hash(String),
}

impl From<HashError> for SignInError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => SignInError::Busy,
            other => SignInError::Hash(other.to_string()),
        }
    }
}

#[derive(Debug, Error)]
pub enum ChangePasswordError {
    #[error("current password is wrong")]
    WrongCurrent,
    /// The account or the address has failed too often.
    #[error(transparent)]
    Refused(super::guard::Refusal),
    #[error("new password rejected: {0}")]
    Rule(#[from] PasswordRuleError),
    #[error("new password must differ from the current one")]
    Unchanged,
    #[error("server busy")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("hashing: {0}")]
    Hash(String),
}

impl From<HashError> for ChangePasswordError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => ChangePasswordError::Busy,
            other => ChangePasswordError::Hash(other.to_string()),
        }
    }
}

/// Who is asking, for events and throttling.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub ip: IpAddr,
    pub user_agent: String,
}

#[derive(Debug)]
pub struct SignedIn {
    pub token: SessionToken,
    pub user: User,
    pub organisation: Organisation,
    /// The password was right; a second factor must follow.
    pub pending_mfa: bool,
}

/// The outcome of checking a session cookie.
#[derive(Debug)]
pub enum SessionCheck {
    Active {
        session: Box<SessionRecord>,
        user: Box<User>,
    },
    /// Password given, second factor still to come.
    Pending {
        session: Box<SessionRecord>,
        user: Box<User>,
    },
    /// Signed in with a temporary password that must be changed first:
    /// only the password page may use it; apps, forward-auth and the proxy
    /// treat it as not signed in (issue 10 L4).
    MustChangePassword {
        session: Box<SessionRecord>,
        user: Box<User>,
    },
    Idle,
    Expired,
    /// Ended by someone, with why (`servicedesk`, `not_me`, …): the page
    /// says so once (issue 14).
    Ended {
        reason: String,
    },
    /// No such session, revoked, or its user is gone or disabled.
    Invalid,
}

/// How long the second-factor step may take after the password.
pub const PENDING_MFA_SECS: i64 = 5 * 60;

pub struct AuthService {
    pub store: Arc<dyn Store>,
    pub hasher: Arc<PasswordHasher>,
    pub clock: Arc<dyn Clock>,
    pub lockout: LockoutPolicy,
    pub sessions: SessionPolicy,
    pub ip_throttle: IpThrottle,
    /// Where usernames without a known domain are looked up (by slug, so
    /// an organisation created after start-up is found).
    pub default_organisation: Option<Slug>,
    /// Minimum length for new passwords.
    pub min_password_length: usize,
    /// How long an e-mailed (later SMS) code is valid.
    pub code_validity_secs: i64,
    /// The relying party for passkeys; `None` hides them.
    pub passkeys: Option<Arc<super::passkey::Passkeys>>,
}

/// User agents are stored for investigations, trimmed so a client cannot
/// fill the event table with one header.
pub(crate) fn clip(ua: &str) -> String {
    ua.chars().filter(|c| !c.is_control()).take(256).collect()
}

impl AuthService {
    pub(crate) async fn resolve_organisation(
        &self,
        username: &Username,
    ) -> Result<Option<Organisation>, StoreError> {
        if let Some(domain) = username.domain() {
            if let Some(org) = self.store.organisation_by_domain(domain).await? {
                return Ok(Some(org));
            }
        }
        match &self.default_organisation {
            Some(slug) => self.store.organisation_by_slug(slug).await,
            None => Ok(None),
        }
    }

    pub(crate) async fn event(
        &self,
        org: Option<&OrganisationId>,
        user: Option<&User>,
        client: &ClientInfo,
        result: EventResult,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.event_for(SignInMethod::Password, org, user, client, result, reason)
            .await
    }

    /// Records an event for an authentication method, or a step around one.
    pub(crate) async fn event_for(
        &self,
        method: SignInMethod,
        org: Option<&OrganisationId>,
        user: Option<&User>,
        client: &ClientInfo,
        result: EventResult,
        reason: &str,
    ) -> Result<(), StoreError> {
        let zone = match org {
            Some(o) => self.zone_of(o, client.ip).await?.unwrap_or_default(),
            None => String::new(),
        };
        self.store
            .record_signin_event(&SignInEvent {
                id: EventId::generate(),
                organisation_id: org.cloned(),
                user_id: user.map(|u| u.id.clone()),
                at: self.clock.now(),
                ip: client.ip.to_string(),
                user_agent: clip(&client.user_agent),
                method,
                result,
                reason: reason.into(),
                zone,
            })
            .await
    }

    /// Signs in with username and password and creates a new session.
    ///
    /// # Errors
    /// See [`SignInError`]; every variant except `Disabled` and `Locked`-after-
    /// throttling is reachable without knowing whether the account exists.
    pub async fn sign_in(
        &self,
        raw_username: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SignedIn, SignInError> {
        let now = self.clock.now();
        if self.ip_throttle.is_blocked(client.ip, now) {
            self.event(None, None, client, EventResult::Failure, "ip_throttled")
                .await?;
            return Err(SignInError::IpThrottled);
        }
        let username = Username::parse(raw_username).ok();
        let org = match &username {
            Some(u) => self.resolve_organisation(u).await?,
            None => None,
        };
        let (Some(username), Some(org)) = (username, org) else {
            // Nothing to count against: spend the same hashing time and fail.
            self.hasher.verify(password, None).await?;
            self.ip_throttle.record_failure(client.ip, now);
            self.event(
                None,
                None,
                client,
                EventResult::Failure,
                "unknown_organisation",
            )
            .await?;
            return Err(SignInError::InvalidCredentials);
        };

        // The try is counted before the password is checked (and taken
        // back if it was right), so parallel guesses cannot all get in
        // under the limit (issue 10 M2).
        if let Err(throttle) = self
            .store
            .begin_try(&org.id, &username, now, &self.lockout)
            .await?
        {
            self.ip_throttle.record_failure(client.ip, now);
            self.event(
                Some(&org.id),
                None,
                client,
                EventResult::Failure,
                "throttled",
            )
            .await?;
            return Err(if throttle.is_hard_locked() {
                SignInError::Locked
            } else {
                SignInError::Throttled {
                    until: throttle.locked_until,
                }
            });
        }

        self.refresh_hash_kinds(now).await?;
        let user = self.store.user_by_username(&org.id, &username).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let verification = self.hasher.verify(password, stored).await?;
        let had_hash = stored.is_some();
        // A crisis rotation took the password away and sent a start code
        // (issue 15); it is typed where the password goes.
        let start_code = match user.as_ref() {
            Some(u) if !verification.matches && u.password_hash.is_none() => {
                self.start_code(&org.id, u, password, client, now).await?
            }
            _ => None,
        };
        if !verification.matches && start_code.is_none() {
            self.ip_throttle.record_failure(client.ip, now);
            // The event names a real account, for its owner's sign-in history
            // and investigations; the caller's answer never does.
            let reason = match (had_hash, user.is_some()) {
                (true, _) => "bad_password",
                // No password: a crisis rotation's start code was expected.
                (false, true) => "bad_start_code",
                (false, false) => "unknown_user",
            };
            self.event(
                Some(&org.id),
                user.as_ref(),
                client,
                EventResult::Failure,
                reason,
            )
            .await?;
            return Err(SignInError::InvalidCredentials);
        }
        let Some(user) = user else {
            return Err(SignInError::InvalidCredentials);
        };
        // The password was right: this try is taken back. Earlier failures
        // stay until the whole sign-in succeeds, or a known password would
        // reset the budget for guessing codes (H1).
        self.forgive_try(&org.id, &username).await?;
        if user.disabled {
            self.event(
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                "disabled",
            )
            .await?;
            return Err(SignInError::Disabled);
        }
        if !user.lock_reason.is_empty() {
            // Normally refused before the hash, by the counter's hard lock;
            // this holds even if that row was cleared meanwhile.
            self.event(
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                "locked",
            )
            .await?;
            return Err(SignInError::Locked);
        }
        if user.must_change_password && user.password_expires_at.is_some_and(|t| t <= now) {
            self.event(
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                "temporary_expired",
            )
            .await?;
            return Err(SignInError::TemporaryPasswordExpired);
        }
        if verification.matches && verification.needs_rehash {
            // Only over the very hash that was checked: a crisis rotation
            // that removed it meanwhile must not see it come back.
            if let Some(old) = &user.password_hash {
                let hash = self.hasher.hash(password).await?;
                self.store
                    .rehash_password(&org.id, &user.id, old, &hash)
                    .await?;
            }
        }
        let pending_mfa = self.second_factor_required(&org, client.ip).await?;
        if pending_mfa && !self.has_confirmed_factor(&user).await? {
            self.event(
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                "no_second_factor",
            )
            .await?;
            return Err(SignInError::NoSecondFactor);
        }
        // Used up only when nothing else refuses, and with a second factor
        // to come only once that is done (`complete_second_factor`): a
        // stolen printed code without the factor burns nothing.
        let start_code = match start_code {
            Some(h) if pending_mfa => Some(h),
            Some(h) => {
                if !self
                    .store
                    .use_start_code(&org.id, &user.id, &h, now)
                    .await?
                {
                    self.event(
                        Some(&org.id),
                        Some(&user),
                        client,
                        EventResult::Failure,
                        "start_code_used",
                    )
                    .await?;
                    return Err(SignInError::StartCodeUsed);
                }
                Some(crate::store::START_CODE_USED.to_owned())
            }
            None => None,
        };
        if !pending_mfa {
            self.store.clear_failures(&org.id, &username).await?;
        }
        let token = self
            .create_session_with(
                &user,
                client,
                Amr::of(Method::Password),
                pending_mfa,
                start_code,
            )
            .await?;
        let reason = if pending_mfa {
            "password_ok_second_factor_next"
        } else {
            "ok"
        };
        self.event(
            Some(&org.id),
            Some(&user),
            client,
            EventResult::Success,
            reason,
        )
        .await?;
        Ok(SignedIn {
            token,
            user,
            organisation: org,
            pending_mfa,
        })
    }

    /// The hash of `typed` when it is the person's working start code;
    /// a right code that expired or was used is refused here, with words
    /// for the person (who knows the code, so learns nothing new).
    async fn start_code(
        &self,
        org: &OrganisationId,
        user: &User,
        typed: &str,
        client: &ClientInfo,
        now: UnixTime,
    ) -> Result<Option<String>, SignInError> {
        use crate::rotation::{code_hash, normalise, StartCodeCheck};
        if normalise(typed).is_none() {
            return Ok(None);
        }
        let h = code_hash(org, &user.id, typed);
        let (reason, err) = match self.store.check_start_code(org, &user.id, &h, now).await? {
            None => return Ok(None),
            Some(StartCodeCheck::Valid) => return Ok(Some(h)),
            Some(StartCodeCheck::Expired) => ("start_code_expired", SignInError::StartCodeExpired),
            Some(StartCodeCheck::Used) => ("start_code_used", SignInError::StartCodeUsed),
        };
        self.event(Some(org), Some(user), client, EventResult::Failure, reason)
            .await?;
        Err(err)
    }

    /// Uses up `typed` if it is the person's working start code.
    async fn spend_start_code(&self, user: &User, typed: &str) -> Result<bool, StoreError> {
        if crate::rotation::normalise(typed).is_none() {
            return Ok(false);
        }
        let h = crate::rotation::code_hash(&user.organisation_id, &user.id, typed);
        self.store
            .use_start_code(&user.organisation_id, &user.id, &h, self.clock.now())
            .await
    }

    /// Keeps the hasher's padding in step with the bcrypt hashes stored
    /// (issue 10 M4); every caller pays it alike, known name or not.
    async fn refresh_hash_kinds(&self, now: UnixTime) -> Result<(), SignInError> {
        if self.hasher.kinds_due(now) {
            let costs: Vec<u32> = self
                .store
                .bcrypt_prefixes()
                .await?
                .iter()
                .filter_map(|p| super::password::bcrypt_cost(p))
                .collect();
            self.hasher.set_bcrypt_costs(&costs).await?;
        }
        Ok(())
    }

    /// A new session for `user`. Called at every sign-in, so the token
    /// always changes then (no fixation, SECURITY.md B1).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn create_session(
        &self,
        user: &User,
        client: &ClientInfo,
        amr: Amr,
        pending_mfa: bool,
    ) -> Result<SessionToken, StoreError> {
        self.create_session_with(user, client, amr, pending_mfa, None)
            .await
    }

    /// [`Self::create_session`] for a sign-in with a start code
    /// ([`NewSession::start_code`]). The session carries the credential
    /// epoch of `user` as read when the sign-in began, so a rotation that
    /// commits meanwhile kills it.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn create_session_with(
        &self,
        user: &User,
        client: &ClientInfo,
        amr: Amr,
        pending_mfa: bool,
        start_code: Option<String>,
    ) -> Result<SessionToken, StoreError> {
        let now = self.clock.now();
        let token = SessionToken::generate();
        self.store
            .create_session(&NewSession {
                token_hash: token.hash(),
                organisation_id: user.organisation_id.clone(),
                user_id: user.id.clone(),
                created_at: now,
                expires_at: now + self.sessions.absolute_secs,
                ip: client.ip.to_string(),
                user_agent: clip(&client.user_agent),
                amr,
                pending_mfa,
                credential_epoch: user.credential_epoch,
                start_code,
            })
            .await?;
        Ok(token)
    }

    /// Checks a session cookie; refreshes `last_seen_at` when it is due.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn check_session(&self, token: &SessionToken) -> Result<SessionCheck, StoreError> {
        self.check_session_hash(&token.hash()).await
    }

    /// As [`Self::check_session`], for a session known by its stored hash
    /// (the apps origin's session link, issue 10 H2).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn check_session_hash(&self, hash: &str) -> Result<SessionCheck, StoreError> {
        let (check, touch) = self.check_session_hash_untouched(hash).await?;
        if let Some(now) = touch {
            self.store.touch_session(hash, now).await?;
        }
        Ok(check)
    }

    /// As [`Self::check_session_hash`], but a due refresh of
    /// `last_seen_at` is left to the caller: `Some(now)` says one is due
    /// (write it with `Store::touch_session`). `/auth/verify` writes it in
    /// the background, so its answers never wait for the database's write
    /// lock (held for a second by a crisis rotation's start, say).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn check_session_hash_untouched(
        &self,
        hash: &str,
    ) -> Result<(SessionCheck, Option<UnixTime>), StoreError> {
        let now = self.clock.now();
        let Some(session) = self.store.session(hash).await? else {
            return Ok((SessionCheck::Invalid, None));
        };
        let state = self.sessions.evaluate(&session, now);
        let touch = matches!(state, SessionState::Valid { needs_touch: true }).then_some(now);
        let check = self.judge_session(hash, session, state, now).await?;
        let touch = touch.filter(|_| {
            matches!(
                check,
                SessionCheck::Active { .. } | SessionCheck::MustChangePassword { .. }
            )
        });
        Ok((check, touch))
    }

    /// What a stored session amounts to now; ends it when it has expired,
    /// idled out or been overtaken by a crisis rotation.
    async fn judge_session(
        &self,
        hash: &str,
        session: SessionRecord,
        state: SessionState,
        now: UnixTime,
    ) -> Result<SessionCheck, StoreError> {
        match state {
            SessionState::Revoked if !session.end_reason.is_empty() => Ok(SessionCheck::Ended {
                reason: session.end_reason,
            }),
            SessionState::Revoked => Ok(SessionCheck::Invalid),
            SessionState::Expired => {
                self.store.revoke_session(hash, now).await?;
                Ok(SessionCheck::Expired)
            }
            SessionState::Idle => {
                self.store.revoke_session(hash, now).await?;
                Ok(SessionCheck::Idle)
            }
            SessionState::Valid { .. } => {
                let user = self
                    .store
                    .user(&session.organisation_id, &session.user_id)
                    .await?;
                let Some(user) = user.filter(User::is_active) else {
                    return Ok(SessionCheck::Invalid);
                };
                if user.credential_epoch != session.credential_epoch {
                    // A crisis rotation moved the account on after this
                    // session's sign-in began (it overlapped the rotation).
                    self.store.revoke_session(hash, now).await?;
                    return Ok(SessionCheck::Ended {
                        reason: "crisis_rotation".into(),
                    });
                }
                if session.pending_mfa {
                    if now - session.created_at > PENDING_MFA_SECS {
                        self.store.revoke_session(hash, now).await?;
                        return Ok(SessionCheck::Invalid);
                    }
                    return Ok(SessionCheck::Pending {
                        session: Box::new(session),
                        user: Box::new(user),
                    });
                }
                if user.must_change_password {
                    return Ok(SessionCheck::MustChangePassword {
                        session: Box::new(session),
                        user: Box::new(user),
                    });
                }
                Ok(SessionCheck::Active {
                    session: Box::new(session),
                    user: Box::new(user),
                })
            }
        }
    }

    /// Ends one session (sign-out).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn sign_out(&self, token: &SessionToken) -> Result<(), StoreError> {
        self.store
            .revoke_session(&token.hash(), self.clock.now())
            .await
    }

    /// Changes the user's own password after checking the current one; ends
    /// every other session and returns a fresh one for this browser.
    ///
    /// # Errors
    /// See [`ChangePasswordError`].
    pub async fn change_password(
        &self,
        user: &User,
        organisation: &Organisation,
        session: &SessionRecord,
        current: &str,
        new: &str,
        client: &ClientInfo,
    ) -> Result<SessionToken, ChangePasswordError> {
        // The same counters, delays and lock as sign-in (issue 10 M2).
        if let Err(r) = self
            .take_try(&organisation.id, &user.username, client)
            .await?
        {
            self.event(
                Some(&organisation.id),
                Some(user),
                client,
                EventResult::Failure,
                super::reset::refusal_reason(r),
            )
            .await?;
            return Err(ChangePasswordError::Refused(r));
        }
        // Someone a crisis rotation left without a password (issue 15)
        // chooses a first one on the proof of their start code: this
        // session began with it, or they type it as the current password
        // (after a passkey sign-in, say). Nothing else will do: a session
        // made otherwise may be an intruder's.
        let v = self
            .hasher
            .verify(current, user.password_hash.as_deref())
            .await?;
        let first_password = user.password_hash.is_none()
            && (session.start_code.as_deref() == Some(crate::store::START_CODE_USED)
                || self.spend_start_code(user, current).await?);
        if !v.matches && !first_password {
            self.wrong_secret(client);
            self.event(
                Some(&organisation.id),
                Some(user),
                client,
                EventResult::Failure,
                "bad_current_password",
            )
            .await?;
            return Err(ChangePasswordError::WrongCurrent);
        }
        self.store
            .clear_failures(&organisation.id, &user.username)
            .await?;
        if current == new {
            return Err(ChangePasswordError::Unchanged);
        }
        let words = [organisation.name.as_str(), organisation.slug.as_str()];
        check_new_password_of(
            new,
            &PasswordContext {
                min_length: self.min_password_length,
                organisation_words: &words,
                username: user.username.as_str(),
            },
            &[user.display_name.as_str()],
        )?;
        let hash = self.hasher.hash(new).await?;
        let now = self.clock.now();
        self.store
            .set_password_hash(&organisation.id, &user.id, &hash, false)
            .await?;
        self.store
            .revoke_user_sessions(&organisation.id, &user.id, "password", now)
            .await?;
        let token = self
            .create_session(user, client, Amr::of(Method::Password), false)
            .await?;
        self.event(
            Some(&organisation.id),
            Some(user),
            client,
            EventResult::Success,
            "password_changed",
        )
        .await?;
        Ok(token)
    }
}
