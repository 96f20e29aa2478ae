//! Passwordless: signing in with a passkey alone, and resetting a forgotten
//! password with one (discoverable credentials, no username typed).

use crate::access::Method;
use crate::auth::signin::{AuthService, ClientInfo, SignedIn};
use crate::error::StoreError;
use crate::store::{Amr, Ceremony, EventResult, Factor, Organisation, Purpose, SignInMethod, User};
use webauthn_rs::prelude::{DiscoverableAuthentication, Passkey};

use super::*;

impl AuthService {
    /// Starts a passwordless ceremony (sign-in or reset): no username, the
    /// browser offers the passkeys it holds for this site.
    ///
    /// # Errors
    /// Not configured; store failures.
    pub async fn start_passkey_discovery(
        &self,
        for_reset: bool,
    ) -> Result<PasskeyPrompt, PasskeyError> {
        let pk = self.passkeys()?;
        let (rcr, state) = pk
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| StoreError::Backend(format!("passkey discovery: {e:?}")))?;
        let options = browser_options(&rcr, false)?;
        let purpose = if for_reset {
            Purpose::Reset
        } else {
            Purpose::SignIn
        };
        self.save_ceremony(purpose, None, None, &state, options)
            .await
    }

    /// The account a discoverable answer names, before anything is consumed.
    async fn identify(
        &self,
        answer: &Answer,
    ) -> Result<(Organisation, User, Factor, Passkey), PasskeyError> {
        let pk = self.passkeys()?;
        let (handle, raw_id) = pk
            .webauthn
            .identify_discoverable_authentication(&answer.credential)
            .map_err(|_| PasskeyError::NotAccepted)?;
        let factor = self
            .store
            .factor_by_credential(&credential_key(raw_id))
            .await?
            .filter(|f| f.confirmed)
            .ok_or(PasskeyError::NotAccepted)?;
        let user = self
            .store
            .user(&factor.organisation_id, &factor.user_id)
            .await?
            .ok_or(PasskeyError::NotAccepted)?;
        // The authenticator's user handle must be the one given to this
        // account at registration: a credential cannot be moved to another.
        if user_handle(&user) != handle {
            return Err(PasskeyError::NotAccepted);
        }
        let org = self
            .store
            .organisation(&factor.organisation_id)
            .await?
            .ok_or(PasskeyError::NotAccepted)?;
        let key = stored_passkey(&factor).ok_or(PasskeyError::NotAccepted)?;
        Ok((org, user, factor, key))
    }

    /// Verifies a discoverable answer against its (now used) ceremony.
    async fn verify_discovered(
        &self,
        answer: &Answer,
        ceremony: &str,
        purpose: &Purpose,
        factor: &Factor,
        key: Passkey,
    ) -> Result<(), String> {
        let pk = self.passkeys().map_err(|e| e.to_string())?;
        let (_, state): (Ceremony, DiscoverableAuthentication) = self
            .take_ceremony(ceremony, purpose)
            .await
            .map_err(|_| "no_ceremony".to_owned())?;
        let result = pk
            .webauthn
            .finish_discoverable_authentication_v2(&answer.credential, state, &key)
            .map_err(|e| format!("rejected:{e:?}"))?;
        self.record_use(factor, key, &result)
            .await
            .map_err(|e| e.to_string())
    }

    /// Signs in with a passkey alone. A passkey verifies the user itself
    /// (PIN or biometrics), so the session counts as multi-factor.
    ///
    /// # Errors
    /// `NotAccepted`, `Disabled`, `Locked`.
    pub async fn finish_passkey_signin(
        &self,
        ceremony: &str,
        answer: &str,
        client: &ClientInfo,
    ) -> Result<SignedIn, PasskeyError> {
        let now = self.clock.now();
        if self.ip_throttle.is_blocked(client.ip, now) {
            return Err(PasskeyError::NotAccepted);
        }
        let answer = Answer::parse(answer)?;
        let (org, user, factor, key) = match self.identify(&answer).await {
            Ok(found) => found,
            Err(e) => {
                self.ip_throttle.record_failure(client.ip, now);
                self.passkey_event(None, client, EventResult::Failure, "unknown_credential")
                    .await?;
                return Err(e);
            }
        };
        if let Err(reason) = self
            .verify_discovered(&answer, ceremony, &Purpose::SignIn, &factor, key)
            .await
        {
            self.ip_throttle.record_failure(client.ip, now);
            self.passkey_event(Some(&user), client, EventResult::Failure, &reason)
                .await?;
            return Err(PasskeyError::NotAccepted);
        }
        if user.disabled {
            self.passkey_event(Some(&user), client, EventResult::Failure, "disabled")
                .await?;
            return Err(PasskeyError::Disabled);
        }
        // A hard lock is servicedesk's call and holds for every method; the
        // short delays after wrong passwords protect passwords only.
        if self
            .store
            .throttle_state(&org.id, &user.username)
            .await?
            .is_hard_locked()
            || !user.lock_reason.is_empty()
        {
            self.passkey_event(Some(&user), client, EventResult::Failure, "locked")
                .await?;
            return Err(PasskeyError::Locked);
        }
        let token = self
            .create_session(&user, client, Amr::of(Method::Passkey), false)
            .await?;
        self.passkey_event(Some(&user), client, EventResult::Success, "ok")
            .await?;
        Ok(SignedIn {
            token,
            user,
            organisation: org,
            pending_mfa: false,
        })
    }

    /// Sets a new password for the account whose passkey answered. Rules
    /// are checked before the ceremony is used; every session ends and a
    /// lock is lifted, as with a reset by code. Answers with the account,
    /// whose contacts are then told.
    ///
    /// # Errors
    /// `NotAccepted` for any passkey problem; password rule violations.
    pub async fn finish_passkey_reset(
        &self,
        ceremony: &str,
        answer: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<crate::store::User, PasskeyError> {
        let now = self.clock.now();
        if self.ip_throttle.is_blocked(client.ip, now) {
            return Err(PasskeyError::NotAccepted);
        }
        let answer = Answer::parse(answer)?;
        let (org, user, factor, key) = match self.identify(&answer).await {
            Ok(found) => found,
            Err(e) => {
                self.ip_throttle.record_failure(client.ip, now);
                return Err(e);
            }
        };
        if !user.is_active() {
            return Err(PasskeyError::NotAccepted);
        }
        if self.store.active_freeze(&org.id).await?.is_some() {
            return Err(PasskeyError::Frozen);
        }
        // After a crisis rotation only the start code sets a password.
        if user.password_hash.is_none() && self.store.in_rotation(&org.id, &user.id).await? {
            return Err(PasskeyError::NotAccepted);
        }
        self.check_reset_password(&org, &user, new_password)?;
        if let Err(reason) = self
            .verify_discovered(&answer, ceremony, &Purpose::Reset, &factor, key)
            .await
        {
            self.ip_throttle.record_failure(client.ip, now);
            self.event_for(
                SignInMethod::Reset,
                Some(&org.id),
                Some(&user),
                client,
                EventResult::Failure,
                &reason,
            )
            .await?;
            return Err(PasskeyError::NotAccepted);
        }
        self.complete_reset(&user, new_password, client, "password_reset_passkey")
            .await
    }
}
