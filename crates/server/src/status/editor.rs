//! The status editor's pages: open incidents and planned maintenance
//! (from a template or blank), pick components and impact, write in
//! Swedish and optionally English, add updates and resolve. Every change
//! is followed by the static copy and its push.

use crate::admin::events as admin_events;
use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::stockholm;
use askama::Template;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::status::{new_incident, new_update, ComponentState, IncidentDraft, StatusError};
use serde::Deserialize;

/// Ready-made texts for common cases (seeds 000 and 002).
const TEMPLATES: [(&str, bool); 3] = [
    ("outage", false),
    ("intrusion", false),
    ("maintenance", true),
];

struct OpenIncident {
    id: String,
    title: String,
    phase: String,
    since: String,
}

/// A probe's draft waiting for an editor, with what the probes saw.
struct DraftView {
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
struct ProbeRow {
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
struct EditorPage {
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

#[derive(Deserialize, Default)]
pub struct EditorQuery {
    template: Option<String>,
    done: Option<String>,
}

fn error_key(e: &StatusError) -> &'static str {
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

async fn render(
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
async fn refused(
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
async fn refused_text(
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

pub async fn editor_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Query(q): Query<EditorQuery>,
) -> Result<Html<String>, AppError> {
    let mut draft = IncidentDraft::default();
    if let Some((key, maintenance)) = q
        .template
        .as_deref()
        .and_then(|k| TEMPLATES.iter().find(|(n, _)| *n == k))
    {
        // Templates are written in both languages.
        let (sv, en) = (
            Tr::new(crate::http::i18n::Lang::Sv),
            Tr::new(crate::http::i18n::Lang::En),
        );
        let k = |lang: Tr, part: &str| {
            lang.get(&format!("status.template.{key}.{part}"))
                .to_owned()
        };
        draft = IncidentDraft {
            title: k(sv, "title"),
            title_en: k(en, "title"),
            body: k(sv, "body"),
            body_en: k(en, "body"),
            maintenance: *maintenance,
            affected: Vec::new(),
        };
    }
    let notice = match q.done.as_deref() {
        Some("opened") => Some("status.admin.opened"),
        Some("updated") => Some("status.admin.updated"),
        Some("sent") => Some("status.admin.sent"),
        Some("confirmed") => Some("status.admin.confirmed"),
        Some("withdrawn") => Some("status.admin.withdrawn"),
        _ => None,
    };
    Ok(Html(
        render(&state, t, &csrf, &user, &draft, notice, None).await?,
    ))
}

/// Opens an incident. The form is parsed by hand: one `impact_<component>`
/// field per component.
pub async fn open_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    RawForm(raw): RawForm,
) -> Result<Response, AppError> {
    let mut draft = IncidentDraft::default();
    for (k, v) in form_urlencoded::parse(&raw) {
        let v = v.into_owned();
        match k.as_ref() {
            "title" => draft.title = v,
            "title_en" => draft.title_en = v,
            "body" => draft.body = v,
            "body_en" => draft.body_en = v,
            "maintenance" => draft.maintenance = v == "on",
            k if k.starts_with("impact_") && !v.is_empty() => {
                draft.affected.push((k["impact_".len()..].to_owned(), v));
            }
            _ => {}
        }
    }
    let components = state.store.status_components(&user.organisation.id).await?;
    match new_incident(&components, &draft, state.clock.now()) {
        Ok(incident) => {
            state.store.create_incident(&incident).await?;
            if let Some(first) = incident.updates.first() {
                crate::status::notify::notify_team(
                    &*state.store,
                    &user.organisation,
                    &incident.id,
                    &incident.title,
                    first,
                    state.clock.now(),
                )
                .await?;
            }
            crate::status::export::publish(&state, user.organisation.clone());
            admin_events::record(&state, &user, &client, "incident.open", &incident.id, "ok").await;
            Ok(Redirect::to("/admin/status?done=opened").into_response())
        }
        Err(e) => refused(&state, t, &csrf, &user, &draft, error_key(&e)).await,
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    phase: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    body_en: String,
}

pub async fn update_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<UpdateForm>,
) -> Result<Response, AppError> {
    let update = match new_update(&form.phase, &form.body, &form.body_en, state.clock.now()) {
        Ok(u) => u,
        Err(e) => return refused_text(&state, t, &csrf, &user, &e).await,
    };
    // Another organisation's incident id looks exactly like no incident.
    if !state
        .store
        .add_incident_update(&user.organisation.id, &id, &update)
        .await?
    {
        return Err(AppError::NotFound);
    }
    crate::status::notify::notify_update(
        &*state.store,
        &user.organisation,
        &id,
        &update,
        state.clock.now(),
    )
    .await?;
    crate::status::export::publish(&state, user.organisation.clone());
    admin_events::record(&state, &user, &client, "incident.update", &id, &form.phase).await;
    Ok(Redirect::to("/admin/status?done=updated").into_response())
}

#[derive(Deserialize)]
pub struct MessageForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

/// Writes to everyone on the emergency list.
pub async fn message_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(form): ValidForm<MessageForm>,
) -> Result<Response, AppError> {
    match crate::status::notify::message_list(
        &*state.store,
        &user.organisation,
        &form.subject,
        &form.body,
        state.clock.now(),
    )
    .await
    {
        Ok(batch) => {
            // The batch id, never the text: that stays in the outbox.
            admin_events::record(&state, &user, &client, "emergency.message", &batch, "ok").await;
            Ok(Redirect::to("/admin/status?done=sent#report").into_response())
        }
        Err(crate::status::notify::MessageError::Store(e)) => Err(e.into()),
        Err(e) => {
            let key = match e {
                crate::status::notify::MessageError::NoRecipients => "status.admin.error.no_list",
                crate::status::notify::MessageError::Text(StatusError::BadTitle) => {
                    "status.admin.error.subject"
                }
                _ => "status.admin.error.body",
            };
            refused(&state, t, &csrf, &user, &IncidentDraft::default(), key).await
        }
    }
}

#[derive(Deserialize)]
pub struct DraftForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    title_en: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    body_en: String,
}

/// Confirms a probe's draft, with the editor's wording: from now on the
/// public sees it and the team is told.
pub async fn draft_publish(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<DraftForm>,
) -> Result<Response, AppError> {
    let org = &user.organisation;
    match crate::status::notify::confirm_draft(
        &*state.store,
        org,
        &id,
        (&form.title, &form.title_en),
        (&form.body, &form.body_en),
        state.clock.now(),
    )
    .await
    {
        Ok(()) => {}
        Err(crate::status::notify::ConfirmError::Text(e)) => {
            return refused_text(&state, t, &csrf, &user, &e).await
        }
        // Another organisation's draft looks exactly like no draft.
        Err(crate::status::notify::ConfirmError::NotFound) => return Err(AppError::NotFound),
        Err(crate::status::notify::ConfirmError::Store(e)) => return Err(e.into()),
    }
    crate::status::export::publish(&state, org.clone());
    admin_events::record(&state, &user, &client, "incident.publish_draft", &id, "ok").await;
    Ok(Redirect::to("/admin/status?done=confirmed").into_response())
}

/// Dismisses a probe's draft unseen (a false alarm).
pub async fn draft_withdraw(
    State(state): State<AppState>,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    ValidForm(_form): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    if !state
        .store
        .withdraw_draft(&user.organisation.id, &id, state.clock.now())
        .await?
    {
        return Err(AppError::NotFound);
    }
    admin_events::record(&state, &user, &client, "incident.withdraw_draft", &id, "ok").await;
    Ok(Redirect::to("/admin/status?done=withdrawn").into_response())
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}
