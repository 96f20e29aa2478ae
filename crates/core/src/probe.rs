//! Health probes for status components: what a probe checks, when one
//! counts as down or up again (failure and recovery thresholds), and the
//! per-component daily figures behind the 90-day uptime bars. Free of
//! network code: the server runs the checks and feeds results in here.

use crate::clock::UnixTime;
use crate::domain::Slug;
use crate::ids::OrganisationId;
use crate::status::ComponentState;
use serde::{Deserialize, Serialize};

/// What is checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProbeKind {
    /// A GET that must answer one of `expect_status` (no redirects are
    /// followed) and, when set, contain `expect_body`.
    Http {
        url: String,
        expect_status: Vec<u16>,
        expect_body: Option<String>,
    },
    /// A TCP connection that must open.
    Tcp { address: String },
    /// A TLS handshake whose certificate verifies and is valid for at
    /// least `min_days_left` more days.
    Tls {
        address: String,
        server_name: String,
        min_days_left: u32,
    },
}

/// How a probe runs and what its failure means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSpec {
    #[serde(flatten)]
    pub kind: ProbeKind,
    pub interval_s: u32,
    pub timeout_s: u32,
    /// Failed checks in a row before the probe counts as down.
    pub failures: u32,
    /// Passed checks in a row before a down probe counts as up again.
    pub recoveries: u32,
    /// The component's state while the probe is down.
    pub impact: String,
    /// Extra trust anchors (PEM) for HTTPS and TLS probes, for services
    /// behind the organisation's own certificate authority.
    pub ca_file: Option<String>,
}

/// A probe as stored: one of an organisation's, watching one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub organisation_id: OrganisationId,
    pub slug: Slug,
    pub component: Slug,
    pub spec: ProbeSpec,
}

impl Probe {
    /// The component state while down (major outage if the stored name is
    /// somehow unknown: a failing check must never read as "working").
    #[must_use]
    pub fn impact(&self) -> ComponentState {
        match ComponentState::parse(&self.spec.impact) {
            Some(ComponentState::Operational) | None => ComponentState::MajorOutage,
            Some(s) => s,
        }
    }
}

/// Short intervals are for tests and lab setups; 30 s is the default.
pub const MIN_INTERVAL_S: u32 = 2;
pub const MAX_INTERVAL_S: u32 = 86_400;
pub const MAX_TIMEOUT_S: u32 = 60;
pub const MAX_THRESHOLD: u32 = 20;

/// Checks a spec; the message names the field.
///
/// # Errors
/// The first problem, in English for the operator's terminal.
pub fn check_spec(spec: &ProbeSpec) -> Result<(), (&'static str, String)> {
    match &spec.kind {
        ProbeKind::Http {
            url,
            expect_status,
            expect_body,
        } => {
            let parsed = url::Url::parse(url)
                .map_err(|_| ("url", "not an absolute http:// or https:// URL".to_owned()))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(("url", "not an absolute http:// or https:// URL".into()));
            }
            if expect_status.is_empty() || expect_status.iter().any(|s| !(100..=599).contains(s)) {
                return Err(("expect_status", "HTTP status codes 100–599".into()));
            }
            if expect_body
                .as_ref()
                .is_some_and(|b| b.is_empty() || b.len() > 200)
            {
                return Err(("expect_body", "1–200 bytes of text".into()));
            }
        }
        ProbeKind::Tcp { address } => check_address(address)?,
        ProbeKind::Tls {
            address,
            server_name,
            min_days_left,
        } => {
            check_address(address)?;
            if server_name.is_empty()
                || server_name.len() > 253
                || !server_name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            {
                return Err(("server_name", "a DNS name".into()));
            }
            if *min_days_left > 365 {
                return Err(("min_days_left", "0–365 days".into()));
            }
        }
    }
    if !(MIN_INTERVAL_S..=MAX_INTERVAL_S).contains(&spec.interval_s) {
        return Err((
            "interval",
            format!("{MIN_INTERVAL_S} seconds to {MAX_INTERVAL_S} seconds"),
        ));
    }
    if spec.timeout_s == 0 || spec.timeout_s > MAX_TIMEOUT_S || spec.timeout_s >= spec.interval_s {
        return Err((
            "timeout",
            format!("1–{MAX_TIMEOUT_S} seconds and shorter than the interval"),
        ));
    }
    for (name, n) in [("failures", spec.failures), ("recoveries", spec.recoveries)] {
        if n == 0 || n > MAX_THRESHOLD {
            return Err((name, format!("1–{MAX_THRESHOLD} checks in a row")));
        }
    }
    match ComponentState::parse(&spec.impact) {
        Some(ComponentState::Operational) | None => Err((
            "impact",
            "maintenance, degraded, partial_outage or major_outage".into(),
        )),
        Some(_) => Ok(()),
    }
}

