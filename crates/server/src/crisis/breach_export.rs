//! One organisation's part of a breach, exported for IMY's e-service: a
//! printable page in the form's order, and JSON with the same fields
//! (every item of GDPR Art. 33(3), the phases of Art. 33(4), the NIS2
//! milestones, and the linked cases and audit entries).

use super::breach_page::{due_rows, own_breach};
use crate::app::state::AppState;
use crate::audit::events as audit;
use crate::http::error::AppError;
use crate::http::extract::{Client, CurrentUser, PageLang};
use crate::http::i18n::Tr;
use crate::http::time_fmt::stockholm;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Response};
use portvakt_core::breach::Breach;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct ExportQuery {
    format: Option<String>,
}

fn rfc3339(t: Option<i64>) -> serde_json::Value {
    t.and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map_or(serde_json::Value::Null, |ts| ts.to_string().into())
}

/// The JSON export: times in UTC RFC 3339, as in every API.
fn json(
    b: &Breach,
    org: &str,
    phases: &[portvakt_core::breach::Phase],
    cases: &[(String, i64)],
) -> serde_json::Value {
    let d = &b.details;
    serde_json::json!({
        "organisation": org,
        "breach": format!("{}-{}", org, b.number),
        "number": b.number,
        "title": b.title,
        "shared_incident": b.group_id,
        "discovered_at": rfc3339(Some(b.discovered_at)),
        "occurred_from": rfc3339(d.occurred_from),
        "occurred_until": rfc3339(d.occurred_until),
        "how_discovered": d.how_discovered,
        "description": d.description,
        "nature": {
            "confidentiality": d.nature.confidentiality,
            "integrity": d.nature.integrity,
            "availability": d.nature.availability,
        },
        "data_subjects": {
            "categories": d.subject_categories,
            "approximate_number": d.subjects_approx,
        },
        "personal_data": {
            "categories": d.data_categories,
            "special_categories_or_identity_numbers": d.sensitive_data,
            "approximate_number_of_records": d.records_approx,
        },
        "likely_consequences": d.consequences,
        "measures_taken": d.measures_taken,
        "measures_planned": d.measures_planned,
        "contact_point": d.contact,
        "data_subjects_informed": {
            "state": d.informed.as_str(),
            "at": rfc3339(d.informed_at),
            "how_or_why_not": d.informed_how,
        },
        "report_to_imy": {
            "state": d.reporting.as_str(),
            "deadline": rfc3339(Some(b.discovered_at + portvakt_core::breach::DEADLINE_HOURS * 3600)),
            "reported_at": rfc3339(d.reported_at),
            "imy_reference": d.imy_reference,
            "reason_for_delay": d.reason_late,
            "reason_not_reported": d.reason_not_reported,
        },
        "nis2": {
            "significant": d.significant,
            "milestones": b.milestones().iter().skip(1).map(|m| serde_json::json!({
                "milestone": m.milestone.as_str(),
                "deadline": rfc3339(Some(m.deadline)),
                "done_at": rfc3339(m.done),
            })).collect::<Vec<_>>(),
        },
        "phases": phases.iter().map(|p| serde_json::json!({
            "at": rfc3339(Some(p.at)),
            "text": p.text,
            "submitted_to_imy": p.submitted,
        })).collect::<Vec<_>>(),
        "intrusion_cases": d.cases.iter().filter_map(|id| cases.iter().find(|(c, _)| c == id)).map(|(_, n)| n).collect::<Vec<_>>(),
        "audit_entries": d.audit_entries,
        "created_at": rfc3339(Some(b.created_at)),
        "updated_at": rfc3339(Some(b.updated_at)),
    })
}

pub struct Field {
    label: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "breach_export.html")]
struct ExportPage {
    t: Tr,
    lang: &'static str,
    organisation: String,
    number: i64,
    title: String,
    fields: Vec<Field>,
    due: Vec<super::breach_page::DueRow>,
    /// (when, text, submitted)
    phases: Vec<(String, String, bool)>,
    generated: String,
}

fn when(t: Tr, v: Option<i64>) -> String {
    v.map_or_else(|| t.get("breach.unknown").to_owned(), stockholm)
}

