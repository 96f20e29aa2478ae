//! What the status page shows, built once for the live page, the static
//! copy and the CLI: the components with their uptime bars, the incidents
//! and the texts, in one language.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::i18n::Tr;
use crate::http::time_fmt::stockholm;
use askama::Template;
use portvakt_core::probe::{last_days, uptime, DayClass, DayFigure, ProbeOverview};
use portvakt_core::status::{current_states, Component, ComponentState, Incident};
use portvakt_core::store::Organisation;

/// Days in the uptime bars.
pub(crate) const UPTIME_DAYS: u32 = 90;

/// Resolved incidents stay on the page this long…
const RECENT_SECS: i64 = 14 * 24 * 3600;
/// …and at most this many of them (all are in the JSON and the feed).
const RESOLVED_SHOWN: u32 = 20;

pub(crate) struct ComponentRow {
    pub(crate) name: String,
    pub(crate) state: &'static str,
    pub(crate) state_text: String,
    /// A health probe sees it down (possibly before any editor has said so).
    pub(crate) detected: bool,
    pub(crate) alternatives: Vec<String>,
    /// "99,95 %" over the bars' days; `None` when nothing was measured.
    pub(crate) uptime: Option<String>,
    pub(crate) bars: Vec<Bar>,
    /// Days with failed checks, for the list under the bars.
    pub(crate) trouble: Vec<String>,
}

/// Consecutive days shown as one stretch of the uptime bar.
pub(crate) struct Bar {
    pub(crate) class: &'static str,
    pub(crate) days: u32,
    pub(crate) title: String,
}

pub(crate) struct IncidentView {
    pub(crate) title: String,
    pub(crate) phase: String,
    pub(crate) affected: String,
    pub(crate) started: String,
    pub(crate) resolved: Option<String>,
    /// (time, phase, text)
    pub(crate) updates: Vec<(String, String, String)>,
}

/// What the page shows, for the live page and the static copy alike.
pub(crate) struct StatusBody {
    pub(crate) org_name: String,
    pub(crate) all_ok: bool,
    pub(crate) groups: Vec<(String, Vec<ComponentRow>)>,
    pub(crate) ongoing: Vec<IncidentView>,
    pub(crate) maintenance: Vec<IncidentView>,
    pub(crate) resolved: Vec<IncidentView>,
    pub(crate) updated: String,
    /// "Så når du oss": lines from the organisation file.
    pub(crate) contact: Vec<String>,
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
