//! The access decision: may this user open this service now? A pure
//! function of (user's groups, session's sign-in methods, client's zone,
//! local time, the service's rule), shared by the portal, `/auth/verify`,
//! the built-in proxy and `portvakt access check`. It fails closed: a rule
//! shared with no group opens for nobody, and a session whose methods are
//! unknown satisfies no method requirement.

use crate::domain::Slug;
use crate::store::Amr;
use std::collections::BTreeSet;
use std::fmt;

/// A way of signing in, as recorded in a session's `amr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    Password,
    /// Authenticator app (TOTP).
    App,
    Sms,
    Email,
    Passkey,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Password,
        Method::App,
        Method::Sms,
        Method::Email,
        Method::Passkey,
    ];

    /// The name used in organisation files and the CLI.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::App => "app",
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Passkey => "passkey",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }

    /// The token a session's `amr` holds for this method.
    #[must_use]
    pub fn amr(self) -> &'static str {
        match self {
            Method::Password => "pwd",
            Method::App => "otp",
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Passkey => "passkey",
        }
    }

    /// The method an `amr` token stands for; `None` for one this version
    /// does not know.
    #[must_use]
    pub fn from_amr_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.amr() == token)
    }

    /// The methods a stored `amr` records; unknown tokens are ignored, so
    /// they can never satisfy a requirement (see [`Amr`]).
    #[must_use]
    pub fn from_amr(amr: &str) -> BTreeSet<Method> {
        Amr::from_stored(amr).methods()
    }
}

/// Local time in Europe/Stockholm, reduced to what rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minutes since local midnight, 0..1440.
    pub minute: u16,
}

impl LocalTime {
    /// The Stockholm wall-clock time of a Unix time.
    #[must_use]
    pub fn stockholm(unix: i64) -> Self {
        let zoned = jiff::Timestamp::from_second(unix)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(crate::clock::stockholm().clone());
        Self {
            weekday: u8::try_from(zoned.weekday().to_monday_zero_offset()).unwrap_or(0),
            minute: u16::try_from(i32::from(zoned.hour()) * 60 + i32::from(zoned.minute()))
                .unwrap_or(0),
        }
    }
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Opening hours on some weekdays: `mon-fri 07:00-18:00`, `sat,sun 10:00-14:00`.
/// The end is exclusive; `24:00` means midnight at the end of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Bit 0 = Monday.
    days: u8,
    start: u16,
    end: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("opening hours must look like \"mon-fri 07:00-18:00\": {0}")]
pub struct WindowError(String);

fn parse_day(s: &str) -> Option<u8> {
    DAYS.iter()
        .position(|d| *d == s)
        .and_then(|i| u8::try_from(i).ok())
}

fn parse_clock(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && (h < 24 || m == 0)).then_some(h * 60 + m)
}

impl Window {
    /// # Errors
    /// Unknown day names, times out of range, or an empty interval.
    pub fn parse(text: &str) -> Result<Self, WindowError> {
        let err = |why: &str| WindowError(format!("{text:?}: {why}"));
        let lower = text.trim().to_ascii_lowercase();
        let (days, hours) = lower
            .split_once(' ')
            .ok_or_else(|| err("days and hours are separated by a space"))?;
        let mut mask = 0u8;
        for part in days.split(',') {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let (a, b) = (
                parse_day(a).ok_or_else(|| err("days are mon, tue, wed, thu, fri, sat, sun"))?,
                parse_day(b).ok_or_else(|| err("days are mon, tue, wed, thu, fri, sat, sun"))?,
            );
            if a > b {
                return Err(err("a day range runs forwards, e.g. mon-fri"));
            }
            for d in a..=b {
                mask |= 1 << d;
            }
        }
        let (s, e) = hours
            .trim()
            .split_once('-')
            .ok_or_else(|| err("hours look like 07:00-18:00"))?;
        let (start, end) = (
            parse_clock(s).ok_or_else(|| err("hours look like 07:00-18:00"))?,
            parse_clock(e).ok_or_else(|| err("hours look like 07:00-18:00"))?,
        );
        if start >= end {
            return Err(err("the end must be after the start on the same day"));
        }
        Ok(Self {
            days: mask,
            start,
            end,
        })
    }

    #[must_use]
    pub fn contains(&self, t: LocalTime) -> bool {
        self.days & (1 << t.weekday) != 0 && (self.start..self.end).contains(&t.minute)
    }

