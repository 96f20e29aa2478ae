//! Forgotten password: reset with a factor registered *beforehand* (seed
//! 003). Every request gets the same answer whether or not the account
//! exists or has a factor (SECURITY.md A1, A5): codes go to every
//! registered address and number, an authenticator's code is accepted too,
//! and someone who never registered is told to visit servicedesk.

use super::codes::{self, MAX_TRIES};
use super::password::HashError;
use super::password_rules::{check_new_password, PasswordContext, PasswordRuleError};
use super::session::SessionToken;
use super::signin::{AuthService, ClientInfo};
use crate::domain::Username;
use crate::error::StoreError;
use crate::ids::EventId;
use crate::store::{CodeChallenge, CodeCheck, EventResult, FactorKind};
use thiserror::Error;

pub const PURPOSE: &str = "reset";

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
    pub language: Option<String>,
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
        let user = self
            .store
            .user_by_username(&org.id, &username)
            .await?
            .filter(|u| !u.disabled);
        let Some(user) = user else {
            // Counted like a failure, so probing many names is throttled.
            self.ip_throttle.record_failure(client.ip, now);
            return Ok(started);
        };
        let factors = self.store.factors(&org.id, &user.id).await?;
        let confirmed: Vec<_> = factors.into_iter().filter(|f| f.confirmed).collect();
        if confirmed.is_empty() {
            self.event_for(
                "reset",
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                "no_factor_registered",
            )
            .await?;
            return Ok(started);
        }
        let id = EventId::generate().to_string();
        let code = codes::generate();
        self.store
            .create_challenge(&CodeChallenge {
                code_hash: codes::hash(&id, &code),
                id,
                organisation_id: org.id.clone(),
                user_id: user.id.clone(),
                session_hash,
                purpose: PURPOSE.into(),
                channel: FactorKind::Email,
                destination: String::new(),
                created_at: now,
                expires_at: started.expires_at,
            })
            .await?;
        started.destinations = confirmed
            .iter()
            .filter(|f| matches!(f.kind, FactorKind::Email | FactorKind::Sms))
            .filter_map(|f| f.destination.clone().map(|d| (f.kind, d)))
            .collect();
        started.code = Some(code);
        started.organisation = Some(org.id.clone());
        started.language.clone_from(&user.language);
        self.event_for(
            "reset",
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
    /// session of the account.
    ///
    /// # Errors
    /// One answer for every code problem; password rule violations.
    pub async fn finish_reset(
        &self,
        token: &SessionToken,
        code: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<(), ResetError> {
        let now = self.clock.now();
        let hash = token.hash();
        let Some((org_id, user_id)) = self.store.challenge_owner(&hash, PURPOSE, now).await? else {
            return Err(ResetError::Code);
        };
        let org = self
            .store
            .organisation(&org_id)
            .await?
            .ok_or(ResetError::Code)?;
        let user = self
            .store
            .user(&org_id, &user_id)
            .await?
            .ok_or(ResetError::Code)?;
        // Rules first: a rejected password must not use up the code.
        self.check_reset_password(&org, &user, new_password)?;
        let accepted = match self
            .store
            .use_challenge(&hash, PURPOSE, &codes::normalise(code), now, MAX_TRIES)
            .await?
        {
            CodeCheck::Accepted { .. } => true,
            CodeCheck::Void => false,
            CodeCheck::Wrong { .. } => {
                let used = self.consume_any_totp(&user, code, now).await?;
                if used {
                    self.store.void_challenges(&hash, PURPOSE, now).await?;
                }
                used
            }
        };
        if !accepted {
            self.event_for(
                "reset",
                Some(&org_id),
                Some(&user),
                client,
                EventResult::Failure,
                "bad_code",
            )
            .await?;
            return Err(ResetError::Code);
        }
        self.complete_reset(&user, new_password, client, "password_reset")
            .await
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
        check_new_password(
            new_password,
            &PasswordContext {
                min_length: self.min_password_length,
                organisation_words: &words,
                username: user.username.as_str(),
            },
        )
    }

    /// The end of every reset, by code or passkey: the new password, every
    /// session ended, a lock lifted, and an event.
    pub(crate) async fn complete_reset<E: From<HashError> + From<StoreError>>(
        &self,
        user: &crate::store::User,
        new_password: &str,
        client: &ClientInfo,
        reason: &str,
    ) -> Result<(), E> {
        let (org, id) = (&user.organisation_id, &user.id);
        let new_hash = self.hasher.hash(new_password).await?;
        self.store
            .set_password_hash(org, id, &new_hash, false)
            .await?;
        self.store
            .revoke_user_sessions(org, id, self.clock.now())
            .await?;
        self.store.clear_failures(org, &user.username).await?;
        self.event_for(
            "reset",
            Some(org),
            Some(user),
            client,
            EventResult::Success,
            reason,
        )
        .await?;
        Ok(())
    }
}
