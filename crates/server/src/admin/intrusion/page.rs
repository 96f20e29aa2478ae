//! The case page: accounts with their contact details in full and the
//! actions on them, the seed's checklist, the timeline with notes, the
//! evidence, and closing.

use super::cases::{load, names};
use super::timeline::{self, Line};
use crate::admin::users::{status_words, UserRow};
use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, CurrentUser, PageLang};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::{stockholm, stockholm_seconds};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use portvakt_core::intrusion::{evidence, Case, Outcome, STEPS};
use portvakt_core::store::FactorKind;
use serde::Deserialize;

const TIMELINE_PAGE: u32 = 100;

pub(crate) struct ContactRow {
    pub id: String,
    pub kind: String,
    pub label: String,
    /// The number or address in full (the servicedesk checks it against
    /// what the person says).
    pub destination: String,
    pub added: String,
}

pub(crate) struct AccountView {
    pub user: UserRow,
    pub email: String,
    pub locked: bool,
    pub sessions: usize,
    pub apps: usize,
    pub factors: Vec<ContactRow>,
}

pub(crate) struct StepRow {
    pub key: &'static str,
    pub label: String,
    pub done: Option<String>,
}

pub(crate) struct EvidenceRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub size: String,
    pub sha256: String,
    pub by: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "admin_case.html")]
struct CasePage {
    p: Page,
    case_id: String,
    number: i64,
    title: String,
    open: bool,
    state: String,
    opened: String,
    notice: Option<String>,
    error: Option<String>,
    accounts: Vec<AccountView>,
    steps: Vec<StepRow>,
    lines: Vec<Line>,
    older: Option<i64>,
    evidence: Vec<EvidenceRow>,
    outcomes: Vec<(&'static str, String)>,
    note_at: String,
    note_body: String,
    max_mb: usize,
}

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    before: Option<i64>,
    done: Option<String>,
}

pub async fn case_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    admin: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Html<String>, AppError> {
    let case = load(&state, &admin, &id).await?;
    let done = q
        .done
        .as_deref()
        .and_then(|d| t.find(&format!("case.done.{d}")).map(|_| d));
    render(&state, t, &csrf, &admin, &case, q.before, None, done, None).await
}

/// Sizes as people read them: "812 kB", "2,4 MB".
pub(crate) fn size_words(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if bytes < 1000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!("{:.0} kB", b / 1000.0)
    } else {
        format!("{:.1} MB", b / 1_000_000.0).replace('.', ",")
    }
}

/// How the case was opened, by whom and when, in words.
pub(crate) fn opened_words(t: Tr, case: &Case, opener: &str) -> String {
    let how = match case.source {
        portvakt_core::intrusion::CaseSource::NotMe => t.get("case.opened_not_me"),
        portvakt_core::intrusion::CaseSource::Servicedesk => t.get("case.opened_by"),
    };
    format!("{} {how} {opener}", stockholm_seconds(case.opened_at))
}

pub(crate) fn state_words(t: Tr, case: &Case, closer: &str) -> String {
    match &case.closed {
        None => t.get("case.state_open").to_owned(),
        Some(c) => {
            let mut s = format!(
                "{} {} ({closer}): {}",
                t.get("case.state_closed"),
                stockholm_seconds(c.at),
                t.get(&format!("case.outcome.{}", c.outcome.as_str()))
            );
            if !c.note.is_empty() {
                s.push_str(" – ");
                s.push_str(&c.note);
            }
            s
        }
    }
}

pub(crate) async fn accounts(
    state: &AppState,
    t: Tr,
    org: &portvakt_core::ids::OrganisationId,
    ids: &[portvakt_core::ids::UserId],
    people: &std::collections::HashMap<portvakt_core::ids::UserId, portvakt_core::store::User>,
) -> Result<Vec<AccountView>, AppError> {
    let now = state.clock.now();
    let mut out = Vec::new();
    for id in ids {
        let Some(u) = people.get(id) else { continue };
        let throttle = state.store.throttle_state(org, &u.username).await?;
        let factors: Vec<_> = state
            .store
            .factors(org, id)
            .await?
            .into_iter()
            .filter(|f| f.confirmed)
            .collect();
        let mut row = crate::admin::users::row(t, u);
        row.status = status_words(
            t,
            u,
            throttle.locked_until,
            throttle.failures,
            now,
            !factors.is_empty(),
        );
        out.push(AccountView {
            user: row,
            email: u.email.clone().unwrap_or_default(),
            locked: throttle.locked_until > now || !u.lock_reason.is_empty(),
            sessions: state.store.list_user_sessions(org, id, now).await?.len(),
            apps: crate::account::settings_page::app_rows(state, t, org, id)
                .await?
                .len(),
            factors: factors
                .into_iter()
                .map(|f| ContactRow {
                    id: f.id.to_string(),
                    kind: t.get(crate::http::texts::kind_key(f.kind)).to_owned(),
                    label: f.label,
                    destination: match f.kind {
                        FactorKind::Sms | FactorKind::Email => f.destination.unwrap_or_default(),
                        _ => String::new(),
                    },
                    added: stockholm(f.created_at),
                })
                .collect(),
        });
    }
    Ok(out)
}