    /// Day numbers (0 = Monday) the window covers.
    #[must_use]
    pub fn days(&self) -> Vec<u8> {
        (0..7).filter(|d| self.days & (1 << d) != 0).collect()
    }

    /// Consecutive days as `(first, last)` runs: mon-fri, sat-sun → [(0,4), (5,6)].
    #[must_use]
    pub fn day_runs(&self) -> Vec<(u8, u8)> {
        let days = self.days();
        let mut runs: Vec<(u8, u8)> = Vec::new();
        for d in days {
            match runs.last_mut() {
                Some((_, last)) if *last + 1 == d => *last = d,
                _ => runs.push((d, d)),
            }
        }
        runs
    }

    /// `(start, end)` in minutes since midnight.
    #[must_use]
    pub fn hours(&self) -> (u16, u16) {
        (self.start, self.end)
    }
}

impl fmt::Display for Window {
    /// The canonical form, as stored and as written in files.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Runs of three or more days as ranges (mon-fri), shorter ones
        // listed (sat,sun).
        let parts: Vec<String> = self
            .day_runs()
            .into_iter()
            .map(|(i, j)| {
                let (a, b) = (DAYS[usize::from(i)], DAYS[usize::from(j)]);
                match j - i {
                    0 => a.to_owned(),
                    1 => format!("{a},{b}"),
                    _ => format!("{a}-{b}"),
                }
            })
            .collect();
        write!(
            f,
            "{} {:02}:{:02}-{:02}:{:02}",
            parts.join(","),
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// One service's rule. Each part that is set must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessRule {
    /// Members of any of these groups; empty = nobody.
    pub groups: BTreeSet<Slug>,
    /// Only from these network zones; `None` = from anywhere.
    pub zones: Option<BTreeSet<Slug>>,
    /// Signed in with at least one of these; `None` = any sign-in.
    pub methods: Option<BTreeSet<Method>>,
    /// Open only within one of these windows; empty = always.
    pub open: Vec<Window>,
}

/// What a service's rule says besides its groups, and how it is published.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceAccess {
    /// Only from these network zones; `None` = from anywhere.
    pub zones: Option<BTreeSet<Slug>>,
    /// At least one of these sign-in methods; `None` = any.
    pub methods: Option<BTreeSet<Method>>,
    /// Opening hours (Europe/Stockholm); empty = always open.
    pub open: Vec<Window>,
    /// The host name forward-auth requests for this service carry
    /// (`lon.exempelkommun.se`); `None` = not behind forward-auth.
    pub host: Option<String>,
    /// The internal address Portvakt's own reverse proxy forwards to
    /// (`http://10.10.1.5:8080`); `None` = not published by Portvakt.
    pub upstream: Option<String>,
}

impl ServiceAccess {
    /// The full rule for members of `groups`.
    #[must_use]
    pub fn rule(&self, groups: BTreeSet<Slug>) -> AccessRule {
        AccessRule {
            groups,
            zones: self.zones.clone(),
            methods: self.methods.clone(),
            open: self.open.clone(),
        }
    }
}

/// An upstream address in canonical form (no trailing slash), or `None`
/// when it is not a plain `http://` base address. (TLS towards internal
/// apps is not supported yet; refusing it here beats a 502 later.)
#[must_use]
pub fn upstream_url(raw: &str) -> Option<String> {
    let u = url::Url::parse(raw).ok()?;
    let ok = u.scheme() == "http"
        && u.host().is_some()
        && u.username().is_empty()
        && u.password().is_none()
        && u.query().is_none()
        && u.fragment().is_none();
    ok.then(|| u.as_str().trim_end_matches('/').to_owned())
}

/// Whether `raw` is an address the portal may link a service to: an
/// absolute `http://` or `https://` URL with a host, at most 2,000
/// characters, no spaces or control characters. Kept as typed, so a file
/// applied again compares equal.
#[must_use]
pub fn is_service_url(raw: &str) -> bool {
    // The WHATWG parser would read `https:x` as `https://x/`.
    let scheme_ok = ["http://", "https://"].iter().any(|p| {
        raw.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    });
    scheme_ok
        && raw.len() <= 2000
        && !raw.chars().any(|c| c.is_whitespace() || c.is_control())
        && url::Url::parse(raw)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Who is asking, from where, when.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    pub groups: &'a BTreeSet<Slug>,
    pub methods: &'a BTreeSet<Method>,
    /// The zone the client is in, if any.
    pub zone: Option<&'a Slug>,
    pub at: LocalTime,
}

