//! The access decision: may this user open this service now? A pure
//! function of (user's groups, session's sign-in methods, client's zone,
//! local time, the service's rule), shared by the portal, `/auth/verify`,
//! the built-in proxy and `portvakt access check`. It fails closed: a rule
//! shared with no group opens for nobody, and a session whose methods are
//! unknown satisfies no method requirement.

#[cfg(test)]
mod tests;
mod window;

pub use window::{LocalTime, Window, WindowError};

use crate::domain::Slug;
use crate::store::Amr;
use std::collections::BTreeSet;

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
