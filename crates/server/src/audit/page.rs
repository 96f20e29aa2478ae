//! `GET /admin/audit`: the organisation's audit log for its admins and its
//! data protection officer, newest first, filtered by person and days
//! (Stockholm time), 50 entries a page. Every read is scoped by the
//! reader's organisation.

use crate::app::state::AppState;
use crate::audit::words::{audit_rows, Row};
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, CurrentUser, PageLang};
use crate::http::page::Page;
use crate::http::time_fmt::stockholm_day_start;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use portvakt_core::domain::Username;
use portvakt_core::store::AuditQuery;
use serde::Deserialize;

const PAGE_SIZE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct Filter {
    #[serde(default)]
    person: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    before: Option<i64>,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    p: Page,
    person: String,
    from: String,
    until: String,
    error: Option<&'static str>,
    rows: Vec<Row>,
    /// The query string of the next (older) page.
    older: Option<String>,
    /// How many entries the chain holds.
    total: i64,
}

pub async fn audit_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    reader: CurrentUser,
    Query(f): Query<Filter>,
) -> Result<Html<String>, AppError> {
    let org = &reader.organisation.id;
    let mut q = AuditQuery {
        before_seq: f.before,
        ..AuditQuery::default()
    };
    let mut error = None;
    if !f.from.trim().is_empty() {
        q.from = stockholm_day_start(&f.from);
        error = error.or(q.from.is_none().then_some("audit.bad_date"));
    }
    if !f.until.trim().is_empty() {
        // Up to and including that day.
        q.until = stockholm_day_start(&f.until).map(|s| s + 86_400);
        error = error.or(q.until.is_none().then_some("audit.bad_date"));
    }
    if !f.person.trim().is_empty() {
        let found = match Username::parse(f.person.trim()) {
            Ok(name) => state.store.user_by_username(org, &name).await?,
            Err(_) => None,
        };
        match found {
            Some(u) => q.person = Some(u.id),
            None => error = error.or(Some("audit.no_person")),
        }
    }
    let entries = if error.is_some() {
        Vec::new()
    } else {
        state.store.audit_page(org, &q, PAGE_SIZE).await?
    };
    let older = (entries.len() == PAGE_SIZE as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten()
        .map(|seq| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("person", f.person.trim())
                .append_pair("from", f.from.trim())
                .append_pair("until", f.until.trim())
                .append_pair("before", &seq.to_string())
                .finish()
        });
    let rows = audit_rows(&state, t, org, &entries).await?;
    let total = state
        .store
        .audit_state(org)
        .await?
        .head
        .map_or(0, |h| h.seq);
    Ok(Html(
        AuditPage {
            p: Page::for_user(t, &csrf, "/admin/audit", &reader),
            person: f.person.trim().to_owned(),
            from: f.from.trim().to_owned(),
            until: f.until.trim().to_owned(),
            error,
            rows,
            older,
            total,
        }
        .render()?,
    ))
}
