//! The breach register's pages (role `data_protection_officer`): the list,
//! recording a breach, the record with its 72-hour clock and NIS2
//! milestones, updates in phases, informing the people affected, and the
//! export for IMY's e-service (printable and JSON).

use crate::app::state::AppState;
use crate::audit::events as audit;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::{duration_words, stockholm, stockholm_local};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::breach::{
    clean_text, Breach, BreachId, Details, Informed, Milestone, Nature, Phase, Reporting,
};
use serde::Deserialize;

/// The longest title kept.
const MAX_TITLE: usize = 200;

pub(crate) fn milestone_key(m: Milestone) -> &'static str {
    match m {
        Milestone::Imy => "breach.milestone.imy",
        Milestone::EarlyWarning => "breach.milestone.early_warning",
        Milestone::Notification => "breach.milestone.notification",
        Milestone::FinalReport => "breach.milestone.final_report",
    }
}

/// A milestone as shown: its name, deadline, and what is left or done.
pub struct DueRow {
    pub label: &'static str,
    pub deadline: String,
    pub state: String,
    pub overdue: bool,
}

pub(crate) fn due_rows(t: Tr, b: &Breach, now: i64) -> Vec<DueRow> {
    b.milestones()
        .into_iter()
        .map(|d| {
            let (state, overdue) = match (d.done, d.left(now)) {
                (Some(at), _) => (
                    format!("{} {}", t.get("breach.done_at"), stockholm(at)),
                    false,
                ),
                (None, Some(left)) if left >= 0 => (
                    format!("{} {}", duration_words(t, left), t.get("breach.left")),
                    false,
                ),
                (None, Some(left)) => (
                    format!(
                        "{} {}",
                        t.get("breach.overdue_by"),
                        duration_words(t, -left)
                    ),
                    true,
                ),
                (None, None) => (String::new(), false),
            };
            DueRow {
                label: milestone_key(d.milestone),
                deadline: stockholm(d.deadline),
                state,
                overdue,
            }
        })
        .collect()
}

pub struct ListRow {
    id: String,
    number: i64,
    title: String,
    discovered: String,
    imy: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "breach_list.html")]
struct ListPage {
    p: Page,
    rows: Vec<ListRow>,
    error: Option<&'static str>,
    title: String,
    discovered: String,
}

async fn list(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    dpo: &CurrentUser,
    error: Option<&'static str>,
    title: String,
    discovered: String,
) -> Result<Html<String>, AppError> {
    let now = state.clock.now();
    let rows = state
        .store
        .breaches(&dpo.organisation.id)
        .await?
        .into_iter()
        .map(|b| {
            let imy = due_rows(t, &b, now).into_iter().next();
            ListRow {
                id: b.id.to_string(),
                number: b.number,
                discovered: stockholm(b.discovered_at),
                overdue: imy.as_ref().is_some_and(|d| d.overdue),
                imy: imy.map(|d| d.state).unwrap_or_default(),
                title: b.title,
            }
        })
        .collect();
    Ok(Html(
        ListPage {
            p: Page::for_user(t, csrf, "/dpo/breaches", dpo),
            rows,
            error,
            title,
            discovered,
        }
        .render()?,
    ))
}

pub async fn list_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    dpo: CurrentUser,
) -> Result<Html<String>, AppError> {
    let now = stockholm(state.clock.now()).replace(' ', "T");
    list(&state, t, &csrf, &dpo, None, String::new(), now).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    discovered: String,
}

/// A title as kept: one line, bounded; `None` when empty.
fn clean_title(s: &str) -> Option<String> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE)
        .collect();
    (!t.is_empty()).then_some(t)
}

