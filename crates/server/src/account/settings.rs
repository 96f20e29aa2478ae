//! "Mina inställningar": the user's second factors, and re-authentication
//! before changing them (SECURITY.md B4).

use super::settings_page::{refused, settings_page};
use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::Lang;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::ids::FactorId;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SettingsQuery {
    done: Option<String>,
    /// Back from `/reauth` in the middle of a change.
    r#continue: Option<String>,
}

pub async fn settings_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Query(q): Query<SettingsQuery>,
) -> Result<Html<String>, AppError> {
    let notice = match q.done.as_deref() {
        Some("added") => Some("settings.added"),
        Some("removed") => Some("settings.removed"),
        Some("language") => Some("settings.language_saved"),
        Some("app_ended") => Some("settings.oidc_ended"),
        _ if matches!(
            q.r#continue.as_deref(),
            Some("app" | "sms" | "email" | "passkey" | "remove")
        ) =>
        {
            Some("settings.reauthed")
        }
        _ => None,
    };
    Ok(Html(
        settings_page(&state, t, &csrf, &user, notice, None).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfForm {
    #[allow(dead_code)]
    csrf: String,
}

pub async fn factor_remove_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    ValidForm(_): ValidForm<CsrfForm>,
) -> Result<Response, AppError> {
    crate::crisis::freeze::check(
        &state,
        &user,
        &client,
        portvakt_core::freeze::FrozenChange::RemoveFactor,
    )
    .await?;
    if !state.auth.is_fresh(&user.session) {
        return Ok(
            Redirect::to("/reauth?next=%2Fsettings%3Fcontinue%3Dremove%23methods").into_response(),
        );
    }
    let fid = FactorId::from_raw(id);
    let removed = state
        .store
        .factors(&user.organisation.id, &user.user.id)
        .await?
        .into_iter()
        .find(|f| f.id == fid);
    match state
        .auth
        .remove_factor(&user.organisation, &user.user, &fid, &client)
        .await
    {
        Ok(()) => {
            // The removed address or number hears about it, and so do the
            // person's other contacts: a stranger removing the owner's
            // contact would otherwise go unnoticed.
            crate::audit::events::record(
                &state,
                &user,
                &client,
                "account.remove_factor",
                &format!("{}/{}", user.user.id, fid),
                removed.as_ref().map_or("", |f| f.kind.as_str()),
            )
            .await;
            if let Some(f) = removed {
                crate::messaging::notices::factor_removed(
                    &state,
                    &user.organisation,
                    &user.user,
                    &f,
                )
                .await;
            }
            Ok(Redirect::to("/settings?done=removed").into_response())
        }
        Err(e) => refused(&state, t, &csrf, &user, e, "/settings").await,
    }
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    language: String,
}

/// The user's own language: kept on the account, applied at every sign-in
/// (on any device), and at once in this browser. Empty follows the browser.
pub async fn language_post(
    State(state): State<AppState>,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(form): ValidForm<LanguageForm>,
) -> Result<Response, AppError> {
    let lang = match form.language.as_str() {
        "" => None,
        other => Some(Lang::from_tag(other).ok_or(AppError::BadRequest)?),
    };
    state
        .store
        .set_user_language(&user.organisation.id, &user.user.id, lang)
        .await?;
    // One of the account's changes *Mina inloggningar* lists (issue 14).
    crate::audit::events::record(
        &state,
        &user,
        &client,
        "account.language",
        user.user.id.as_str(),
        lang.map_or("browser", |l| l.as_str()),
    )
    .await;
    let resp = Redirect::to("/settings?done=language").into_response();
    Ok(match lang {
        Some(l) => crate::http::language::language_cookie(&state, l, resp),
        None => resp,
    })
}

#[derive(Deserialize)]
pub struct AppEndForm {
    #[allow(dead_code)]
    csrf: String,
}

/// Signs the person out of one app and forgets that they allowed it.
pub async fn app_end_post(
    State(state): State<AppState>,
    crate::http::extract::Client(who): crate::http::extract::Client,
    user: CurrentUser,
    axum::extract::Path(client_id): axum::extract::Path<String>,
    crate::http::extract::ValidForm(_): crate::http::extract::ValidForm<AppEndForm>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    let org = &user.organisation.id;
    let client = state
        .store
        .oidc_clients(org)
        .await?
        .into_iter()
        .find(|c| c.client_id == client_id)
        .ok_or(AppError::NotFound)?;
    state
        .store
        .end_user_app(org, &user.user.id, &client.id, state.clock.now())
        .await?;
    crate::audit::events::record(
        &state,
        &user,
        &who,
        "account.end_app",
        user.user.id.as_str(),
        &client.client_id,
    )
    .await;
    Ok(axum::response::Redirect::to("/settings?done=app_ended#signed-in-apps").into_response())
}
