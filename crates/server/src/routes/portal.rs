use crate::error::AppError;
use crate::extract::{CsrfToken, CurrentUser, PageLang};
use crate::page::Page;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use portvakt_core::store::Service;

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    p: Page,
    categories: Vec<(String, Vec<Service>)>,
}

/// The services the user's groups give access to, grouped by category in
/// the order the administrator listed them.
pub async fn portal_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
) -> Result<Html<String>, AppError> {
    let services = state
        .store
        .services_for_user(&user.organisation.id, &user.user.id)
        .await?;
    let mut categories: Vec<(String, Vec<Service>)> = Vec::new();
    for s in services {
        match categories.iter_mut().find(|(c, _)| *c == s.category) {
            Some((_, list)) => list.push(s),
            None => categories.push((s.category.clone(), vec![s])),
        }
    }
    Ok(Html(
        PortalPage {
            p: Page::for_user(t, &csrf, "/", &user),
            categories,
        }
        .render()?,
    ))
}