fn yes_no(t: Tr, v: bool) -> String {
    t.get(if v { "breach.yes" } else { "breach.no" }).to_owned()
}

pub async fn export_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    Client(client): Client,
    dpo: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, AppError> {
    let b = own_breach(&state, &dpo, &id).await?;
    let org = &dpo.organisation;
    let phases = state.store.breach_phases(&org.id, &b.id).await?;
    let cases: Vec<(String, i64)> = state
        .store
        .list_cases(&org.id, 200)
        .await?
        .iter()
        .map(|c| (c.id.to_string(), c.number))
        .collect();
    let as_json = q.format.as_deref() == Some("json");
    audit::record(
        &state,
        &dpo,
        &client,
        "breach.export",
        b.id.as_str(),
        if as_json { "json" } else { "print" },
    )
    .await;
    let mut resp = if as_json {
        let body = json(&b, org.slug.as_str(), &phases, &cases);
        let mut r = axum::Json(body).into_response();
        r.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!(
                "attachment; filename=\"{}-pui-{}.json\"",
                org.slug, b.number
            ))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
        );
        r
    } else {
        let d = &b.details;
        let nature: Vec<&str> = [
            (d.nature.confidentiality, "breach.nature.confidentiality"),
            (d.nature.integrity, "breach.nature.integrity"),
            (d.nature.availability, "breach.nature.availability"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, k)| t.get(k))
        .collect();
        let count = |n: Option<u64>| {
            n.map_or_else(|| t.get("breach.unknown").to_owned(), |n| n.to_string())
        };
        let f = |label: &'static str, value: String| Field { label, value };
        let linked: Vec<String> = d
            .cases
            .iter()
            .filter_map(|id| cases.iter().find(|(c, _)| c == id))
            .map(|(_, n)| format!("{} {n}", t.get("case.word")))
            .collect();
        let fields = vec![
            f("breach.discovered", stockholm(b.discovered_at)),
            f("breach.occurred_from", when(t, d.occurred_from)),
            f("breach.occurred_until", when(t, d.occurred_until)),
            f("breach.how_discovered", d.how_discovered.clone()),
            f("breach.description", d.description.clone()),
            f("breach.nature", nature.join(", ")),
            f("breach.subject_categories", d.subject_categories.clone()),
            f("breach.subjects_approx", count(d.subjects_approx)),
            f("breach.data_categories", d.data_categories.clone()),
            f("breach.sensitive_data", yes_no(t, d.sensitive_data)),
            f("breach.records_approx", count(d.records_approx)),
            f("breach.consequences", d.consequences.clone()),
            f("breach.measures_taken", d.measures_taken.clone()),
            f("breach.measures_planned", d.measures_planned.clone()),
            f("breach.contact", d.contact.clone()),
            f(
                "breach.informed",
                t.get(&format!("breach.informed.{}", d.informed.as_str()))
                    .to_owned(),
            ),
            f("breach.informed_at", when(t, d.informed_at)),
            f("breach.informed_how", d.informed_how.clone()),
            f(
                "breach.reporting",
                t.get(&format!("breach.reporting.{}", d.reporting.as_str()))
                    .to_owned(),
            ),
            f("breach.reported_at", when(t, d.reported_at)),
            f("breach.imy_reference", d.imy_reference.clone()),
            f("breach.reason_late", d.reason_late.clone()),
            f("breach.reason_not_reported", d.reason_not_reported.clone()),
            f("breach.significant", yes_no(t, d.significant)),
            f("breach.cases", linked.join(", ")),
            f("breach.audit_entries", d.audit_entries.join(", ")),
        ];
        let doc = ExportPage {
            t,
            lang: t.lang.as_str(),
            organisation: org.name.clone(),
            number: b.number,
            title: b.title.clone(),
            fields,
            due: due_rows(t, &b, state.clock.now()),
            phases: phases
                .iter()
                .map(|p| (stockholm(p.at), p.text.clone(), p.submitted))
                .collect(),
            generated: stockholm(state.clock.now()),
        }
        .render()?;
        let mut r = Html(doc).into_response();
        r.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; frame-ancestors 'none'"),
        );
        r
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