fn check_address(address: &str) -> Result<(), (&'static str, String)> {
    let ok = address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p != 0));
    if ok {
        Ok(())
    } else {
        Err(("address", "host:port".into()))
    }
}

/// Parses `30s`, `5m`, `1h` or plain seconds.
#[must_use]
pub fn parse_duration(s: &str) -> Option<u32> {
    let s = s.trim();
    let (num, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u32 = num.parse().ok()?;
    let mult = match unit.trim() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// One check's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    pub ok: bool,
    /// Why it failed, for the editor ("connection refused", "status 503").
    pub error: String,
    pub millis: u32,
}

/// A change in a probe's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    WentDown,
    CameUp,
}

/// Consecutive-result counting with failure and recovery thresholds, so a
/// single lost packet neither opens an incident nor closes one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tracker {
    pub down: bool,
    fails: u32,
    oks: u32,
}

impl Tracker {
    #[must_use]
    pub fn new(down: bool) -> Self {
        Self {
            down,
            fails: 0,
            oks: 0,
        }
    }

    pub fn observe(&mut self, ok: bool, failures: u32, recoveries: u32) -> Option<Transition> {
        if ok {
            self.fails = 0;
            self.oks = self.oks.saturating_add(1);
            if self.down && self.oks >= recoveries.max(1) {
                self.down = false;
                return Some(Transition::CameUp);
            }
        } else {
            self.oks = 0;
            self.fails = self.fails.saturating_add(1);
            if !self.down && self.fails >= failures.max(1) {
                self.down = true;
                return Some(Transition::WentDown);
            }
        }
        None
    }
}

/// A probe's last known view, kept so a restart neither forgets an outage
/// nor opens a second draft for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeState {
    pub organisation_id: OrganisationId,
    pub probe: Slug,
    pub component: Slug,
    pub down: bool,
    /// When it went down or came up.
    pub since: UnixTime,
    pub checked_at: UnixTime,
    pub last_error: String,
    /// The component state it causes while down.
    pub impact: ComponentState,
    /// An editor dismissed its draft as a false alarm: while it stays down
    /// it no longer sets the public state. Cleared when it comes up.
    pub muted: bool,
}

/// What the public page needs of the probes: how many report, their newest
/// check, and the views of those that are down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeOverview {
    pub watching: u32,
    /// The components the probes watch (that have reported), by slug, so
    /// the self-check can say what was checked.
    pub components: Vec<Slug>,
    pub checked_at: Option<UnixTime>,
    pub down: Vec<ProbeState>,
}

/// One component's checks on one Stockholm day, summed over its probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayFigure {
    pub component: Slug,
    /// `YYYY-MM-DD`, Europe/Stockholm.
    pub day: String,
    pub checks: i64,
    pub failures: i64,
}

/// How a day looks in the uptime bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DayClass {
    NoData,
    Full,
    /// At least 99 % of checks passed.
    Minor,
    /// At least 90 %.
    Partial,
    Major,
}

impl DayClass {
    #[must_use]
    pub fn of(checks: i64, failures: i64) -> Self {
        if checks <= 0 {
            DayClass::NoData
        } else if failures <= 0 {
            DayClass::Full
        } else if failures * 100 <= checks {
            DayClass::Minor
        } else if failures * 10 <= checks {
            DayClass::Partial
        } else {
            DayClass::Major
        }
    }

    /// CSS class suffix.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DayClass::NoData => "none",
            DayClass::Full => "full",
            DayClass::Minor => "minor",
            DayClass::Partial => "partial",
            DayClass::Major => "major",
        }
    }
}

/// Consecutive days that look the same, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRun {
    pub class: DayClass,
    pub first: String,
    pub last: String,
    pub days: u32,
    pub checks: i64,
    pub failures: i64,
}

/// A component's uptime over the last `n` days ending `today`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uptime {
    pub runs: Vec<DayRun>,
    pub checks: i64,
    pub failures: i64,
}

impl Uptime {
    /// Per mille of passed checks (99.95 % → 99950 per 100 000), `None`
    /// without data.
    #[must_use]
    pub fn percent_x1000(&self) -> Option<i64> {
        (self.checks > 0).then(|| (self.checks - self.failures) * 100_000 / self.checks)
    }
}

/// The Stockholm days `today - n + 1 ..= today` as `YYYY-MM-DD`.
#[must_use]
pub fn last_days(today: jiff::civil::Date, n: u32) -> Vec<String> {
    (0..n)
        .rev()
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .map(|d| d.to_string())
        .collect()
}

