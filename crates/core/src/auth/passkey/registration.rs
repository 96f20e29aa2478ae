//! Registering a passkey on "Mina inställningar".

use crate::auth::signin::{AuthService, ClientInfo};
use crate::error::StoreError;
use crate::ids::FactorId;
use crate::store::{Ceremony, EventResult, Factor, FactorKind, Purpose, SessionRecord, User};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::*;

impl AuthService {
    /// Starts registering a passkey for a signed-in user (the caller has
    /// checked freshness and zone with `may_register`).
    ///
    /// # Errors
    /// Not configured; store failures.
    pub async fn start_passkey_registration(
        &self,
        user: &User,
        session: &SessionRecord,
    ) -> Result<PasskeyPrompt, PasskeyError> {
        let pk = self.passkeys()?;
        let existing: Vec<_> = self
            .store
            .factors(&user.organisation_id, &user.id)
            .await?
            .iter()
            .filter(|f| f.kind == FactorKind::Passkey)
            .filter_map(stored_passkey)
            .map(|k| k.cred_id().clone())
            .collect();
        let (ccr, state) = pk
            .webauthn
            .start_passkey_registration(
                user_handle(user),
                user.username.as_str(),
                &user.display_name,
                Some(existing),
            )
            .map_err(|e| StoreError::Backend(format!("passkey registration: {e:?}")))?;
        let options = browser_options(&ccr, true)?;
        self.save_ceremony(
            Purpose::Register,
            Some(user),
            Some(session.token_hash.clone()),
            &state,
            options,
        )
        .await
    }

    /// Finishes registering: checks the browser's answer against the
    /// ceremony of this very session and stores the passkey.
    ///
    /// # Errors
    /// `NotAccepted`, `Duplicate`, `BadLabel`.
    pub async fn finish_passkey_registration(
        &self,
        user: &User,
        session: &SessionRecord,
        ceremony: &str,
        label: &str,
        answer: &str,
        client: &ClientInfo,
    ) -> Result<Factor, PasskeyError> {
        let pk = self.passkeys()?;
        let label = valid_label(label)?;
        let reg: RegisterPublicKeyCredential =
            serde_json::from_str(answer).map_err(|_| PasskeyError::NotAccepted)?;
        let (c, state): (Ceremony, PasskeyRegistration) =
            self.take_ceremony(ceremony, &Purpose::Register).await?;
        let owner = Some((user.organisation_id.clone(), user.id.clone()));
        if c.user != owner || c.session_hash.as_deref() != Some(session.token_hash.as_str()) {
            return Err(PasskeyError::NotAccepted);
        }
        // Already registered (to anyone): webauthn-rs reports an excluded
        // credential under a misleading error, so look first.
        if self
            .store
            .factor_by_credential(&credential_key(&reg.raw_id))
            .await?
            .is_some()
        {
            return Err(PasskeyError::Duplicate);
        }
        let key = match pk.webauthn.finish_passkey_registration(&reg, &state) {
            Ok(k) => k,
            Err(e) => {
                self.passkey_event(
                    Some(user),
                    client,
                    EventResult::Failure,
                    &format!("register_rejected:{e:?}"),
                )
                .await?;
                return Err(PasskeyError::NotAccepted);
            }
        };
        let factor = Factor {
            id: FactorId::generate(),
            organisation_id: user.organisation_id.clone(),
            user_id: user.id.clone(),
            kind: FactorKind::Passkey,
            label,
            secret: Some(
                serde_json::to_string(&key)
                    .map_err(|e| StoreError::Backend(format!("passkey: {e}")))?,
            ),
            destination: Some(credential_key(key.cred_id())),
            confirmed: true,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        match self.store.add_factor(&factor).await {
            Err(StoreError::Conflict(_)) => return Err(PasskeyError::Duplicate),
            other => other?,
        }
        self.passkey_event(
            Some(user),
            client,
            EventResult::Success,
            "factor_registered",
        )
        .await?;
        Ok(factor)
    }
}
