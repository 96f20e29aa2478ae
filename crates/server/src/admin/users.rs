//! Servicedesk pages: the users of the admin's own organisation, unlock and
//! end sessions. Every handler starts with the role check, and every lookup
//! is scoped by the admin's organisation, so an id from another
//! organisation is simply "not found" (SECURITY.md C1–C2).

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::event_words::{event_row, zone_names, EventRow};
use crate::http::extract::{CsrfToken, CurrentUser, PageLang};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::stockholm;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use portvakt_core::ids::{EventId, UserId};
use portvakt_core::store::{AuditQuery, User, UserFilter, UserSearch};
use serde::Deserialize;

const PAGE_SIZE: u32 = 50;

pub(crate) struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub status: String,
}

pub(crate) fn row(t: Tr, u: &User) -> UserRow {
    UserRow {
        id: u.id.to_string(),
        username: u.username.to_string(),
        display_name: u.display_name.clone(),
        status: t
            .get(if u.disabled {
                "admin.users.disabled"
            } else {
                "admin.users.active"
            })
            .to_owned(),
    }
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    p: Page,
    users: Vec<UserRow>,
    q: String,
    only: String,
    /// Query strings of the neighbouring pages.
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: u32,
    #[serde(default)]
    q: String,
    /// `locked`, `disabled`, `no_factor`, or empty for everyone.
    #[serde(default)]
    only: String,
}

/// "Låst till 14:05 (5 misslyckade försök)", "Låst av servicedesk: …",
/// "Låst (…)", "Avstängd", "Aktiv", and "utan andra inloggningsmetod"
/// where it applies: the same words on the list, the user page and a case.
pub(crate) fn status_words(
    t: Tr,
    u: &User,
    locked_until: i64,
    failures: u32,
    now: i64,
    factor: bool,
) -> String {
    let mut s = if u.disabled {
        t.get("admin.users.disabled").to_owned()
    } else if !u.lock_reason.is_empty() {
        format!("{}: {}", t.get("admin.users.locked_by_desk"), u.lock_reason)
    } else if locked_until == portvakt_core::auth::lockout::HARD_LOCK {
        format!(
            "{} ({failures} {})",
            t.get("admin.users.locked"),
            t.get("admin.users.failed_tries")
        )
    } else if locked_until > now {
        format!(
            "{} {} {} ({failures} {})",
            t.get("admin.users.locked"),
            t.get("admin.users.until"),
            crate::http::time_fmt::stockholm_seconds(locked_until)
                .rsplit_once(' ')
                .map(|(_, time)| time.to_owned())
                .unwrap_or_default(),
            t.get("admin.users.failed_tries")
        )
    } else {
        t.get("admin.users.active").to_owned()
    };
    if !factor {
        s.push_str(", ");
        s.push_str(t.get("admin.users.no_factor"));
    }
    s
}

pub async fn users_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    admin: CurrentUser,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, AppError> {
    let page = q.page.min(100_000);
    let only = match q.only.as_str() {
        "locked" => Some(UserFilter::Locked),
        "disabled" => Some(UserFilter::Disabled),
        "no_factor" => Some(UserFilter::NoSecondFactor),
        "" => None,
        _ => return Err(AppError::BadRequest),
    };
    let search = UserSearch {
        text: q.q.chars().take(200).collect(),
        only,
    };
    let now = state.clock.now();
    let found = state
        .store
        .search_users(
            &admin.organisation.id,
            &search,
            now,
            page * PAGE_SIZE,
            PAGE_SIZE,
        )
        .await?;
    let link = |n: u32| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("q", search.text.trim())
            .append_pair("only", &q.only)
            .append_pair("page", &n.to_string())
            .finish()
    };
    let next = (found.len() == PAGE_SIZE as usize).then(|| link(page + 1));
    let prev = page.checked_sub(1).map(link);
    let users = found
        .iter()
        .map(|l| {
            let mut r = row(t, &l.user);
            r.status = status_words(
                t,
                &l.user,
                l.locked_until,
                l.failures,
                now,
                l.has_second_factor,
            );
            r
        })
        .collect();
    Ok(Html(
        UsersPage {
            p: Page::for_user(t, &csrf, "/admin/users", &admin),
            users,
            q: search.text.trim().to_owned(),
            only: q.only.clone(),
            prev,
            next,
        }
        .render()?,
    ))
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    p: Page,
    user: UserRow,
    notice: Option<String>,
    sessions: Vec<(String, String)>,
    /// Sign-ins and attempts, newest first, one page.
    events: Vec<EventRow>,
    /// The query string of the next (older) page of events.
    older: Option<String>,
    /// What was done to or by the account (the audit log).
    actions: Vec<crate::audit::words::Row>,
    from: String,
    until: String,
    filter_error: Option<&'static str>,
    factors: Vec<crate::admin::intrusion::page::ContactRow>,
    email: String,
    locked: bool,
    cases: Vec<crate::admin::intrusion::cases::CaseLine>,
    /// The OpenID apps the person is signed in to or has allowed.
    apps: Vec<crate::account::settings_page::AppRow>,
}

