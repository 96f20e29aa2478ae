//! What the status page shows, built once for the live page, the static
//! copy and the CLI: the components with their uptime bars, the incidents
//! and the texts, in one language.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::i18n::Tr;
use crate::http::time_fmt::{duration_words, moment, stockholm};
use askama::Template;
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
    /// "kl. 13:00" today, "den 23 november kl. 13:00" before
    pub(crate) started: String,
    /// "Åtgärdat den 23 november kl. 15:10 · pågick 2 tim 10 min"
    pub(crate) resolved: Option<String>,
    /// The whole history, newest first.
    pub(crate) updates: Vec<UpdateView>,
}

pub(crate) struct UpdateView {
    /// In words, Stockholm time.
    pub(crate) at: String,
    /// The same instant for machines (`<time datetime>`).
    pub(crate) datetime: String,
    pub(crate) phase: String,
    pub(crate) text: String,
}

/// What the page shows, for the live page and the static copy alike.
pub(crate) struct StatusBody {
    pub(crate) org_name: String,
    pub(crate) all_ok: bool,
    pub(crate) groups: Vec<(String, Vec<ComponentRow>)>,
    /// Some component has uptime bars: the page explains them once.
    pub(crate) has_uptime: bool,
    /// (CSS class suffix, label) for the bars' legend.
    pub(crate) legend: Vec<(&'static str, String)>,
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
                // The page reads only what it shows (the open ones and the
                // newest resolved, with their histories), not every
                // incident of two weeks.
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

/// "Lärplattform (Större avbrott), E-post (Begränsad funktion)": the
/// components by name, each with its impact.
pub(crate) fn affected_text(
    t: Tr,
    affected: &[(Slug, ComponentState)],
    components: &[Component],
) -> String {
    affected
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
        .join(", ")
}

fn view(t: Tr, i: &Incident, components: &[Component], now: i64) -> IncidentView {
    let affected = affected_text(t, &i.affected, components);
    IncidentView {
        title: pick(t, &i.title, &i.title_en).to_owned(),
        phase: t
            .get(&format!("status.phase.{}", i.phase.name()))
            .to_owned(),
        affected,
        started: moment(t, i.created_at, now),
        resolved: i.resolved_at.map(|at| {
            t.get("status.resolved_line")
                .replace("{when}", &moment(t, at, now))
                .replace("{duration}", &duration_words(t, at - i.created_at))
        }),
        updates: i
            .updates
            .iter()
            .map(|u| UpdateView {
                at: moment(t, u.at, now),
                datetime: super::feeds::rfc3339(u.at),
                phase: t
                    .get(&format!("status.phase.{}", u.phase.name()))
                    .to_owned(),
                text: pick(t, &u.body, &u.body_en).to_owned(),
            })
            .collect(),
    }
}

/// The bars' colours, best first, as the legend lists them.
fn legend(t: Tr) -> Vec<(&'static str, String)> {
    [
        DayClass::Full,
        DayClass::Minor,
        DayClass::Partial,
        DayClass::Major,
        DayClass::NoData,
    ]
    .into_iter()
    .map(|c| {
        (
            c.name(),
            t.get(&format!("status.uptime.legend.{}", c.name()))
                .to_owned(),
        )
    })
    .collect()
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
            .map(|i| view(t, i, components, now))
            .collect::<Vec<_>>()
    };
    StatusBody {
        org_name: org.name.clone(),
        all_ok: states
            .iter()
            .all(|(_, s)| *s == ComponentState::Operational),
        has_uptime: groups
            .iter()
            .any(|(_, rows)| rows.iter().any(|r| r.uptime.is_some())),
        legend: legend(t),
        groups,
        ongoing: open(false),
        maintenance: open(true),
        // The newest few resolved ones, each with its whole history: how
        // it went matters as much as how it ended.
        resolved: incidents
            .iter()
            .filter(|i| i.resolved_at.is_some())
            .take(RESOLVED_SHOWN as usize)
            .map(|i| view(t, i, components, now))
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
