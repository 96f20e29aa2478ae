//! Passkeys (WebAuthn) with `webauthn-rs`: registering one, using it as a
//! second factor after the password, signing in with it alone (discoverable
//! credentials, no username typed), and resetting a forgotten password.
//!
//! Every ceremony's server half is stored and taken exactly once, so a
//! signed response answers one challenge only (SECURITY.md A4); the origin
//! and RP id come from configuration and are checked by `webauthn-rs`.

use crate::auth::password_rules::PasswordRuleError;
use crate::auth::signin::{AuthService, ClientInfo};
use crate::error::StoreError;
use crate::store::{Ceremony, EventResult, Factor, Purpose, SignInMethod, User};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;
pub use webauthn_rs::prelude::Url;
use webauthn_rs::prelude::{Passkey, PublicKeyCredential, Uuid, Webauthn, WebauthnBuilder};

mod discovery;
mod registration;
mod second_factor;
#[cfg(test)]
mod tests;

/// How long the browser has to answer a challenge.
pub const CEREMONY_SECS: i64 = 5 * 60;

/// The relying party: which site passkeys are bound to.
#[derive(Debug, Clone)]
pub struct PasskeyConfig {
    /// The registrable domain passkeys belong to (`portal.exempelkommun.se`).
    pub rp_id: String,
    /// Origins whose pages may use them (`https://portal.exempelkommun.se`).
    pub origins: Vec<Url>,
    /// Shown by the browser when it asks the user.
    pub rp_name: String,
}

/// The configured relying party.
pub struct Passkeys {
    webauthn: Webauthn,
}

impl Passkeys {
    /// # Errors
    /// When the RP id does not fit the origins (a message for the operator).
    pub fn new(config: &PasskeyConfig) -> Result<Self, String> {
        let (first, rest) = config
            .origins
            .split_first()
            .ok_or_else(|| "passkeys need at least one origin".to_owned())?;
        let mut builder = WebauthnBuilder::new(&config.rp_id, first)
            .map_err(|e| format!("passkeys: rp_id {} and origin {first}: {e:?}", config.rp_id))?
            .rp_name(&config.rp_name);
        for o in rest {
            builder = builder.append_allowed_origin(o);
        }
        let webauthn = builder
            .build()
            .map_err(|e| format!("passkeys configuration: {e:?}"))?;
        Ok(Self { webauthn })
    }
}

/// What the browser needs to run a ceremony.
#[derive(Debug, Clone)]
pub struct PasskeyPrompt {
    /// Sent back with the answer.
    pub ceremony: String,
    /// `PublicKeyCredentialCreationOptions` / `…RequestOptions` as JSON,
    /// binary fields base64url.
    pub options: String,
}