/// Why a service is closed to this subject now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// Not shared with any of the user's groups: the service is not theirs.
    NotInGroup,
    /// Only from these zones.
    Zone(BTreeSet<Slug>),
    /// Needs one of these methods.
    Method(BTreeSet<Method>),
    /// Closed at this time; open in these windows.
    Closed(Vec<Window>),
}

/// The decision: `Ok` to allow, or every reason it is closed (group first).
///
/// # Errors
/// The reasons, never empty.
pub fn decide(rule: &AccessRule, who: &Subject<'_>) -> Result<(), Vec<Denial>> {
    decide_parts(
        &rule.groups,
        rule.zones.as_ref(),
        rule.methods.as_ref(),
        &rule.open,
        who,
    )
}

impl ServiceAccess {
    /// [`decide`] for this service shared with `groups`, without building
    /// an [`AccessRule`] (the forward-auth hot path allocates nothing when
    /// access is allowed).
    ///
    /// # Errors
    /// The reasons, never empty.
    pub fn decide(&self, groups: &BTreeSet<Slug>, who: &Subject<'_>) -> Result<(), Vec<Denial>> {
        decide_parts(
            groups,
            self.zones.as_ref(),
            self.methods.as_ref(),
            &self.open,
            who,
        )
    }
}

fn decide_parts(
    groups: &BTreeSet<Slug>,
    zones: Option<&BTreeSet<Slug>>,
    methods: Option<&BTreeSet<Method>>,
    open: &[Window],
    who: &Subject<'_>,
) -> Result<(), Vec<Denial>> {
    let mut denials = Vec::new();
    if groups.is_disjoint(who.groups) {
        denials.push(Denial::NotInGroup);
    }
    if let Some(zones) = zones {
        if !who.zone.is_some_and(|z| zones.contains(z)) {
            denials.push(Denial::Zone(zones.clone()));
        }
    }
    if let Some(methods) = methods {
        if methods.is_disjoint(who.methods) {
            denials.push(Denial::Method(methods.clone()));
        }
    }
    if !open.is_empty() && !open.iter().any(|w| w.contains(who.at)) {
        denials.push(Denial::Closed(open.to_vec()));
    }
    if denials.is_empty() {
        Ok(())
    } else {
        Err(denials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slugs(s: &[&str]) -> BTreeSet<Slug> {
        s.iter().map(|x| Slug::parse(x).unwrap()).collect()
    }

    fn at(weekday: u8, h: u16, m: u16) -> LocalTime {
        LocalTime {
            weekday,
            minute: h * 60 + m,
        }
    }

    #[test]
    fn windows_parse_print_and_contain() {
        let w = Window::parse("Mon-Fri 07:00-18:00").unwrap();
        assert_eq!(w.to_string(), "mon-fri 07:00-18:00");
        assert!(w.contains(at(0, 7, 0)));
        assert!(w.contains(at(4, 17, 59)));
        assert!(!w.contains(at(4, 18, 0)), "the end is exclusive");
        assert!(!w.contains(at(5, 12, 0)), "saturday");
        assert!(!w.contains(at(2, 6, 59)));
        let w = Window::parse("sat,sun 00:00-24:00").unwrap();
        assert_eq!(w.to_string(), "sat,sun 00:00-24:00");
        assert!(w.contains(at(6, 23, 59)));
        assert_eq!(
            Window::parse("mon,wed,fri 08:30-09:00")
                .unwrap()
                .to_string(),
            "mon,wed,fri 08:30-09:00"
        );
        assert_eq!(
            Window::parse("mon-wed,fri 08:00-09:00")
                .unwrap()
                .to_string(),
            "mon-wed,fri 08:00-09:00"
        );
        for bad in [
            "",
            "mon-fri",
            "mon-fri 7-18",
            "fri-mon 07:00-18:00",
            "mån-fre 07:00-18:00",
            "mon-fri 18:00-07:00",
            "mon-fri 07:00-07:00",
            "mon-fri 07:00-24:30",
            "mon-fri 25:00-26:00",
            "mon-fri 07:60-08:00",
        ] {
            assert!(Window::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn stockholm_time_follows_daylight_saving() {
        // 2026-11-23 13:00 Stockholm (UTC+1) is a Monday.
        assert_eq!(LocalTime::stockholm(1_795_435_200), at(0, 13, 0));
        // 2026-07-01 12:00 UTC is 14:00 in Stockholm (UTC+2), a Wednesday.
        assert_eq!(LocalTime::stockholm(1_782_907_200), at(2, 14, 0));
    }

    #[test]
    fn methods_come_from_amr_and_unknown_tokens_count_for_nothing() {
        assert_eq!(
            Method::from_amr("pwd otp"),
            [Method::Password, Method::App].into()
        );
        assert_eq!(Method::from_amr("passkey"), [Method::Passkey].into());
        assert!(Method::from_amr("hwk mfa").is_empty());
        for m in Method::ALL {
            assert_eq!(Method::parse(m.name()), Some(m));
        }
    }

    /// Every combination of the four conditions, each holding or not: the
    /// decision allows exactly when all hold, and names exactly the ones
    /// that do not.
    #[test]
    fn every_combination_of_conditions() {
        let rule = AccessRule {
            groups: slugs(&["larare"]),
            zones: Some(slugs(&["skolnatet"])),
            methods: Some([Method::App, Method::Passkey].into()),
            open: vec![Window::parse("mon-fri 07:00-18:00").unwrap()],
        };
        let skolnatet = Slug::parse("skolnatet").unwrap();
        let adm = Slug::parse("administrativa-natet").unwrap();
        for bits in 0u8..16 {
            let (g, z, m, t) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
            let groups = if g {
                slugs(&["larare", "ovrig"])
            } else {
                slugs(&["ovrig"])
            };
            let methods: BTreeSet<Method> = if m {
                Method::from_amr("pwd otp")
            } else {
                Method::from_amr("pwd sms")
            };
            let who = Subject {
                groups: &groups,
                methods: &methods,
                zone: if z { Some(&skolnatet) } else { Some(&adm) },
                at: if t { at(1, 9, 0) } else { at(1, 19, 0) },
            };
            let got = decide(&rule, &who);
            if g && z && m && t {
                assert_eq!(got, Ok(()));
                continue;
            }
            let denials = got.unwrap_err();
            assert_eq!(denials.contains(&Denial::NotInGroup), !g, "{bits}");
            assert_eq!(
                denials.iter().any(|d| matches!(d, Denial::Zone(_))),
                !z,
                "{bits}"
            );
            assert_eq!(
                denials.iter().any(|d| matches!(d, Denial::Method(_))),
                !m,
                "{bits}"
            );
            assert_eq!(
                denials.iter().any(|d| matches!(d, Denial::Closed(_))),
                !t,
                "{bits}"
            );
        }
    }

    #[test]
    fn fails_closed() {
        let none = BTreeSet::new();
        let groups = slugs(&["larare"]);
        let who = Subject {
            groups: &groups,
            methods: &none,
            zone: None,
            at: at(0, 12, 0),
        };
        // Shared with nobody: closed to everybody.
        assert_eq!(
            decide(&AccessRule::default(), &who),
            Err(vec![Denial::NotInGroup])
        );
        let rule = AccessRule {
            groups: groups.clone(),
            zones: Some(slugs(&["skolnatet"])),
            methods: Some([Method::Password].into()),
            open: vec![],
        };
        // Outside every zone, and a session whose methods are unknown.
        let denials = decide(&rule, &who).unwrap_err();
        assert_eq!(denials.len(), 2);
        // An empty zone list or method list opens for nobody either.
        let rule = AccessRule {
            groups: groups.clone(),
            zones: Some(BTreeSet::new()),
            methods: None,
            open: vec![],
        };
        let skolnatet = Slug::parse("skolnatet").unwrap();
        let who = Subject {
            zone: Some(&skolnatet),
            ..who
        };
        assert!(decide(&rule, &who).is_err());
    }

    #[test]
    fn service_urls_are_absolute_web_addresses_kept_as_typed() {
        for ok in [
            "https://lon.kommun.se/",
            "http://10.1.2.3:8080/x?y=1",
            "https://Lön.kommun.se",
        ] {
            assert!(is_service_url(ok), "{ok}");
        }
        for bad in [
            "https://",
            "ftp://x.se/",
            "javascript:alert(1)",
            "https://a b.se/",
            "//x.se/",
            "https:x",
        ] {
            assert!(!is_service_url(bad), "{bad}");
        }
    }
}
