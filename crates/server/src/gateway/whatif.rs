//! `portvakt access check`: what the access decision would be for a user,
//! a service, an address, sign-in methods and a time — the same decision
//! the portal, `/auth/verify` and the proxy make — so an administrator can
//! try rules before relying on them.

use crate::http::access_text;
use crate::http::i18n::{Lang, Tr};
use anyhow::{anyhow, Context};
use portvakt_core::access::{decide, Denial, LocalTime, Method, Subject};
use portvakt_core::domain::{Slug, Username, ZoneCidrs};
use portvakt_core::store::Store;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The decision and why, in words for people.
#[derive(Debug)]
pub struct Report {
    pub allowed: bool,
    pub text: String,
}

/// A time as `2026-11-23T19:00` (Europe/Stockholm) or RFC 3339 with an offset.
///
/// # Errors
/// Anything else.
pub fn parse_time(s: &str) -> anyhow::Result<i64> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    let civil: jiff::civil::DateTime = s
        .parse()
        .with_context(|| format!("--time {s:?}: use 2026-11-23T19:00 or RFC 3339"))?;
    Ok(civil
        .to_zoned(jiff::tz::TimeZone::get("Europe/Stockholm")?)?
        .timestamp()
        .as_second())
}

/// What the check is about: a service (its slug) or an OpenID client
/// (its `client_id`); both use the same rule language.
pub enum Target {
    Service(String),
    Client(String),
}

/// # Errors
/// Unknown user, service, client or method; store failures.
pub async fn check(
    store: &dyn Store,
    user: &str,
    target: &Target,
    ip: IpAddr,
    methods: &[String],
    at: i64,
) -> anyhow::Result<Report> {
    let username = Username::parse(user).map_err(|e| anyhow!("--user: {e}"))?;
    let org = match username.domain() {
        Some(d) => store.organisation_by_domain(d).await?,
        None => None,
    }
    .ok_or_else(|| anyhow!("--user: no organisation has the domain of {user}"))?;
    let u = store
        .user_by_username(&org.id, &username)
        .await?
        .ok_or_else(|| anyhow!("--user: no such user in {}", org.slug.as_str()))?;
    let (label, rule) = match target {
        Target::Service(service) => {
            let slug = Slug::parse(service).ok_or_else(|| anyhow!("--service: not a slug"))?;
            let (svc, service_groups) = store
                .services_with_groups(&org.id)
                .await?
                .into_iter()
                .find(|(s, _)| s.slug == slug)
                .ok_or_else(|| {
                    anyhow!("--service: no service {service} in {}", org.slug.as_str())
                })?;
            (
                format!("service: {} ({})", svc.name, svc.slug.as_str()),
                svc.access.rule(service_groups),
            )
        }
        Target::Client(id) => {
            let c = store
                .oidc_clients(&org.id)
                .await?
                .into_iter()
                .find(|c| &c.client_id == id)
                .ok_or_else(|| anyhow!("--client: no client {id} in {}", org.slug.as_str()))?;
            (
                format!("client:  {} ({})", c.name, c.client_id),
                c.access.rule(c.groups.clone()),
            )
        }
    };
    let mut used = BTreeSet::new();
    for m in methods.iter().flat_map(|m| m.split(',')) {
        used.insert(
            Method::parse(m.trim())
                .ok_or_else(|| anyhow!("--method {m}: use password, app, sms, email or passkey"))?,
        );
    }
    let groups: BTreeSet<Slug> = store
        .user_groups(&org.id, &u.id)
        .await?
        .into_iter()
        .map(|g| g.slug)
        .collect();
    let zones = store.zones(&org.id).await?;
    let zone = zones
        .iter()
        .find(|z| {
            ZoneCidrs::parse(&z.cidrs.split(',').collect::<Vec<_>>()).is_ok_and(|c| c.contains(ip))
        })
        .map(|z| z.slug.clone());
    let local = LocalTime::stockholm(at);
    let who = Subject {
        groups: &groups,
        methods: &used,
        zone: zone.as_ref(),
        at: local,
    };
    let decision = decide(&rule, &who);
    let when = crate::http::time_fmt::stockholm(at);
    let mut text = format!(
        "user:    {} ({})\n{label}\naddress: {ip} (zone: {})\nmethods: {}\ntime:    {when} Europe/Stockholm\n",
        u.username.as_str(),
        groups.iter().map(Slug::as_str).collect::<Vec<_>>().join(", "),
        zone.as_ref().map_or("outside every zone", Slug::as_str),
        used.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
    );
    match &decision {
        Ok(()) => text.push_str("decision: ALLOW\n"),
        Err(denials) => {
            text.push_str("decision: DENY\n");
            if denials.contains(&Denial::NotInGroup) {
                text.push_str("  - not shared with any of the user's groups\n");
            }
            for (sv, en) in access_text::reasons(Tr::new(Lang::Sv), denials, &zones)
                .into_iter()
                .zip(access_text::reasons(Tr::new(Lang::En), denials, &zones))
            {
                text.push_str(&format!("  - {sv} / {en}\n"));
            }
        }
    }
    Ok(Report {
        allowed: decision.is_ok(),
        text,
    })
}