#[derive(Debug, Error)]
pub enum PasskeyError {
    #[error("passkeys are not configured")]
    NotConfigured,
    /// Bad signature, wrong origin, unknown or used ceremony, unknown
    /// credential: one answer for all, the detail goes to the event log.
    #[error("passkey not accepted")]
    NotAccepted,
    #[error("this passkey is already registered")]
    Duplicate,
    #[error("name must be 1–60 characters")]
    BadLabel,
    #[error("account disabled")]
    Disabled,
    #[error("account locked")]
    Locked,
    /// A reset by passkey during the organisation's change freeze.
    #[error("changes frozen")]
    Frozen,
    /// The pending sign-in is over (too old, or too many failures).
    #[error("attempt is over")]
    AttemptOver,
    #[error("new password rejected: {0}")]
    Rule(#[from] PasswordRuleError),
    #[error("server busy")]
    Busy,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<super::password::HashError> for PasskeyError {
    fn from(e: super::password::HashError) -> Self {
        match e {
            super::password::HashError::Busy => PasskeyError::Busy,
            other => PasskeyError::Store(StoreError::Backend(other.to_string())),
        }
    }
}

/// The WebAuthn user handle for an account: derived, so it reveals no id
/// and needs no column, and compared with the credential's owner.
fn user_handle(user: &User) -> Uuid {
    let digest = Sha256::digest(format!("portvakt-user-handle\0{}", user.id).as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(b)
}

fn credential_key(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

fn stored_passkey(f: &Factor) -> Option<Passkey> {
    serde_json::from_str(f.secret.as_deref()?).ok()
}

/// The options as the browser API takes them (`publicKey`), with a
/// discoverable credential preferred so the passkey also works without a
/// username, and no conditional mediation (the user presses a button).
fn browser_options<T: Serialize>(
    challenge: &T,
    resident_key: bool,
) -> Result<String, PasskeyError> {
    let mut v = serde_json::to_value(challenge).map_err(|_| PasskeyError::NotAccepted)?;
    let mut pk = v
        .get_mut("publicKey")
        .map(serde_json::Value::take)
        .ok_or(PasskeyError::NotAccepted)?;
    if resident_key {
        if let Some(sel) = pk
            .get_mut("authenticatorSelection")
            .and_then(serde_json::Value::as_object_mut)
        {
            sel.insert("residentKey".into(), "preferred".into());
            sel.insert("requireResidentKey".into(), false.into());
        }
    }
    Ok(pk.to_string())
}

fn valid_label(label: &str) -> Result<String, PasskeyError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 60 || label.chars().any(char::is_control) {
        return Err(PasskeyError::BadLabel);
    }
    Ok(label.to_owned())
}

/// A credential the browser answered with, before verification.
struct Answer {
    credential: PublicKeyCredential,
}

impl Answer {
    fn parse(json: &str) -> Result<Self, PasskeyError> {
        serde_json::from_str(json)
            .map(|credential| Self { credential })
            .map_err(|_| PasskeyError::NotAccepted)
    }
}

impl AuthService {
    fn passkeys(&self) -> Result<&Passkeys, PasskeyError> {
        self.passkeys.as_deref().ok_or(PasskeyError::NotConfigured)
    }

    /// Whether passkeys are configured at all (pages hide them otherwise).
    #[must_use]
    pub fn passkeys_enabled(&self) -> bool {
        self.passkeys.is_some()
    }

    async fn save_ceremony<T: Serialize>(
        &self,
        purpose: Purpose,
        user: Option<&User>,
        session_hash: Option<String>,
        state: &T,
        options: String,
    ) -> Result<PasskeyPrompt, PasskeyError> {
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        let id = URL_SAFE_NO_PAD.encode(b);
        let now = self.clock.now();
        let state = serde_json::to_string(state)
            .map_err(|e| StoreError::Backend(format!("ceremony state: {e}")))?;
        self.store
            .create_ceremony(&Ceremony {
                id: id.clone(),
                purpose,
                user: user.map(|u| (u.organisation_id.clone(), u.id.clone())),
                session_hash,
                state,
                created_at: now,
                expires_at: now + CEREMONY_SECS,
            })
            .await?;
        Ok(PasskeyPrompt {
            ceremony: id,
            options,
        })
    }

    async fn take_ceremony<T: DeserializeOwned>(
        &self,
        id: &str,
        purpose: &Purpose,
    ) -> Result<(Ceremony, T), PasskeyError> {
        let c = self
            .store
            .take_ceremony(id, purpose, self.clock.now())
            .await?
            .ok_or(PasskeyError::NotAccepted)?;
        let state = serde_json::from_str(&c.state)
            .map_err(|e| StoreError::Corrupt(format!("ceremony state: {e}")))?;
        Ok((c, state))
    }

    async fn passkey_event(
        &self,
        user: Option<&User>,
        client: &ClientInfo,
        result: EventResult,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.event_for(
            SignInMethod::Passkey,
            user.map(|u| &u.organisation_id),
            user,
            client,
            result,
            reason,
        )
        .await
    }

    /// Stores the new signature counter after a successful use.
    async fn record_use(
        &self,
        factor: &Factor,
        mut key: Passkey,
        result: &webauthn_rs::prelude::AuthenticationResult,
    ) -> Result<(), StoreError> {
        key.update_credential(result);
        let secret = serde_json::to_string(&key)
            .map_err(|e| StoreError::Backend(format!("passkey: {e}")))?;
        self.store
            .update_factor_secret(
                &factor.organisation_id,
                &factor.user_id,
                &factor.id,
                &secret,
                self.clock.now(),
            )
            .await
    }
}
