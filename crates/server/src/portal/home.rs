//! "Mina tjänster": the services the user may open now, and the closed ones
//! with the reason (seed 004: they depend on group, sign-in method, place
//! and time), with a step-up to a stronger sign-in where that would help.

use crate::app::state::AppState;
use crate::http::access_text;
use crate::http::cookies;
use crate::http::error::AppError;
use crate::http::extract::{with_cookie, Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::page::Page;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use portvakt_core::access::{decide, Denial, LocalTime, Subject};
use portvakt_core::domain::Slug;
use serde::Deserialize;
use std::collections::BTreeSet;

struct Tile {
    icon: &'static str,
    name: String,
    description: String,
    url: String,
    open: bool,
    reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    p: Page,
    categories: Vec<(String, Vec<Tile>)>,
    /// Some closed service would open with a stronger sign-in.
    step_up: bool,
    /// ... and the person has a second factor to do it with; without one,
    /// the page says how to get one instead of offering a dead end.
    can_step_up: bool,
}

/// The services the user's groups give access to, grouped by category in
/// the order the administrator listed them.
pub async fn portal_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
) -> Result<Html<String>, AppError> {
    let org = &user.organisation.id;
    let services = state.store.services_with_groups(org).await?;
    let groups: BTreeSet<Slug> = state
        .store
        .user_groups(org, &user.user.id)
        .await?
        .into_iter()
        .map(|g| g.slug)
        .collect();
    let zones = state.store.zones(org).await?;
    let zone = state
        .auth
        .zone_of(org, client.ip)
        .await?
        .and_then(|z| Slug::parse(&z));
    let methods = user.session.amr.methods();
    let who = Subject {
        groups: &groups,
        methods: &methods,
        zone: zone.as_ref(),
        at: LocalTime::stockholm(state.clock.now()),
    };
    let mut step_up = false;
    let mut categories: Vec<(String, Vec<Tile>)> = Vec::new();
    for (s, service_groups) in services {
        let decision = decide(&s.access.rule(service_groups), &who);
        let reasons = match &decision {
            Ok(()) => Vec::new(),
            Err(d) if d.contains(&Denial::NotInGroup) => continue,
            Err(d) => {
                step_up |= d.iter().any(|x| matches!(x, Denial::Method(_)));
                access_text::reasons(t, d, &zones)
            }
        };
        let tile = Tile {
            icon: crate::http::icons::svg(&s.icon),
            name: s.name,
            description: s.description,
            url: match (&s.access.upstream, &s.access.host) {
                (Some(_), None) => {
                    crate::gateway::proxy::handoff::app_url(&state.config, s.slug.as_str(), &s.url)
                        .unwrap_or(s.url)
                }
                _ => s.url,
            },
            open: decision.is_ok(),
            reasons,
        };
        match categories.iter_mut().find(|(c, _)| *c == s.category) {
            Some((_, list)) => list.push(tile),
            None => categories.push((s.category, vec![tile])),
        }
    }
    let can_step_up = step_up
        && state
            .auth
            .usable_factors(&user.user, |k| state.senders.delivers(k))
            .await?
            .any();
    Ok(Html(
        PortalPage {
            p: Page::for_user(t, &csrf, "/", &user),
            categories,
            step_up,
            can_step_up,
        }
        .render()?,
    ))
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}

/// Step-up: confirm with a second factor to open services that need it.
/// The session it starts from is kept aside (see `CookieNames::step_up`)
/// so that cancelling returns to it.
pub async fn step_up_post(
    State(state): State<AppState>,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let usable = state
        .auth
        .usable_factors(&user.user, |k| state.senders.delivers(k))
        .await?;
    if !usable.any() {
        // Nothing to step up with: the portal says how to get a method.
        return Ok(Redirect::to("/").into_response());
    }
    let Some(token) = state
        .auth
        .step_up(&user.session, &user.user, &client)
        .await?
    else {
        return Ok(Redirect::to("/").into_response());
    };
    let pending = cookies::build(
        &state.cookies,
        state.cookies.session,
        token.as_str(),
        SameSite::Lax,
        None,
    );
    // A browser-session cookie: it dies with the browser, and it only
    // works with the pending session made here (see kept_session_value).
    let previous = cookies::build(
        &state.cookies,
        state.cookies.step_up,
        &cookies::kept_session_value(&user.token, &token),
        SameSite::Strict,
        None,
    );
    Ok(with_cookie(
        with_cookie(Redirect::to("/login/factor").into_response(), pending),
        previous,
    ))
}
