//! What the status editor shows: the open incidents and drafts, the
//! probes, the forms with their templates, and the page again with what
//! was wrong.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, CurrentUser};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::stockholm;
use crate::status::view::affected_text;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use portvakt_core::status::{
    Component, ComponentState, Incident, IncidentDraft, Phase, StatusError,
};

/// Ready-made texts for common cases (seeds 000 and 002).
pub(super) const TEMPLATES: [(&str, bool); 3] = [
    ("outage", false),
    ("intrusion", false),
    ("maintenance", true),
];

/// Which of the editor's forms a refused post came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Form {
    /// None: the page as it is.
    #[default]
    Nothing,
    New,
    /// An update of the incident with this id.
    Update(String),
    /// A correction of the incident with this id.
    Correct(String),
    /// Confirming the draft with this id.
    Draft(String),
}

/// What the editor typed into one form, shown again when it was refused
/// (nothing typed is lost), with the field the message belongs at.
#[derive(Debug, Clone, Default)]
pub(super) struct Typed {
    pub(super) form: Form,
    pub(super) title: String,
    pub(super) title_en: String,
    pub(super) body: String,
    pub(super) body_en: String,
    pub(super) phase: String,
    pub(super) maintenance: bool,
    /// (component slug, impact name) as chosen.
    pub(super) affected: Vec<(String, String)>,
    /// `title`, `title_en`, `body`, `body_en`, `phase`, `affected`, or "".
    pub(super) field: &'static str,
}

impl Typed {
    /// The new-incident form, filled in (from a template, or as sent).
    pub(super) fn new_incident(d: &IncidentDraft) -> Self {
        Self {
            form: Form::New,
            title: d.title.clone(),
            title_en: d.title_en.clone(),
            body: d.body.clone(),
            body_en: d.body_en.clone(),
            maintenance: d.maintenance,
            affected: d.affected.clone(),
            ..Self::default()
        }
    }

    /// The field `e` is about, for the message beside it.
    #[must_use]
    pub(super) fn at(mut self, e: &StatusError) -> Self {
        self.field = match e {
            StatusError::BadTitle => "title",
            StatusError::BadBody => "body",
            StatusError::Gap(f) => f.name(),
            StatusError::NoComponent
            | StatusError::UnknownComponent(_)
            | StatusError::UnknownImpact(_) => "affected",
            StatusError::UnknownPhase => "phase",
            StatusError::NotFound | StatusError::AlreadyResolved | StatusError::Unchanged => "",
        };
        self
    }

    /// The field in error if `form` is the one refused, else "".
    fn field_in(&self, form: &Form) -> &'static str {
        if self.form == *form {
            self.field
        } else {
            ""
        }
    }
}

/// One option of a select, with whether it is the chosen one.
pub(super) struct Choice {
    key: &'static str,
    label: String,
    selected: bool,
}

/// A component's impact select: "Inte berörd" and each impact.
pub(super) struct ImpactRow {
    slug: String,
    name: String,
    choices: Vec<Choice>,
}

pub(super) struct OpenIncident {
    /// 1, 2, … for the fields' ids.
    n: usize,
    id: String,
    title: String,
    phase: String,
    since: String,
    /// The update form: the phase preselected (the incident's own, or the
    /// one chosen in a refused update), and the texts typed.
    phases: Vec<Choice>,
    body: String,
    body_en: String,
    update_err: &'static str,
    /// The correction form, open when a correction was refused.
    correcting: bool,
    cor_title: String,
    cor_title_en: String,
    impacts: Vec<ImpactRow>,
    correct_err: &'static str,
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
    n: usize,
    err: &'static str,
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
    templates: Vec<(&'static str, String)>,
    open: Vec<OpenIncident>,
    drafts: Vec<DraftView>,
    probes: Vec<ProbeRow>,
    /// The new-incident form.
    impacts: Vec<ImpactRow>,
    title: String,
    title_en: String,
    body: String,
    body_en: String,
    maintenance: bool,
    new_err: &'static str,
    notice: Option<String>,
    error: Option<String>,
    /// The same message, for beside the field.
    error_text: String,
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
        StatusError::Gap(_) => "status.admin.error.gap",
        StatusError::Unchanged => "status.admin.error.unchanged",
    }
}

/// The impact selects for every component, `chosen` preselected.
fn impact_rows(t: Tr, components: &[Component], chosen: &[(String, String)]) -> Vec<ImpactRow> {
    components
        .iter()
        .map(|c| {
            let picked = chosen
                .iter()
                .find(|(s, _)| s == c.slug.as_str())
                .map_or("", |(_, i)| i.as_str());
            let none = Choice {
                key: "",
                label: t.get("status.admin.not_affected").to_owned(),
                selected: picked.is_empty(),
            };
            let impacts = ComponentState::ALL
                .into_iter()
                .filter(|s| *s != ComponentState::Operational)
                .map(|s| Choice {
                    key: s.name(),
                    label: t.get(&format!("status.state.{}", s.name())).to_owned(),
                    selected: picked == s.name(),
                });
            ImpactRow {
                slug: c.slug.as_str().to_owned(),
                name: c.name.clone(),
                choices: std::iter::once(none).chain(impacts).collect(),
            }
        })
        .collect()
}

