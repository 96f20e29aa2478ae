use super::StoreResult;
use crate::clock::UnixTime;
use crate::domain::{Language, Role, Slug, Username};
use crate::ids::{GroupId, OrganisationId, UserId};
use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub organisation_id: OrganisationId,
    pub username: Username,
    pub display_name: String,
    pub email: Option<String>,
    /// `None` for users whose password lives elsewhere (later: LDAP) or who
    /// have none yet.
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: UnixTime,
    /// The user's own choice of language, `None` to follow the browser.
    /// Applied at sign-in; `apply` never changes it.
    pub language: Option<Language>,
    /// When a temporary password (oral hand-over) stops working; `None`
    /// for every other password.
    pub password_expires_at: Option<UnixTime>,
    /// Why the servicedesk locked the account; empty when it is not.
    /// Only unlocking lifts it (not a reset, not a right password).
    pub lock_reason: String,
    /// Moved on by a crisis rotation: a session made with an earlier
    /// value is dead, even one whose sign-in overlapped the rotation.
    pub credential_epoch: i64,
}

impl User {
    /// Can sign in and keep a session: neither disabled nor locked by the
    /// servicedesk.
    #[must_use]
    pub fn is_active(&self) -> bool {
        !self.disabled && self.lock_reason.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub slug: Slug,
    pub name: String,
}

/// What the servicedesk looks for in the user list (issue 14).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSearch {
    /// Part of a name, username or e-mail address (any case), or of a
    /// mobile number (digits; `070…` also finds `+4670…`).
    pub text: String,
    pub only: Option<UserFilter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserFilter {
    /// Refused at sign-in now: locked, or waiting after failed tries.
    Locked,
    Disabled,
    /// No confirmed second factor: cannot sign in from outside the zones.
    NoSecondFactor,
}

/// A row of the user list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserListing {
    pub user: User,
    /// As [`crate::auth::lockout::ThrottleState::locked_until`]: 0 when free.
    pub locked_until: UnixTime,
    pub failures: u32,
    pub has_second_factor: bool,
}

/// The lowercased text the user list searches: username, name and e-mail
/// (Unicode-aware, so "åsa" finds "Åsa"; SQL's `lower` is ASCII-only in
/// SQLite). Kept in `users.search_text` by every write of these fields.
#[must_use]
pub fn search_text(username: &str, display_name: &str, email: Option<&str>) -> String {
    format!("{username}\n{display_name}\n{}", email.unwrap_or_default()).to_lowercase()
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn user(&self, org: &OrganisationId, id: &UserId) -> StoreResult<Option<User>>;
    async fn user_by_username(
        &self,
        org: &OrganisationId,
        username: &Username,
    ) -> StoreResult<Option<User>>;
    /// A page of users ordered by username; `limit` is capped at 100 (SECURITY.md C4).
    async fn list_users(
        &self,
        org: &OrganisationId,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<User>>;
    /// The servicedesk's user list: users matching `search`, ordered by
    /// username, with their lock and second factors; `limit` is capped at
    /// 100 (SECURITY.md C4).
    async fn search_users(
        &self,
        org: &OrganisationId,
        search: &UserSearch,
        now: UnixTime,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<UserListing>>;
    async fn user_groups(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Group>>;
    async fn user_roles(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Role>>;
    /// Stores a new hash; `must_change` marks a password set by someone else.
    async fn set_password_hash(
        &self,
        org: &OrganisationId,
        user: &UserId,
        hash: &str,
        must_change: bool,
    ) -> StoreResult<()>;

    /// The distinct first seven characters (`$2b$12$`) of stored bcrypt
    /// hashes, installation-wide: which bcrypt costs imported accounts use,
    /// so every password check can do the same work (issue 10 M4).
    async fn bcrypt_prefixes(&self) -> StoreResult<Vec<String>>;

    /// Sets a user's language (`None`: follow the browser); false when
    /// there is no such user in the organisation.
    async fn set_user_language(
        &self,
        org: &OrganisationId,
        user: &UserId,
        language: Option<Language>,
    ) -> StoreResult<bool>;
    /// The servicedesk's lock, in one transaction: the reason on the
    /// account, the sign-in counter at its hard lock (so the refusal looks
    /// like any other lock), and every session and app grant ended.
    /// Returns the sessions ended; `None` when there is no such user.
    async fn lock_account(
        &self,
        org: &OrganisationId,
        user: &UserId,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<Option<u64>>;
    /// Lifts the servicedesk's lock and any lock from failures, and gives
    /// back the account's budget for codes (spent and expired codes are
    /// forgotten; live ones stay).
    async fn unlock_account(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<()>;
    /// Replaces a hash by a stronger one of the same password, only if
    /// `old` is still the stored hash; whether it was.
    async fn rehash_password(
        &self,
        org: &OrganisationId,
        user: &UserId,
        old: &str,
        new: &str,
    ) -> StoreResult<bool>;
    /// Sets a temporary password that must be changed at first sign-in and
    /// stops working at `expires_at`; false when there is no such user.
    async fn set_temporary_password(
        &self,
        org: &OrganisationId,
        user: &UserId,
        hash: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool>;
}
