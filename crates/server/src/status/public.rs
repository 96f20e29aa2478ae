//! The public status page ("Driftinformation"): no sign-in, Swedish or
//! English, as HTML and as JSON. `/status` shows the default organisation,
//! `/status/<organisation>` any other.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::{CsrfToken, PageLang};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::stockholm;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use portvakt_core::domain::Slug;
use portvakt_core::probe::{last_days, uptime, DayClass, DayFigure, ProbeOverview};
use portvakt_core::status::{current_states, Component, ComponentState, Incident};
use portvakt_core::store::Organisation;

/// Days in the uptime bars.
pub(crate) const UPTIME_DAYS: u32 = 90;

/// Resolved incidents stay on the page this long…
const RECENT_SECS: i64 = 14 * 24 * 3600;
/// …and at most this many of them (all are in the JSON and the feed).
const RESOLVED_SHOWN: u32 = 20;

struct ComponentRow {
    name: String,
    state: &'static str,
    state_text: String,
    /// A health probe sees it down (possibly before any editor has said so).
    detected: bool,
    alternatives: Vec<String>,
    /// "99,95 %" over the bars' days; `None` when nothing was measured.
    uptime: Option<String>,
    bars: Vec<Bar>,
    /// Days with failed checks, for the list under the bars.
    trouble: Vec<String>,
}

/// Consecutive days shown as one stretch of the uptime bar.
struct Bar {
    class: &'static str,
    days: u32,
    title: String,
}

struct IncidentView {
    title: String,
    phase: String,
    affected: String,
    started: String,
    resolved: Option<String>,
    /// (time, phase, text)
    updates: Vec<(String, String, String)>,
}

/// What the page shows, for the live page and the static copy alike.
pub(crate) struct StatusBody {
    org_name: String,
    all_ok: bool,
    groups: Vec<(String, Vec<ComponentRow>)>,
    ongoing: Vec<IncidentView>,
    maintenance: Vec<IncidentView>,
    resolved: Vec<IncidentView>,
    updated: String,
    /// "Så når du oss": lines from the organisation file.
    contact: Vec<String>,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    p: Page,
    b: StatusBody,
    json_url: String,
    atom_url: String,
}

/// The static copy: a whole document, no forms, relative links only.
#[derive(Template)]
#[template(path = "status_static.html")]
pub(crate) struct StaticStatusPage {
    pub(crate) t: Tr,
    pub(crate) b: StatusBody,
    /// Relative path to the site root ("" or "../").
    pub(crate) root: &'static str,
    /// Link to the other language's page.
    pub(crate) other: &'static str,
    /// Link to this language's self-check.
    pub(crate) check: &'static str,
}

async fn organisation(state: &AppState, slug: Option<&str>) -> Result<Organisation, AppError> {
    let slug = match slug {
        Some(s) => Slug::parse(s),
        None => state
            .config
            .default_organisation
            .as_deref()
            .and_then(Slug::parse),
    }
    .ok_or(AppError::NotFound)?;
    state
        .store
        .organisation_by_slug(&slug)
        .await?
        .ok_or(AppError::NotFound)
}

/// What the page, its JSON, its feed and the static copy are made of.
pub(crate) struct StatusData {
    pub(crate) components: Vec<Component>,
    pub(crate) incidents: Vec<Incident>,
    pub(crate) probes: ProbeOverview,
    pub(crate) figures: Vec<DayFigure>,
    /// The bars' days, oldest first.
    pub(crate) days: Vec<String>,
}

/// The data for the HTML page (`page`: only what it shows) or for the
/// JSON and the feed (everything in the window).
pub(crate) async fn load(
    state: &AppState,
    org: &Organisation,
    page: bool,
) -> Result<StatusData, AppError> {
    Ok(load_from(&*state.store, org, state.clock.now(), page).await?)
}

