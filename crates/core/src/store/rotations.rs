use super::StoreResult;
use crate::clock::UnixTime;
use crate::domain::Slug;
use crate::ids::{OrganisationId, RotationId, UserId};
use crate::rotation::{
    Candidate, CrisisPlan, HandOut, Issue, Rotation, RotationChannel, RotationReport, RoutedPerson,
    StartCodeCheck, Stop,
};
use async_trait::async_trait;

/// Crisis rotations (issue 15). Each step is one transaction and guarded
/// by the person's state, so servers and the command may run the same
/// rotation side by side, or again after a crash, without anyone getting
/// two codes or being skipped.
#[async_trait]
pub trait RotationStore: Send + Sync {
    /// The organisation's crisis settings (defaults when its file has none).
    async fn crisis_plan(&self, org: &OrganisationId) -> StoreResult<CrisisPlan>;

    /// The organisation's groups (to pick one to rotate).
    async fn org_groups(&self, org: &OrganisationId) -> StoreResult<Vec<crate::store::Group>>;

    /// Everyone a rotation of the organisation (or of one group) would
    /// include: accounts that are not disabled, with their numbers,
    /// addresses and hand-over contacts.
    async fn rotation_candidates(
        &self,
        org: &OrganisationId,
        group: Option<&Slug>,
    ) -> StoreResult<Vec<Candidate>>;

    /// Starts a rotation, all in one transaction: records every person with
    /// their route, makes codes of earlier rotations void, removes their
    /// passwords (and passkeys, if asked), ends their sessions, app grants,
    /// unredeemed app codes and reset codes. `false` when the organisation
    /// already has a rotation still issuing codes.
    async fn start_rotation(
        &self,
        rotation: &Rotation,
        people: &[(UserId, Vec<Stop>)],
        now: UnixTime,
    ) -> StoreResult<bool>;

    async fn rotation(
        &self,
        org: &OrganisationId,
        id: &RotationId,
    ) -> StoreResult<Option<Rotation>>;
    /// The organisation's rotations, newest first.
    async fn rotations(&self, org: &OrganisationId, limit: u32) -> StoreResult<Vec<Rotation>>;
    /// Rotations of any organisation still issuing codes or whose codes
    /// still work (for the worker that issues and moves people on).
    async fn open_rotations(&self, now: UnixTime) -> StoreResult<Vec<Rotation>>;

    /// Takes or renews the right to issue the rotation's codes until
    /// `until`: granted when nobody holds it, `runner` holds it already, or
    /// the holder's lease ran out (it died). `false` while another runner
    /// holds it, or when the rotation is no longer issuing.
    async fn lease_rotation(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        runner: &str,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreResult<bool>;

    /// Up to `limit` people of the rotation still without a code.
    async fn pending_people(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        limit: u32,
    ) -> StoreResult<Vec<RoutedPerson>>;

    /// Issues codes, in one transaction: each person still pending gets
    /// their code and state, and their message is queued; a person someone
    /// else issued meanwhile is left alone. Returns how many were issued.
    /// When nobody is left pending, the rotation is marked issued.
    async fn issue_codes(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        issues: &[Issue],
        now: UnixTime,
    ) -> StoreResult<u32>;

    /// People whose automatic delivery has failed `max_attempts` times or
    /// been given up, with their codes, to be moved on to the next channel.
    async fn stalled_people(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        max_attempts: u32,
        limit: u32,
    ) -> StoreResult<Vec<RoutedPerson>>;

    /// People not reached yet (no delivery confirmed, not handed out, code
    /// not used), with their codes, to send again from their first channel.
    async fn unreached_people(
        &self,
        org: &OrganisationId,
        id: &RotationId,
    ) -> StoreResult<Vec<RoutedPerson>>;

    /// Moves a person with a code on from route position `from` to the
    /// position in `next` (same code), in one transaction: their old
    /// message is cancelled if unsent, the new one queued. `failed` says the
    /// old channel failed them (counted in the report). `false` when
    /// someone else moved them first.
    async fn move_person(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        from: usize,
        next: &Issue,
        failed: bool,
        now: UnixTime,
    ) -> StoreResult<bool>;

    async fn rotation_report(
        &self,
        org: &OrganisationId,
        id: &RotationId,
    ) -> StoreResult<RotationReport>;

    /// The people waiting on a hand-out channel (manager or servicedesk),
    /// with their codes; `list` narrows to one manager's or unit's list.
    async fn hand_outs(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        channel: RotationChannel,
        list: Option<&str>,
    ) -> StoreResult<Vec<HandOut>>;

    /// A person's start code in their newest rotation that has not been
    /// superseded: the rotation, the code (empty once used or expired).
    async fn person_code(
        &self,
        org: &OrganisationId,
        user: &UserId,
    ) -> StoreResult<Option<(RotationId, String)>>;

    /// Records that the servicedesk handed a person their code.
    async fn mark_handed_out(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<bool>;

    /// Empties the sealed copies of codes past their time (nobody needs
    /// them any more); how many.
    async fn forget_expired_codes(&self, now: UnixTime) -> StoreResult<u64>;

    /// Whether the person is in a rotation that has not been superseded
    /// (waiting for a code, or holding one, used or not).
    async fn in_rotation(&self, org: &OrganisationId, user: &UserId) -> StoreResult<bool>;

    /// Whether `code_hash` is the person's start code, and in what state.
    /// Only a person without a password has a working start code.
    async fn check_start_code(
        &self,
        org: &OrganisationId,
        user: &UserId,
        code_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<StartCodeCheck>>;

    /// Uses the start code up (once: `false` if it was used meanwhile).
    async fn use_start_code(
        &self,
        org: &OrganisationId,
        user: &UserId,
        code_hash: &str,
        now: UnixTime,
    ) -> StoreResult<bool>;
}
