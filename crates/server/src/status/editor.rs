//! The status editor's pages: open incidents and planned maintenance
//! (from a template or blank), pick components and impact, write in
//! Swedish and optionally English, add updates and resolve. Every change
//! is followed by the static copy and its push.

use super::editor_page::{error_key, refused, render, Form, Typed, TEMPLATES};
use crate::app::state::AppState;
use crate::audit::events as admin_events;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::Tr;
use axum::extract::{Path, Query, RawForm, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::status::{new_incident, new_update, IncidentDraft, StatusError};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct EditorQuery {
    template: Option<String>,
    done: Option<String>,
}

pub async fn editor_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Query(q): Query<EditorQuery>,
) -> Result<Html<String>, AppError> {
    let mut typed = Typed::default();
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
        typed = Typed::new_incident(&IncidentDraft {
            title: k(sv, "title"),
            title_en: k(en, "title"),
            body: k(sv, "body"),
            body_en: k(en, "body"),
            maintenance: *maintenance,
            affected: Vec::new(),
        });
    }
    let notice = match q.done.as_deref() {
        Some("opened") => Some("status.admin.opened"),
        Some("updated") => Some("status.admin.updated"),
        Some("corrected") => Some("status.admin.corrected"),
        Some("sent") => Some("status.admin.sent"),
        Some("confirmed") => Some("status.admin.confirmed"),
        Some("withdrawn") => Some("status.admin.withdrawn"),
        _ => None,
    };
    Ok(Html(
        render(&state, t, &csrf, &user, &typed, notice, None).await?,
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
                    state.config.public_url(),
                    &incident,
                    first,
                    state.clock.now(),
                )
                .await?;
            }
            crate::status::export::publish(&state, user.organisation.clone());
            admin_events::record(&state, &user, &client, "incident.open", &incident.id, "ok").await;
            Ok(Redirect::to("/admin/status?done=opened").into_response())
        }
        Err(e) => {
            let typed = Typed::new_incident(&draft).at(&e);
            refused(&state, t, &csrf, &user, &typed, error_key(&e)).await
        }
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
        Err(e) => {
            // The phase and texts chosen stay in that incident's form.
            let typed = Typed {
                form: Form::Update(id),
                phase: form.phase,
                body: form.body,
                body_en: form.body_en,
                ..Typed::default()
            }
            .at(&e);
            return refused(&state, t, &csrf, &user, &typed, error_key(&e)).await;
        }
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
        state.config.public_url(),
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
            refused(&state, t, &csrf, &user, &Typed::default(), key).await
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
        state.config.public_url(),
        &id,
        (&form.title, &form.title_en),
        (&form.body, &form.body_en),
        state.clock.now(),
    )
    .await
    {
        Ok(()) => {}
        Err(crate::status::notify::ConfirmError::Text(e)) => {
            let typed = Typed {
                form: Form::Draft(id),
                title: form.title,
                title_en: form.title_en,
                body: form.body,
                body_en: form.body_en,
                ..Typed::default()
            }
            .at(&e);
            return refused(&state, t, &csrf, &user, &typed, error_key(&e)).await;
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