/// The same for the CLI and the export, which have a store but no server.
///
/// # Errors
/// Store failures.
pub(crate) async fn load_from(
    store: &dyn portvakt_core::store::Store,
    org: &Organisation,
    now: i64,
    page: bool,
) -> Result<StatusData, portvakt_core::StoreError> {
    let days = last_days(portvakt_core::clock::stockholm_day(now), UPTIME_DAYS);
    let (components, incidents, probes, figures) = tokio::try_join!(
        store.status_components(&org.id),
        async {
            if page {
                // The page reads only what it shows (all of the open ones,
                // the last word of the newest resolved): a few dozen rows
                // instead of every update of two weeks.
                store
                    .incidents_shown(&org.id, now - RECENT_SECS, RESOLVED_SHOWN)
                    .await
            } else {
                store.incidents(&org.id, now - RECENT_SECS, 200).await
            }
        },
        store.probe_overview(&org.id),
        store.probe_days(&org.id, days.first().map_or("", String::as_str)),
    )?;
    Ok(StatusData {
        components,
        incidents,
        probes,
        figures,
        days,
    })
}

/// "99,95 %" / "99.95%", never rounded up to 100 while anything failed.
fn percent(t: Tr, x1000: i64) -> String {
    let hundredths = x1000 / 10;
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    if t.lang == crate::http::i18n::Lang::En {
        format!("{whole}.{frac:02}%")
    } else {
        format!("{whole},{frac:02}\u{a0}%")
    }
}

fn bars(t: Tr, c: &Component, data: &StatusData) -> (Option<String>, Vec<Bar>, Vec<String>) {
    let u = uptime(&c.slug, &data.figures, &data.days);
    let Some(total) = u.percent_x1000() else {
        return (None, Vec::new(), Vec::new());
    };
    let mut trouble = Vec::new();
    let bars = u
        .runs
        .iter()
        .map(|r| {
            let when = if r.days == 1 {
                r.first.clone()
            } else {
                format!("{} – {}", r.first, r.last)
            };
            let what = match r.class {
                DayClass::NoData => t.get("status.uptime.no_data").to_owned(),
                _ => percent(t, (r.checks - r.failures) * 100_000 / r.checks.max(1)),
            };
            let title = format!("{when}: {what}");
            if r.class > DayClass::Full {
                trouble.push(title.clone());
            }
            Bar {
                class: r.class.name(),
                days: r.days,
                title,
            }
        })
        .collect();
    (Some(percent(t, total)), bars, trouble)
}

fn pick<'a>(t: Tr, sv: &'a str, en: &'a str) -> &'a str {
    if t.lang == crate::http::i18n::Lang::En && !en.is_empty() {
        en
    } else {
        sv
    }
}