/// Which sign-ins the user page shows: days in Stockholm time, and a
/// cursor for older pages.
#[derive(Deserialize, Default)]
pub struct HistoryFilter {
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    before_at: Option<i64>,
    before_id: Option<String>,
}

const EVENTS_PAGE: u32 = 50;

/// (since, before, error) for the store from the filter; a day that is not
/// a date shows everything with the error.
fn history_window(f: &HistoryFilter) -> (i64, Option<(i64, EventId)>, Option<&'static str>) {
    let day = crate::http::time_fmt::stockholm_day_start;
    let mut error = None;
    let since = if f.from.trim().is_empty() {
        0
    } else {
        day(&f.from).unwrap_or_else(|| {
            error = Some("audit.bad_date");
            0
        })
    };
    let mut before = match (f.before_at, &f.before_id) {
        (Some(at), Some(id)) => Some((at, EventId::from_raw(id.clone()))),
        _ => None,
    };
    if before.is_none() && !f.until.trim().is_empty() {
        match day(&f.until) {
            // Up to and including that day: before the next one starts.
            Some(start) => before = Some((start + 86_400, EventId::from_raw(""))),
            None => error = Some("audit.bad_date"),
        }
    }
    (since, before, error)
}

pub(crate) async fn render_user(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    id: &str,
    notice: Option<&str>,
    filter: &HistoryFilter,
) -> Result<Response, AppError> {
    let org = &admin.organisation.id;
    let user = target(state, admin, id).await?;
    let throttle = state.store.throttle_state(org, &user.username).await?;
    let mut r = row(t, &user);
    let has_factor = state
        .store
        .factors(org, &user.id)
        .await?
        .iter()
        .any(|f| f.confirmed);
    r.status = status_words(
        t,
        &user,
        throttle.locked_until,
        throttle.failures,
        state.clock.now(),
        has_factor,
    );
    let sessions = state
        .store
        .list_user_sessions(org, &user.id, state.clock.now())
        .await?
        .into_iter()
        .map(|s| (stockholm(s.created_at), s.ip))
        .collect();
    let zones = zone_names(state, org).await?;
    let (since, before, filter_error) = history_window(filter);
    let found = state
        .store
        .signin_history(org, &user.id, since, before, EVENTS_PAGE)
        .await?;
    let older = (found.len() == EVENTS_PAGE as usize)
        .then(|| found.last())
        .flatten()
        .map(|e| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("from", filter.from.trim())
                .append_pair("until", filter.until.trim())
                .append_pair("before_at", &e.at.to_string())
                .append_pair("before_id", e.id.as_str())
                .finish()
        });
    let events = found.iter().map(|e| event_row(t, &zones, e)).collect();
    let entries = state
        .store
        .audit_page(
            org,
            &AuditQuery {
                person: Some(user.id.clone()),
                ..AuditQuery::default()
            },
            20,
        )
        .await?;
    let actions = crate::audit::words::audit_rows(state, t, org, &entries).await?;
    let notice = notice.map(|k| t.get(k).to_owned());
    let people = std::collections::HashMap::from([(user.id.clone(), user.clone())]);
    let factors = crate::admin::intrusion::page::accounts(
        state,
        t,
        org,
        std::slice::from_ref(&user.id),
        &people,
    )
    .await?
    .pop()
    .map(|a| a.factors)
    .unwrap_or_default();
    let cases = state.store.cases_of(org, &user.id).await?;
    let cases = crate::admin::intrusion::cases::case_lines(state, t, org, &cases).await?;
    let back = format!("/admin/users/{}", user.id);
    Ok(Html(
        UserPage {
            p: Page::for_user(t, csrf, &back, admin),
            user: r,
            notice,
            sessions,
            events,
            older,
            actions,
            from: filter.from.trim().to_owned(),
            until: filter.until.trim().to_owned(),
            filter_error,
            factors,
            email: user.email.clone().unwrap_or_default(),
            locked: throttle.locked_until > state.clock.now() || !user.lock_reason.is_empty(),
            cases,
            apps: crate::account::settings_page::app_rows(state, t, org, &user.id).await?,
        }
        .render()?,
    )
    .into_response())
}

pub async fn user_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    admin: CurrentUser,
    Path(id): Path<String>,
    Query(filter): Query<HistoryFilter>,
) -> Result<Response, AppError> {
    render_user(&state, t, &csrf, &admin, &id, None, &filter).await
}

/// A user of the admin's own organisation; any other id is "not found".
pub(crate) async fn target(
    state: &AppState,
    admin: &CurrentUser,
    id: &str,
) -> Result<User, AppError> {
    state
        .store
        .user(&admin.organisation.id, &UserId::from_raw(id))
        .await?
        .ok_or(AppError::NotFound)
}
