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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub slug: Slug,
    pub name: String,
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
}
