//! Passkeys (WebAuthn) with `webauthn-rs`: registering one, using it as a
//! second factor after the password, signing in with it alone (discoverable
//! credentials, no username typed), and resetting a forgotten password.
//!
//! Every ceremony's server half is stored and taken exactly once, so a
//! signed response answers one challenge only (SECURITY.md A4); the origin
//! and RP id come from configuration and are checked by `webauthn-rs`.

use super::password_rules::PasswordRuleError;
use super::session::SessionToken;
use super::signin::{AuthService, ClientInfo, SessionCheck, SignedIn};
use crate::access::Method;
use crate::error::StoreError;
use crate::ids::FactorId;
use crate::store::{
    Amr, Ceremony, EventResult, Factor, FactorKind, Organisation, Purpose, SessionRecord,
    SignInMethod, User,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;
pub use webauthn_rs::prelude::Url;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, Uuid, Webauthn, WebauthnBuilder,
};

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
        if tries >= super::mfa::MAX_CODE_TRIES {
            self.store
                .revoke_session(&session.token_hash, self.clock.now())
                .await?;
            return Err(PasskeyError::AttemptOver);
        }
        Err(PasskeyError::NotAccepted)
    }

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
    /// lock is lifted, as with a reset by code.
    ///
    /// # Errors
    /// `NotAccepted` for any passkey problem; password rule violations.
    pub async fn finish_passkey_reset(
        &self,
        ceremony: &str,
        answer: &str,
        new_password: &str,
        client: &ClientInfo,
    ) -> Result<(), PasskeyError> {
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
        if user.disabled {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rp_id_must_fit_the_origin() {
        let ok = PasskeyConfig {
            rp_id: "localhost".into(),
            origins: vec![Url::parse("http://localhost:8080").unwrap()],
            rp_name: "Portvakt".into(),
        };
        assert!(Passkeys::new(&ok).is_ok());
        let wrong = PasskeyConfig {
            rp_id: "example.org".into(),
            ..ok.clone()
        };
        assert!(Passkeys::new(&wrong).is_err());
        let none = PasskeyConfig {
            origins: vec![],
            ..ok
        };
        assert!(Passkeys::new(&none).is_err());
    }

    #[test]
    fn labels_are_checked() {
        assert!(valid_label("  Nyckelring ").is_ok_and(|l| l == "Nyckelring"));
        assert!(valid_label("").is_err());
        assert!(valid_label("a\nb").is_err());
        assert!(valid_label(&"x".repeat(61)).is_err());
    }

    #[test]
    fn options_prefer_a_discoverable_credential() {
        let v = serde_json::json!({"publicKey": {"challenge": "abc",
            "authenticatorSelection": {"residentKey": "discouraged", "requireResidentKey": false}}});
        let out: serde_json::Value =
            serde_json::from_str(&browser_options(&v, true).unwrap()).unwrap();
        assert_eq!(out["authenticatorSelection"]["residentKey"], "preferred");
        assert_eq!(out["challenge"], "abc");
        let v = serde_json::json!({"publicKey": {"challenge": "abc"}, "mediation": "conditional"});
        let out: serde_json::Value =
            serde_json::from_str(&browser_options(&v, false).unwrap()).unwrap();
        assert!(out.get("mediation").is_none());
    }
}
