//! The case list, opening a case, and the edits a case takes while it is
//! open: notes, accounts, checklist steps, closing and reopening. Every
//! lookup is scoped by the servicedesk member's organisation, so another
//! organisation's case is "not found" (SECURITY.md C1–C2); every change
//! is recorded in the audit log.

use crate::app::state::AppState;
use crate::audit::events as audit;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::{stockholm, stockholm_local};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::domain::Username;
use portvakt_core::ids::{EventId, UserId};
use portvakt_core::intrusion::{
    self, Case, CaseId, CaseSource, CaseSummary, NewCase, Note, Outcome,
};
use portvakt_core::store::User;
use serde::Deserialize;
use std::collections::HashMap;

/// The case `id` of the member's own organisation; any other is "not found".
pub(crate) async fn load(
    state: &AppState,
    admin: &CurrentUser,
    id: &str,
) -> Result<Case, AppError> {
    state
        .store
        .case(&admin.organisation.id, &CaseId::from_raw(id))
        .await?
        .ok_or(AppError::NotFound)
}

/// Back to the case after a change, with what was done.
pub(crate) fn back(case: &CaseId, done: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/admin/cases/{case}?done={done}#{anchor}")).into_response()
}

/// Usernames of the people named, by id (the case's accounts and the
/// people who acted).
pub(crate) async fn names(
    state: &AppState,
    org: &portvakt_core::ids::OrganisationId,
    ids: &[UserId],
) -> Result<HashMap<UserId, User>, AppError> {
    let mut out = HashMap::new();
    for id in ids {
        if !out.contains_key(id) {
            if let Some(u) = state.store.user(org, id).await? {
                out.insert(id.clone(), u);
            }
        }
    }
    Ok(out)
}

pub(crate) struct CaseLine {
    pub id: String,
    pub number: i64,
    pub title: String,
    pub opened: String,
    pub accounts: String,
    pub state: String,
}

