//! One `[[organisation]]`: groups, zones, services, users, the status
//! page's components and contacts.

use portvakt_core::apply::{
    DesiredOrganisation, DesiredService, DesiredUser, DesiredZone, InitialPassword,
};
use portvakt_core::auth::password::is_supported_hash;
use portvakt_core::auth::password_rules::{check_new_password_of, PasswordContext};
use portvakt_core::auth::totp::TotpSecret;
use portvakt_core::domain::{MfaPolicy, Role, Slug, Username, ZoneCidrs};
use std::collections::{BTreeSet, HashMap};

use super::access::service_access;
use super::probes::probes;
use super::raw::*;
use super::{Checker, S};

pub(super) fn check_org(
    c: &mut Checker,
    f: &str,
    o: &RawOrg,
    slug: Option<Slug>,
    name: String,
    domains: Vec<String>,
) -> Option<DesiredOrganisation> {
    let mut groups = Vec::new();
    let mut group_slugs = BTreeSet::new();
    for (i, g) in o.group.iter().enumerate() {
        let gf = format!("{f}.group[{i}]");
        let gname = c.text(&g.name, &format!("{gf}.name"));
        if let Some(s) = c.slug(&g.slug, &format!("{gf}.slug")) {
            if group_slugs.insert(s.clone()) {
                groups.push((s, gname));
            } else {
                c.err(&g.slug, &format!("{gf}.slug"), "group listed twice");
            }
        }
    }
    let group_refs = |c: &mut Checker, list: &[S<String>], field: &str| -> BTreeSet<Slug> {
        let mut set = BTreeSet::new();
        for g in list {
            match Slug::parse(g.get_ref()).filter(|s| group_slugs.contains(s)) {
                Some(s) => {
                    set.insert(s);
                }
                None => c.err(
                    g,
                    field,
                    format!(
                        "unknown group '{}'; declare it under [[organisation.group]]",
                        g.get_ref()
                    ),
                ),
            }
        }
        set
    };

    let mut zones = Vec::new();
    let mut zone_slugs = BTreeSet::new();
    for (i, z) in o.zone.iter().enumerate() {
        let zf = format!("{f}.zone[{i}]");
        let zname = c.text(&z.name, &format!("{zf}.name"));
        let zslug = c.slug(&z.slug, &format!("{zf}.slug"));
        match ZoneCidrs::parse(z.cidrs.get_ref()) {
            Ok(cidrs) => {
                if let Some(s) = zslug {
                    if zone_slugs.insert(s.clone()) {
                        zones.push(DesiredZone {
                            slug: s,
                            name: zname,
                            cidrs,
                        });
                    } else {
                        c.err(&z.slug, &format!("{zf}.slug"), "zone listed twice");
                    }
                }
            }
            Err(e) => c.err(&z.cidrs, &format!("{zf}.cidrs"), e.to_string()),
        }
    }

    let mut services = Vec::new();
    let mut service_slugs = BTreeSet::new();
    for (i, s) in o.service.iter().enumerate() {
        let sf = format!("{f}.service[{i}]");
        let sname = c.text(&s.name, &format!("{sf}.name"));
        let description = s
            .description
            .as_ref()
            .map(|d| c.text(d, &format!("{sf}.description")))
            .unwrap_or_default();
        let category = s
            .category
            .as_ref()
            .map(|d| c.text(d, &format!("{sf}.category")))
            .unwrap_or_default();
        let url = s.url.get_ref().trim().to_owned();
        if !portvakt_core::access::is_service_url(&url) {
            c.err(
                &s.url,
                &format!("{sf}.url"),
                "must be an absolute http:// or https:// address",
            );
        }
        let gs = group_refs(c, &s.groups, &format!("{sf}.groups"));
        let access = service_access(c, s, &sf, &zone_slugs);
        let icon = match &s.icon {
            Some(i) if crate::http::icons::known(i.get_ref()) => i.get_ref().clone(),
            Some(i) => {
                c.err(
                    i,
                    &format!("{sf}.icon"),
                    format!(
                        "unknown icon; use one of {}",
                        crate::http::icons::names().join(", ")
                    ),
                );
                String::new()
            }
            None => String::new(),
        };
        if let Some(sl) = c.slug(&s.slug, &format!("{sf}.slug")) {
            if service_slugs.insert(sl.clone()) {
                services.push(DesiredService {
                    slug: sl,
                    name: sname,
                    description,
                    url,
                    category,
                    groups: gs,
                    icon,
                    access,
                });
            } else {
                c.err(&s.slug, &format!("{sf}.slug"), "service listed twice");
            }
        }
    }

    let mut users = Vec::new();
    let mut seen: HashMap<Username, usize> = HashMap::new();
    let org_words: Vec<String> = [o.name.get_ref().clone(), o.slug.get_ref().clone()].into();
    for (i, u) in o.user.iter().enumerate() {
        let uf = format!("{f}.user[{i}]");
        let display_name = c.text(&u.name, &format!("{uf}.name"));
        let username = match Username::parse(u.username.get_ref()) {
            Ok(n) => {
                if let Some(first) = seen.insert(n.clone(), u.username.span().start) {
                    let first = c.line(first);
                    c.err(
                        &u.username,
                        &format!("{uf}.username"),
                        format!("same user as on line {first} (after normalisation)"),
                    );
                }
                Some(n)
            }
            Err(e) => {
                c.err(&u.username, &format!("{uf}.username"), e.to_string());
                None
            }
        };
        let email = u.email.as_ref().map(|e| {
            let v = e.get_ref().trim().to_owned();
            // Kept as written (so existing files plan no change), checked
            // as strictly as a registered factor (issue 10).
            if let Err(why) = portvakt_core::domain::EmailAddress::parse(&v) {
                c.err(
                    e,
                    &format!("{uf}.email"),
                    format!("not a deliverable e-mail address: {why}"),
                );
            }
            v
        });
        let gs = group_refs(c, &u.groups, &format!("{uf}.groups"));
        let mut roles = BTreeSet::new();
        for r in &u.roles {
            match Role::parse(r.get_ref()) {
                Some(role) => {
                    roles.insert(role);
                }
                None => c.err(r, &format!("{uf}.roles"), "unknown role; use org_admin, servicedesk, status_editor, data_protection_officer or installation_admin"),
            }
        }
        let initial_password = match (&u.initial_password, &u.password_hash) {
            (Some(p), Some(_)) => {
                c.err(
                    p,
                    &format!("{uf}.initial_password"),
                    "give either initial_password or password_hash, not both",
                );
                None
            }
            (Some(p), None) => {
                let words: Vec<&str> = org_words.iter().map(String::as_str).collect();
                let ctx = PasswordContext {
                    min_length: c.min_password,
                    organisation_words: &words,
                    username: u.username.get_ref(),
                };
                if let Err(e) = check_new_password_of(p.get_ref(), &ctx, &[display_name.as_str()]) {
                    c.err(
                        p,
                        &format!("{uf}.initial_password"),
                        format!("rejected: {e}"),
                    );
                }
                Some(InitialPassword::Plain(p.get_ref().clone()))
            }
            (None, Some(h)) => {
                if !is_supported_hash(h.get_ref()) {
                    c.err(
                        h,
                        &format!("{uf}.password_hash"),
                        "not an Argon2 ($argon2id$…) or bcrypt ($2b$…) hash",
                    );
                }
                Some(InitialPassword::Hash(h.get_ref().clone()))
            }
            (None, None) => None,
        };
        let totp_secret = u.totp_secret.as_ref().and_then(|t| {
            let parsed = TotpSecret::parse(t.get_ref());
            if parsed.is_none() {
                c.err(
                    t,
                    &format!("{uf}.totp_secret"),
                    "not a base32 secret of at least 128 bits",
                );
            }
            parsed
        });
        if let Some(username) = username {
            users.push(DesiredUser {
                username,
                display_name,
                email,
                groups: gs,
                roles,
                disabled: u.disabled,
                initial_password,
                totp_secret,
            });
        }
    }
    let mfa_policy = match &o.mfa {
        None => MfaPolicy::default(),
        Some(m) => MfaPolicy::parse(m.get_ref()).unwrap_or_else(|| {
            c.err(
                m,
                &format!("{f}.mfa"),
                "use \"always\", \"outside_internal\" or \"never\"",
            );
            MfaPolicy::default()
        }),
    };
    let mut components = Vec::new();
    let mut component_slugs = BTreeSet::new();
    for (i, k) in o.status_component.iter().enumerate() {
        let kf = format!("{f}.status_component[{i}]");
        let name = c.text(&k.name, &format!("{kf}.name"));
        let group = c.text(&k.group, &format!("{kf}.group"));
        // Phone numbers, addresses and hours: several lines are fine.
        let alternatives = k.alternatives.as_ref().map_or_else(String::new, |a| {
            multiline(c, a, &format!("{kf}.alternatives"))
        });
        if let Some(sl) = c.slug(&k.slug, &format!("{kf}.slug")) {
            if component_slugs.insert(sl.clone()) {
                components.push(portvakt_core::apply::DesiredComponent {
                    slug: sl,
                    name,
                    group,
                    alternatives,
                });
            } else {
                c.err(&k.slug, &format!("{kf}.slug"), "component listed twice");
            }
        }
    }
    let mut addresses = |list: &[S<String>], field: &str| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for a in list {
            match portvakt_core::domain::EmailAddress::parse(a.get_ref()) {
                Err(e) => c.err(a, field, format!("not a deliverable e-mail address: {e}")),
                Ok(v) if !out.iter().any(|o| o == v.as_str()) => out.push(v.as_str().to_owned()),
                Ok(_) => {}
            }
        }
        out
    };
    let (emergency_team, emergency_list) = match &o.emergency {
        Some(e) => (
            addresses(&e.team, &format!("{f}.emergency.team")),
            addresses(&e.list, &format!("{f}.emergency.list")),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let probes = probes(c, &o.probe, f, &component_slugs);
    let status_contact = o.status_contact.as_ref().map_or_else(String::new, |a| {
        multiline(c, a, &format!("{f}.status_contact"))
    });
    let sms_country_codes = match &o.sms_country_codes {
        None => vec!["46".to_owned()],
        Some(list) => {
            let mut out: Vec<String> = Vec::new();
            for cc in list {
                let digits = cc.get_ref().trim().trim_start_matches('+');
                if !portvakt_core::domain::PhoneNumber::is_country_code(digits) {
                    c.err(
                        cc,
                        &format!("{f}.sms_country_codes"),
                        "not a country calling code (like \"+46\")",
                    );
                } else if !out.iter().any(|d| d == digits) {
                    out.push(digits.to_owned());
                }
            }
            out
        }
    };
    let mut refs = |c: &mut Checker, list: &[S<String>], field: &str| group_refs(c, list, field);
    let clients = super::clients::clients(c, &o.client, f, &mut refs, &zone_slugs);
    let mut signin_notices = portvakt_core::domain::SigninNotices::default();
    for w in o.notify_signins.iter().flatten() {
        if !signin_notices.add(w.get_ref().trim()) {
            c.err(
                w,
                &format!("{f}.notify_signins"),
                "not one of \"outside\", \"new_device\"",
            );
        }
    }
    let crisis = super::crisis::plan(c, o.crisis.as_ref(), f);
    let crisis_contacts = super::crisis::contacts(c, &o.user, f, &users);
    Some(DesiredOrganisation {
        crisis,
        crisis_contacts,
        clients,
        sms_country_codes,
        signin_notices,
        status_contact,
        emergency_team,
        emergency_list,
        probes,
        mfa_policy,
        slug: slug?,
        name,
        domains,
        groups,
        zones,
        services,
        users,
        components,
    })
}

/// Text of several lines for the public (phone numbers, addresses, hours).
pub(super) fn multiline(c: &mut Checker, a: &S<String>, field: &str) -> String {
    let v = a.get_ref().trim().replace("\r\n", "\n");
    if v.chars().count() > 2000 || v.chars().any(|ch| ch.is_control() && ch != '\n') {
        c.err(a, field, "at most 2000 characters, no control characters");
    }
    v
}
