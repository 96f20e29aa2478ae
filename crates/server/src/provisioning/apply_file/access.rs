//! `[organisation.service.access]`: who may open a service, from where and when,
//! and where it is published.

use portvakt_core::access::{Method, ServiceAccess, Window};
use portvakt_core::domain::Slug;
use std::collections::BTreeSet;

use super::raw::*;
use super::{Checker, S};

/// The access rule and forward-auth host of one service.
pub(super) fn service_access(
    c: &mut Checker,
    s: &RawService,
    sf: &str,
    zone_slugs: &BTreeSet<Slug>,
) -> ServiceAccess {
    let rule = RuleFields {
        anchor: &s.slug,
        zones: s.zones.as_ref(),
        methods: s.methods.as_ref(),
        open: &s.open,
    };
    let parts = rule_access(c, &rule, sf, zone_slugs);
    let (host, upstream) = published_at(c, s, sf);
    ServiceAccess {
        host,
        upstream,
        ..parts
    }
}

/// The parts of a rule besides its groups, as written (services, clients).
pub(super) struct RuleFields<'a> {
    /// Where errors about the whole rule point.
    pub(super) anchor: &'a S<String>,
    pub(super) zones: Option<&'a Vec<S<String>>>,
    pub(super) methods: Option<&'a Vec<S<String>>>,
    pub(super) open: &'a [S<String>],
}

/// Zones, methods and opening hours, checked; the same language for
/// services and OpenID clients.
pub(super) fn rule_access(
    c: &mut Checker,
    s: &RuleFields<'_>,
    sf: &str,
    zone_slugs: &BTreeSet<Slug>,
) -> ServiceAccess {
    let zones = s.zones.map(|zs| {
        let mut set = BTreeSet::new();
        for z in zs {
            match Slug::parse(z.get_ref()).filter(|sl| zone_slugs.contains(sl)) {
                Some(sl) => {
                    set.insert(sl);
                }
                None => c.err(
                    z,
                    &format!("{sf}.zones"),
                    format!(
                        "unknown zone '{}'; declare it under [[organisation.zone]]",
                        z.get_ref()
                    ),
                ),
            }
        }
        set
    });
    let methods = s.methods.map(|ms| {
        let mut set = BTreeSet::new();
        for m in ms {
            match Method::parse(m.get_ref()) {
                Some(method) => {
                    set.insert(method);
                }
                None => c.err(
                    m,
                    &format!("{sf}.methods"),
                    "unknown method; use password, app, sms, email or passkey",
                ),
            }
        }
        set
    });
    if zones.as_ref().is_some_and(BTreeSet::is_empty) && s.zones.is_some_and(Vec::is_empty) {
        c.err(s.anchor, &format!("{sf}.zones"), "an empty list would close the service everywhere; leave `zones` out to allow every network");
    }
    if methods.as_ref().is_some_and(BTreeSet::is_empty) && s.methods.is_some_and(Vec::is_empty) {
        c.err(s.anchor, &format!("{sf}.methods"), "an empty list would close the service to every sign-in; leave `methods` out to allow any");
    }
    let mut open = Vec::new();
    for w in s.open {
        match Window::parse(w.get_ref()) {
            Ok(win) => open.push(win),
            Err(e) => c.err(w, &format!("{sf}.open"), e.to_string()),
        }
    }
    ServiceAccess {
        zones,
        methods,
        open,
        host: None,
        upstream: None,
    }
}

/// The forward-auth host and the built-in proxy's upstream of a service.
fn published_at(c: &mut Checker, s: &RawService, sf: &str) -> (Option<String>, Option<String>) {
    let host = s.host.as_ref().and_then(|h| {
        let name = h.get_ref().trim().to_ascii_lowercase();
        let ok = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
            });
        if ok {
            Some(name)
        } else {
            c.err(
                h,
                &format!("{sf}.host"),
                "a host name such as lon.exempelkommun.se (no scheme, port or path)",
            );
            None
        }
    });
    let upstream = s.upstream.as_ref().and_then(|u| {
        let parsed = portvakt_core::access::upstream_url(u.get_ref().trim());
        if parsed.is_none() {
            c.err(
                u,
                &format!("{sf}.upstream"),
                "an http:// address such as http://10.10.1.5:8080 (no query, no user name; https upstreams are not supported yet)",
            );
        }
        parsed
    });
    (host, upstream)
}