pub(crate) async fn case_lines(
    state: &AppState,
    t: Tr,
    org: &portvakt_core::ids::OrganisationId,
    found: &[CaseSummary],
) -> Result<Vec<CaseLine>, AppError> {
    let ids: Vec<UserId> = found
        .iter()
        .flat_map(|c| c.accounts.iter().cloned())
        .collect();
    let people = names(state, org, &ids).await?;
    Ok(found
        .iter()
        .map(|c| CaseLine {
            id: c.id.to_string(),
            number: c.number,
            title: c.title.clone(),
            opened: stockholm(c.opened_at),
            accounts: c
                .accounts
                .iter()
                .map(|u| {
                    people
                        .get(u)
                        .map_or_else(|| u.to_string(), |p| p.username.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
            state: match c.closed_at {
                None => t.get("case.state_open").to_owned(),
                Some(at) => format!("{} {}", t.get("case.state_closed"), stockholm(at)),
            },
        })
        .collect())
}

#[derive(Template)]
#[template(path = "admin_cases.html")]
struct ListPage {
    p: Page,
    cases: Vec<CaseLine>,
    error: Option<String>,
    title: String,
    accounts: String,
}

async fn render_list(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    error: Option<String>,
    title: &str,
    accounts: &str,
) -> Result<Html<String>, AppError> {
    let org = &admin.organisation.id;
    let found = state.store.list_cases(org, 100).await?;
    Ok(Html(
        ListPage {
            p: Page::for_user(t, csrf, "/admin/cases", admin),
            cases: case_lines(state, t, org, &found).await?,
            error,
            title: title.to_owned(),
            accounts: accounts.to_owned(),
        }
        .render()?,
    ))
}

pub async fn list_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    admin: CurrentUser,
) -> Result<Html<String>, AppError> {
    render_list(&state, t, &csrf, &admin, None, "", "").await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    title: String,
    /// Usernames, separated by commas, spaces or lines.
    #[serde(default)]
    accounts: String,
    /// One account by id (the button on its user page).
    #[serde(default)]
    user: String,
}

/// Opens a case on the accounts named; an unknown name changes nothing
/// and says which.
pub async fn open_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    ValidForm(f): ValidForm<OpenForm>,
) -> Result<Response, AppError> {
    let org = &admin.organisation.id;
    let mut accounts: Vec<User> = Vec::new();
    let mut unknown = Vec::new();
    if !f.user.is_empty() {
        match state
            .store
            .user(org, &UserId::from_raw(f.user.as_str()))
            .await?
        {
            Some(u) => accounts.push(u),
            None => return Err(AppError::NotFound),
        }
    }
    for name in f
        .accounts
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .take(intrusion::MAX_ACCOUNTS + 1)
    {
        let found = by_username(&state, org, name).await?;
        match found {
            Some(u) if !accounts.iter().any(|a| a.id == u.id) => accounts.push(u),
            Some(_) => {}
            None => unknown.push(name.chars().take(100).collect::<String>()),
        }
    }
    let error = if !unknown.is_empty() {
        Some(format!(
            "{} {}",
            t.get("case.unknown_accounts"),
            unknown.join(", ")
        ))
    } else if accounts.is_empty() {
        Some(t.get("case.no_accounts").to_owned())
    } else if accounts.len() > intrusion::MAX_ACCOUNTS {
        Some(t.get("case.too_many_accounts").to_owned())
    } else {
        None
    };
    if let Some(e) = error {
        let page = render_list(&state, t, &csrf, &admin, Some(e), &f.title, &f.accounts).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let title = intrusion::clean_title(&f.title).unwrap_or_else(|| {
        format!(
            "{} {}",
            t.get("case.default_title"),
            accounts
                .iter()
                .map(|a| a.username.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    let title: String = title.chars().take(intrusion::MAX_TITLE).collect();
    let id = CaseId::generate();
    let number = state
        .store
        .open_case(&NewCase {
            id: id.clone(),
            organisation_id: org.clone(),
            title,
            opened_at: state.clock.now(),
            opened_by: admin.user.id.clone(),
            source: CaseSource::Servicedesk,
            reported_event: None,
            accounts: accounts.iter().map(|a| a.id.clone()).collect(),
        })
        .await?;
    let who = accounts
        .iter()
        .map(|a| a.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    audit::record(
        &state,
        &admin,
        &client,
        "case.open",
        id.as_str(),
        &format!("case={number} accounts={who}"),
    )
    .await;
    Ok(Redirect::to(&format!("/admin/cases/{id}")).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteForm {
    #[allow(dead_code)]
    csrf: String,
    /// When it happened, `YYYY-MM-DDTHH:MM` in Stockholm; empty: now.
    #[serde(default)]
    at: String,
    #[serde(default)]
    body: String,
}

/// The case page again, with what was wrong (400).
async fn refuse(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    case: &Case,
    key: &str,
) -> Result<Response, AppError> {
    super::page::render(state, t, csrf, admin, case, None, Some(key), None, None)
        .await
        .map(|h| (StatusCode::BAD_REQUEST, h).into_response())
}

/// The account of the organisation with this username, if any.
async fn by_username(
    state: &AppState,
    org: &portvakt_core::ids::OrganisationId,
    name: &str,
) -> Result<Option<User>, AppError> {
    Ok(match Username::parse(name) {
        Ok(u) => state.store.user_by_username(org, &u).await?,
        Err(_) => None,
    })
}

/// Refused on a closed case: it is reopened first.
fn closed() -> AppError {
    AppError::Conflict("intrusion case closed".into())
}

pub async fn note_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<NoteForm>,
) -> Result<Response, AppError> {
    let case = load(&state, &admin, &id).await?;
    let now = state.clock.now();
    let at = if f.at.trim().is_empty() {
        Some(now)
    } else {
        // Not in the future, and not before the accounts could have been
        // used (ten years back at most).
        stockholm_local(&f.at).filter(|at| *at <= now + 300 && *at >= now - 10 * 365 * 86_400)
    };
    let (Some(at), Some(body)) = (at, intrusion::clean_note(&f.body)) else {
        let key = if at.is_none() {
            "case.bad_time"
        } else {
            "case.bad_note"
        };
        return super::page::render(
            &state,
            t,
            &csrf,
            &admin,
            &case,
            None,
            Some(key),
            None,
            Some((&f.at, &f.body)),
        )
        .await
        .map(|h| (StatusCode::BAD_REQUEST, h).into_response());
    };
    let note = Note {
        id: EventId::generate(),
        at,
        written_at: now,
        author: admin.user.id.clone(),
        body,
    };
    if !state
        .store
        .add_note(&admin.organisation.id, &case.id, &note)
        .await?
    {
        return Err(closed());
    }
    audit::record(
        &state,
        &admin,
        &client,
        "case.note",
        case.id.as_str(),
        &format!("case={} note={} at={}", case.number, note.id, note.at),
    )
    .await;
    Ok(back(&case.id, "note", "timeline"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountForm {
    #[allow(dead_code)]
    csrf: String,
    username: String,
}

pub async fn account_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<AccountForm>,
) -> Result<Response, AppError> {
    let case = load(&state, &admin, &id).await?;
    let org = &admin.organisation.id;
    let user = by_username(&state, org, f.username.trim()).await?;
    let Some(user) = user else {
        return refuse(&state, t, &csrf, &admin, &case, "case.unknown_account").await;
    };
    if case.accounts.len() >= intrusion::MAX_ACCOUNTS {
        return Err(AppError::BadRequest);
    }
    if !case.is_open() {
        return Err(closed());
    }
    if state
        .store
        .add_case_account(org, &case.id, &user.id, state.clock.now())
        .await?
    {
        audit::record(
            &state,
            &admin,
            &client,
            "case.add_account",
            case.id.as_str(),
            &format!("case={} account={}", case.number, user.id),
        )
        .await;
    }
    Ok(back(&case.id, "account", "accounts"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepForm {
    #[allow(dead_code)]
    csrf: String,
    step: String,
    /// `1` to mark done, `0` to take it back.
    done: String,
}

pub async fn step_post(
    State(state): State<AppState>,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<StepForm>,
) -> Result<Response, AppError> {
    let case = load(&state, &admin, &id).await?;
    if !intrusion::is_step(&f.step) {
        return Err(AppError::BadRequest);
    }
    let done = match f.done.as_str() {
        "1" => Some((&admin.user.id, state.clock.now())),
        "0" => None,
        _ => return Err(AppError::BadRequest),
    };
    if !case.is_open() {
        return Err(closed());
    }
    let changed = state
        .store
        .set_step(&admin.organisation.id, &case.id, &f.step, done)
        .await?;
    if changed {
        let action = if done.is_some() {
            "case.step_done"
        } else {
            "case.step_undone"
        };
        audit::record(
            &state,
            &admin,
            &client,
            action,
            case.id.as_str(),
            &format!("case={} step={}", case.number, f.step),
        )
        .await;
    }
    Ok(back(&case.id, "step", &format!("step-{}", f.step)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseForm {
    #[allow(dead_code)]
    csrf: String,
    outcome: String,
    #[serde(default)]
    note: String,
}

pub async fn close_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<CloseForm>,
) -> Result<Response, AppError> {
    let case = load(&state, &admin, &id).await?;
    let Some(outcome) = Outcome::parse(&f.outcome) else {
        return refuse(&state, t, &csrf, &admin, &case, "case.pick_outcome").await;
    };
    let note = if f.note.trim().is_empty() {
        String::new()
    } else {
        match intrusion::clean_note(&f.note) {
            Some(n) => n,
            None => return Err(AppError::BadRequest),
        }
    };
    if !state
        .store
        .close_case(
            &admin.organisation.id,
            &case.id,
            &admin.user.id,
            outcome,
            &note,
            state.clock.now(),
        )
        .await?
    {
        return Err(closed());
    }
    audit::record(
        &state,
        &admin,
        &client,
        "case.close",
        case.id.as_str(),
        &format!("case={} outcome={}", case.number, outcome.as_str()),
    )
    .await;
    Ok(back(&case.id, "closed", "top"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}

pub async fn reopen_post(
    State(state): State<AppState>,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let case = load(&state, &admin, &id).await?;
    if state
        .store
        .reopen_case(&admin.organisation.id, &case.id)
        .await?
    {
        audit::record(
            &state,
            &admin,
            &client,
            "case.reopen",
            case.id.as_str(),
            &format!("case={}", case.number),
        )
        .await;
    }
    Ok(back(&case.id, "reopened", "top"))
}
