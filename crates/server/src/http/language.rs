//! The language a person picks: a cookie for anyone, a setting for
//! signed-in people (see account::settings).

use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::with_cookie;
use crate::http::extract::ValidForm;
use crate::http::i18n::Lang;
use crate::http::return_to::local_path;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::SameSite;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LanguageForm {
    #[allow(dead_code)]
    csrf: String,
    lang: String,
    #[serde(default)]
    back: String,
}

/// Sets the language cookie (a year, like the language switch).
pub(crate) fn language_cookie(state: &AppState, lang: Lang, resp: Response) -> Response {
    with_cookie(
        resp,
        cookies::build(
            &state.cookies,
            state.cookies.lang,
            lang.as_str(),
            SameSite::Lax,
            Some(365 * 24 * 3600),
        ),
    )
}

pub async fn language_post(
    State(state): State<AppState>,
    ValidForm(form): ValidForm<LanguageForm>,
) -> Result<Response, AppError> {
    let lang = Lang::from_tag(&form.lang).ok_or(AppError::BadRequest)?;
    Ok(language_cookie(
        &state,
        lang,
        Redirect::to(local_path(&form.back)).into_response(),
    ))
}
