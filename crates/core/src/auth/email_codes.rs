//! Codes by e-mail and SMS: registering an address or a mobile number
//! (proved by a code sent to it) and using it as the second step of signing
//! in. Both are weaker factors than an app (NIST SP 800-63B: e-mail is not
//! a valid out-of-band channel at all, SMS is "restricted"): sessions
//! record `email` or `sms` in their methods so access rules can refuse them.

use super::codes::{self, MAX_TRIES};
use super::guard::CODE_BUDGET;
use super::mfa::{FactorError, SecondFactorError};
use super::session::SessionToken;
use super::signin::{AuthService, ClientInfo, SessionCheck};
use crate::access::Method;
use crate::domain::PhoneNumber;
use crate::error::StoreError;
use crate::ids::{EventId, FactorId};
use crate::store::{
    CodeChallenge, CodeCheck, EventResult, Factor, FactorKind, Purpose, SessionRecord,
    SignInMethod, User,
};
use thiserror::Error;

/// Least time between two codes for the same attempt.
pub const RESEND_SECS: i64 = 60;
/// Mobile numbers per user (seed 004: "som mest två").
pub const MAX_NUMBERS: usize = 2;

#[derive(Debug, Error)]
pub enum SendCodeError {
    #[error("wait before asking for another code")]
    TooSoon { retry_at: i64 },
    /// The account has been sent as many codes as it may for now (H1, L1).
    #[error("too many codes for this account")]
    TooMany { retry_at: i64 },
    /// The organisation does not accept this number for codes (any more).
    #[error("number not accepted")]
    NumberRefused,
    #[error("no such factor")]
    NotFound,
    #[error("the sign-in attempt is over")]
    AttemptOver,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A code to deliver, and where.
#[derive(Debug)]
pub struct IssuedCode {
    pub code: String,
    pub channel: FactorKind,
    pub destination: String,
    pub expires_at: i64,
}

/// `a…n@kommun.se`: enough to recognise one's address, not enough to harvest it.
#[must_use]
pub fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            let last: String = if local.chars().count() > 2 {
                local.chars().last().into_iter().collect()
            } else {
                String::new()
            };
            format!("{first}…{last}@{domain}")
        }
        None => "…".into(),
    }
}

/// An address codes can be delivered to ([`crate::domain::EmailAddress`]:
/// no address literals, a dotted domain, no look-alikes, ≤ 254 chars).
#[must_use]
pub fn valid_address(s: &str) -> bool {
    crate::domain::EmailAddress::parse(s).is_ok()
}

impl AuthService {
    async fn issue(
        &self,
        session: &SessionRecord,
        user: &User,
        purpose: Purpose,
        channel: FactorKind,
        destination: &str,
    ) -> Result<IssuedCode, SendCodeError> {
        let now = self.clock.now();
        if let Some(last) = self
            .store
            .latest_challenge_at(&session.token_hash, &purpose)
            .await?
        {
            if now - last < RESEND_SECS {
                return Err(SendCodeError::TooSoon {
                    retry_at: last + RESEND_SECS,
                });
            }
        }
        if channel == FactorKind::Sms && !self.may_text(user, destination).await? {
            return Err(SendCodeError::NumberRefused);
        }
        let id = EventId::generate().to_string();
        let code = codes::generate();
        let expires_at = now + self.code_validity_secs;
        // Within the account's budget, checked and stored in one step so
        // parallel requests cannot overshoot it (H1, L1).
        if let Some(retry_at) = self
            .store
            .create_challenge_within(
                &CodeChallenge {
                    code_hash: codes::hash(&id, &code),
                    id,
                    organisation_id: user.organisation_id.clone(),
                    user_id: user.id.clone(),
                    session_hash: session.token_hash.clone(),
                    purpose,
                    channel,
                    destination: destination.into(),
                    created_at: now,
                    expires_at,
                },
                &CODE_BUDGET,
            )
            .await?
        {
            return Err(SendCodeError::TooMany { retry_at });
        }
        Ok(IssuedCode {
            code,
            channel,
            destination: destination.into(),
            expires_at,
        })
    }

