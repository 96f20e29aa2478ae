//! Issue 12, the public status page as citizens read it: a resolved
//! incident's whole history, what the uptime bars measure, a self-check
//! that says what it checked, labels for machines' links, the team's mail
//! and the site's icon.
use crate::helpers::*;
use portvakt_core::probe::{DayFigure, ProbeState};
use portvakt_core::status::ComponentState;

async fn editor(app: &TestApp) -> Client {
    let sara = app.client();
    assert_eq!(sara.sign_in(SARA, SARA_PW).await.status, 303);
    sara
}

#[tokio::test]
async fn a_resolved_incident_shows_its_whole_history_and_how_long_it_lasted() {
    let app = spawn_app().await;
    let sara = editor(&app).await;
    let r = sara
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "Telefonin ligger nere"),
                ("body", "Vi undersöker felet."),
                ("impact_franvaro", "major_outage"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = sara.get("/admin/status").await.body;
    let id = page
        .split("/admin/status/incidents/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for (after, phase, text) in [
        (40 * 60, "identified", "Felet sitter hos operatören."),
        (90 * 60, "resolved", "Telefonin fungerar igen."),
    ] {
        app.clock.set(START + after);
        // Signed in afresh: the clock's jump outlasts an idle session.
        let sara = editor(&app).await;
        let r = sara
            .post_form(
                &format!("/admin/status/incidents/{id}/updates"),
                &[("phase", phase), ("body", text)],
            )
            .await;
        assert_eq!(r.location.as_deref(), Some("/admin/status?done=updated"));
    }
    app.clock.set(START + 3 * 3600);
    let page = app.client().get("/status").await.body;
    let resolved = &page[page.find("Åtgärdat de senaste två veckorna").expect(&page)..];
    // START is 13:00 in Stockholm; resolved 90 minutes later.
    assert!(
        resolved.contains("Åtgärdat kl. 14:30 · pågick 1 tim 30 min"),
        "{resolved}"
    );
    assert!(!resolved.contains("· sedan"), "{resolved}");
    let (newest, middle, oldest) = (
        resolved
            .find("Telefonin fungerar igen.")
            .expect("the last word"),
        resolved
            .find("Felet sitter hos operatören.")
            .expect("the middle"),
        resolved.find("Vi undersöker felet.").expect("the first"),
    );
    assert!(newest < middle && middle < oldest, "newest first");
    assert!(resolved.contains(
        "<strong>Identifierat</strong> · <time datetime=\"2026-11-23T12:40:00Z\">kl. 13:40</time>"
    ));
    assert!(resolved.contains("<strong>Undersöker</strong>"));
    app.clock.set(START + 24 * 3600);
    let page = app.client().get("/status").await.body;
    assert!(
        page.contains("Åtgärdat den 23 november kl. 14:30 · pågick 1 tim 30 min"),
        "another day says its date"
    );

    // The static copy shows the same history.
    let (org, _) = app.org_and_user(SARA).await;
    let dir = TempDir::new();
    portvakt_server::status::export::export(&*app.store, &org, &dir.0, START + 3 * 3600)
        .await
        .unwrap();
    let copy = std::fs::read_to_string(dir.0.join("index.html")).unwrap();
    assert!(copy.contains("Felet sitter hos operatören."));
    assert!(copy.contains("pågick 1 tim 30 min"));
    let en = std::fs::read_to_string(dir.0.join("en/index.html")).unwrap();
    assert!(en.contains("Resolved at 14:30 · lasted 1 h 30 min"), "{en}");
}

