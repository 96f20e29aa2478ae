//! `portvakt demo`: a working installation in one command. Creates a data
//! folder with an SQLite database and the demo organisation
//! "Exempelkommun", prints the sign-in details once, and serves on
//! loopback. No fixed password exists anywhere: each is random, generated
//! at first start (SECURITY.md A6).

use crate::app::config::Config;
use portvakt_core::access::{Method, ServiceAccess, Window};
use portvakt_core::apply::{
    DesiredOrganisation, DesiredService, DesiredUser, DesiredZone, InitialPassword,
};
use portvakt_core::auth::password::PasswordHasher;
use portvakt_core::domain::{MfaPolicy, Role, Slug, Username, ZoneCidrs};
use rand::Rng;
use std::collections::BTreeSet;
use std::path::Path;

pub const ORG: &str = "exempelkommun";

/// A random password of 4 groups of 5 characters, easy to type from a terminal.
#[must_use]
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..4)
        .map(|_| {
            (0..5)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

pub fn config_text(data: &Path, listen: &str) -> String {
    format!(
        "# Demo installation written by `portvakt demo`. Plain HTTP on loopback only.\n\
         listen = \"{listen}\"\n\
         database_url = \"sqlite://{}\"\n\
         dev_mode = true\n\
         trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]\n\
         default_organisation = \"{ORG}\"\n\
         # Seals authenticator secrets and passkeys in the database.\n\
         secret_key_file = \"{}\"\n\
         [email]\n\
         # Codes by e-mail are written here instead of being sent.\n\
         outbox_dir = \"{}\"\n\
         [sms]\n\
         # SMS codes are written here instead of going to an SMS gateway.\n\
         outbox_dir = \"{}\"\n",
        data.join("portvakt.db").display(),
        data.join("secret.key").display(),
        data.join("outbox").display(),
        data.join("outbox").display()
    )
}

/// Passkeys for the demo, reached as `http://localhost:PORT`.
#[must_use]
pub fn passkeys(port: u16) -> crate::app::config::PasskeysConfig {
    crate::app::config::PasskeysConfig {
        rp_id: "localhost".into(),
        origins: vec![format!("http://localhost:{port}")],
        name: "Portvakt demo".into(),
    }
}

fn component(
    s: &str,
    name: &str,
    group: &str,
    alternatives: &str,
) -> anyhow::Result<portvakt_core::apply::DesiredComponent> {
    Ok(portvakt_core::apply::DesiredComponent {
        slug: slug(s)?,
        name: name.into(),
        group: group.into(),
        alternatives: alternatives.into(),
    })
}

fn slug(s: &str) -> anyhow::Result<Slug> {
    Slug::parse(s).ok_or_else(|| anyhow::anyhow!("bad slug {s}"))
}

/// Where the sample app's sign-ins are sent back to. Nothing listens
/// there: the code in the browser's address bar is what to copy.
pub const SAMPLE_REDIRECT: &str = "http://127.0.0.1:8765/callback";

/// The demo's sample OpenID client: a confidential app that is not the
/// organisation's own, so the consent page shows. Its secret is generated
/// by `apply` and printed once.
#[must_use]
pub fn sample_client(groups: BTreeSet<Slug>) -> portvakt_core::apply::DesiredClient {
    use portvakt_core::oidc::client::{ClientKind, GrantType};
    portvakt_core::apply::DesiredClient {
        client_id: "exempel-app".into(),
        name: "Exempelappen".into(),
        kind: ClientKind::Confidential,
        redirect_uris: vec![SAMPLE_REDIRECT.into()],
        grants: [GrantType::AuthorizationCode, GrantType::RefreshToken].into(),
        scopes: ["openid", "profile", "email", "groups"]
            .map(str::to_owned)
            .into(),
        audience: None,
        signing_alg: portvakt_core::oidc::jose::Alg::Es256,
        first_party: false,
        groups,
        access: ServiceAccess::default(),
        secret_hash: None,
    }
}

/// The OpenID provider for the demo, reached as `http://localhost:PORT`.
#[must_use]
pub fn oidc(port: u16) -> crate::app::config::OidcConfig {
    crate::app::config::OidcConfig {
        issuer_base: format!("http://localhost:{port}"),
        access_token_minutes: 5,
        grant_hours: 12,
    }
}

/// How to try the sample app, printed at first start. PKCE is required
/// of every app, so the instructions carry a verifier and its challenge.
#[must_use]
pub fn sample_instructions(port: u16, secret: &str) -> String {
    let issuer = format!("http://localhost:{port}/oidc/{ORG}");
    let redirect: String = form_urlencoded::byte_serialize(SAMPLE_REDIRECT.as_bytes()).collect();
    let verifier = portvakt_core::oidc::tokens::new_secret();
    let challenge = portvakt_core::oidc::request::s256_challenge(&verifier);
    format!(
        "Try the OpenID provider with the sample app \"Exempelappen\" (client exempel-app):\n\
         \x20 1. Open {issuer}/authorize?client_id=exempel-app&response_type=code&scope=openid%20profile%20email&state=demo&code_challenge={challenge}&code_challenge_method=S256&redirect_uri={redirect}\n\
         \x20 2. Sign in and allow; the browser is then sent to {SAMPLE_REDIRECT}?code=… (nothing listens there: copy the code).\n\
         \x20 3. curl -s -u exempel-app:{secret} -d grant_type=authorization_code -d redirect_uri={SAMPLE_REDIRECT} -d code_verifier={verifier} -d code=CODE {issuer}/token\n\
         \x20 Discovery: {issuer}/.well-known/openid-configuration\n\
         \x20 DEMO-CLIENT exempel-app {secret}\n"
    )
}

/// A health probe for the demo: E-portalen is Portvakt itself, checked
/// on its own health endpoint every 30 s, so the uptime bars fill in.
///
/// # Errors
/// None in practice (fixed slugs).
pub fn probes(port: u16) -> anyhow::Result<Vec<portvakt_core::apply::DesiredProbe>> {
    Ok(vec![portvakt_core::apply::DesiredProbe {
        slug: slug("e-portalen-http")?,
        component: slug("e-portalen")?,
        spec: portvakt_core::probe::ProbeSpec {
            kind: portvakt_core::probe::ProbeKind::Http {
                url: format!("http://127.0.0.1:{port}/healthz"),
                expect_status: vec![200],
                expect_body: None,
            },
            interval_s: 30,
            timeout_s: 5,
            failures: 3,
            recoveries: 2,
            impact: "major_outage".into(),
            ca_file: None,
        },
    }])
}

/// The demo organisation, with users' hashed passwords filled in.
///
/// # Errors
/// Hashing failures.
pub async fn organisation(
    hasher: &PasswordHasher,
    passwords: &[(&str, String)],
) -> anyhow::Result<DesiredOrganisation> {
    let ped = slug("pedagogisk-personal")?;
    let ovr = slug("ovrig-personal")?;
    let both: BTreeSet<Slug> = [ped.clone(), ovr.clone()].into();
    let svc = |s: &str,
               name: &str,
               desc: &str,
               cat: &str,
               groups: &BTreeSet<Slug>|
     -> anyhow::Result<DesiredService> {
        Ok(DesiredService {
            slug: slug(s)?,
            name: name.into(),
            description: desc.into(),
            url: format!("https://{s}.exempelkommun.se/"),
            category: cat.into(),
            groups: groups.clone(),
            icon: String::new(),
            access: ServiceAccess::default(),
        })
    };
    let services = vec![
        svc(
            "lonebesked",
            "Lönebesked",
            "Se dina lönebesked och lönespecifikationer.",
            "Personal och lön",
            &both,
        )?,
        svc(
            "vab",
            "Anmäl vård av sjukt barn",
            "Anmäl VAB och annan frånvaro.",
            "Personal och lön",
            &both,
        )?,
        svc(
            "webbmejl",
            "Webbmejl",
            "E-post och kalender i webbläsaren.",
            "Kommunikation",
            &both,
        )?,
        svc(
            "intranat",
            "Intranätet",
            "Nyheter, rutiner och kontaktuppgifter.",
            "Kommunikation",
            &both,
        )?,
        svc(
            "larplattform",
            "Lärplattformen",
            "Scheman, närvaro och kontakt med vårdnadshavare.",
            "Skola",
            &[ped.clone()].into(),
        )?,
        svc(
            "arendehantering",
            "Ärendehantering",
            "Diarium och handläggning av ärenden.",
            "Verksamhetssystem",
            &[ovr.clone()].into(),
        )?,
    ];
    // Two rules to show on the portal: pay slips need a strong sign-in
    // ("SMS is not enough"), case handling closes outside office hours.
    let mut services = services;
    for (s, icon) in services
        .iter_mut()
        .zip(["money", "health", "mail", "globe", "school", "folder"])
    {
        s.icon = icon.into();
    }
    services[0].access.methods = Some([Method::App, Method::Passkey].into());
    services[5].access.open = vec![Window::parse("mon-fri 07:00-18:00")?];
    let people: [(&str, &str, BTreeSet<Slug>, BTreeSet<Role>); 3] = [
        (
            "anna.andersson",
            "Anna Andersson",
            [ovr.clone()].into(),
            BTreeSet::new(),
        ),
        (
            "erik.larsson",
            "Erik Larsson",
            [ped.clone()].into(),
            BTreeSet::new(),
        ),
        (
            "sara.lind",
            "Sara Lind",
            [ovr.clone()].into(),
            // Also the data protection officer, so the demo shows the
            // breach register too.
            [
                Role::OrgAdmin,
                Role::Servicedesk,
                Role::DataProtectionOfficer,
            ]
            .into(),
        ),
    ];
    let mut users = Vec::new();
    for (local, name, groups, roles) in people {
        let pw = passwords
            .iter()
            .find(|(u, _)| *u == local)
            .map(|(_, p)| p.clone())
            .unwrap_or_else(random_password);
        users.push(DesiredUser {
            username: Username::parse(&format!("{local}@exempelkommun.se"))?,
            display_name: name.into(),
            email: Some(format!("{local}@exempelkommun.se")),
            groups,
            roles,
            disabled: false,
            totp_secret: None,
            initial_password: Some(InitialPassword::Hash(hasher.hash(&pw).await?)),
        });
    }
    Ok(DesiredOrganisation {
        clients: vec![sample_client([ped.clone(), ovr.clone()].into())],
        // Crisis rotation: codes by SMS or a registered address where
        // people have one, else through Sara (Erik's manager) or on the
        // town hall's list, else at the servicedesk.
        crisis: portvakt_core::rotation::CrisisPlan {
            channels: {
                use portvakt_core::rotation::RotationChannel as C;
                vec![C::Sms, C::Email, C::Manager, C::Servicedesk]
            },
            ..portvakt_core::rotation::CrisisPlan::default()
        },
        crisis_contacts: [
            (
                Username::parse("erik.larsson@exempelkommun.se")?,
                portvakt_core::rotation::CrisisContact {
                    manager: Some(Username::parse("sara.lind@exempelkommun.se")?),
                    ..Default::default()
                },
            ),
            (
                Username::parse("anna.andersson@exempelkommun.se")?,
                portvakt_core::rotation::CrisisContact {
                    unit: Some("Kommunhuset".into()),
                    ..Default::default()
                },
            ),
        ]
        .into(),
        slug: slug(ORG)?,
        name: "Exempelkommun".into(),
        mfa_policy: MfaPolicy::OutsideInternal,
        domains: vec!["exempelkommun.se".into()],
        groups: vec![
            (ped, "Pedagogisk personal".into()),
            (ovr, "Övrig personal".into()),
        ],
        zones: vec![
            DesiredZone {
                slug: slug("administrativa-natet")?,
                name: "Administrativa nätet".into(),
                cidrs: ZoneCidrs::parse(&["10.10.0.0/16"])?,
            },
            DesiredZone {
                slug: slug("skolnatet")?,
                name: "Skolnätet".into(),
                cidrs: ZoneCidrs::parse(&["10.20.0.0/16"])?,
            },
            // The demo runs on loopback: this machine counts as the internal
            // network, so password alone works here and factors can be added.
            DesiredZone {
                slug: slug("demo-lokalt")?,
                name: "Den här datorn (demo)".into(),
                cidrs: ZoneCidrs::parse(&["127.0.0.0/8", "::1/128"])?,
            },
        ],
        services,
        users,
        emergency_team: vec!["it-chef@exempelkommun.se".into(), "kommunikation@exempelkommun.se".into()],
        probes: Vec::new(),
        sms_country_codes: vec!["46".into()],
        signin_notices: Default::default(),
        status_contact: "Kontaktcenter: 0123-45 60 00 (vardagar 08.00–16.30), kontakt@exempelkommun.se.\n\
                         Besök receptionen på Storgatan 1, vardagar 08.30–16.00.\n\
                         Akuta ärenden för skolan: expeditionen, 0123-45 67 00."
            .into(),
        emergency_list: vec![
            "rektor.norra@exempelkommun.se".into(),
            "rektor.sodra@exempelkommun.se".into(),
            "forskolechef@exempelkommun.se".into(),
        ],
        components: vec![
            component(
                "larplattform",
                "Lärplattform",
                "Skola",
                "Scheman och närvaro: fråga mentor eller skolans expedition, 0123-45 67 00 (vardagar 08.00–16.00).",
            )?,
            component(
                "franvaro",
                "Telefoni – frånvaroanmälan",
                "Skola",
                "Anmäl frånvaro via webben eller appen. Akuta ärenden: skolans expedition, 0123-45 67 00.",
            )?,
            component(
                "e-post",
                "E-post",
                "Kommunikation",
                "Ring kontaktcenter, 0123-45 60 00, eller besök receptionen på Storgatan 1 (08.30–16.00).",
            )?,
            component(
                "e-portalen",
                "E-portalen",
                "Kommunikation",
                "Från jobbet fungerar tjänsterna som vanligt. Frågor: servicedesk, 0123-45 69 99.",
            )?,
        ],
    })
}

/// Loads the demo config written at first start.
///
/// # Errors
/// When the file is missing or invalid.
pub fn load_config(data: &Path) -> anyhow::Result<Config> {
    Ok(Config::load(&data.join("portvakt.toml"))?)
}