    /// Whether the organisation accepts `number` for codes today (a number
    /// registered before a rule changed is not texted either: issue 10 L1).
    pub(crate) async fn may_text(&self, user: &User, number: &str) -> Result<bool, StoreError> {
        Ok(self
            .store
            .organisation(&user.organisation_id)
            .await?
            .is_some_and(|o| {
                PhoneNumber::from_stored(number.to_owned())
                    .check_accepted(&o.sms_country_codes)
                    .is_ok()
            }))
    }

    /// A sign-in code to one of the user's registered addresses or numbers.
    ///
    /// # Errors
    /// Too soon after the last code, unknown factor, or no pending sign-in.
    pub async fn send_signin_code(
        &self,
        token: &SessionToken,
        factor: &FactorId,
    ) -> Result<IssuedCode, SendCodeError> {
        let SessionCheck::Pending { session, user } = self.check_session(token).await? else {
            return Err(SendCodeError::AttemptOver);
        };
        let factors = self.store.factors(&user.organisation_id, &user.id).await?;
        let f = factors
            .iter()
            .find(|f| {
                &f.id == factor
                    && f.confirmed
                    && matches!(f.kind, FactorKind::Email | FactorKind::Sms)
            })
            .ok_or(SendCodeError::NotFound)?;
        let destination = f.destination.clone().ok_or(SendCodeError::NotFound)?;
        self.issue(&session, &user, Purpose::SignIn, f.kind, &destination)
            .await
    }

    /// Checks a code sent by e-mail or SMS for a pending sign-in.
    ///
    /// # Errors
    /// Wrong code (with tries left), or the attempt is over.
    pub async fn verify_sent_code(
        &self,
        token: &SessionToken,
        code: &str,
        client: &ClientInfo,
    ) -> Result<SessionToken, SecondFactorError> {
        let SessionCheck::Pending { session, user } = self.check_session(token).await? else {
            return Err(SecondFactorError::AttemptOver);
        };
        if !codes::is_well_formed(&codes::normalise(code)) {
            return Err(SecondFactorError::Malformed);
        }
        self.second_factor_gate(&user, client).await?;
        let now = self.clock.now();
        match self
            .store
            .use_challenge(
                &session.token_hash,
                &Purpose::SignIn,
                &codes::normalise(code),
                now,
                MAX_TRIES,
            )
            .await?
        {
            CodeCheck::Accepted { destination, .. } => {
                let factors = self.store.factors(&user.organisation_id, &user.id).await?;
                let kind = factors
                    .iter()
                    .find(|f| f.destination.as_deref() == Some(destination.as_str()))
                    .map_or(FactorKind::Email, |f| f.kind);
                let method = if kind == FactorKind::Sms {
                    Method::Sms
                } else {
                    Method::Email
                };
                Ok(self
                    .complete_second_factor(&session, &user, client, method)
                    .await?)
            }
            CodeCheck::Wrong { tries_left } => {
                self.wrong_code(&session, &user, client, SignInMethod::SentCode, tries_left)
                    .await
            }
            CodeCheck::Void => {
                // No code was looked at: the account's try is taken back.
                self.forgive_try(&user.organisation_id, &user.username)
                    .await?;
                Err(SecondFactorError::CodeVoid)
            }
        }
    }

    /// Starts registering an address: stores it unconfirmed and returns a
    /// code to send there.
    ///
    /// # Errors
    /// A bad address, or a code asked for too soon.
    pub async fn start_email_factor(
        &self,
        session: &SessionRecord,
        user: &User,
        address: &str,
    ) -> Result<(Factor, IssuedCode), FactorError> {
        let address = address.trim().to_lowercase();
        if !valid_address(&address) {
            return Err(FactorError::BadAddress);
        }
        self.start_sent_factor(session, user, FactorKind::Email, &address, address.clone())
            .await
    }