#[tokio::test]
async fn the_uptime_bars_say_what_they_measure_and_have_a_legend() {
    let app = spawn_app().await;
    let (org, _) = app.org_and_user(SARA).await;
    let c = app.client();
    let page = c.get("/status").await.body;
    assert!(
        !page.contains("uptime-legend"),
        "nothing to explain without bars"
    );
    let figures: Vec<_> = ["2026-11-21", "2026-11-22"]
        .into_iter()
        .map(|day| {
            (
                org.id.clone(),
                DayFigure {
                    component: portvakt_core::domain::Slug::parse("e-post").unwrap(),
                    day: day.into(),
                    checks: 2880,
                    failures: 0,
                },
            )
        })
        .collect();
    app.store.add_probe_figures(&figures).await.unwrap();
    let sara = editor(&app).await;
    sara.post_form(
        "/admin/status/incidents",
        &[
            ("title", "E-posten är långsam"),
            ("body", "Vi felsöker."),
            ("impact_e-post", "partial_outage"),
        ],
    )
    .await;
    let page = c.get("/status").await.body;
    // The state the editors set beside the checks' 100 %, explained.
    assert!(page.contains("Delvis avbrott"));
    assert!(page.contains("Lyckade automatiska kontroller de senaste 90 dagarna: 100,00\u{a0}%"));
    assert!(page.contains("visar hur våra automatiska kontroller"));
    assert!(page.contains("skriver vi som har hand om driftinformationen"));
    for (class, label) in [
        ("full", "alla kontroller lyckades"),
        ("minor", "minst 99 % lyckades"),
        ("partial", "minst 90 % lyckades"),
        ("major", "färre än 90 % lyckades"),
        ("none", "ingen mätning"),
    ] {
        assert!(
            page.contains(&format!(
                "<span class=\"swatch day-{class}\" aria-hidden=\"true\"></span> {label}</li>"
            )),
            "{class}: {page}"
        );
    }
}

#[tokio::test]
async fn the_self_check_shows_only_what_it_can_check_and_names_it() {
    let app = spawn_with("[status]\nrun_probes = false\n").await;
    let c = app.client();
    let page = c.get("/status/check").await.body;
    assert!(
        !page.contains("id=\"check-outside\""),
        "not set up: left out"
    );
    assert!(!page.contains("id=\"check-copy\""));
    assert!(!page.contains("inte inställt"));
    assert!(page.contains("id=\"check-portvakt\""));
    assert!(
        page.contains("<a href=\"/status\">Tillbaka till driftinformationen</a>"),
        "a way back"
    );

    // A probe watches E-portalen: the JSON says which services are checked.
    let (org, _) = app.org_and_user(SARA).await;
    let passwords = [
        ("anna.andersson", ANNA_PW.to_owned()),
        ("erik.larsson", ERIK_PW.to_owned()),
        ("sara.lind", SARA_PW.to_owned()),
    ];
    let mut desired = portvakt_server::provisioning::demo::organisation(&app.hasher, &passwords)
        .await
        .unwrap();
    desired.probes = portvakt_server::provisioning::demo::probes(app.addr.port()).unwrap();
    portvakt_server::provisioning::apply_run::apply(
        &*app.store,
        &app.hasher,
        &[desired],
        START,
        false,
    )
    .await
    .unwrap();
    app.store
        .put_probe_states(&[ProbeState {
            organisation_id: org.id.clone(),
            probe: portvakt_core::domain::Slug::parse("e-portalen-http").unwrap(),
            component: portvakt_core::domain::Slug::parse("e-portalen").unwrap(),
            down: false,
            since: START,
            checked_at: START,
            last_error: String::new(),
            impact: ComponentState::MajorOutage,
            muted: false,
        }])
        .await
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&c.get("/status/exempelkommun.json").await.body).unwrap();
    let checked: Vec<&str> = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["checked_automatically"] == true)
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(checked, ["E-portalen"]);
    let page = c.get("/status/check").await.body;
    assert!(page.contains("data-ok=\"Svarar: {names}\""));
    assert!(page.contains("de tjänster vi kontrollerar automatiskt ({names}) svarar"));
    assert!(!page.contains("alla tjänster svarar"));

    // Set up, the copy and the outside address are tried.
    let app = spawn_with(
        "[status]\npublic_copy_url = \"https://www.exempelkommun.se/driftinfo/\"\n\
         outside_check_url = \"https://www.gstatic.com/generate_204\"\n",
    )
    .await;
    let page = app.client().get("/status/check").await.body;
    assert!(page.contains("id=\"check-outside\"") && page.contains("id=\"check-copy\""));
}

