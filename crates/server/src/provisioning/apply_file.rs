//! The declarative configuration file (`portvakt apply FILE`): parsing and
//! validation. Every problem is reported with file, line and field, all at
//! once, and nothing is written unless the whole file is valid.

use portvakt_core::access::{Method, ServiceAccess, Window};
use portvakt_core::apply::{
    DesiredOrganisation, DesiredService, DesiredUser, DesiredZone, InitialPassword,
};
use portvakt_core::auth::password::is_supported_hash;
use portvakt_core::auth::password_rules::{check_new_password_of, PasswordContext};
use portvakt_core::auth::totp::TotpSecret;
use portvakt_core::domain::{MfaPolicy, Role, Slug, Username, ZoneCidrs};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use toml::Spanned;

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    organisation: Vec<RawOrg>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrg {
    slug: S<String>,
    name: S<String>,
    /// "always", "outside_internal" (default) or "never".
    #[serde(default)]
    mfa: Option<S<String>>,
    #[serde(default)]
    domains: Vec<S<String>>,
    #[serde(default)]
    group: Vec<RawGroup>,
    #[serde(default)]
    zone: Vec<RawZone>,
    #[serde(default)]
    service: Vec<RawService>,
    #[serde(default)]
    user: Vec<RawUser>,
    /// Parts of the status page ("Driftinformation").
    #[serde(default)]
    status_component: Vec<RawComponent>,
    /// Who is told about incidents, and who an editor can message.
    #[serde(default)]
    emergency: Option<RawEmergency>,
    /// Health probes watching the status components.
    #[serde(default)]
    probe: Vec<S<RawProbe>>,
    /// How the public reaches the organisation when things are down.
    #[serde(default)]
    status_contact: Option<S<String>>,
    /// Country codes whose mobile numbers may receive SMS codes (`["+46"]`).
    #[serde(default)]
    sms_country_codes: Option<Vec<S<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProbe {
    slug: S<String>,
    component: S<String>,
    /// Exactly one of these three says what is checked.
    #[serde(default)]
    http: Option<S<String>>,
    #[serde(default)]
    tcp: Option<S<String>>,
    #[serde(default)]
    tls: Option<S<String>>,
    #[serde(default)]
    expect_status: Option<S<Vec<u16>>>,
    #[serde(default)]
    expect_body: Option<S<String>>,
    #[serde(default)]
    server_name: Option<S<String>>,
    #[serde(default)]
    min_days_left: Option<S<u32>>,
    #[serde(default)]
    interval: Option<S<String>>,
    #[serde(default)]
    timeout: Option<S<String>>,
    #[serde(default)]
    failures: Option<S<u32>>,
    #[serde(default)]
    recoveries: Option<S<u32>>,
    #[serde(default)]
    impact: Option<S<String>>,
    #[serde(default)]
    ca_file: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmergency {
    #[serde(default)]
    team: Vec<S<String>>,
    #[serde(default)]
    list: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    slug: S<String>,
    name: S<String>,
    /// The heading it is listed under.
    group: S<String>,
    /// Other ways to get things done when it is down.
    #[serde(default)]
    alternatives: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    slug: S<String>,
    name: S<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    slug: S<String>,
    name: S<String>,
    cidrs: S<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    slug: S<String>,
    name: S<String>,
    #[serde(default)]
    description: Option<S<String>>,
    url: S<String>,
    #[serde(default)]
    category: Option<S<String>>,
    #[serde(default)]
    groups: Vec<S<String>>,
    /// Only from these zones (slugs of `[[organisation.zone]]`).
    #[serde(default)]
    zones: Option<Vec<S<String>>>,
    /// At least one of these sign-in methods.
    #[serde(default)]
    methods: Option<Vec<S<String>>>,
    /// Opening hours, Europe/Stockholm: `["mon-fri 07:00-18:00"]`.
    #[serde(default)]
    open: Vec<S<String>>,
    /// Host name of the app behind forward-auth.
    #[serde(default)]
    host: Option<S<String>>,
    /// Internal address for Portvakt's own reverse proxy.
    #[serde(default)]
    upstream: Option<S<String>>,
    /// A built-in icon name.
    #[serde(default)]
    icon: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    username: S<String>,
    name: S<String>,
    #[serde(default)]
    email: Option<S<String>>,
    #[serde(default)]
    groups: Vec<S<String>>,
    #[serde(default)]
    roles: Vec<S<String>>,
    #[serde(default)]
    disabled: bool,
    #[serde(default)]
    initial_password: Option<S<String>>,
    #[serde(default)]
    password_hash: Option<S<String>>,
    /// Base32 authenticator secret migrated from another system.
    #[serde(default)]
    totp_secret: Option<S<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// All problems found in one file, printed one per line as `file:line: field: message`.
#[derive(Debug)]
pub struct FileErrors {
    pub file: String,
    pub errors: Vec<FileError>,
}

impl std::fmt::Display for FileErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for e in &self.errors {
            writeln!(f, "{}:{}: {}: {}", self.file, e.line, e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for FileErrors {}

/// The longest free text we accept for names and descriptions.
const MAX_TEXT: usize = 500;

struct Checker {
    /// Byte offset where each line starts, for line numbers in O(log n).
    line_starts: Vec<usize>,
    errors: Vec<FileError>,
    min_password: usize,
}

impl Checker {
    fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    fn err<T>(&mut self, s: &Spanned<T>, field: &str, message: impl Into<String>) {
        let line = self.line(s.span().start);
        self.errors.push(FileError {
            line,
            field: field.into(),
            message: message.into(),
        });
    }

    fn text(&mut self, s: &S<String>, field: &str) -> String {
        let v = s.get_ref().trim();
        if v.is_empty() {
            self.err(s, field, "must not be empty");
        } else if v.chars().count() > MAX_TEXT {
            self.err(s, field, format!("longer than {MAX_TEXT} characters"));
        } else if v.chars().any(char::is_control) {
            self.err(s, field, "contains control characters");
        }
        v.to_owned()
    }

    fn slug(&mut self, s: &S<String>, field: &str) -> Option<Slug> {
        let r = Slug::parse(s.get_ref());
        if r.is_none() {
            self.err(
                s,
                field,
                "use lowercase letters a-z, digits and '-' (at most 64)",
            );
        }
        r
    }
}

/// Parses and validates a configuration file.
///
/// # Errors
/// Every problem found, with line numbers.
pub fn parse(
    file: &str,
    src: &str,
    min_password: usize,
) -> Result<Vec<DesiredOrganisation>, FileErrors> {
    let line_starts = std::iter::once(0)
        .chain(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    let mut c = Checker {
        line_starts,
        errors: Vec::new(),
        min_password,
    };
    let raw: RawFile = match toml::from_str(src) {
        Ok(r) => r,
        Err(e) => {
            let line = e.span().map_or(1, |s| c.line(s.start));
            let msg = e.message().to_owned();
            return Err(FileErrors {
                file: file.into(),
                errors: vec![FileError {
                    line,
                    field: "toml".into(),
                    message: msg,
                }],
            });
        }
    };
    let mut out = Vec::new();
    let mut org_slugs = BTreeSet::new();
    let mut domains_seen = BTreeSet::new();
    for (i, o) in raw.organisation.iter().enumerate() {
        let f = format!("organisation[{i}]");
        let slug = c.slug(&o.slug, &format!("{f}.slug"));
        if let Some(s) = &slug {
            if !org_slugs.insert(s.clone()) {
                c.err(&o.slug, &format!("{f}.slug"), "organisation listed twice");
            }
        }
        let name = c.text(&o.name, &format!("{f}.name"));
        let mut domains = Vec::new();
        for d in &o.domains {
            let v = d.get_ref().trim().to_ascii_lowercase();
            let ok = v.contains('.')
                && v.len() <= 253
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
            if !ok {
                c.err(
                    d,
                    &format!("{f}.domains"),
                    "not a domain name such as kommun.se",
                );
            } else if !domains_seen.insert(v.clone()) {
                c.err(d, &format!("{f}.domains"), "domain listed twice");
            }
            domains.push(v);
        }
        let org = check_org(&mut c, &f, o, slug, name, domains);
        if let Some(org) = org {
            out.push(org);
        }
    }
    if c.errors.is_empty() {
        Ok(out)
    } else {
        Err(FileErrors {
            file: file.into(),
            errors: c.errors,
        })
    }
}

fn check_org(
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
        let url_ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() > 8
            && url.len() <= 2000
            && !url.chars().any(|ch| ch.is_whitespace() || ch.is_control());
        if !url_ok {
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
    Some(DesiredOrganisation {
        sms_country_codes,
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
fn multiline(c: &mut Checker, a: &S<String>, field: &str) -> String {
    let v = a.get_ref().trim().replace("\r\n", "\n");
    if v.chars().count() > 2000 || v.chars().any(|ch| ch.is_control() && ch != '\n') {
        c.err(a, field, "at most 2000 characters, no control characters");
    }
    v
}

/// The organisation's health probes. Defaults: every 30 s, 5 s timeout,
/// down after 3 failures in a row, up after 2 passes, major outage.
fn probes(
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

/// The access rule and forward-auth host of one service.
fn service_access(
    c: &mut Checker,
    s: &RawService,
    sf: &str,
    zone_slugs: &BTreeSet<Slug>,
) -> ServiceAccess {
    let zones = s.zones.as_ref().map(|zs| {
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
    let methods = s.methods.as_ref().map(|ms| {
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
    if zones.as_ref().is_some_and(BTreeSet::is_empty) && s.zones.as_ref().is_some_and(Vec::is_empty)
    {
        c.err(&s.slug, &format!("{sf}.zones"), "an empty list would close the service everywhere; leave `zones` out to allow every network");
    }
    if methods.as_ref().is_some_and(BTreeSet::is_empty)
        && s.methods.as_ref().is_some_and(Vec::is_empty)
    {
        c.err(&s.slug, &format!("{sf}.methods"), "an empty list would close the service to every sign-in; leave `methods` out to allow any");
    }
    let mut open = Vec::new();
    for w in &s.open {
        match Window::parse(w.get_ref()) {
            Ok(win) => open.push(win),
            Err(e) => c.err(w, &format!("{sf}.open"), e.to_string()),
        }
    }
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
    ServiceAccess {
        zones,
        methods,
        open,
        host,
        upstream,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_line_and_field() {
        let src = r#"
[[organisation]]
slug = "kommun"
name = "Kommun"

[[organisation.group]]
slug = "staff"
name = "Staff"

[[organisation.user]]
username = "a@kommun.se"
name = "A"
groups = ["nope"]
"#;
        let err = parse("c.toml", src, 15).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("c.toml:13: organisation[0].user[0].groups: unknown group 'nope'"),
            "{text}"
        );
    }

    #[test]
    fn mfa_policy_and_totp_secrets_are_checked() {
        let src = "[[organisation]]\nslug = \"k\"\nname = \"K\"\nmfa = \"sometimes\"\n[[organisation.user]]\nusername = \"a@k.se\"\nname = \"A\"\ntotp_secret = \"not base32!\"\n";
        let text = parse("c.toml", src, 15).unwrap_err().to_string();
        assert!(text.contains("c.toml:4: organisation[0].mfa"), "{text}");
        assert!(
            text.contains("c.toml:8: organisation[0].user[0].totp_secret"),
            "{text}"
        );
    }

    #[test]
    fn unknown_keys_and_duplicate_users_are_refused() {
        let src = "[[organisation]]\nslug = \"k\"\nname = \"K\"\nbogus = 1\n";
        let text = parse("c.toml", src, 15).unwrap_err().to_string();
        assert!(
            text.contains("c.toml:4") && text.contains("bogus"),
            "{text}"
        );

        let src = "[[organisation]]\nslug = \"k\"\nname = \"K\"\n[[organisation.user]]\nusername = \"Anna@k.se\"\nname = \"A\"\n[[organisation.user]]\nusername = \"anna@K.SE\"\nname = \"B\"\n";
        let text = parse("c.toml", src, 15).unwrap_err().to_string();
        assert!(
            text.contains("c.toml:8") && text.contains("same user as on line 5"),
            "{text}"
        );
    }

    #[test]
    fn service_rules_are_parsed_and_checked() {
        let src = r#"
[[organisation]]
slug = "kommun"
name = "Kommun"

[[organisation.zone]]
slug = "skolnatet"
name = "Skolnätet"
cidrs = ["10.20.0.0/16"]

[[organisation.service]]
slug = "lon"
name = "Lön"
url = "https://lon.kommun.se/"
zones = ["skolnatet"]
methods = ["app", "passkey"]
open = ["Mon-Fri 07:00-18:00"]
host = "Lon.Kommun.se"
icon = "money"
"#;
        let orgs = parse("c.toml", src, 15).unwrap();
        let a = &orgs[0].services[0].access;
        assert_eq!(a.zones.as_ref().map(BTreeSet::len), Some(1));
        assert_eq!(
            a.methods,
            Some([Method::App, Method::Passkey].into_iter().collect())
        );
        assert_eq!(a.open[0].to_string(), "mon-fri 07:00-18:00");
        assert_eq!(a.host.as_deref(), Some("lon.kommun.se"));
        assert_eq!(orgs[0].services[0].icon, "money");

        let bad = src
            .replace("[\"skolnatet\"]\nmethods", "[\"nope\"]\nmethods")
            .replace("\"app\", \"passkey\"", "\"app\", \"fax\"")
            .replace("Mon-Fri 07:00-18:00", "mån-fre 7-18")
            .replace("Lon.Kommun.se", "https://lon.kommun.se/")
            .replace("\"money\"", "\"fax\"");
        let text = parse("c.toml", &bad, 15).unwrap_err().to_string();
        for field in [
            "zones: unknown zone 'nope'",
            "methods: unknown method",
            ".open:",
            ".host:",
            ".icon: unknown icon",
        ] {
            assert!(text.contains(field), "{field} in {text}");
        }
        let empty = src.replace("[\"skolnatet\"]\nmethods", "[]\nmethods");
        let text = parse("c.toml", &empty, 15).unwrap_err().to_string();
        assert!(
            text.contains("would close the service everywhere"),
            "{text}"
        );
    }
}
