//! The public status page ("Driftinformation"): no sign-in, Swedish or
//! English, as HTML and as JSON. `/status` shows the default organisation,
//! `/status/<organisation>` any other.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, PageLang};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use portvakt_core::domain::Slug;
use portvakt_core::store::Organisation;

use super::feeds::{atom_text, json_text};
use super::view::{body, load, StatusBody};

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    p: Page,
    b: StatusBody,
    json_url: String,
    atom_url: String,
}

async fn organisation(state: &AppState, slug: Option<&str>) -> Result<Organisation, AppError> {
    let slug = match slug {
        Some(s) => Slug::parse(s),
        None => state
            .config
            .default_organisation
            .as_deref()
            .and_then(Slug::parse),
    }
    .ok_or(AppError::NotFound)?;
    state
        .store
        .organisation_by_slug(&slug)
        .await?
        .ok_or(AppError::NotFound)
}

async fn page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    slug: Option<&str>,
) -> Result<Response, AppError> {
    let org = organisation(state, slug).await?;
    let data = load(state, &org, true).await?;
    let back = slug.map_or_else(|| "/status".to_owned(), |s| format!("/status/{s}"));
    Ok(Html(
        StatusPage {
            p: Page::anonymous(t, csrf, &back),
            b: body(t, &org, &data, state.clock.now()),
            json_url: format!("/status/{}.json", org.slug.as_str()),
            atom_url: format!("/status/{}.atom", org.slug.as_str()),
        }
        .render()?,
    )
    .into_response())
}

pub async fn default_page(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
) -> Result<Response, AppError> {
    page(&state, t, &csrf, None).await
}

/// `/status/<organisation>` and `/status/<organisation>.json`.
pub async fn org_page(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    if let Some(s) = slug.strip_suffix(".json") {
        return json(&state, s).await;
    }
    if let Some(s) = slug.strip_suffix(".atom") {
        return atom(&state, s).await;
    }
    page(&state, t, &csrf, Some(&slug)).await
}

/// An Atom feed (RFC 4287): one entry per incident, updated with its
/// newest update, the updates in its content.
async fn atom(state: &AppState, slug: &str) -> Result<Response, AppError> {
    let org = organisation(state, Some(slug)).await?;
    let incidents = load(state, &org, false).await?.incidents;
    let base = format!("/status/{}", org.slug.as_str());
    Ok((
        [
            (header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=30"),
        ],
        atom_text(&org, &incidents, &base, state.clock.now()),
    )
        .into_response())
}

async fn json(state: &AppState, slug: &str) -> Result<Response, AppError> {
    let org = organisation(state, Some(slug)).await?;
    let data = load(state, &org, false).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=30"),
        ],
        json_text(&org, &data, state.clock.now()),
    )
        .into_response())
}
