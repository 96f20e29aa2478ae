use super::StoreResult;
use crate::clock::UnixTime;
use crate::ids::{OrganisationId, UserId};
use async_trait::async_trait;

/// A session as created at sign-in. Only the hash of the token is stored, so
/// a copy of the database does not let anyone take over a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub token_hash: String,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub ip: String,
    pub user_agent: String,
    /// Authentication methods used, space separated (`pwd`, `otp`, later `sms`, `hwk`).
    pub amr: String,
    /// Password accepted but a second factor still to come: such a session
    /// opens nothing but the second-factor page.
    pub pending_mfa: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
    pub created_at: UnixTime,
    pub last_seen_at: UnixTime,
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
    pub ip: String,
    pub user_agent: String,
    pub amr: String,
    pub pending_mfa: bool,
    /// Wrong second-factor codes entered in this (pending) session.
    pub mfa_tries: u32,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()>;
    async fn revoke_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()>;
    /// Ends every live session of one user; returns how many were ended.
    async fn revoke_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<u64>;
    async fn list_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<Vec<SessionRecord>>;

    /// Counts one wrong second-factor code in a pending session; returns the new count.
    async fn count_mfa_try(&self, token_hash: &str) -> StoreResult<u32>;
}
