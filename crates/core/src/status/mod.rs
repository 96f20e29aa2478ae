//! The status page's domain ("Driftinformation", seeds 000 and 002):
//! components and their state, incidents and planned maintenance with
//! timestamped updates, and the alternative ways to get things done when a
//! component is down. Free of HTTP and SQL.

use crate::clock::UnixTime;
use crate::domain::Slug;
use crate::ids::OrganisationId;
use thiserror::Error;

mod correction;
mod text;

pub use correction::{correction, Correction, CorrectionDraft};
pub use text::{body, has_gap, no_gaps, title, TextField, GAP, MAX_BODY, MAX_TITLE};

/// A component's state, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ComponentState {
    Operational,
    Maintenance,
    Degraded,
    PartialOutage,
    MajorOutage,
}

impl ComponentState {
    pub const ALL: [ComponentState; 5] = [
        ComponentState::Operational,
        ComponentState::Maintenance,
        ComponentState::Degraded,
        ComponentState::PartialOutage,
        ComponentState::MajorOutage,
    ];

    /// The name in files, the CLI and JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ComponentState::Operational => "operational",
            ComponentState::Maintenance => "maintenance",
            ComponentState::Degraded => "degraded",
            ComponentState::PartialOutage => "partial_outage",
            ComponentState::MajorOutage => "major_outage",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// Where an incident stands (Statuspage's vocabulary, in Swedish on the page:
/// undersöker → identifierat → bevakar → åtgärdat).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl Phase {
    pub const ALL: [Phase; 4] = [
        Phase::Investigating,
        Phase::Identified,
        Phase::Monitoring,
        Phase::Resolved,
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Phase::Investigating => "investigating",
            Phase::Identified => "identified",
            Phase::Monitoring => "monitoring",
            Phase::Resolved => "resolved",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// A part of the organisation's services as the public sees it
/// ("Lärplattform", "Telefoni – frånvaroanmälan").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub organisation_id: OrganisationId,
    pub slug: Slug,
    pub name: String,
    /// Heading the component is listed under ("Skola", "Kontakt").
    pub group: String,
    /// Other ways to get things done while it is down ("Anmäl frånvaro via
    /// webben eller appen", a phone number, a visiting address and hours).
    pub alternatives: String,
    pub sort: i64,
}

/// An incident or planned maintenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub title: String,
    /// English title; empty when only Swedish was written.
    pub title_en: String,
    pub maintenance: bool,
    /// Opened by a health probe and not yet confirmed by an editor: shown
    /// to editors only.
    pub draft: bool,
    pub phase: Phase,
    /// Affected components and how badly.
    pub affected: Vec<(Slug, ComponentState)>,
    pub created_at: UnixTime,
    pub resolved_at: Option<UnixTime>,
    pub updates: Vec<IncidentUpdate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentUpdate {
    pub at: UnixTime,
    pub phase: Phase,
    pub body: String,
    pub body_en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StatusError {
    #[error("the title is empty or longer than {MAX_TITLE} characters")]
    BadTitle,
    #[error("the text is empty or longer than {MAX_BODY} characters")]
    BadBody,
    #[error("unknown component {0}")]
    UnknownComponent(String),
    #[error("unknown impact {0}; use operational, maintenance, degraded, partial_outage or major_outage")]
    UnknownImpact(String),
    #[error("unknown phase; use investigating, identified, monitoring or resolved")]
    UnknownPhase,
    #[error("an incident must name at least one component")]
    NoComponent,
    #[error("no such incident")]
    NotFound,
    #[error("the incident is already resolved")]
    AlreadyResolved,
    /// A template's gap ("Avbrott i …") was left unfilled.
    #[error("the {0} still holds a template gap (…); write what applies in its place")]
    Gap(TextField),
    /// A correction that changes neither the title nor the services.
    #[error("nothing to correct: the title and the affected services are as before")]
    Unchanged,
}

/// What an editor writes to open an incident or announce maintenance.
#[derive(Debug, Clone, Default)]
pub struct IncidentDraft {
    pub title: String,
    pub title_en: String,
    pub maintenance: bool,
    /// (component slug, impact name), as typed.
    pub affected: Vec<(String, String)>,
    pub body: String,
    pub body_en: String,
}

/// A checked new incident: texts within limits, every component one of
/// the organisation's, every impact a known state.
///
/// # Errors
/// The first problem found.
pub fn new_incident(
    components: &[Component],
    draft: &IncidentDraft,
    now: UnixTime,
) -> Result<Incident, StatusError> {
    let (title, title_en) = title(&draft.title, &draft.title_en)?;
    let (body, body_en) = body(&draft.body, &draft.body_en)?;
    no_gaps(&[
        (TextField::Title, &title),
        (TextField::TitleEn, &title_en),
        (TextField::Body, &body),
        (TextField::BodyEn, &body_en),
    ])?;
    let affected = affected(components, &draft.affected)?;
    Ok(Incident {
        id: incident_id(),
        organisation_id: components
            .first()
            .map(|c| c.organisation_id.clone())
            .ok_or(StatusError::NoComponent)?,
        title,
        title_en,
        maintenance: draft.maintenance,
        draft: false,
        phase: Phase::Investigating,
        affected,
        created_at: now,
        resolved_at: None,
        updates: vec![IncidentUpdate {
            at: now,
            phase: Phase::Investigating,
            body,
            body_en,
        }],
    })
}

/// Checked affected components: each one of the organisation's, each
/// impact a known state, a component named twice taking its worse impact.
///
/// # Errors
/// `NoComponent`, `UnknownComponent`, `UnknownImpact`.
pub(super) fn affected(
    components: &[Component],
    typed: &[(String, String)],
) -> Result<Vec<(Slug, ComponentState)>, StatusError> {
    if typed.is_empty() {
        return Err(StatusError::NoComponent);
    }
    let mut affected: Vec<(Slug, ComponentState)> = Vec::new();
    for (c, impact) in typed {
        let slug = components
            .iter()
            .find(|k| k.slug.as_str() == c.trim())
            .map(|k| k.slug.clone())
            .ok_or_else(|| StatusError::UnknownComponent(c.chars().take(60).collect()))?;
        let state = ComponentState::parse(impact.trim())
            .ok_or_else(|| StatusError::UnknownImpact(impact.chars().take(60).collect()))?;
        match affected.iter_mut().find(|(s, _)| *s == slug) {
            Some((_, st)) => *st = (*st).max(state),
            None => affected.push((slug, state)),
        }
    }
    Ok(affected)
}

fn incident_id() -> String {
    let mut id = crate::ids::EventId::generate().to_string();
    id.replace_range(..4, "inc_");
    id
}

/// The draft a health probe opens when `component` stops answering: plain
/// public wording an editor confirms (or rewrites) before anyone sees it.
#[must_use]
pub fn probe_draft(component: &Component, impact: ComponentState, now: UnixTime) -> Incident {
    Incident {
        id: incident_id(),
        organisation_id: component.organisation_id.clone(),
        title: format!("Fel i {}", component.name),
        title_en: format!("Problem with {}", component.name),
        maintenance: false,
        draft: true,
        phase: Phase::Investigating,
        affected: vec![(component.slug.clone(), impact)],
        created_at: now,
        resolved_at: None,
        updates: vec![IncidentUpdate {
            at: now,
            phase: Phase::Investigating,
            body: format!(
                "Vi undersöker ett fel i {}. Vi återkommer med mer information.",
                component.name
            ),
            body_en: format!(
                "We are investigating a problem with {}. More information will follow.",
                component.name
            ),
        }],
    }
}

/// A checked update.
///
/// # Errors
/// Unknown phase or bad text.
pub fn new_update(
    phase: &str,
    sv: &str,
    en: &str,
    now: UnixTime,
) -> Result<IncidentUpdate, StatusError> {
    let phase = Phase::parse(phase.trim()).ok_or(StatusError::UnknownPhase)?;
    let (body, body_en) = body(sv, en)?;
    no_gaps(&[(TextField::Body, &body), (TextField::BodyEn, &body_en)])?;
    Ok(IncidentUpdate {
        at: now,
        phase,
        body,
        body_en,
    })
}

/// Each component's current state: the worst impact among the open,
/// published incidents that name it and the probes that see it down,
/// operational otherwise.
#[must_use]
pub fn current_states(
    components: &[Component],
    incidents: &[Incident],
    probes: &[crate::probe::ProbeState],
) -> Vec<(Slug, ComponentState)> {
    components
        .iter()
        .map(|c| {
            let published = incidents
                .iter()
                .filter(|i| i.resolved_at.is_none() && !i.draft)
                .flat_map(|i| i.affected.iter())
                .filter(|(s, _)| s == &c.slug)
                .map(|(_, st)| *st);
            // During announced maintenance a failing probe is expected:
            // it must not turn "underhåll" into an outage.
            let in_maintenance = incidents.iter().any(|i| {
                i.maintenance
                    && !i.draft
                    && i.resolved_at.is_none()
                    && i.affected.iter().any(|(s, _)| s == &c.slug)
            });
            let probed = probes
                .iter()
                .filter(|p| p.down && !p.muted && p.component == c.slug && !in_maintenance)
                .map(|p| p.impact);
            let worst = published
                .chain(probed)
                .max()
                .unwrap_or(ComponentState::Operational);
            (c.slug.clone(), worst)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn comp(slug: &str) -> Component {
        Component {
            organisation_id: OrganisationId::from_raw("org_1"),
            slug: Slug::parse(slug).unwrap(),
            name: slug.into(),
            group: "Skola".into(),
            alternatives: String::new(),
            sort: 0,
        }
    }

    pub(super) fn inc(affected: &[(&str, ComponentState)], resolved: bool) -> Incident {
        Incident {
            id: "i".into(),
            organisation_id: OrganisationId::from_raw("org_1"),
            title: "t".into(),
            title_en: String::new(),
            maintenance: false,
            draft: false,
            phase: Phase::Investigating,
            affected: affected
                .iter()
                .map(|(s, st)| (Slug::parse(s).unwrap(), *st))
                .collect(),
            created_at: 0,
            resolved_at: resolved.then_some(10),
            updates: vec![],
        }
    }

    #[test]
    fn the_worst_open_impact_wins() {
        use ComponentState::*;
        let cs = [comp("lar"), comp("tel"), comp("mejl")];
        let is = [
            inc(&[("lar", Degraded), ("tel", PartialOutage)], false),
            inc(&[("lar", MajorOutage)], false),
            inc(&[("mejl", MajorOutage)], true),
        ];
        let states = current_states(&cs, &is, &[]);
        assert_eq!(states[0].1, MajorOutage);
        assert_eq!(states[1].1, PartialOutage);
        assert_eq!(states[2].1, Operational, "resolved incidents do not count");

        let mut draft = inc(&[("mejl", MajorOutage)], false);
        draft.draft = true;
        let probe = |down| crate::probe::ProbeState {
            organisation_id: OrganisationId::from_raw("org_1"),
            probe: Slug::parse("p").unwrap(),
            component: Slug::parse("mejl").unwrap(),
            down,
            since: 0,
            checked_at: 0,
            last_error: String::new(),
            impact: PartialOutage,
            muted: false,
        };
        let states = current_states(&cs, &[draft.clone()], &[probe(false)]);
        assert_eq!(
            states[2].1, Operational,
            "drafts and passing probes do not count"
        );
        let states = current_states(&cs, &[draft], &[probe(true)]);
        assert_eq!(states[2].1, PartialOutage, "a probe that is down does");
        let mut maint = inc(&[("mejl", Maintenance)], false);
        maint.maintenance = true;
        let states = current_states(&cs, &[maint], &[probe(true)]);
        assert_eq!(states[2].1, Maintenance, "not during planned maintenance");
        let muted = crate::probe::ProbeState {
            muted: true,
            ..probe(true)
        };
        let states = current_states(&cs, &[], &[muted]);
        assert_eq!(
            states[2].1, Operational,
            "not once dismissed as a false alarm"
        );
    }

    #[test]
    fn template_gaps_are_found_wherever_they_stand() {
        for gapped in [
            "Avbrott i …",
            "Vi vet att … inte fungerar och arbetar med att lösa det. Så länge kan du …",
            "… är stängt för underhåll från … till ….",
            "Stängt från ... till kl. 18",
            "Avbrott i […]",
            "Avbrott i\u{a0}…",
        ] {
            assert!(has_gap(gapped), "{gapped}");
        }
        for fine in [
            "Avbrott i e-posten",
            "Vi återkommer snart…",
            "…och sedan fungerade det",
            "Version 1.2.3 är installerad",
        ] {
            assert!(!has_gap(fine), "{fine}");
        }
        let draft = IncidentDraft {
            title: "Avbrott i …".into(),
            body: "Vi vet att lärplattformen inte fungerar.".into(),
            affected: vec![("lar".into(), "major_outage".into())],
            ..IncidentDraft::default()
        };
        assert_eq!(
            new_incident(&[comp("lar")], &draft, 0).unwrap_err(),
            StatusError::Gap(TextField::Title)
        );
        let draft = IncidentDraft {
            title: "Avbrott i lärplattformen".into(),
            body_en: "We know that … is down.".into(),
            ..draft
        };
        assert_eq!(
            new_incident(&[comp("lar")], &draft, 0).unwrap_err(),
            StatusError::Gap(TextField::BodyEn)
        );
        assert_eq!(
            new_update("identified", "Felet finns i …", "", 0).unwrap_err(),
            StatusError::Gap(TextField::Body)
        );
    }

    #[test]
    fn texts_are_checked_and_names_round_trip() {
        assert!(title("", "").is_err());
        assert!(title("Avbrott i lärplattformen", "").is_ok());
        assert!(title(&"x".repeat(201), "").is_err());
        assert!(title("a\u{0}b", "").is_err());
        assert_eq!(
            body("Rad ett\r\nRad två", "").unwrap().0,
            "Rad ett\nRad två"
        );
        assert!(body(&"x".repeat(5001), "").is_err());
        for s in ComponentState::ALL {
            assert_eq!(ComponentState::parse(s.name()), Some(s));
        }
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.name()), Some(p));
        }
    }
}
