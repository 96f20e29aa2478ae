//! A passkey as the second factor after the password.

use crate::access::Method;
use crate::auth::session::SessionToken;
use crate::auth::signin::{AuthService, ClientInfo, SessionCheck};
use crate::error::StoreError;
use crate::store::{Ceremony, EventResult, FactorKind, Purpose};
use webauthn_rs::prelude::{Passkey, PasskeyAuthentication};

use super::*;

impl AuthService {
    /// Starts a passkey check as the second factor of a pending sign-in.
    ///
    /// # Errors
    /// `AttemptOver` when the session is not pending; `NotAccepted` when
    /// the user has no passkey.
    pub async fn start_passkey_second_factor(
        &self,
        token: &SessionToken,
    ) -> Result<PasskeyPrompt, PasskeyError> {
        let pk = self.passkeys()?;
        let SessionCheck::Pending { session, user } = self.check_session(token).await? else {
            return Err(PasskeyError::AttemptOver);
        };
        let keys: Vec<Passkey> = self
            .store
            .factors(&user.organisation_id, &user.id)
            .await?
            .iter()
            .filter(|f| f.confirmed && f.kind == FactorKind::Passkey)
            .filter_map(stored_passkey)
            .collect();
        if keys.is_empty() {
            return Err(PasskeyError::NotAccepted);
        }
        let (rcr, state) = pk
            .webauthn
            .start_passkey_authentication(&keys)
            .map_err(|e| StoreError::Backend(format!("passkey authentication: {e:?}")))?;
        let options = browser_options(&rcr, false)?;
        self.save_ceremony(
            Purpose::SecondFactor,
            Some(&user),
            Some(session.token_hash.clone()),
            &state,
            options,
        )
        .await
    }

    /// Finishes the second factor with a passkey: a new, full session.
    ///
    /// # Errors
    /// `NotAccepted` (a try is counted), `AttemptOver`.
    pub async fn finish_passkey_second_factor(
        &self,
        token: &SessionToken,
        ceremony: &str,
        answer: &str,
        client: &ClientInfo,
    ) -> Result<SessionToken, PasskeyError> {
        let pk = self.passkeys()?;
        let SessionCheck::Pending { session, user } = self.check_session(token).await? else {
            return Err(PasskeyError::AttemptOver);
        };
        let verified = async {
            let answer = Answer::parse(answer)?;
            let (c, state): (Ceremony, PasskeyAuthentication) =
                self.take_ceremony(ceremony, &Purpose::SecondFactor).await?;
            if c.session_hash.as_deref() != Some(session.token_hash.as_str()) {
                return Err(PasskeyError::NotAccepted);
            }
            let result = pk
                .webauthn
                .finish_passkey_authentication(&answer.credential, &state)
                .map_err(|e| format!("{e:?}"));
            Ok((answer, result))
        }
        .await;
        let reason = match verified {
            Ok((answer, Ok(result))) => {
                let key = credential_key(answer.credential.get_credential_id());
                let factor =
                    self.store.factor_by_credential(&key).await?.filter(|f| {
                        f.user_id == user.id && f.organisation_id == user.organisation_id
                    });
                if let Some((f, k)) = factor.and_then(|f| stored_passkey(&f).map(|k| (f, k))) {
                    self.record_use(&f, k, &result).await?;
                    return Ok(self
                        .complete_second_factor(&session, &user, client, Method::Passkey)
                        .await?);
                }
                "unknown_credential".to_owned()
            }
            Ok((_, Err(e))) => format!("rejected:{e}"),
            Err(PasskeyError::Store(e)) => return Err(e.into()),
            Err(_) => "no_ceremony".to_owned(),
        };
        self.passkey_event(Some(&user), client, EventResult::Failure, &reason)
            .await?;
        let tries = self.store.count_mfa_try(&token.hash()).await?;
        if tries >= crate::auth::mfa::MAX_CODE_TRIES {
            self.store
                .revoke_session(&session.token_hash, self.clock.now())
                .await?;
            return Err(PasskeyError::AttemptOver);
        }
        Err(PasskeyError::NotAccepted)
    }
}