/// Groups one component's figures (any order, other components ignored)
/// into runs over `days`.
#[must_use]
pub fn uptime(component: &Slug, figures: &[DayFigure], days: &[String]) -> Uptime {
    let mut by_day: std::collections::HashMap<&str, (i64, i64)> = std::collections::HashMap::new();
    for f in figures.iter().filter(|f| &f.component == component) {
        let e = by_day.entry(f.day.as_str()).or_default();
        e.0 += f.checks;
        e.1 += f.failures;
    }
    let mut out = Uptime {
        runs: Vec::new(),
        checks: 0,
        failures: 0,
    };
    for day in days {
        let (checks, failures) = by_day.get(day.as_str()).copied().unwrap_or_default();
        out.checks += checks;
        out.failures += failures;
        let class = DayClass::of(checks, failures);
        match out.runs.last_mut() {
            // Only whole days without trouble merge; a day with failures
            // keeps its own bar and figures.
            Some(run)
                if run.class == class && matches!(class, DayClass::Full | DayClass::NoData) =>
            {
                run.last.clone_from(day);
                run.days += 1;
                run.checks += checks;
                run.failures += failures;
            }
            _ => out.runs.push(DayRun {
                class,
                first: day.clone(),
                last: day.clone(),
                days: 1,
                checks,
                failures,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http() -> ProbeSpec {
        ProbeSpec {
            kind: ProbeKind::Http {
                url: "http://127.0.0.1:8080/health".into(),
                expect_status: vec![200],
                expect_body: None,
            },
            interval_s: 30,
            timeout_s: 5,
            failures: 3,
            recoveries: 2,
            impact: "major_outage".into(),
            ca_file: None,
        }
    }

    #[test]
    fn thresholds_need_results_in_a_row() {
        let mut t = Tracker::default();
        assert_eq!(t.observe(false, 3, 2), None);
        assert_eq!(t.observe(false, 3, 2), None);
        assert_eq!(t.observe(true, 3, 2), None, "a pass resets the count");
        assert_eq!(t.observe(false, 3, 2), None);
        assert_eq!(t.observe(false, 3, 2), None);
        assert_eq!(t.observe(false, 3, 2), Some(Transition::WentDown));
        assert_eq!(t.observe(false, 3, 2), None, "down only once");
        assert_eq!(t.observe(true, 3, 2), None);
        assert_eq!(t.observe(false, 3, 2), None, "a failure resets recovery");
        assert_eq!(t.observe(true, 3, 2), None);
        assert_eq!(t.observe(true, 3, 2), Some(Transition::CameUp));
        assert!(!t.down);
    }

    #[test]
    fn specs_are_checked() {
        assert!(check_spec(&http()).is_ok());
        let bad = |f: &dyn Fn(&mut ProbeSpec)| {
            let mut s = http();
            f(&mut s);
            check_spec(&s).unwrap_err().0
        };
        assert_eq!(bad(&|s| s.interval_s = 1), "interval");
        assert_eq!(bad(&|s| s.timeout_s = 30), "timeout");
        assert_eq!(bad(&|s| s.failures = 0), "failures");
        assert_eq!(bad(&|s| s.impact = "operational".into()), "impact");
        assert_eq!(
            bad(&|s| s.kind = ProbeKind::Tcp {
                address: "nohost".into()
            }),
            "address"
        );
        assert_eq!(
            bad(&|s| s.kind = ProbeKind::Http {
                url: "ftp://x/".into(),
                expect_status: vec![200],
                expect_body: None
            }),
            "url"
        );
        assert_eq!(parse_duration("30s"), Some(30));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("45"), Some(45));
        assert_eq!(parse_duration("5x"), None);
    }

    #[test]
    fn spec_round_trips_through_json() {
        let s = http();
        let j = serde_json::to_string(&s).unwrap();
        assert!(j.contains(r#""kind":"http""#), "{j}");
        assert_eq!(serde_json::from_str::<ProbeSpec>(&j).unwrap(), s);
    }

    #[test]
    fn days_group_into_runs() {
        let c = Slug::parse("lar").unwrap();
        let today = jiff::civil::date(2026, 11, 23);
        let days = last_days(today, 5);
        assert_eq!(days[0], "2026-11-19");
        assert_eq!(days[4], "2026-11-23");
        let f = |day: &str, checks, failures| DayFigure {
            component: c.clone(),
            day: day.into(),
            checks,
            failures,
        };
        let figures = [
            f("2026-11-20", 2880, 0),
            f("2026-11-21", 2880, 0),
            f("2026-11-22", 1440, 20),
            f("2026-11-22", 1440, 0),
            f("2026-11-23", 100, 100),
        ];
        let u = uptime(&c, &figures, &days);
        let classes: Vec<_> = u.runs.iter().map(|r| (r.class, r.days)).collect();
        assert_eq!(
            classes,
            [
                (DayClass::NoData, 1),
                (DayClass::Full, 2),
                (DayClass::Minor, 1),
                (DayClass::Major, 1)
            ]
        );
        assert_eq!(u.checks, 2880 * 3 + 100);
        assert_eq!(u.percent_x1000(), Some((8740 - 120) * 100_000 / 8740));
        assert_eq!(uptime(&c, &[], &days).percent_x1000(), None);
    }
}
