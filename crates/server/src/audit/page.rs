//! `GET /admin/audit`: the organisation's audit log for its admins and its
//! data protection officer, newest first, filtered by person and days
//! (Stockholm time), 50 entries a page. Every read is scoped by the
//! reader's organisation.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, CurrentUser, PageLang};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::stockholm_seconds;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use portvakt_core::audit::AuditEntry;
use portvakt_core::domain::Username;
use portvakt_core::ids::{OrganisationId, UserId};
use portvakt_core::store::{AuditQuery, EventResult};
use serde::Deserialize;
use std::collections::HashMap;

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

struct Row {
    seq: i64,
    when: String,
    actor: String,
    action: String,
    target: String,
    place: String,
    result: String,
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

/// A day in Stockholm (`YYYY-MM-DD`) as the Unix time it starts.
fn day_start(day: &str) -> Option<i64> {
    let d: jiff::civil::Date = day.trim().parse().ok()?;
    d.to_zoned(portvakt_core::clock::stockholm().clone())
        .ok()
        .map(|z| z.timestamp().as_second())
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
        q.from = day_start(&f.from);
        error = error.or(q.from.is_none().then_some("audit.bad_date"));
    }
    if !f.until.trim().is_empty() {
        // Up to and including that day.
        q.until = day_start(&f.until).map(|s| s + 86_400);
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
    let rows = rows(&state, t, org, &entries).await?;
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

/// Entries in words: people by username, actions by name.
async fn rows(
    state: &AppState,
    t: Tr,
    org: &OrganisationId,
    entries: &[AuditEntry],
) -> Result<Vec<Row>, AppError> {
    let mut names: HashMap<String, String> = HashMap::new();
    for e in entries {
        let target_user = e.event.target.split('/').next().unwrap_or_default();
        for id in [e.event.actor_id.as_str(), target_user] {
            if id.starts_with("usr_") && !names.contains_key(id) {
                let name = state
                    .store
                    .user(org, &UserId::from_raw(id))
                    .await?
                    .map_or_else(|| id.to_owned(), |u| u.username.to_string());
                names.insert(id.to_owned(), name);
            }
        }
    }
    let name = |id: &str| {
        names.get(id).cloned().unwrap_or_else(|| {
            // The command line: `cli:<operating-system account>`.
            id.strip_prefix("cli:").map_or_else(
                || id.to_owned(),
                |who| format!("{} ({who})", t.get("audit.cli")),
            )
        })
    };
    Ok(entries
        .iter()
        .map(|e| {
            let ev = &e.event;
            let action = t
                .find(&format!("audit.action.{}", ev.action))
                .map_or_else(|| ev.action.clone(), str::to_owned);
            let target = match ev.target.split_once('/') {
                Some((user, rest)) if user.starts_with("usr_") => {
                    format!("{} ({rest})", name(user))
                }
                _ => name(&ev.target),
            };
            let result = t.get(if ev.result == EventResult::Success {
                "admin.user.success"
            } else {
                "admin.user.failure"
            });
            Row {
                seq: e.seq,
                when: stockholm_seconds(ev.at),
                actor: name(ev.actor_id.as_str()),
                action,
                target,
                place: ev.ip.clone(),
                result: format!("{result} ({})", ev.detail),
            }
        })
        .collect())
}
