use super::StoreResult;
use crate::ids::OrganisationId;
use crate::probe::{DayFigure, Probe, ProbeOverview, ProbeState};
use async_trait::async_trait;

/// Health probes: their definitions, each probe's last view, and the
/// per-component daily figures.
#[async_trait]
pub trait ProbeStore: Send + Sync {
    /// One organisation's probes in file order, or everyone's with `None`.
    async fn probes(&self, org: Option<&OrganisationId>) -> StoreResult<Vec<Probe>>;
    async fn probe_states(&self, org: &OrganisationId) -> StoreResult<Vec<ProbeState>>;
    /// The count, newest check and down views of the organisation's probes.
    async fn probe_overview(&self, org: &OrganisationId) -> StoreResult<ProbeOverview>;
    /// Upserts probe views, in one transaction; views of probes the
    /// organisation no longer defines are dropped.
    async fn put_probe_states(&self, states: &[ProbeState]) -> StoreResult<()>;
    /// Adds checks and failures to the per-component daily figures.
    async fn add_probe_figures(&self, figures: &[(OrganisationId, DayFigure)]) -> StoreResult<()>;
    /// The organisation's daily figures from `since_day` (`YYYY-MM-DD`).
    async fn probe_days(
        &self,
        org: &OrganisationId,
        since_day: &str,
    ) -> StoreResult<Vec<DayFigure>>;
    /// Forgets figures older than `before_day`; returns how many rows.
    async fn prune_probe_days(&self, before_day: &str) -> StoreResult<u64>;
}
