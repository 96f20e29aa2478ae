//! Re-authentication: the password again before a factor or the password
//! changes (SECURITY.md B4).

use super::settings_page::factor_error;
use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::{with_cookie, Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::page::Page;
use crate::http::return_to::local_path;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use portvakt_core::auth::mfa::FactorError;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "reauth.html")]
struct ReauthPage {
    p: Page,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn reauth_get(
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Query(q): Query<NextQuery>,
) -> Result<Html<String>, AppError> {
    let next = local_path(q.next.as_deref().unwrap_or("/settings")).to_owned();
    let username = user.user.username.to_string();
    Ok(Html(
        ReauthPage {
            p: Page::for_user(t, &csrf, "/settings", &user),
            username,
            next,
            error: None,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct ReauthForm {
    #[allow(dead_code)]
    csrf: String,
    #[allow(dead_code)]
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn reauth_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(form): ValidForm<ReauthForm>,
) -> Result<Response, AppError> {
    let next = local_path(&form.next).to_owned();
    match state
        .auth
        .reauthenticate(&user.session, &user.user, &form.password, &client)
        .await
    {
        Ok(token) => {
            let c = cookies::build(
                &state.cookies,
                state.cookies.session,
                token.as_str(),
                SameSite::Lax,
                None,
            );
            Ok(with_cookie(Redirect::to(&next).into_response(), c))
        }
        Err(e @ (FactorError::NotFresh | FactorError::Refused(_))) => {
            let username = user.user.username.to_string();
            let (status, error) = match e {
                FactorError::Refused(r) => {
                    crate::http::texts::refusal_text(t, r, state.clock.now())
                }
                _ => (StatusCode::UNAUTHORIZED, t.get("reauth.error").to_owned()),
            };
            let error = Some(error);
            let body = ReauthPage {
                p: Page::for_user(t, &csrf, "/settings", &user),
                username,
                next,
                error,
            }
            .render()?;
            Ok((status, Html(body)).into_response())
        }
        Err(e) => Err(factor_error(e).err().unwrap_or(AppError::BadRequest)),
    }
}
