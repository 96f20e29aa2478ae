//! The second step of signing in: a code from the authenticator app.

use crate::cookies;
use crate::error::AppError;
use crate::extract::{with_cookie, Client, CsrfToken, PageLang, SecondFactorStep, ValidForm};
use crate::i18n::Tr;
use crate::page::Page;
use crate::state::AppState;
use crate::time_fmt;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use portvakt_core::auth::mfa::{pending_expires_at, SecondFactorError};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "factor.html")]
struct FactorPage {
    p: Page,
    expires: String,
    error: Option<String>,
}

fn render(
    t: Tr,
    csrf: &CsrfToken,
    step: &SecondFactorStep,
    error: Option<String>,
) -> Result<String, AppError> {
    let expires = time_fmt::stockholm_time(pending_expires_at(&step.0.session));
    Ok(FactorPage {
        p: Page::anonymous(t, csrf, "/login/factor"),
        expires,
        error,
    }
    .render()?)
}

pub async fn factor_get(
    PageLang(t): PageLang,
    csrf: CsrfToken,
    step: SecondFactorStep,
) -> Result<Html<String>, AppError> {
    Ok(Html(render(t, &csrf, &step, None)?))
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    code: String,
}

pub async fn factor_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    step: SecondFactorStep,
    ValidForm(form): ValidForm<CodeForm>,
) -> Result<Response, AppError> {
    let code: String = form.code.chars().take(64).collect();
    match state.auth.verify_totp(&step.0.token, &code, &client).await {
        Ok(token) => {
            let c = cookies::build(
                &state.cookies,
                state.cookies.session,
                token.as_str(),
                SameSite::Lax,
                None,
            );
            let to = if step.0.user.must_change_password {
                "/password"
            } else {
                "/"
            };
            Ok(with_cookie(Redirect::to(to).into_response(), c))
        }
        Err(SecondFactorError::WrongCode { tries_left }) => {
            let msg = t
                .get("factor.error.wrong")
                .replace("{n}", &tries_left.to_string());
            Ok((
                StatusCode::UNAUTHORIZED,
                Html(render(t, &csrf, &step, Some(msg))?),
            )
                .into_response())
        }
        Err(SecondFactorError::AttemptOver) => {
            let clear = cookies::build(
                &state.cookies,
                state.cookies.session,
                "",
                SameSite::Lax,
                Some(0),
            );
            Ok(with_cookie(
                Redirect::to("/signed-out?reason=codes").into_response(),
                clear,
            ))
        }
        Err(SecondFactorError::Store(e)) => Err(e.into()),
    }
}