pub async fn create_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    dpo: CurrentUser,
    ValidForm(f): ValidForm<NewForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let valid = match (clean_title(&f.title), stockholm_local(&f.discovered)) {
        (Some(title), Some(discovered)) if discovered <= now + 300 => Ok((title, discovered)),
        (Some(_), Some(_)) => Err("breach.error.future"),
        _ => Err("breach.error.new"),
    };
    let (title, discovered) = match valid {
        Ok(v) => v,
        Err(key) => {
            let page = list(&state, t, &csrf, &dpo, Some(key), f.title, f.discovered).await?;
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let b = Breach {
        id: BreachId::generate(),
        organisation_id: dpo.organisation.id.clone(),
        group_id: None,
        number: 0,
        title,
        discovered_at: discovered,
        details: Details::default(),
        created_at: now,
        created_by: dpo.user.id.clone(),
        updated_at: now,
    };
    let created = state
        .store
        .create_breaches(std::slice::from_ref(&b))
        .await?;
    audit::record(
        &state,
        &dpo,
        &client,
        "breach.create",
        b.id.as_str(),
        &b.title,
    )
    .await;
    let id = created
        .first()
        .map_or_else(|| b.id.to_string(), |c| c.id.to_string());
    Ok(Redirect::to(&format!("/dpo/breaches/{id}")).into_response())
}

/// The DPO's organisation's part, or 404 (another organisation's part of
/// the same breach is not found: seed 001).
pub(crate) async fn own_breach(
    state: &AppState,
    dpo: &CurrentUser,
    id: &str,
) -> Result<Breach, AppError> {
    state
        .store
        .breach(&dpo.organisation.id, &BreachId::from_raw(id))
        .await?
        .ok_or(AppError::NotFound)
}

pub struct PhaseRow {
    at: String,
    by: String,
    text: String,
    submitted: bool,
}

pub struct CaseRef {
    number: i64,
    title: String,
}

#[derive(Template)]
#[template(path = "breach.html")]
struct RecordPage {
    p: Page,
    b: Breach,
    f: FormValues,
    due: Vec<DueRow>,
    others: u32,
    phases: Vec<PhaseRow>,
    cases: Vec<CaseRef>,
    groups: Vec<(String, String)>,
    /// (when, subject, total, sent, failing)
    notices: Vec<(String, String, u32, u32, u32)>,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// The form's fields as text, as they were or as typed.
#[derive(Default)]
pub struct FormValues {
    title: String,
    discovered: String,
    description: String,
    occurred_from: String,
    occurred_until: String,
    how_discovered: String,
    confidentiality: bool,
    integrity: bool,
    availability: bool,
    subject_categories: String,
    subjects_approx: String,
    data_categories: String,
    sensitive_data: bool,
    records_approx: String,
    consequences: String,
    measures_taken: String,
    measures_planned: String,
    contact: String,
    informed: String,
    informed_at: String,
    informed_how: String,
    reporting: String,
    reported_at: String,
    imy_reference: String,
    reason_not_reported: String,
    reason_late: String,
    significant: bool,
    early_warning_at: String,
    notification_at: String,
    final_report_at: String,
    cases: String,
    audit_entries: String,
}

fn local(t: Option<i64>) -> String {
    t.map(|t| stockholm(t).replace(' ', "T"))
        .unwrap_or_default()
}

fn count(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

impl FormValues {
    fn of(b: &Breach, case_numbers: &[(String, i64)]) -> Self {
        let d = &b.details;
        Self {
            title: b.title.clone(),
            discovered: local(Some(b.discovered_at)),
            description: d.description.clone(),
            occurred_from: local(d.occurred_from),
            occurred_until: local(d.occurred_until),
            how_discovered: d.how_discovered.clone(),
            confidentiality: d.nature.confidentiality,
            integrity: d.nature.integrity,
            availability: d.nature.availability,
            subject_categories: d.subject_categories.clone(),
            subjects_approx: count(d.subjects_approx),
            data_categories: d.data_categories.clone(),
            sensitive_data: d.sensitive_data,
            records_approx: count(d.records_approx),
            consequences: d.consequences.clone(),
            measures_taken: d.measures_taken.clone(),
            measures_planned: d.measures_planned.clone(),
            contact: d.contact.clone(),
            informed: d.informed.as_str().into(),
            informed_at: local(d.informed_at),
            informed_how: d.informed_how.clone(),
            reporting: d.reporting.as_str().into(),
            reported_at: local(d.reported_at),
            imy_reference: d.imy_reference.clone(),
            reason_not_reported: d.reason_not_reported.clone(),
            reason_late: d.reason_late.clone(),
            significant: d.significant,
            early_warning_at: local(d.early_warning_at),
            notification_at: local(d.notification_at),
            final_report_at: local(d.final_report_at),
            cases: d
                .cases
                .iter()
                .filter_map(|c| case_numbers.iter().find(|(id, _)| id == c))
                .map(|(_, n)| n.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            audit_entries: d.audit_entries.join(", "),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct RecordQuery {
    done: Option<String>,
}

/// What the record page shows besides the record: the form as typed, a
/// notice, an error.
#[derive(Default)]
struct Shown {
    form: Option<FormValues>,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn record_page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    dpo: &CurrentUser,
    b: Breach,
    shown: Shown,
) -> Result<Html<String>, AppError> {
    let Shown {
        form: f,
        notice,
        error,
    } = shown;
    let org = &dpo.organisation.id;
    let now = state.clock.now();
    let cases = state.store.list_cases(org, 200).await?;
    let numbers: Vec<(String, i64)> = cases.iter().map(|c| (c.id.to_string(), c.number)).collect();
    let others = match &b.group_id {
        Some(g) => state.store.breach_group_size(org, g).await?,
        None => 0,
    };
    let mut phases = Vec::new();
    for ph in state.store.breach_phases(org, &b.id).await? {
        let by = state
            .store
            .user(org, &ph.by)
            .await?
            .map_or_else(|| ph.by.to_string(), |u| u.display_name);
        phases.push(PhaseRow {
            at: stockholm(ph.at),
            by,
            text: ph.text,
            submitted: ph.submitted,
        });
    }
    let prefix = format!("breach:{}:", b.id);
    let notices = state
        .store
        .batch_reports(org, 100)
        .await?
        .into_iter()
        .filter(|r| r.batch.starts_with(&prefix))
        .map(|r| {
            (
                stockholm(r.created_at),
                r.subject,
                r.total,
                r.sent,
                r.failing,
            )
        })
        .collect();
    let groups = state
        .store
        .org_groups(org)
        .await?
        .into_iter()
        .map(|g| (g.slug.to_string(), g.name))
        .collect();
    let f = f.unwrap_or_else(|| FormValues::of(&b, &numbers));
    Ok(Html(
        RecordPage {
            p: Page::for_user(t, csrf, &format!("/dpo/breaches/{}", b.id), dpo),
            due: due_rows(t, &b, now),
            others,
            phases,
            cases: cases
                .into_iter()
                .map(|c| CaseRef {
                    number: c.number,
                    title: c.title,
                })
                .collect(),
            groups,
            notices,
            f,
            b,
            notice,
            error,
        }
        .render()?,
    ))
}

pub async fn record_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    dpo: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<RecordQuery>,
) -> Result<Html<String>, AppError> {
    let b = own_breach(&state, &dpo, &id).await?;
    let notice = match q.done.as_deref() {
        Some("saved") => Some("breach.saved"),
        Some("phase") => Some("breach.phase_saved"),
        Some("informed") => Some("breach.informed_sent"),
        Some("nobody") => Some("breach.informed_nobody"),
        _ => None,
    };
    record_page(
        &state,
        t,
        &csrf,
        &dpo,
        b,
        Shown {
            notice,
            ..Shown::default()
        },
    )
    .await
}

/// The whole form. Checkboxes arrive only when ticked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    discovered: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    occurred_from: String,
    #[serde(default)]
    occurred_until: String,
    #[serde(default)]
    how_discovered: String,
    #[serde(default)]
    confidentiality: Option<String>,
    #[serde(default)]
    integrity: Option<String>,
    #[serde(default)]
    availability: Option<String>,
    #[serde(default)]
    subject_categories: String,
    #[serde(default)]
    subjects_approx: String,
    #[serde(default)]
    data_categories: String,
    #[serde(default)]
    sensitive_data: Option<String>,
    #[serde(default)]
    records_approx: String,
    #[serde(default)]
    consequences: String,
    #[serde(default)]
    measures_taken: String,
    #[serde(default)]
    measures_planned: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    informed: String,
    #[serde(default)]
    informed_at: String,
    #[serde(default)]
    informed_how: String,
    #[serde(default)]
    reporting: String,
    #[serde(default)]
    reported_at: String,
    #[serde(default)]
    imy_reference: String,
    #[serde(default)]
    reason_not_reported: String,
    #[serde(default)]
    reason_late: String,
    #[serde(default)]
    significant: Option<String>,
    #[serde(default)]
    early_warning_at: String,
    #[serde(default)]
    notification_at: String,
    #[serde(default)]
    final_report_at: String,
    #[serde(default)]
    cases: String,
    #[serde(default)]
    audit_entries: String,
}

impl RecordForm {
    fn values(&self) -> FormValues {
        FormValues {
            title: self.title.clone(),
            discovered: self.discovered.clone(),
            description: self.description.clone(),
            occurred_from: self.occurred_from.clone(),
            occurred_until: self.occurred_until.clone(),
            how_discovered: self.how_discovered.clone(),
            confidentiality: self.confidentiality.is_some(),
            integrity: self.integrity.is_some(),
            availability: self.availability.is_some(),
            subject_categories: self.subject_categories.clone(),
            subjects_approx: self.subjects_approx.clone(),
            data_categories: self.data_categories.clone(),
            sensitive_data: self.sensitive_data.is_some(),
            records_approx: self.records_approx.clone(),
            consequences: self.consequences.clone(),
            measures_taken: self.measures_taken.clone(),
            measures_planned: self.measures_planned.clone(),
            contact: self.contact.clone(),
            informed: self.informed.clone(),
            informed_at: self.informed_at.clone(),
            informed_how: self.informed_how.clone(),
            reporting: self.reporting.clone(),
            reported_at: self.reported_at.clone(),
            imy_reference: self.imy_reference.clone(),
            reason_not_reported: self.reason_not_reported.clone(),
            reason_late: self.reason_late.clone(),
            significant: self.significant.is_some(),
            early_warning_at: self.early_warning_at.clone(),
            notification_at: self.notification_at.clone(),
            final_report_at: self.final_report_at.clone(),
            cases: self.cases.clone(),
            audit_entries: self.audit_entries.clone(),
        }
    }
}

/// A field that did not parse: its message key.
type FieldError = &'static str;

fn moment(s: &str, key: FieldError) -> Result<Option<i64>, FieldError> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    stockholm_local(s).map(Some).ok_or(key)
}

fn approx(s: &str, key: FieldError) -> Result<Option<u64>, FieldError> {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    digits.parse().map(Some).map_err(|_| key)
}

/// The form as a breach, checked: times and counts parse, a report has
/// its time, a decision not to report or inform has its reason, a late
/// report says why, linked cases are the organisation's own.
fn parsed(
    f: &RecordForm,
    b: &Breach,
    cases: &[(String, i64)],
    now: i64,
) -> Result<Breach, FieldError> {
    let title = clean_title(&f.title).ok_or("breach.error.title")?;
    let discovered = stockholm_local(&f.discovered).ok_or("breach.error.discovered")?;
    if discovered > now + 300 {
        return Err("breach.error.future");
    }
    let informed = Informed::parse(&f.informed).ok_or("breach.error.informed")?;
    let reporting = Reporting::parse(&f.reporting).ok_or("breach.error.reporting")?;
    let mut linked = Vec::new();
    for n in f.cases.split([',', ' ']).filter(|s| !s.is_empty()) {
        let n: i64 = n.trim().parse().map_err(|_| "breach.error.cases")?;
        let (id, _) = cases
            .iter()
            .find(|(_, num)| *num == n)
            .ok_or("breach.error.cases")?;
        if !linked.contains(id) {
            linked.push(id.clone());
        }
    }
    let mut entries = Vec::new();
    for e in f
        .audit_entries
        .split([',', ' ', '\n'])
        .filter(|s| !s.trim().is_empty())
    {
        let e = e.trim();
        if e.len() > 64
            || !e.starts_with("evt_")
            || !e.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            return Err("breach.error.audit");
        }
        entries.push(e.to_owned());
    }
    let details = Details {
        description: clean_text(&f.description),
        occurred_from: moment(&f.occurred_from, "breach.error.occurred")?,
        occurred_until: moment(&f.occurred_until, "breach.error.occurred")?,
        how_discovered: clean_text(&f.how_discovered),
        nature: Nature {
            confidentiality: f.confidentiality.is_some(),
            integrity: f.integrity.is_some(),
            availability: f.availability.is_some(),
        },
        subject_categories: clean_text(&f.subject_categories),
        subjects_approx: approx(&f.subjects_approx, "breach.error.count")?,
        data_categories: clean_text(&f.data_categories),
        sensitive_data: f.sensitive_data.is_some(),
        records_approx: approx(&f.records_approx, "breach.error.count")?,
        consequences: clean_text(&f.consequences),
        measures_taken: clean_text(&f.measures_taken),
        measures_planned: clean_text(&f.measures_planned),
        contact: clean_text(&f.contact),
        informed,
        informed_at: moment(&f.informed_at, "breach.error.informed_at")?,
        informed_how: clean_text(&f.informed_how),
        reporting,
        reported_at: moment(&f.reported_at, "breach.error.reported_at")?,
        imy_reference: clean_text(&f.imy_reference),
        reason_not_reported: clean_text(&f.reason_not_reported),
        reason_late: clean_text(&f.reason_late),
        significant: f.significant.is_some(),
        early_warning_at: moment(&f.early_warning_at, "breach.error.nis2")?,
        notification_at: moment(&f.notification_at, "breach.error.nis2")?,
        final_report_at: moment(&f.final_report_at, "breach.error.nis2")?,
        cases: linked,
        audit_entries: entries,
    };
    if let (Some(a), Some(b)) = (details.occurred_from, details.occurred_until) {
        if b < a {
            return Err("breach.error.occurred");
        }
    }
    if details.occurred_from.is_some_and(|t| t > discovered) {
        return Err("breach.error.occurred");
    }
    // What was done after the discovery happened after it, and not later
    // than now.
    let after = |t: Option<i64>| t.is_none_or(|t| t >= discovered - 300 && t <= now + 300);
    if !after(details.reported_at) {
        return Err("breach.error.reported_at");
    }
    if !after(details.informed_at) {
        return Err("breach.error.informed_at");
    }
    if ![
        details.early_warning_at,
        details.notification_at,
        details.final_report_at,
    ]
    .into_iter()
    .all(after)
    {
        return Err("breach.error.nis2");
    }
    match details.reporting {
        Reporting::Reported if details.reported_at.is_none() => {
            return Err("breach.error.reported_at")
        }
        Reporting::Reported
            if details
                .reported_at
                .is_some_and(|t| t > discovered + portvakt_core::breach::DEADLINE_HOURS * 3600)
                && details.reason_late.is_empty() =>
        {
            return Err("breach.error.late")
        }
        Reporting::NotReported if details.reason_not_reported.is_empty() => {
            return Err("breach.error.why_not")
        }
        _ => {}
    }
    if details.informed == Informed::NotNeeded && details.informed_how.is_empty() {
        return Err("breach.error.why_not_informed");
    }
    if details.informed == Informed::Yes && details.informed_at.is_none() {
        return Err("breach.error.informed_at");
    }
    Ok(Breach {
        title,
        discovered_at: discovered,
        details,
        updated_at: now,
        ..b.clone()
    })
}

pub async fn record_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    dpo: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<RecordForm>,
) -> Result<Response, AppError> {
    let b = own_breach(&state, &dpo, &id).await?;
    let cases: Vec<(String, i64)> = state
        .store
        .list_cases(&dpo.organisation.id, 200)
        .await?
        .iter()
        .map(|c| (c.id.to_string(), c.number))
        .collect();
    let updated = match parsed(&f, &b, &cases, state.clock.now()) {
        Ok(u) => u,
        Err(key) => {
            let page = record_page(
                &state,
                t,
                &csrf,
                &dpo,
                b,
                Shown {
                    form: Some(f.values()),
                    notice: None,
                    error: Some(t.get(key).to_owned()),
                },
            )
            .await?;
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    if !state.store.update_breach(&updated).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &state,
        &dpo,
        &client,
        "breach.update",
        b.id.as_str(),
        updated.details.reporting.as_str(),
    )
    .await;
    Ok(Redirect::to(&format!("/dpo/breaches/{}?done=saved", b.id)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    submitted: Option<String>,
}

pub async fn phase_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    dpo: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<PhaseForm>,
) -> Result<Response, AppError> {
    let b = own_breach(&state, &dpo, &id).await?;
    let text = clean_text(&f.text);
    if text.is_empty() {
        let page = record_page(
            &state,
            t,
            &csrf,
            &dpo,
            b,
            Shown {
                error: Some(t.get("breach.error.phase").to_owned()),
                ..Shown::default()
            },
        )
        .await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let phase = Phase {
        at: state.clock.now(),
        by: dpo.user.id.clone(),
        text,
        submitted: f.submitted.is_some(),
    };
    if !state
        .store
        .add_breach_phase(&dpo.organisation.id, &b.id, &phase)
        .await?
    {
        return Err(AppError::NotFound);
    }
    audit::record(&state, &dpo, &client, "breach.phase", b.id.as_str(), "").await;
    Ok(Redirect::to(&format!("/dpo/breaches/{}?done=phase", b.id)).into_response())
}
