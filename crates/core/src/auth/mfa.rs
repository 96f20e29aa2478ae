//! Second factors: when they are needed, registering an authenticator app,
//! checking a code at sign-in, removing a factor, and re-authentication
//! before sensitive changes (SECURITY.md B4).

use super::guard::Refusal;
use super::session::SessionToken;
use super::signin::{AuthService, ClientInfo, SessionCheck, PENDING_MFA_SECS};
use super::totp::TotpSecret;
use crate::access::Method;
use crate::domain::{MfaPolicy, ZoneCidrs};
use crate::error::StoreError;
use crate::ids::{FactorId, OrganisationId};
use crate::store::{
    EventResult, Factor, FactorKind, Organisation, SessionRecord, SignInMethod, User,
};
use std::net::IpAddr;
use thiserror::Error;

/// How recent a sign-in must be to change password, numbers or factors.
pub const FRESH_SECS: i64 = 5 * 60;
/// Wrong codes allowed per sign-in attempt (SECURITY.md A4).
pub const MAX_CODE_TRIES: u32 = 5;

#[derive(Debug, Error)]
pub enum SecondFactorError {
    #[error("wrong code")]
    WrongCode { tries_left: u32 },
    /// Too many wrong codes, or the attempt is too old: sign in again.
    #[error("attempt is over")]
    AttemptOver,
    /// No live code: expired, already used, or replaced by a newer one.
    #[error("code no longer valid")]
    CodeVoid,
    /// Not six digits: nothing was checked and no try was used.
    #[error("not a six-digit code")]
    Malformed,
    /// The account or the address has failed too often.
    #[error(transparent)]
    Refused(Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Error)]
