use super::StoreResult;
use crate::clock::UnixTime;
use crate::ids::{FactorId, OrganisationId, UserId};
use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactorKind {
    Totp,
    /// Codes by e-mail: a weaker factor (NIST), recorded as such in `amr`.
    Email,
    /// Codes by SMS: "restricted" (NIST), recorded as `sms` in `amr`.
    Sms,
    /// A WebAuthn passkey: phishing-resistant, user-verifying; `secret`
    /// holds the credential (public key, counter), `destination` its id.
    Passkey,
}

impl FactorKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FactorKind::Totp => "totp",
            FactorKind::Email => "email",
            FactorKind::Sms => "sms",
            FactorKind::Passkey => "passkey",
        }
    }
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "totp" => Some(FactorKind::Totp),
            "email" => Some(FactorKind::Email),
            "sms" => Some(FactorKind::Sms),
            "passkey" => Some(FactorKind::Passkey),
            _ => None,
        }
    }
}

/// A registered second factor.
#[derive(Clone, PartialEq, Eq)]
pub struct Factor {
    pub id: FactorId,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub kind: FactorKind,
    /// The user's own name for it ("Jobbtelefonen").
    pub label: String,
    /// TOTP: the base32 secret.
    pub secret: Option<String>,
    /// E-mail: the address codes go to.
    pub destination: Option<String>,
    /// Not usable until the user proves it works by entering a code.
    pub confirmed: bool,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

impl std::fmt::Debug for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factor")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// Second factors: authenticator apps, code destinations and passkeys.
#[async_trait]
pub trait FactorStore: Send + Sync {
    async fn factors(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Factor>>;
    async fn add_factor(&self, factor: &Factor) -> StoreResult<()>;
    /// Marks a factor usable, recording the TOTP step that proved it.
    async fn confirm_factor(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        label: &str,
        step: i64,
    ) -> StoreResult<bool>;
    /// Removes a factor. With `keep_one`, refuses (returns false) when it
    /// is the user's last confirmed factor; the check and the delete are
    /// one transaction.
    async fn remove_factor(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        keep_one: bool,
    ) -> StoreResult<bool>;
    /// Accepts a TOTP step only if it is newer than any used before with
    /// this factor: true exactly once per step, even under concurrency.
    async fn consume_totp_step(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        step: i64,
        now: UnixTime,
    ) -> StoreResult<bool>;

    /// The passkey with this credential id, in whichever organisation: a
    /// passwordless sign-in starts from the credential alone. Credential ids
    /// are unique across the installation.
    async fn factor_by_credential(&self, credential_id: &str) -> StoreResult<Option<Factor>>;
    /// Stores a factor's updated secret (a passkey's signature counter) and
    /// when it was last used.
    async fn update_factor_secret(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        secret: &str,
        now: UnixTime,
    ) -> StoreResult<()>;
}
