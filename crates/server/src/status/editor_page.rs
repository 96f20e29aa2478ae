//! What the status editor shows: the open incidents and drafts, the
//! probes, the forms with their templates, and the page again with what
//! was wrong.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, CurrentUser};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::stockholm;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use portvakt_core::status::{ComponentState, IncidentDraft, StatusError};

/// Ready-made texts for common cases (seeds 000 and 002).
pub(super) const TEMPLATES: [(&str, bool); 3] = [
    ("outage", false),
    ("intrusion", false),
    ("maintenance", true),
];

pub(super) struct OpenIncident {
    id: String,
    title: String,
    phase: String,
    since: String,
}

/// A probe's draft waiting for an editor, with what the probes saw.
pub(super) struct DraftView {
    id: String,
    title: String,
    title_en: String,
    body: String,
    body_en: String,
    /// "Lärplattform (Större avbrott)"
    affected: String,
    since: String,
}

/// One row of the probes table.
pub(super) struct ProbeRow {
    component: String,
    probe: String,
    what: String,
    down: bool,
    /// Dismissed as a false alarm while down.
    muted: bool,
    since: String,
    checked: String,
    error: String,
}

#[derive(Template)]
#[template(path = "status_admin.html")]
pub(super) struct EditorPage {
    p: Page,
    components: Vec<(String, String)>,
    impacts: Vec<(&'static str, String)>,
    phases: Vec<(&'static str, String)>,
    templates: Vec<(&'static str, String)>,
    open: Vec<OpenIncident>,
    drafts: Vec<DraftView>,
    probes: Vec<ProbeRow>,
    title: String,
    title_en: String,
    body: String,
    body_en: String,
    maintenance: bool,
    notice: Option<String>,
    error: Option<String>,
    list_size: usize,
    team_size: usize,
    /// (subject, when, "sent/total", failing, last error)
    reports: Vec<(String, String, String, u32, String)>,
}

pub(super) fn error_key(e: &StatusError) -> &'static str {
    match e {
        StatusError::BadTitle => "status.admin.error.title",
        StatusError::BadBody => "status.admin.error.body",
        StatusError::NoComponent => "status.admin.error.component",
        StatusError::UnknownComponent(_) | StatusError::UnknownImpact(_) => {
            "status.admin.error.component"
        }
        StatusError::UnknownPhase => "status.admin.error.phase",
        StatusError::NotFound | StatusError::AlreadyResolved => "status.admin.error.gone",
    }
}

pub(super) async fn render(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    draft: &IncidentDraft,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<String, AppError> {
    let org = &user.organisation.id;
    let components = state
        .store
        .status_components(org)
        .await?
        .into_iter()
        .map(|c| (c.slug.as_str().to_owned(), c.name))
        .collect();
    let open = state
        .store
        .incidents(org, state.clock.now(), 100)
        .await?
        .into_iter()
        .filter(|i| i.resolved_at.is_none())
        .map(|i| OpenIncident {
            phase: t
                .get(&format!("status.phase.{}", i.phase.name()))
                .to_owned(),
            since: stockholm(i.created_at),
            id: i.id,
            title: i.title,
        })
        .collect();
    let names: std::collections::HashMap<String, String> = state
        .store
        .status_components(org)
        .await?
        .into_iter()
        .map(|c| (c.slug.as_str().to_owned(), c.name))
        .collect();
    let name = |slug: &portvakt_core::domain::Slug| {
        names
            .get(slug.as_str())
            .cloned()
            .unwrap_or_else(|| slug.as_str().to_owned())
    };
    let drafts = state
        .store
        .draft_incidents(org)
        .await?
        .into_iter()
        .map(|i| {
            let first = i.updates.last().cloned();
            DraftView {
                affected: i
                    .affected
                    .iter()
                    .map(|(c, st)| {
                        format!(
                            "{} ({})",
                            name(c),
                            t.get(&format!("status.state.{}", st.name()))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                since: stockholm(i.created_at),
                body: first.as_ref().map(|u| u.body.clone()).unwrap_or_default(),
                body_en: first.map(|u| u.body_en).unwrap_or_default(),
                id: i.id,
                title: i.title,
                title_en: i.title_en,
            }
        })
        .collect();
    let views = state.store.probe_states(org).await?;
    let probes = state
        .store
        .probes(Some(org))
        .await?
        .into_iter()
        .map(|p| {
            let v = views.iter().find(|v| v.probe == p.slug);
            ProbeRow {
                component: name(&p.component),
                what: match &p.spec.kind {
                    portvakt_core::probe::ProbeKind::Http { url, .. } => format!("HTTP {url}"),
                    portvakt_core::probe::ProbeKind::Tcp { address } => format!("TCP {address}"),
                    portvakt_core::probe::ProbeKind::Tls { address, .. } => {
                        format!("TLS {address}")
                    }
                },
                probe: p.slug.as_str().to_owned(),
                down: v.is_some_and(|v| v.down),
                muted: v.is_some_and(|v| v.muted),
                since: v.map(|v| stockholm(v.since)).unwrap_or_default(),
                checked: v.map(|v| stockholm(v.checked_at)).unwrap_or_default(),
                error: v.map(|v| v.last_error.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let (team, list) = state.store.emergency_contacts(org).await?;
    let reports = state
        .store
        .batch_reports(org, 10)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.subject,
                stockholm(r.created_at),
                format!("{}/{}", r.sent, r.total),
                r.failing,
                r.last_error.unwrap_or_default(),
            )
        })
        .collect();
    Ok(EditorPage {
        list_size: list.len(),
        team_size: team.len(),
        reports,
        p: Page::for_user(t, csrf, "/admin/status", user),
        components,
        impacts: ComponentState::ALL
            .into_iter()
            .filter(|s| *s != ComponentState::Operational)
            .map(|s| {
                (
                    s.name(),
                    t.get(&format!("status.state.{}", s.name())).to_owned(),
                )
            })
            .collect(),
        phases: portvakt_core::status::Phase::ALL
            .into_iter()
            .map(|p| {
                (
                    p.name(),
                    t.get(&format!("status.phase.{}", p.name())).to_owned(),
                )
            })
            .collect(),
        templates: TEMPLATES
            .iter()
            .map(|(k, _)| (*k, t.get(&format!("status.template.{k}.name")).to_owned()))
            .collect(),
        open,
        drafts,
        probes,
        title: draft.title.clone(),
        title_en: draft.title_en.clone(),
        body: draft.body.clone(),
        body_en: draft.body_en.clone(),
        maintenance: draft.maintenance,
        notice: notice.map(|k| t.get(k).to_owned()),
        error: error.map(|k| t.get(k).to_owned()),
    }
    .render()?)
}

/// The editor page again, with what was wrong (400).
pub(super) async fn refused(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    draft: &IncidentDraft,
    key: &str,
) -> Result<Response, AppError> {
    let body = render(state, t, csrf, user, draft, None, Some(key)).await?;
    Ok((StatusCode::BAD_REQUEST, Html(body)).into_response())
}

/// The editor page again for a bad text or phase (400), the forms empty.
pub(super) async fn refused_text(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    e: &StatusError,
) -> Result<Response, AppError> {
    refused(
        state,
        t,
        csrf,
        user,
        &IncidentDraft::default(),
        error_key(e),
    )
    .await
}