pub enum FactorError {
    #[error("the code is wrong or expired")]
    WrongCode,
    #[error("only from an internal network")]
    OutsideInternal,
    #[error("sign in again first")]
    NotFresh,
    #[error("name must be 1–60 characters")]
    BadLabel,
    #[error("the last factor cannot be removed")]
    LastFactor,
    #[error("no such factor")]
    NotFound,
    #[error("not an e-mail address")]
    BadAddress,
    #[error("wait before asking for another code")]
    TooSoon,
    /// The account or the address has failed too often.
    #[error(transparent)]
    Refused(Refusal),
    /// The account has been sent as many codes as it may for now.
    #[error("too many codes sent")]
    TooManyCodes,
    #[error("not a mobile number: {0}")]
    BadPhone(crate::domain::PhoneError),
    #[error("at most two numbers")]
    TooMany,
    #[error("already registered")]
    Duplicate,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a person can complete a second step with (see
/// [`AuthService::usable_factors`]).
#[derive(Debug, Default)]
pub struct UsableFactors {
    pub app: bool,
    pub passkey: bool,
    /// Addresses and numbers a code can be sent to, in registration order.
    pub sent: Vec<Factor>,
}

impl UsableFactors {
    #[must_use]
    pub fn any(&self) -> bool {
        self.app || self.passkey || !self.sent.is_empty()
    }
}

impl AuthService {
    async fn internal_zones(&self, org: &Organisation) -> Result<Vec<ZoneCidrs>, StoreError> {
        let zones = self.store.zones(&org.id).await?;
        // A stored zone that no longer parses is skipped: that can only make
        // a client count as outside, never inside (fail closed).
        Ok(zones
            .iter()
            .filter_map(|z| ZoneCidrs::parse(&z.cidrs.split(',').collect::<Vec<_>>()).ok())
            .collect())
    }

    /// The slug of the organisation's zone `ip` is in, if any.
    ///
    /// # Errors
    /// Store failures.
    pub async fn zone_of(
        &self,
        org: &OrganisationId,
        ip: IpAddr,
    ) -> Result<Option<String>, StoreError> {
        Ok(self.store.zones(org).await?.into_iter().find_map(|z| {
            ZoneCidrs::parse(&z.cidrs.split(',').collect::<Vec<_>>())
                .is_ok_and(|c| c.contains(ip))
                .then(|| z.slug.as_str().to_owned())
        }))
    }

    /// Whether `ip` is inside one of the organisation's network zones.
    ///
    /// # Errors
    /// Store failures.
    pub async fn is_inside(&self, org: &Organisation, ip: IpAddr) -> Result<bool, StoreError> {
        Ok(self
            .internal_zones(org)
            .await?
            .iter()
            .any(|z| z.contains(ip)))
    }

    pub(crate) async fn second_factor_required(
        &self,
        org: &Organisation,
        ip: IpAddr,
    ) -> Result<bool, StoreError> {
        if org.mfa_policy == MfaPolicy::Never {
            return Ok(false);
        }
        Ok(org
            .mfa_policy
            .requires_second_factor(ip, &self.internal_zones(org).await?))
    }

    pub(crate) async fn has_confirmed_factor(&self, user: &User) -> Result<bool, StoreError> {
        Ok(self
            .store
            .factors(&user.organisation_id, &user.id)
            .await?
            .iter()
            .any(|f| f.confirmed))
    }

    /// The second factors this person can use right now: confirmed, and of
    /// a kind this installation can serve (`delivers` says which kinds of
    /// sent code have a working sender; passkeys need passkeys configured).
    ///
    /// # Errors
    /// Store failures.
    pub async fn usable_factors(
        &self,
        user: &User,
        delivers: impl Fn(FactorKind) -> bool,
    ) -> Result<UsableFactors, StoreError> {
        let mut usable = UsableFactors::default();
        for f in self.store.factors(&user.organisation_id, &user.id).await? {
            if !f.confirmed {
                continue;
            }
            match f.kind {
                FactorKind::Totp => usable.app = true,
                FactorKind::Passkey => usable.passkey |= self.passkeys_enabled(),
                kind if delivers(kind) && f.destination.is_some() => usable.sent.push(f),
                _ => {}
            }
        }
        Ok(usable)
    }

    /// Checks an authenticator code for a pending sign-in and, when right,
    /// replaces the pending session with a full one (a new token).
    ///
    /// # Errors
    /// Wrong code (with tries left), or the attempt is over.
    pub async fn verify_totp(
        &self,
        token: &SessionToken,
        code: &str,
        client: &ClientInfo,
    ) -> Result<SessionToken, SecondFactorError> {
        let SessionCheck::Pending { session, user } = self.check_session(token).await? else {
            return Err(SecondFactorError::AttemptOver);
        };
        if !super::codes::is_well_formed(&super::codes::normalise(code)) {
            return Err(SecondFactorError::Malformed);
        }
        // The try is counted (atomically, in the store) before the code is
        // looked at, so parallel guesses cannot exceed the limit (M1, G3),
        // first for this attempt, then for the account.
        let tries = self.store.count_mfa_try(&token.hash()).await?;
        if tries > MAX_CODE_TRIES {
            self.store
                .revoke_session(&session.token_hash, self.clock.now())
                .await?;
            return Err(SecondFactorError::AttemptOver);
        }
        self.second_factor_gate(&user, client).await?;
        let now = self.clock.now();
        if self.consume_any_totp(&user, code, now).await? {
            return Ok(self
                .complete_second_factor(&session, &user, client, Method::App)
                .await?);
        }
        self.wrong_code(
            &session,
            &user,
            client,
            SignInMethod::App,
            MAX_CODE_TRIES.saturating_sub(tries),
        )
        .await
    }

    /// A locked or delayed account, or a throttled address, gets no code
    /// checked, even in a sign-in whose password was right (issue 10 H1).
    pub(crate) async fn second_factor_gate(
        &self,
        user: &User,
        client: &ClientInfo,
    ) -> Result<(), SecondFactorError> {
        match self
            .take_try(&user.organisation_id, &user.username, client)
            .await?
        {
            Ok(()) => Ok(()),
            Err(r) => {
                self.event_for(
                    SignInMethod::App,
                    Some(&user.organisation_id),
                    Some(user),
                    client,
                    EventResult::Failure,
                    super::reset::refusal_reason(r),
                )
                .await?;
                Err(SecondFactorError::Refused(r))
            }
        }
    }

    /// A wrong second-factor code: counts toward the account lock, is
    /// recorded, and ends the pending sign-in when no tries are left.
    pub(crate) async fn wrong_code(
        &self,
        session: &SessionRecord,
        user: &User,
        client: &ClientInfo,
        method: SignInMethod,
        tries_left: u32,
    ) -> Result<SessionToken, SecondFactorError> {
        let now = self.clock.now();
        self.wrong_secret(client);
        self.event_for(
            method,
            Some(&user.organisation_id),
            Some(user),
            client,
            EventResult::Failure,
            "bad_code",
        )
        .await?;
        if tries_left == 0 {
            self.store.revoke_session(&session.token_hash, now).await?;
            return Err(SecondFactorError::AttemptOver);
        }
        Err(SecondFactorError::WrongCode { tries_left })
    }

    /// Accepts `code` from any of the user's confirmed apps, each step once.
    pub(crate) async fn consume_any_totp(
        &self,
        user: &User,
        code: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let Some((factor, step)) = self.matching_totp(user, code, now).await? else {
            return Ok(false);
        };
        self.store
            .consume_totp_step(&user.organisation_id, &user.id, &factor, step, now)
            .await
    }

    /// The app and time step `code` matches, without using it up (the
    /// store refuses a used step when it is consumed).
    pub(crate) async fn matching_totp(
        &self,
        user: &User,
        code: &str,
        now: i64,
    ) -> Result<Option<(FactorId, i64)>, StoreError> {
        let factors = self.store.factors(&user.organisation_id, &user.id).await?;
        for f in factors
            .iter()
            .filter(|f| f.confirmed && f.kind == FactorKind::Totp)
        {
            let Some(secret) = f.secret.as_deref().and_then(TotpSecret::parse) else {
                continue;
            };
            let Some(step) = secret.matching_step(code, now) else {
                continue;
            };
            let step = i64::try_from(step).unwrap_or(i64::MAX);
            return Ok(Some((f.id.clone(), step)));
        }
        Ok(None)
    }

    /// Replaces a pending session with a full one whose `amr` adds
    /// `method` to what the pending one recorded (`pwd` after a password,
    /// or whatever a step-up started from).
    pub(crate) async fn complete_second_factor(
        &self,
        pending: &SessionRecord,
        user: &User,
        client: &ClientInfo,
        method: Method,
    ) -> Result<SessionToken, StoreError> {
        let amr = pending.amr.clone().with(method);
        let now = self.clock.now();
        self.store.revoke_session(&pending.token_hash, now).await?;
        // A sign-in begun with a start code uses it up now, with the
        // second factor done (issue 15).
        let start_code = match &pending.start_code {
            Some(h) if h != crate::store::START_CODE_USED => {
                if !self
                    .store
                    .use_start_code(&user.organisation_id, &user.id, h, now)
                    .await?
                {
                    return Err(StoreError::Conflict("start code already used".into()));
                }
                Some(crate::store::START_CODE_USED.to_owned())
            }
            other => other.clone(),
        };
        self.store
            .clear_failures(&user.organisation_id, &user.username)
            .await?;
        let token = self
            .create_session_with(user, client, amr, false, start_code)
            .await?;
        self.event_for(
            method.into(),
            Some(&user.organisation_id),
            Some(user),
            client,
            EventResult::Success,
            "ok",
        )
        .await?;
        Ok(token)
    }

    /// Starts a step-up for a service that needs a stronger method: a new
    /// pending session that keeps the methods already used, completed by
    /// a second factor with one more (seed 004: services depend on "what
    /// you signed in with"). The session it started from stays valid until
    /// the step-up completes, so the person can cancel and carry on
    /// ([`Self::resume_after_step_up`]).
    ///
    /// `None` (and nothing changes) when the person has no second factor to
    /// step up with: a pending session they could not complete would lock
    /// them out of their own portal.
    ///
    /// # Errors
    /// Store failures.
    pub async fn step_up(
        &self,
        session: &SessionRecord,
        user: &User,
        client: &ClientInfo,
    ) -> Result<Option<SessionToken>, StoreError> {
        if !self.has_confirmed_factor(user).await? {
            return Ok(None);
        }
        let token = self
            .create_session(user, client, session.amr.clone(), true)
            .await?;
        self.event_for(
            SignInMethod::StepUp,
            Some(&user.organisation_id),
            Some(user),
            client,
            EventResult::Success,
            "started",
        )
        .await?;
        Ok(Some(token))
    }

    /// A step-up completed: the session it started from ends (only if it is
    /// the same person's; a stray token is left alone).
    ///
    /// # Errors
    /// Store failures.
    pub async fn end_replaced_session(
        &self,
        pending: &SessionRecord,
        previous: &SessionToken,
    ) -> Result<(), StoreError> {
        let hash = previous.hash();
        if let Some(old) = self.store.session(&hash).await? {
            if old.user_id == pending.user_id && old.organisation_id == pending.organisation_id {
                self.store.revoke_session(&hash, self.clock.now()).await?;
            }
        }
        Ok(())
    }

    /// Cancels a step-up: the pending session ends and, when `previous` is
    /// still a live full session of the same person, it is handed back.
    /// Anything else (another person's token, an ended session, a pending
    /// one) gives `false`, so a cancelled sign-in never becomes a session.
    ///
    /// # Errors
    /// Store failures.
    pub async fn resume_after_step_up(
        &self,
        pending: &SessionRecord,
        previous: &SessionToken,
    ) -> Result<bool, StoreError> {
        self.store
            .revoke_session(&pending.token_hash, self.clock.now())
            .await?;
        Ok(match self.check_session(previous).await? {
            SessionCheck::Active { session, .. } => {
                session.user_id == pending.user_id
                    && session.organisation_id == pending.organisation_id
                    && session.token_hash != pending.token_hash
            }
            _ => false,
        })
    }

    /// Whether the session's sign-in is recent enough for sensitive changes.
    #[must_use]
    pub fn is_fresh(&self, session: &SessionRecord) -> bool {
        self.clock.now() - session.created_at <= FRESH_SECS
    }

    /// Asks for the password again and returns a new session token with a
    /// fresh sign-in time; the old session ends.
    ///
    /// # Errors
    /// `NotFresh` when the password is wrong.
    pub async fn reauthenticate(
        &self,
        session: &SessionRecord,
        user: &User,
        password: &str,
        client: &ClientInfo,
    ) -> Result<SessionToken, FactorError> {
        // The same counters, delays and lock as sign-in (issue 10 M2): a
        // session must not be a way to keep guessing a locked password.
        if let Err(r) = self
            .take_try(&user.organisation_id, &user.username, client)
            .await?
        {
            self.event(
                Some(&user.organisation_id),
                Some(user),
                client,
                EventResult::Failure,
                super::reset::refusal_reason(r),
            )
            .await?;
            return Err(FactorError::Refused(r));
        }
        let v = self
            .hasher
            .verify(password, user.password_hash.as_deref())
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        if !v.matches {
            self.wrong_secret(client);
            self.event(
                Some(&user.organisation_id),
                Some(user),
                client,
                EventResult::Failure,
                "reauth_bad_password",
            )
            .await?;
            return Err(FactorError::NotFresh);
        }
        self.store
            .clear_failures(&user.organisation_id, &user.username)
            .await?;
        self.store
            .revoke_session(&session.token_hash, self.clock.now())
            .await?;
        let token = self
            .create_session(user, client, session.amr.clone(), false)
            .await?;
        self.event(
            Some(&user.organisation_id),
            Some(user),
            client,
            EventResult::Success,
            "reauth",
        )
        .await?;
        Ok(token)
    }

    /// Checks what registering a factor requires: a fresh sign-in, and by
    /// default being inside an internal zone (seed 004).
    ///
    /// # Errors
    /// `NotFresh` or `OutsideInternal`.
    pub async fn may_register(
        &self,
        org: &Organisation,
        session: &SessionRecord,
        ip: IpAddr,
        inside_only: bool,
    ) -> Result<(), FactorError> {
        if !self.is_fresh(session) {
            return Err(FactorError::NotFresh);
        }
        if inside_only && !self.is_inside(org, ip).await? {
            return Err(FactorError::OutsideInternal);
        }
        Ok(())
    }

    /// Starts registering an authenticator app: a new secret, stored but
    /// unusable until confirmed with a code.
    ///
    /// # Errors
    /// Store failures.
    pub async fn start_totp(&self, user: &User) -> Result<Factor, StoreError> {
        let factor = Factor {
            id: FactorId::generate(),
            organisation_id: user.organisation_id.clone(),
            user_id: user.id.clone(),
            kind: FactorKind::Totp,
            label: String::new(),
            secret: Some(TotpSecret::generate().base32().to_owned()),
            destination: None,
            confirmed: false,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        self.store.add_factor(&factor).await?;
        Ok(factor)
    }

    /// Finishes registering an authenticator app with a name and a code from it.
    ///
    /// # Errors
    /// Wrong code, bad name, or an unknown factor.
    pub async fn confirm_totp(
        &self,
        user: &User,
        factor: &FactorId,
        label: &str,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), FactorError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 60 || label.chars().any(char::is_control) {
            return Err(FactorError::BadLabel);
        }
        let factors = self.store.factors(&user.organisation_id, &user.id).await?;
        let f = factors
            .iter()
            .find(|f| &f.id == factor && !f.confirmed)
            .ok_or(FactorError::NotFound)?;
        let secret = f
            .secret
            .as_deref()
            .and_then(TotpSecret::parse)
            .ok_or(FactorError::NotFound)?;
        let step = secret
            .matching_step(code, self.clock.now())
            .ok_or(FactorError::WrongCode)?;
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        if !self
            .store
            .confirm_factor(&user.organisation_id, &user.id, factor, label, step)
            .await?
        {
            return Err(FactorError::NotFound);
        }
        self.event_for(
            SignInMethod::App,
            Some(&user.organisation_id),
            Some(user),
            client,
            EventResult::Success,
            "factor_registered",
        )
        .await?;
        Ok(())
    }

    /// Removes a factor; refuses to remove the last one while the
    /// organisation's policy can require a second factor.
    ///
    /// # Errors
    /// `LastFactor` or `NotFound`.
    pub async fn remove_factor(
        &self,
        org: &Organisation,
        user: &User,
        factor: &FactorId,
        client: &ClientInfo,
    ) -> Result<(), FactorError> {
        let factors = self.store.factors(&org.id, &user.id).await?;
        let f = factors
            .iter()
            .find(|f| &f.id == factor)
            .ok_or(FactorError::NotFound)?;
        let keep_one = org.mfa_policy != MfaPolicy::Never && f.confirmed;
        if !self
            .store
            .remove_factor(&org.id, &user.id, factor, keep_one)
            .await?
        {
            return Err(FactorError::LastFactor);
        }
        self.event_for(
            SignInMethod::App,
            Some(&org.id),
            Some(user),
            client,
            EventResult::Success,
            "factor_removed",
        )
        .await?;
        Ok(())
    }
}

/// How long is left of a pending sign-in, for the page that asks for the code.
#[must_use]
pub fn pending_expires_at(session: &SessionRecord) -> i64 {
    session.created_at + PENDING_MFA_SECS
}
