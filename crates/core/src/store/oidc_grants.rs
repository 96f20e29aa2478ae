//! The authorization code flow's records: waiting requests, codes, grants,
//! refresh tokens and consents, per organisation. Secrets arrive hashed.

use super::StoreResult;
use super::User;
use crate::clock::UnixTime;
use crate::ids::{ClientRowId, OrganisationId, UserId};
use async_trait::async_trait;

/// An authorization code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub organisation_id: OrganisationId,
    pub client_row_id: ClientRowId,
    pub user_id: UserId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: UnixTime,
    pub amr: String,
    pub expires_at: UnixTime,
    pub used_at: Option<UnixTime>,
}

/// What a person allowed an app, from one sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub client_row_id: ClientRowId,
    pub user_id: UserId,
    pub scope: String,
    pub auth_time: UnixTime,
    pub amr: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
}

impl GrantRecord {
    #[must_use]
    pub fn live(&self, now: UnixTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A refresh token to store (its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    pub token_hash: String,
    pub expires_at: UnixTime,
}

/// What to store for a code that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub grant: GrantRecord,
    pub refresh: Option<NewRefreshToken>,
}

/// The outcome of presenting a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// This caller won the code and passed `decide`: the grant (and
    /// refresh token) are stored. With the code as it was and its person.
    Issued {
        code: Box<CodeRecord>,
        user: Box<User>,
        grant: Box<GrantRecord>,
    },
    /// This caller won the code but `decide` refused it (or its person is
    /// gone): the code is burnt, nothing issued.
    Refused,
    /// The code had been used: the grant its first use made is revoked.
    Reused,
    Unknown,
}

/// The outcome of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token is used up, the new one stored; the grant it belongs to.
    Rotated(GrantRecord),
    /// Already used once: the grant and all its tokens are revoked.
    Reused,
    /// Unknown, expired, another client's, or its grant is revoked.
    Invalid,
}

/// An app a person is signed in to, or has allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserApp {
    pub client_row_id: ClientRowId,
    /// The newest live grant's start, if the person is signed in to it.
    pub signed_in_since: Option<UnixTime>,
    /// The person has allowed it (a consent is remembered).
    pub consented: bool,
}

#[async_trait]
pub trait OidcGrantStore: Send + Sync {
    /// Stores a waiting authorization request (and drops expired ones).
    async fn put_auth_request(
        &self,
        org: &OrganisationId,
        id_hash: &str,
        request: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> StoreResult<()>;

    /// A waiting request still valid at `now`, with when it was made.
    async fn auth_request(
        &self,
        org: &OrganisationId,
        id_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<(String, UnixTime)>>;

    /// Forgets a waiting request (it has been answered).
    async fn drop_auth_request(&self, org: &OrganisationId, id_hash: &str) -> StoreResult<()>;

    /// Stores a code (and drops expired ones of the organisation).
    async fn create_code(
        &self,
        code_hash: &str,
        code: &CodeRecord,
        now: UnixTime,
    ) -> StoreResult<()>;

    /// Uses up a batch of codes of one organisation in one transaction
    /// (the token endpoint's group commit: one write and one `fsync` for
    /// every exchange waiting at that moment). Exactly one of any number of
    /// parallel callers wins a code. For each code won, `decide` gets its
    /// index in `code_hashes`, the stored code and its person, and returns
    /// the grant (and refresh token) to store, or `None` to burn the code.
    /// A code shown twice in one batch counts as shown twice in a row. A
    /// code already used has the grant of its first use revoked.
    async fn redeem_codes(
        &self,
        org: &OrganisationId,
        code_hashes: &[String],
        now: UnixTime,
        decide: &(dyn for<'c> Fn(usize, &'c CodeRecord, &'c User) -> Option<Issue> + Send + Sync),
    ) -> StoreResult<Vec<Redeemed>>;

    /// Exchanges a refresh token of `client` for `new`, in one transaction.
    async fn rotate_refresh_token(
        &self,
        org: &OrganisationId,
        client: &ClientRowId,
        old_hash: &str,
        new: &NewRefreshToken,
        now: UnixTime,
    ) -> StoreResult<Rotation>;

    async fn grant(&self, org: &OrganisationId, id: &str) -> StoreResult<Option<GrantRecord>>;

    /// The grant a refresh token belongs to, if the token is the client's.
    async fn grant_of_refresh_token(
        &self,
        org: &OrganisationId,
        client: &ClientRowId,
        token_hash: &str,
    ) -> StoreResult<Option<GrantRecord>>;

    /// Revokes a grant and its refresh tokens; false if it was not live.
    async fn revoke_grant(
        &self,
        org: &OrganisationId,
        id: &str,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<bool>;

    /// Revokes every live grant of the person (signing out, disabling).
    async fn revoke_user_grants(
        &self,
        org: &OrganisationId,
        user: &UserId,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<u64>;

    /// The apps the person is signed in to or has allowed, by client.
    async fn user_apps(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<Vec<UserApp>>;

    /// Ends the person's grants for one app and forgets their consent,
    /// in one transaction; how many grants ended.
    async fn end_user_app(
        &self,
        org: &OrganisationId,
        user: &UserId,
        client: &ClientRowId,
        now: UnixTime,
    ) -> StoreResult<u64>;

    /// The scope a person agreed to share with a client, if any.
    async fn consent(
        &self,
        org: &OrganisationId,
        user: &UserId,
        client: &ClientRowId,
    ) -> StoreResult<Option<String>>;

    async fn put_consent(
        &self,
        org: &OrganisationId,
        user: &UserId,
        client: &ClientRowId,
        scope: &str,
        now: UnixTime,
    ) -> StoreResult<()>;
}