pub(crate) fn step_rows(
    t: Tr,
    done: &[portvakt_core::intrusion::StepDone],
    people: &std::collections::HashMap<portvakt_core::ids::UserId, portvakt_core::store::User>,
) -> Vec<StepRow> {
    STEPS
        .iter()
        .map(|key| StepRow {
            key,
            label: t.get(&format!("case.step.{key}")).to_owned(),
            done: done.iter().find(|d| d.step == *key).map(|d| {
                format!(
                    "{} {}",
                    people
                        .get(&d.by)
                        .map_or_else(|| d.by.to_string(), |u| u.username.to_string()),
                    stockholm_seconds(d.at)
                )
            }),
        })
        .collect()
}

pub(crate) fn evidence_rows(
    records: &[portvakt_core::intrusion::EvidenceRecord],
    people: &std::collections::HashMap<portvakt_core::ids::UserId, portvakt_core::store::User>,
) -> Vec<EvidenceRow> {
    records
        .iter()
        .map(|e| EvidenceRow {
            id: e.id.to_string(),
            name: e.file_name.clone(),
            kind: e.media_type.clone(),
            size: size_words(e.size),
            sha256: e.sha256.clone(),
            by: people
                .get(&e.uploaded_by)
                .map_or_else(|| e.uploaded_by.to_string(), |u| u.username.to_string()),
            when: stockholm_seconds(e.uploaded_at),
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn render(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    case: &Case,
    before: Option<i64>,
    error: Option<&str>,
    done: Option<&str>,
    note: Option<(&str, &str)>,
) -> Result<Html<String>, AppError> {
    let org = &case.organisation_id;
    let steps = state.store.steps(org, &case.id).await?;
    let files = state.store.evidence(org, &case.id).await?;
    let mut ids: Vec<_> = case.accounts.clone();
    ids.push(case.opened_by.clone());
    ids.extend(case.closed.iter().map(|c| c.by.clone()));
    ids.extend(steps.iter().map(|s| s.by.clone()));
    ids.extend(files.iter().map(|f| f.uploaded_by.clone()));
    let people = names(state, org, &ids).await?;
    let line = timeline::build(state, t, case, &people, before, TIMELINE_PAGE).await?;
    let view = accounts(state, t, org, &case.accounts, &people).await?;
    let who = |id: &portvakt_core::ids::UserId| {
        people
            .get(id)
            .map_or_else(|| id.to_string(), |u| u.username.to_string())
    };
    let back = format!("/admin/cases/{}", case.id);
    Ok(Html(
        CasePage {
            p: Page::for_user(t, csrf, &back, admin),
            case_id: case.id.to_string(),
            number: case.number,
            title: case.title.clone(),
            open: case.is_open(),
            state: state_words(
                t,
                case,
                &case.closed.as_ref().map(|c| who(&c.by)).unwrap_or_default(),
            ),
            opened: opened_words(t, case, &who(&case.opened_by)),
            notice: done.map(|d| t.get(&format!("case.done.{d}")).to_owned()),
            error: error.map(|e| t.get(e).to_owned()),
            accounts: view,
            steps: step_rows(t, &steps, &people),
            lines: line.lines,
            older: line.older,
            evidence: evidence_rows(&files, &people),
            outcomes: Outcome::ALL
                .iter()
                .map(|o| {
                    (
                        o.as_str(),
                        t.get(&format!("case.outcome.{}", o.as_str())).to_owned(),
                    )
                })
                .collect(),
            note_at: note.map(|n| n.0.to_owned()).unwrap_or_default(),
            note_body: note.map(|n| n.1.to_owned()).unwrap_or_default(),
            max_mb: evidence::MAX_BYTES / (1024 * 1024),
        }
        .render()?,
    ))
}