/// The phase select, `chosen` preselected.
fn phase_choices(t: Tr, chosen: &str) -> Vec<Choice> {
    Phase::ALL
        .into_iter()
        .map(|p| Choice {
            key: p.name(),
            label: t.get(&format!("status.phase.{}", p.name())).to_owned(),
            selected: p.name() == chosen,
        })
        .collect()
}

/// An open incident with its forms: as stored, or as typed when the
/// editor's post about it was refused.
fn open_incident(
    t: Tr,
    n: usize,
    i: Incident,
    components: &[Component],
    typed: &Typed,
) -> OpenIncident {
    let update = Form::Update(i.id.clone());
    let correct = Form::Correct(i.id.clone());
    let (phase, body, body_en) = if typed.form == update {
        (
            typed.phase.as_str(),
            typed.body.clone(),
            typed.body_en.clone(),
        )
    } else {
        (i.phase.name(), String::new(), String::new())
    };
    let correcting = typed.form == correct;
    let (cor_title, cor_title_en, affected) = if correcting {
        (
            typed.title.clone(),
            typed.title_en.clone(),
            typed.affected.clone(),
        )
    } else {
        (
            i.title.clone(),
            i.title_en.clone(),
            i.affected
                .iter()
                .map(|(s, st)| (s.as_str().to_owned(), st.name().to_owned()))
                .collect(),
        )
    };
    OpenIncident {
        n,
        phases: phase_choices(t, phase),
        body,
        body_en,
        update_err: typed.field_in(&update),
        correcting,
        cor_title,
        cor_title_en,
        impacts: impact_rows(t, components, &affected),
        correct_err: typed.field_in(&correct),
        phase: t
            .get(&format!("status.phase.{}", i.phase.name()))
            .to_owned(),
        since: stockholm(i.created_at),
        id: i.id,
        title: i.title,
    }
}

pub(super) async fn render(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    typed: &Typed,
    notice: Option<&str>,
    error: Option<&str>,
) -> Result<String, AppError> {
    let org = &user.organisation.id;
    let components = state.store.status_components(org).await?;
    let open = state
        .store
        .incidents(org, state.clock.now(), 100)
        .await?
        .into_iter()
        .filter(|i| i.resolved_at.is_none())
        .enumerate()
        .map(|(n, i)| open_incident(t, n + 1, i, &components, typed))
        .collect();
    let name = |slug: &portvakt_core::domain::Slug| {
        components
            .iter()
            .find(|c| c.slug == *slug)
            .map_or_else(|| slug.as_str().to_owned(), |c| c.name.clone())
    };
    let drafts = state
        .store
        .draft_incidents(org)
        .await?
        .into_iter()
        .enumerate()
        .map(|(n, i)| {
            let first = i.updates.last().cloned();
            let form = Form::Draft(i.id.clone());
            let mine = typed.form == form;
            let (title, title_en, body, body_en) = if mine {
                (
                    typed.title.clone(),
                    typed.title_en.clone(),
                    typed.body.clone(),
                    typed.body_en.clone(),
                )
            } else {
                (
                    i.title,
                    i.title_en,
                    first.as_ref().map(|u| u.body.clone()).unwrap_or_default(),
                    first.map(|u| u.body_en).unwrap_or_default(),
                )
            };
            DraftView {
                affected: affected_text(t, &i.affected, &components),
                since: stockholm(i.created_at),
                n: n + 1,
                err: typed.field_in(&form),
                id: i.id,
                title,
                title_en,
                body,
                body_en,
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
    let new = if typed.form == Form::New {
        typed.clone()
    } else {
        Typed::default()
    };
    Ok(EditorPage {
        list_size: list.len(),
        team_size: team.len(),
        reports,
        p: Page::for_user(t, csrf, "/admin/status", user),
        impacts: impact_rows(t, &components, &new.affected),
        templates: TEMPLATES
            .iter()
            .map(|(k, _)| (*k, t.get(&format!("status.template.{k}.name")).to_owned()))
            .collect(),
        open,
        drafts,
        probes,
        new_err: typed.field_in(&Form::New),
        title: new.title,
        title_en: new.title_en,
        body: new.body,
        body_en: new.body_en,
        maintenance: new.maintenance,
        notice: notice.map(|k| t.get(k).to_owned()),
        error: error.map(|k| t.get(k).to_owned()),
        error_text: error.map(|k| t.get(k).to_owned()).unwrap_or_default(),
    }
    .render()?)
}

/// The editor page again (400) with what was wrong, at its field, and
/// what was typed still in its form.
pub(super) async fn refused(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    user: &CurrentUser,
    typed: &Typed,
    key: &str,
) -> Result<Response, AppError> {
    let body = render(state, t, csrf, user, typed, None, Some(key)).await?;
    Ok((StatusCode::BAD_REQUEST, Html(body)).into_response())
}
