use super::StoreResult;
use crate::clock::UnixTime;
use crate::ids::{EventId, OrganisationId, UserId};
use crate::intrusion::{
    Case, CaseId, CaseSummary, EvidenceRecord, NewCase, Note, Outcome, StepDone,
};
use async_trait::async_trait;

/// Intrusion cases (issue 14). Every method takes the organisation and
/// finds nothing outside it; every change to a case's contents happens
/// only while the case is open, checked in the same statement, so a change
/// racing the close either lands before it or not at all.
#[async_trait]
pub trait IntrusionStore: Send + Sync {
    /// Opens a case and gives it the organisation's next number.
    async fn open_case(&self, c: &NewCase) -> StoreResult<i64>;
    async fn case(&self, org: &OrganisationId, id: &CaseId) -> StoreResult<Option<Case>>;
    /// Open cases first, then the most recently closed; `limit` in all.
    async fn list_cases(&self, org: &OrganisationId, limit: u32) -> StoreResult<Vec<CaseSummary>>;
    /// The cases an account is part of, newest first.
    async fn cases_of(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<CaseSummary>>;
    /// The newest open case an account is part of.
    async fn open_case_of(
        &self,
        org: &OrganisationId,
        user: &UserId,
    ) -> StoreResult<Option<CaseId>>;
    /// Adds an account; false when the case is closed or not found.
    async fn add_case_account(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<bool>;
    async fn add_note(&self, org: &OrganisationId, case: &CaseId, note: &Note)
        -> StoreResult<bool>;
    async fn notes(&self, org: &OrganisationId, case: &CaseId) -> StoreResult<Vec<Note>>;
    /// Marks a checklist step done (`Some`) or not done (`None`).
    async fn set_step(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        step: &str,
        done: Option<(&UserId, UnixTime)>,
    ) -> StoreResult<bool>;
    async fn steps(&self, org: &OrganisationId, case: &CaseId) -> StoreResult<Vec<StepDone>>;
    /// Stores a file; false when the case is closed, not found, or already
    /// holds `max_files`.
    async fn add_evidence(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        record: &EvidenceRecord,
        content: &[u8],
        max_files: u32,
    ) -> StoreResult<bool>;
    async fn evidence(
        &self,
        org: &OrganisationId,
        case: &CaseId,
    ) -> StoreResult<Vec<EvidenceRecord>>;
    async fn evidence_content(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        id: &EventId,
    ) -> StoreResult<Option<(EvidenceRecord, Vec<u8>)>>;
    /// Closes an open case; false when it was not open.
    async fn close_case(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        by: &UserId,
        outcome: Outcome,
        note: &str,
        now: UnixTime,
    ) -> StoreResult<bool>;
    /// Reopens a closed case; false when it was not closed.
    async fn reopen_case(&self, org: &OrganisationId, case: &CaseId) -> StoreResult<bool>;
}
