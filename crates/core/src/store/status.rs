use super::StoreResult;
use crate::clock::UnixTime;
use crate::ids::OrganisationId;
use crate::status::{Component, Correction, Incident, IncidentUpdate};
use async_trait::async_trait;

/// The status page: its components, and incidents with their updates.
#[async_trait]
pub trait StatusStore: Send + Sync {
    async fn status_components(&self, org: &OrganisationId) -> StoreResult<Vec<Component>>;
    /// Open incidents, and those resolved at or after `since`, newest
    /// first, at most `limit` (capped at 1000), each with its updates.
    async fn incidents(
        &self,
        org: &OrganisationId,
        since: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<Incident>>;
    /// What the status page shows: every open published incident and the
    /// `resolved` newest resolved at or after `since`, each with all its
    /// updates; newest first.
    async fn incidents_shown(
        &self,
        org: &OrganisationId,
        since: UnixTime,
        resolved: u32,
    ) -> StoreResult<Vec<Incident>>;
    /// Stores a new incident with its components and first update, in one
    /// transaction.
    async fn create_incident(&self, incident: &Incident) -> StoreResult<()>;
    /// Adds an update and moves the incident to its phase (resolving it
    /// when the phase is `resolved`). False when there is no such open
    /// incident in this organisation.
    async fn add_incident_update(
        &self,
        org: &OrganisationId,
        incident: &str,
        update: &IncidentUpdate,
    ) -> StoreResult<bool>;
    /// Corrects an open published incident's titles and affected
    /// components and adds `update` (which says what was corrected), in
    /// one transaction; the phase stays. False when there is no such open
    /// incident in this organisation.
    async fn correct_incident(
        &self,
        org: &OrganisationId,
        incident: &str,
        correction: &Correction,
        update: &IncidentUpdate,
    ) -> StoreResult<bool>;

    /// Drafts opened by probes, not yet confirmed or withdrawn, newest
    /// first. `incidents` never returns drafts.
    async fn draft_incidents(&self, org: &OrganisationId) -> StoreResult<Vec<Incident>>;
    /// Makes an open draft public with the editor's (title, title_en) and
    /// (body, body_en). False when there is no such open draft.
    async fn publish_draft(
        &self,
        org: &OrganisationId,
        incident: &str,
        title: (&str, &str),
        body: (&str, &str),
    ) -> StoreResult<bool>;
    /// Closes an open draft unseen (the probe recovered, or an editor
    /// dismissed it), and mutes the probes that still see its components
    /// down until they come up. False when there is no such open draft.
    async fn withdraw_draft(
        &self,
        org: &OrganisationId,
        incident: &str,
        now: UnixTime,
    ) -> StoreResult<bool>;
}