fn view(t: Tr, i: &Incident, components: &[Component]) -> IncidentView {
    let affected = i
        .affected
        .iter()
        .map(|(slug, impact)| {
            let name = components
                .iter()
                .find(|c| &c.slug == slug)
                .map_or(slug.as_str(), |c| c.name.as_str());
            format!(
                "{name} ({})",
                t.get(&format!("status.state.{}", impact.name()))
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    IncidentView {
        title: pick(t, &i.title, &i.title_en).to_owned(),
        phase: t
            .get(&format!("status.phase.{}", i.phase.name()))
            .to_owned(),
        affected,
        started: stockholm(i.created_at),
        resolved: i.resolved_at.map(stockholm),
        updates: i
            .updates
            .iter()
            .map(|u| {
                (
                    stockholm(u.at),
                    t.get(&format!("status.phase.{}", u.phase.name()))
                        .to_owned(),
                    pick(t, &u.body, &u.body_en).to_owned(),
                )
            })
            .collect(),
    }
}

/// Everything the page shows for one organisation, in one language.
pub(crate) fn body(t: Tr, org: &Organisation, data: &StatusData, now: i64) -> StatusBody {
    let (components, incidents) = (&data.components[..], &data.incidents[..]);
    let states = current_states(components, incidents, &data.probes.down);
    let mut groups: Vec<(String, Vec<ComponentRow>)> = Vec::new();
    for (c, (_, st)) in components.iter().zip(&states) {
        let (uptime, bars, trouble) = bars(t, c, data);
        let row = ComponentRow {
            name: c.name.clone(),
            state: st.name(),
            state_text: t.get(&format!("status.state.{}", st.name())).to_owned(),
            detected: data.probes.down.iter().any(|p| p.component == c.slug),
            alternatives: if *st == ComponentState::Operational {
                Vec::new()
            } else {
                c.alternatives.lines().map(str::to_owned).collect()
            },
            uptime,
            bars,
            trouble,
        };
        match groups.iter_mut().find(|(g, _)| *g == c.group) {
            Some((_, list)) => list.push(row),
            None => groups.push((c.group.clone(), vec![row])),
        }
    }
    let open = |maint: bool| {
        incidents
            .iter()
            .filter(|i| i.resolved_at.is_none() && i.maintenance == maint)
            .map(|i| view(t, i, components))
            .collect::<Vec<_>>()
    };
    StatusBody {
        org_name: org.name.clone(),
        all_ok: states
            .iter()
            .all(|(_, s)| *s == ComponentState::Operational),
        groups,
        ongoing: open(false),
        maintenance: open(true),
        // Resolved ones briefly: the newest few, each with its last word.
        resolved: incidents
            .iter()
            .filter(|i| i.resolved_at.is_some())
            .take(RESOLVED_SHOWN as usize)
            .map(|i| {
                let mut v = view(t, i, components);
                v.updates.truncate(1);
                v
            })
            .collect(),
        updated: stockholm(now),
        contact: org
            .status_contact
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

async fn page(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    slug: Option<&str>,
) -> Result<Response, AppError> {
    let org = organisation(state, slug).await?;
    let data = load(state, &org, true).await?;
    let back = slug.map_or_else(|| "/status".to_owned(), |s| format!("/status/{s}"));
    Ok(Html(
        StatusPage {
            p: Page::anonymous(t, csrf, &back),
            b: body(t, &org, &data, state.clock.now()),
            json_url: format!("/status/{}.json", org.slug.as_str()),
            atom_url: format!("/status/{}.atom", org.slug.as_str()),
        }
        .render()?,
    )
    .into_response())
}

pub async fn default_page(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
) -> Result<Response, AppError> {
    page(&state, t, &csrf, None).await
}

/// `/status/<organisation>` and `/status/<organisation>.json`.
pub async fn org_page(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    if let Some(s) = slug.strip_suffix(".json") {
        return json(&state, s).await;
    }
    if let Some(s) = slug.strip_suffix(".atom") {
        return atom(&state, s).await;
    }
    page(&state, t, &csrf, Some(&slug)).await
}

/// Text for XML: the five special characters escaped, and characters XML
/// 1.0 forbids dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// An Atom feed (RFC 4287): one entry per incident, updated with its
/// newest update, the updates in its content.
async fn atom(state: &AppState, slug: &str) -> Result<Response, AppError> {
    let org = organisation(state, Some(slug)).await?;
    let incidents = load(state, &org, false).await?.incidents;
    let base = format!("/status/{}", org.slug.as_str());
    Ok((
        [
            (header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=30"),
        ],
        atom_text(&org, &incidents, &base, state.clock.now()),
    )
        .into_response())
}

/// The feed; `base` is where its links point (the live page or the copy).
pub(crate) fn atom_text(
    org: &Organisation,
    incidents: &[Incident],
    base: &str,
    now: i64,
) -> String {
    let newest = incidents
        .iter()
        .flat_map(|i| i.updates.iter().map(|u| u.at))
        .max()
        .unwrap_or(now);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"sv\">\n");
    x.push_str(&format!(
        "<title>Driftinformation – {}</title>\n<id>urn:portvakt:status:{}</id>\n<updated>{}</updated>\n<link rel=\"alternate\" href=\"{base}\"/>\n<author><name>{}</name></author>\n",
        xml(&org.name),
        xml(org.slug.as_str()),
        rfc3339(newest),
        xml(&org.name),
    ));
    for i in incidents {
        let updated = i.updates.iter().map(|u| u.at).max().unwrap_or(i.created_at);
        let mut content = String::new();
        for u in &i.updates {
            content.push_str(&format!(
                "{} ({}): {}\n\n",
                stockholm(u.at),
                u.phase.name(),
                u.body
            ));
        }
        x.push_str(&format!(
            "<entry>\n<id>urn:portvakt:incident:{}</id>\n<title>{}</title>\n<updated>{}</updated>\n<published>{}</published>\n<link rel=\"alternate\" href=\"{base}\"/>\n<category term=\"{}\"/>\n<content type=\"text\">{}</content>\n</entry>\n",
            xml(&i.id),
            xml(&i.title),
            rfc3339(updated),
            rfc3339(i.created_at),
            i.phase.name(),
            xml(content.trim_end()),
        ));
    }
    x.push_str("</feed>\n");
    x
}

pub(crate) fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map_or_else(|_| String::new(), |t| t.to_string())
}

async fn json(state: &AppState, slug: &str) -> Result<Response, AppError> {
    let org = organisation(state, Some(slug)).await?;
    let data = load(state, &org, false).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=30"),
        ],
        json_text(&org, &data, state.clock.now()),
    )
        .into_response())
}

pub(crate) fn json_text(org: &Organisation, data: &StatusData, now: i64) -> String {
    let (components, incidents) = (&data.components[..], &data.incidents[..]);
    let states = current_states(components, incidents, &data.probes.down);
    let probed = |c: &Component| data.probes.down.iter().any(|p| p.component == c.slug);
    serde_json::json!({
        "organisation": { "slug": org.slug.as_str(), "name": org.name, "contact": org.status_contact },
        "updated_at": rfc3339(now),
        // What the health probes see, for the self-check: how many watch,
        // which components they find down, and their newest check.
        "probes": {
            "watching": data.probes.watching,
            "down": components.iter().filter(|c| probed(c))
                .map(|c| c.slug.as_str()).collect::<Vec<_>>(),
            "checked_at": data.probes.checked_at.map(rfc3339),
        },
        "components": components.iter().zip(&states).map(|(c, (_, st))| {
            let u = uptime(&c.slug, &data.figures, &data.days);
            serde_json::json!({
                "slug": c.slug.as_str(),
                "name": c.name,
                "group": c.group,
                "state": st.name(),
                "detected_by_probe": probed(c),
                "alternatives": c.alternatives,
                "uptime": {
                    "days": data.days.len(),
                    "percent": u.percent_x1000().map(|x| x as f64 / 1000.0),
                    // One row per component and day in the store.
                    "history": data.figures.iter().filter(|f| f.component == c.slug).map(|f| serde_json::json!({
                        "day": f.day, "checks": f.checks, "failures": f.failures,
                    })).collect::<Vec<_>>(),
                },
            })
        }).collect::<Vec<_>>(),
        "incidents": incidents.iter().map(|i| serde_json::json!({
            "id": i.id,
            "title": i.title,
            "title_en": i.title_en,
            "maintenance": i.maintenance,
            "phase": i.phase.name(),
            "created_at": rfc3339(i.created_at),
            "resolved_at": i.resolved_at.map(rfc3339),
            "affected": i.affected.iter().map(|(c, s)| serde_json::json!({
                "component": c.as_str(), "impact": s.name(),
            })).collect::<Vec<_>>(),
            "updates": i.updates.iter().map(|u| serde_json::json!({
                "at": rfc3339(u.at), "phase": u.phase.name(), "body": u.body, "body_en": u.body_en,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
    .to_string()
}