#[tokio::test]
async fn links_for_machines_are_labelled_as_such() {
    let app = spawn_app().await;
    let c = app.client();
    let page = c.get("/status").await.body;
    assert!(
        page.contains("För system: <a href=\"/status/exempelkommun.json\">JSON</a>, <a href=\"/status/exempelkommun.atom\">Atom-flöde</a>"),
        "{page}"
    );
    c.post_form("/language", &[("lang", "en"), ("back", "/status")])
        .await;
    let page = c.get("/status").await.body;
    assert!(page.contains("For systems: <a href=\"/status/exempelkommun.json\">JSON</a>, <a href=\"/status/exempelkommun.atom\">Atom feed</a>"));
    let (org, _) = app.org_and_user(SARA).await;
    let dir = TempDir::new();
    portvakt_server::status::export::export(&*app.store, &org, &dir.0, START)
        .await
        .unwrap();
    let copy = std::fs::read_to_string(dir.0.join("index.html")).unwrap();
    assert!(copy.contains(
        "För system: <a href=\"status.json\">JSON</a>, <a href=\"status.atom\">Atom-flöde</a>"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_teams_mail_links_to_the_public_page_and_names_the_services() {
    use crate::email::{wait_for, Sink};
    let sink = Sink::start();
    let app = spawn_with(&format!(
        "[status]\nportal_url = \"https://portal.exempelkommun.se/\"\n\
         [email]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"Portvakt <portvakt@exempelkommun.se>\"\n",
        sink.port
    ))
    .await;
    let sara = editor(&app).await;
    let r = sara
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "Skolans system krånglar"),
                ("title_en", "School systems trouble"),
                ("body", "Vi felsöker."),
                ("body_en", "We are investigating."),
                ("impact_franvaro", "major_outage"),
                ("impact_larplattform", "degraded"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let dir = sink.dir.0.clone();
    let (_, text) = tokio::task::spawn_blocking(move || wait_for(&dir, 1))
        .await
        .unwrap();
    assert!(
        text.contains("https://portal.exempelkommun.se/status/exempelkommun"),
        "{text}"
    );
    assert!(!text.contains("\n/status/"), "no relative link: {text}");
    assert!(
        text.contains(
            "Berör: Lärplattform (Begränsad funktion), Telefoni – frånvaroanmälan (Större avbrott)"
        ) || text.contains(
            "Berör: Telefoni – frånvaroanmälan (Större avbrott), Lärplattform (Begränsad funktion)"
        ),
        "{text}"
    );
    assert!(text.contains("Affects: "), "{text}");
}

#[tokio::test]
async fn the_site_has_an_icon_served_publicly_and_cached() {
    let app = spawn_app().await;
    let http = app.client().http;
    let svg = http.get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert_eq!(svg.headers()["cache-control"], "public, max-age=86400");
    let csp = svg.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'; script-src 'self'; style-src 'self'"));
    let body = svg.text().await.unwrap();
    assert!(body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(
        !body.contains("style") && !body.contains("script"),
        "nothing the CSP would have to allow"
    );
    let ico = http.get(app.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(ico.status(), 301);
    assert_eq!(ico.headers()["location"], "/favicon.svg");
    assert!(ico.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));

    // The static copy carries it and names it.
    let (org, _) = app.org_and_user(SARA).await;
    let dir = TempDir::new();
    portvakt_server::status::export::export(&*app.store, &org, &dir.0, START)
        .await
        .unwrap();
    assert!(dir.0.join("favicon.svg").is_file());
    let copy = std::fs::read_to_string(dir.0.join("en/index.html")).unwrap();
    assert!(copy.contains("<link rel=\"icon\" href=\"../favicon.svg\" type=\"image/svg+xml\">"));
}
