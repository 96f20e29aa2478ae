//! A case as one self-contained, printable document (for a police report
//! or IMY): facts, accounts, checklist, the whole timeline and the
//! evidence list with hashes. No scripts, no outside resources; the
//! audit log's head at export time ties the document to the log.

use super::cases::{load, names};
use super::page::{
    accounts, evidence_rows, opened_words, state_words, step_rows, AccountView, EvidenceRow,
    StepRow,
};
use super::timeline::{self, Line};
use crate::app::state::AppState;
use crate::audit::events as audit;
use crate::http::error::AppError;
use crate::http::extract::{Client, CurrentUser, PageLang};
use crate::http::i18n::Tr;
use crate::http::time_fmt::stockholm_seconds;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};

/// The most timeline lines a document holds (older ones are counted).
const MAX_LINES: usize = 5000;

#[derive(Template)]
#[template(path = "case_export.html")]
struct Export {
    t: Tr,
    lang: &'static str,
    organisation: String,
    number: i64,
    title: String,
    state: String,
    opened: String,
    accounts: Vec<AccountView>,
    steps: Vec<StepRow>,
    lines: Vec<Line>,
    truncated: bool,
    evidence: Vec<EvidenceRow>,
    generated: String,
    chain: String,
}

pub async fn export_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let case = load(&state, &admin, &id).await?;
    let org = &case.organisation_id;
    let steps = state.store.steps(org, &case.id).await?;
    let files = state.store.evidence(org, &case.id).await?;
    let mut ids = case.accounts.clone();
    ids.push(case.opened_by.clone());
    ids.push(admin.user.id.clone());
    ids.extend(case.closed.iter().map(|c| c.by.clone()));
    ids.extend(steps.iter().map(|s| s.by.clone()));
    ids.extend(files.iter().map(|f| f.uploaded_by.clone()));
    let people = names(&state, org, &ids).await?;
    let who = |id: &portvakt_core::ids::UserId| {
        people
            .get(id)
            .map_or_else(|| id.to_string(), |u| u.username.to_string())
    };
    let mut lines = Vec::new();
    let mut before = None;
    let mut truncated = false;
    loop {
        let page = timeline::build(&state, t, &case, &people, before, 100).await?;
        lines.extend(page.lines);
        match page.older {
            Some(b) if lines.len() < MAX_LINES => before = Some(b),
            Some(_) => {
                truncated = true;
                break;
            }
            None => break,
        }
    }
    let head = state.store.audit_state(org).await?.head;
    let chain = head.map_or_else(String::new, |h| format!("{} · {}", h.seq, h.hash));
    audit::record(
        &state,
        &admin,
        &client,
        "case.export",
        case.id.as_str(),
        &format!("case={}", case.number),
    )
    .await;
    let doc = Export {
        t,
        lang: t.code(),
        organisation: admin.organisation.name.clone(),
        number: case.number,
        title: case.title.clone(),
        state: state_words(
            t,
            &case,
            &case.closed.as_ref().map(|c| who(&c.by)).unwrap_or_default(),
        ),
        opened: opened_words(t, &case, &who(&case.opened_by)),
        accounts: accounts(&state, t, org, &case.accounts, &people).await?,
        steps: step_rows(t, &steps, &people),
        lines,
        truncated,
        evidence: evidence_rows(&files, &people),
        generated: format!(
            "{} {}",
            stockholm_seconds(state.clock.now()),
            who(&admin.user.id)
        ),
        chain,
    }
    .render()?;
    let mut r = Html(doc).into_response();
    // Its own strict policy: nothing but its inline style.
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; frame-ancestors 'none'"),
    );
    Ok(r)
}