    /// Stores an unconfirmed address or number and issues the code that
    /// will confirm it.
    async fn start_sent_factor(
        &self,
        session: &SessionRecord,
        user: &User,
        kind: FactorKind,
        destination: &str,
        label: String,
    ) -> Result<(Factor, IssuedCode), FactorError> {
        let factor = Factor {
            id: FactorId::generate(),
            organisation_id: user.organisation_id.clone(),
            user_id: user.id.clone(),
            kind,
            label,
            secret: None,
            destination: Some(destination.to_owned()),
            confirmed: false,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        let purpose = Purpose::Confirm(factor.id.clone());
        let issued = match self.issue(session, user, purpose, kind, destination).await {
            Ok(i) => i,
            Err(SendCodeError::Store(e)) => return Err(e.into()),
            Err(SendCodeError::TooMany { .. }) => return Err(FactorError::TooManyCodes),
            Err(SendCodeError::NumberRefused) => {
                return Err(FactorError::BadPhone(
                    crate::domain::PhoneError::NotAccepted,
                ))
            }
            Err(_) => return Err(FactorError::TooSoon),
        };
        self.store.add_factor(&factor).await?;
        Ok((factor, issued))
    }

    /// Starts registering a mobile number: at most two (seed 004), digits
    /// only after normalisation; a code is sent there by SMS.
    ///
    /// # Errors
    /// A bad number, a third number, a number already registered, or a code asked for too soon.
    pub async fn start_sms_factor(
        &self,
        session: &SessionRecord,
        user: &User,
        raw: &str,
    ) -> Result<(Factor, IssuedCode), FactorError> {
        let number = PhoneNumber::parse(raw).map_err(FactorError::BadPhone)?;
        let org = self
            .store
            .organisation(&user.organisation_id)
            .await?
            .ok_or(FactorError::NotFound)?;
        number
            .check_accepted(&org.sms_country_codes)
            .map_err(FactorError::BadPhone)?;
        // A number waiting for its code counts toward the two (L1), until
        // its code has expired; then it is cleared away.
        let now = self.clock.now();
        let mut numbers: Vec<Factor> = Vec::new();
        for f in self.store.factors(&user.organisation_id, &user.id).await? {
            if f.kind != FactorKind::Sms {
                continue;
            }
            if f.confirmed || now - f.created_at < self.code_validity_secs {
                numbers.push(f);
            } else {
                self.store
                    .remove_factor(&user.organisation_id, &user.id, &f.id, false)
                    .await?;
            }
        }
        if numbers
            .iter()
            .any(|f| f.destination.as_deref() == Some(number.digits()))
        {
            return Err(FactorError::Duplicate);
        }
        if numbers.len() >= MAX_NUMBERS {
            return Err(FactorError::TooMany);
        }
        self.start_sent_factor(
            session,
            user,
            FactorKind::Sms,
            number.digits(),
            number.masked(),
        )
        .await
    }

    /// Confirms an address or number with the code sent to it.
    ///
    /// # Errors
    /// Wrong or void code, or an unknown factor.
    pub async fn confirm_sent_factor(
        &self,
        session: &SessionRecord,
        user: &User,
        factor: &FactorId,
        code: &str,
        client: &ClientInfo,
    ) -> Result<(), FactorError> {
        let factors = self.store.factors(&user.organisation_id, &user.id).await?;
        let f = factors
            .iter()
            .find(|f| {
                &f.id == factor
                    && !f.confirmed
                    && matches!(f.kind, FactorKind::Email | FactorKind::Sms)
            })
            .ok_or(FactorError::NotFound)?;
        let purpose = Purpose::Confirm(f.id.clone());
        match self
            .store
            .use_challenge(
                &session.token_hash,
                &purpose,
                &codes::normalise(code),
                self.clock.now(),
                MAX_TRIES,
            )
            .await?
        {
            CodeCheck::Accepted { destination, .. }
                if Some(&destination) == f.destination.as_ref() =>
            {
                if !self
                    .store
                    .confirm_factor(&user.organisation_id, &user.id, factor, &f.label, 0)
                    .await?
                {
                    return Err(FactorError::NotFound);
                }
                self.event_for(
                    SignInMethod::Email,
                    Some(&user.organisation_id),
                    Some(user),
                    client,
                    EventResult::Success,
                    "factor_registered",
                )
                .await?;
                Ok(())
            }
            _ => Err(FactorError::WrongCode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_masked() {
        assert!(valid_address("anna.andersson@exempelkommun.se"));
        for bad in [
            "anna",
            "a@b",
            "a b@c.se",
            "a@b.se\r\nBcc: x@y.se",
            "<a@b.se>",
            "a@@b.se",
            "@b.se",
            "a@.se",
        ] {
            assert!(!valid_address(bad), "{bad:?}");
        }
        assert_eq!(
            masked("anna.andersson@exempelkommun.se"),
            "a…n@exempelkommun.se"
        );
        assert_eq!(masked("ab@x.se"), "a…@x.se");
    }
}
