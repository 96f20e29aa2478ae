//! Sign-in events in words, for the person's own history and the
//! servicedesk's view of an account: Stockholm time with seconds, the zone
//! by name or "outside", the method, browser and device, and success or why
//! not.

use crate::app::state::AppState;
use crate::http::device;
use crate::http::error::AppError;
use crate::http::i18n::Tr;
use crate::http::time_fmt::stockholm_seconds;
use portvakt_core::store::{EventResult, SignInEvent};
use std::collections::HashMap;

pub(crate) struct EventRow {
    pub id: String,
    pub when: String,
    pub place: String,
    pub ip: String,
    pub method: String,
    pub device: String,
    pub outcome: String,
}

/// The organisation's zones by slug, for naming where a sign-in came from.
pub(crate) async fn zone_names(
    state: &AppState,
    org: &portvakt_core::ids::OrganisationId,
) -> Result<HashMap<String, String>, AppError> {
    Ok(state
        .store
        .zones(org)
        .await?
        .into_iter()
        .map(|z| (z.slug.to_string(), z.name))
        .collect())
}

/// A sign-in event in words; `zones` names the zone (its slug otherwise,
/// as for a zone removed since).
pub(crate) fn event_row(t: Tr, zones: &HashMap<String, String>, e: &SignInEvent) -> EventRow {
    let place = if e.zone.is_empty() {
        t.get("history.outside").to_owned()
    } else {
        let name = zones.get(&e.zone).unwrap_or(&e.zone);
        format!("{} {name}", t.get("history.inside"))
    };
    EventRow {
        id: e.id.to_string(),
        when: stockholm_seconds(e.at),
        place,
        ip: e.ip.clone(),
        method: t
            .get(&format!("event.method.{}", e.method.as_str()))
            .to_owned(),
        device: device::in_words(t, &e.user_agent),
        outcome: outcome(t, e),
    }
}

/// Success, or why not, in words: the reason's own text where there is
/// one (`history.reason.bad_password`), else a plain "did not succeed".
fn outcome(t: Tr, e: &SignInEvent) -> String {
    let reason = e.reason.split(':').next().unwrap_or_default();
    if let Some(words) = t.find(&format!("history.reason.{reason}")) {
        return words.to_owned();
    }
    t.get(if e.result == EventResult::Success {
        "history.ok"
    } else {
        "history.failed"
    })
    .to_owned()
}
