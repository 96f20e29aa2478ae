//! The page after signing out, saying why (idle, expired, password changed…).

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, PageLang};
use crate::http::page::Page;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct SignedOutQuery {
    reason: Option<String>,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage {
    p: Page,
    message: String,
}

pub async fn signed_out(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Query(q): Query<SignedOutQuery>,
) -> Result<Html<String>, AppError> {
    let message = match q.reason.as_deref() {
        Some("idle") if state.config.session.idle_minutes == 15 => {
            t.get("signedout.idle").to_owned()
        }
        Some("idle") => t.get("signedout.idle_n").to_owned(),
        Some("expired") => t.get("signedout.expired").to_owned(),
        Some("password") => t.get("signedout.password").to_owned(),
        Some("codes") => t.get("signedout.codes").to_owned(),
        Some("reset") => t.get("signedout.reset").to_owned(),
        Some("servicedesk") => t.get("signedout.servicedesk").to_owned(),
        Some("elsewhere") => t.get("signedout.elsewhere").to_owned(),
        _ => t.get("signedout.logout").to_owned(),
    };
    Ok(Html(
        SignedOutPage {
            p: Page::anonymous(t, &csrf, "/signed-out"),
            message,
        }
        .render()?,
    ))
}
