//! `[[organisation.probe]]`: what is checked, how often, and what a failure means.

use portvakt_core::domain::Slug;
use std::collections::BTreeSet;

use super::raw::*;
use super::{Checker, S};

/// The organisation's health probes. Defaults: every 30 s, 5 s timeout,
/// down after 3 failures in a row, up after 2 passes, major outage.
pub(super) fn probes(
    c: &mut Checker,
    raw: &[S<RawProbe>],
    f: &str,
    components: &BTreeSet<Slug>,
) -> Vec<portvakt_core::apply::DesiredProbe> {
    use portvakt_core::probe::{check_spec, parse_duration, ProbeKind, ProbeSpec};
    let mut out: Vec<portvakt_core::apply::DesiredProbe> = Vec::new();
    for (i, sp) in raw.iter().enumerate() {
        let p = sp.get_ref();
        let pf = format!("{f}.probe[{i}]");
        let slug = c.slug(&p.slug, &format!("{pf}.slug"));
        let component = c.slug(&p.component, &format!("{pf}.component"));
        if let Some(comp) = &component {
            if !components.contains(comp) {
                c.err(
                    &p.component,
                    &format!("{pf}.component"),
                    "not one of this organisation's status_component slugs",
                );
            }
        }
        let target = |t: &Option<S<String>>| t.as_ref().map(|v| v.get_ref().trim().to_owned());
        let kind = match (target(&p.http), target(&p.tcp), target(&p.tls)) {
            (Some(url), None, None) => Some(ProbeKind::Http {
                url,
                expect_status: p
                    .expect_status
                    .as_ref()
                    .map_or_else(|| vec![200], |v| v.get_ref().clone()),
                expect_body: p.expect_body.as_ref().map(|b| b.get_ref().clone()),
            }),
            (None, Some(address), None) => Some(ProbeKind::Tcp { address }),
            (None, None, Some(address)) => Some(ProbeKind::Tls {
                server_name: p.server_name.as_ref().map_or_else(
                    || {
                        address
                            .rsplit_once(':')
                            .map(|(h, _)| h.trim_matches(['[', ']']).to_owned())
                            .unwrap_or_default()
                    },
                    |n| n.get_ref().trim().to_owned(),
                ),
                min_days_left: p.min_days_left.as_ref().map_or(14, |d| *d.get_ref()),
                address,
            }),
            _ => {
                c.err(sp, &pf, "give exactly one of http, tcp or tls");
                None
            }
        };
        let mut seconds = |v: &Option<S<String>>, field: &str, default: u32| -> u32 {
            match v {
                None => default,
                Some(v) => parse_duration(v.get_ref()).unwrap_or_else(|| {
                    c.err(
                        v,
                        &format!("{pf}.{field}"),
                        "a duration such as 30s, 5m or 1h",
                    );
                    default
                }),
            }
        };
        let interval_s = seconds(&p.interval, "interval", 30);
        let timeout_s = seconds(&p.timeout, "timeout", 5);
        let (Some(kind), Some(slug), Some(component)) = (kind, slug, component) else {
            continue;
        };
        let spec = ProbeSpec {
            kind,
            interval_s,
            timeout_s,
            failures: p.failures.as_ref().map_or(3, |v| *v.get_ref()),
            recoveries: p.recoveries.as_ref().map_or(2, |v| *v.get_ref()),
            impact: p.impact.as_ref().map_or_else(
                || "major_outage".to_owned(),
                |v| v.get_ref().trim().to_owned(),
            ),
            ca_file: p.ca_file.as_ref().map(|v| v.get_ref().trim().to_owned()),
        };
        if let Err((field, msg)) = check_spec(&spec) {
            c.err(sp, &format!("{pf}.{field}"), msg);
        } else if out.iter().any(|o| o.slug == slug) {
            c.err(&p.slug, &format!("{pf}.slug"), "probe listed twice");
        } else {
            out.push(portvakt_core::apply::DesiredProbe {
                slug,
                component,
                spec,
            });
        }
    }
    out
}
