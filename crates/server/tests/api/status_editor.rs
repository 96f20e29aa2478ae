//! Issue 12, the status editor: templates' gaps are never published, a
//! published incident's title and services can be corrected (on the
//! record), and the forms keep what the editor chose.
use crate::helpers::*;

/// Sara (a status editor) signed in.
async fn editor(app: &TestApp) -> Client {
    let sara = app.client();
    assert_eq!(sara.sign_in(SARA, SARA_PW).await.status, 303);
    sara
}

/// Opens an incident from the web; returns its id.
async fn open(sara: &Client, title: &str, fields: &[(&str, &str)]) -> String {
    let mut all = vec![("title", title), ("body", "Vi felsöker.")];
    all.extend_from_slice(fields);
    let r = sara.post_form("/admin/status/incidents", &all).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = sara.get("/admin/status").await.body;
    let at = page.find(&format!("<h3>{title}</h3>")).expect("listed");
    page[at..]
        .split("/admin/status/incidents/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

async fn public_json(app: &TestApp) -> serde_json::Value {
    serde_json::from_str(&app.client().get("/status/exempelkommun.json").await.body).unwrap()
}

#[tokio::test]
async fn a_template_with_its_gaps_unfilled_is_refused_at_the_field_and_kept() {
    let app = spawn_app().await;
    let sara = editor(&app).await;
    let page = sara.get("/admin/status?template=outage").await.body;
    assert!(
        page.contains("value=\"Avbrott i …\""),
        "the template's gaps"
    );

    // Sent as the template left it, with E-post chosen.
    let r = sara
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "Avbrott i …"),
                (
                    "body",
                    "Vi vet att … inte fungerar och arbetar med att lösa det. Så länge kan du …",
                ),
                ("impact_e-post", "major_outage"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Fyll i mallens luckor"), "{}", r.body);
    assert!(
        r.body
            .contains("value=\"Avbrott i …\" aria-invalid=\"true\" aria-describedby=\"new-error\""),
        "at the title: {}",
        r.body
    );
    assert!(r
        .body
        .contains("<p class=\"field-error\" id=\"new-error\">"));
    assert!(
        r.body.contains("Vi vet att … inte fungerar"),
        "the text is kept"
    );
    assert!(
        r.body
            .contains("<option value=\"major_outage\" selected>Större avbrott</option>"),
        "the chosen service is kept"
    );

    // Only the text still has a gap; the English title too, in English.
    let r = sara
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "Avbrott i e-posten"),
                ("body", "E-posten fungerar inte. Så länge kan du …"),
                ("impact_e-post", "major_outage"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r
        .body
        .contains("aria-invalid=\"true\" aria-describedby=\"new-error\">E-posten fungerar inte."));
    sara.post_form("/language", &[("lang", "en")]).await;
    let r = sara
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "Avbrott i e-posten"),
                ("title_en", "Outage in …"),
                ("body", "E-posten fungerar inte."),
                ("impact_e-post", "major_outage"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Fill in the template’s gaps"), "{}", r.body);
    assert!(r
        .body
        .contains("value=\"Outage in …\" aria-invalid=\"true\""));

    assert!(
        public_json(&app).await["incidents"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was published"
    );
}

#[tokio::test]
async fn the_cli_refuses_template_gaps_too() {
    let app = spawn_app().await;
    let dir = TempDir::new();
    let config = app.cli_config(&dir, "");
    let out = status_cli(
        &config,
        &[
            "open",
            "--org",
            "exempelkommun",
            "--title",
            "Planerat underhåll av …",
            "--component",
            "e-post=maintenance",
            "--body",
            "E-posten är stängd för underhåll från … till ….",
            "--maintenance",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("title still holds a template gap"), "{err}");
    assert!(public_json(&app).await["incidents"]
        .as_array()
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn the_phase_shown_is_the_incidents_own_and_a_refused_update_keeps_the_choice() {
    let app = spawn_app().await;
    let sara = editor(&app).await;
    let id = open(&sara, "E-posten krånglar", &[("impact_e-post", "degraded")]).await;
    let page = sara.get("/admin/status").await.body;
    assert!(page.contains("<option value=\"investigating\" selected>Undersöker</option>"));

    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/updates"),
            &[("phase", "identified"), ("body", "Felet sitter i servern.")],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/admin/status?done=updated"));
    let page = sara.get("/admin/status").await.body;
    assert!(
        page.contains("<option value=\"identified\" selected>Identifierat</option>"),
        "after an update to Identifierat, Identifierat is shown"
    );
    assert!(!page.contains("<option value=\"investigating\" selected>"));

    // Refused (a gap left in the text): the phase and text chosen stay.
    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/updates"),
            &[("phase", "monitoring"), ("body", "Felet är åtgärdat kl. …")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("<option value=\"monitoring\" selected>Bevakar</option>"),
        "{}",
        r.body
    );
    assert!(r
        .body
        .contains("aria-describedby=\"u1-error\">Felet är åtgärdat kl. …</textarea>"));
    assert!(r.body.contains("Fyll i mallens luckor"));
    // And an empty text: still the chosen phase.
    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/updates"),
            &[("phase", "resolved"), ("body", " ")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r
        .body
        .contains("<option value=\"resolved\" selected>Åtgärdat</option>"));
    let json = public_json(&app).await;
    assert_eq!(
        json["incidents"][0]["phase"], "identified",
        "nothing stored"
    );
}

#[tokio::test]
async fn a_published_incidents_title_and_services_are_corrected_on_the_record() {
    let app = spawn_app().await;
    let (org, _) = app.org_and_user(SARA).await;
    let sara = editor(&app).await;
    let id = open(
        &sara,
        "Avbrott i e-posten",
        &[
            ("title_en", "E-mail down"),
            ("impact_e-post", "major_outage"),
        ],
    )
    .await;
    let page = sara.get("/admin/status").await.body;
    assert!(
        page.contains("Rätta rubrik eller berörda tjänster"),
        "the editor offers it"
    );
    assert!(
        page.contains(&format!("action=\"/admin/status/incidents/{id}/correct\"")),
        "{page}"
    );

    app.clock.advance(600);
    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/correct"),
            &[
                ("title", "Avbrott i lärplattformen"),
                ("title_en", "Learning platform down"),
                ("impact_larplattform", "major_outage"),
                ("impact_e-post", ""),
            ],
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/status?done=corrected"),
        "{}",
        r.body
    );
    assert!(sara
        .get("/admin/status?done=corrected")
        .await
        .body
        .contains("Rättelsen är publicerad."));

    let public = app.client().get("/status").await.body;
    assert!(public.contains("<h3>Avbrott i lärplattformen</h3>"));
    assert!(public.contains("Rubriken ändrad till ”Avbrott i lärplattformen”."));
    assert!(public.contains(
        "Berörda tjänster ändrade från E-post (Större avbrott) till Lärplattform (Större avbrott)."
    ));
    let json = public_json(&app).await;
    let incident = &json["incidents"][0];
    assert_eq!(incident["title"], "Avbrott i lärplattformen");
    assert_eq!(incident["affected"][0]["component"], "larplattform");
    assert_eq!(incident["updates"].as_array().unwrap().len(), 2);
    assert!(incident["updates"][0]["body_en"]
        .as_str()
        .unwrap()
        .starts_with("Title changed to “Learning platform down”."));
    let states: Vec<(String, String)> = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["slug"].as_str().unwrap().to_owned(),
                c["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(states.contains(&("larplattform".into(), "major_outage".into())));
    assert!(states.contains(&("e-post".into(), "operational".into())));
    let feed = app.client().get("/status/exempelkommun.atom").await.body;
    assert!(feed.contains("Rubriken ändrad till"), "{feed}");
    assert!(
        !feed.contains("Avbrott i e-posten”"),
        "the old title is not republished: {feed}"
    );

    let events = app.store.admin_events(&org.id, 10).await.unwrap();
    let e = &events[0];
    assert_eq!(
        (e.action.as_str(), e.target.as_str(), e.detail.as_str()),
        ("incident.correct", id.as_str(), "title,affected")
    );

    // Nothing changed: refused, the form open with what was typed.
    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/correct"),
            &[
                ("title", "Avbrott i lärplattformen"),
                ("title_en", "Learning platform down"),
                ("impact_larplattform", "major_outage"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Inget är ändrat."));
    assert!(r.body.contains("<details open>"));
    // No service left: refused at the services, nothing stored.
    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/correct"),
            &[("title", "Nytt namn"), ("impact_larplattform", "")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r
        .body
        .contains("<p class=\"field-error\" id=\"c1-error\">Välj minst en berörd tjänst"));
    assert!(
        r.body.contains("value=\"Nytt namn\""),
        "the typed title is kept"
    );
    assert_eq!(
        public_json(&app).await["incidents"][0]["updates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Unknown (or another organisation's) incident: not found.
    let r = sara
        .post_form(
            "/admin/status/incidents/inc_nope/correct",
            &[("title", "X"), ("impact_e-post", "degraded")],
        )
        .await;
    assert_eq!(r.status, 404);
    // A resolved incident is history and stays as it was.
    sara.post_form(
        &format!("/admin/status/incidents/{id}/updates"),
        &[("phase", "resolved"), ("body", "Klart.")],
    )
    .await;
    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/correct"),
            &[("title", "Annat"), ("impact_e-post", "degraded")],
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_refused_draft_confirmation_keeps_the_editors_words() {
    let app = spawn_app().await;
    let (org, _) = app.org_and_user(SARA).await;
    let comps = app.store.status_components(&org.id).await.unwrap();
    let draft = portvakt_core::status::probe_draft(
        &comps[0],
        portvakt_core::status::ComponentState::MajorOutage,
        START,
    );
    app.store.create_incident(&draft).await.unwrap();
    let sara = editor(&app).await;
    let r = sara
        .post_form(
            &format!("/admin/status/drafts/{}/publish", draft.id),
            &[
                ("title", "Fel i lärplattformen"),
                ("body", "Lärplattformen fungerar inte sedan kl. …"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Fyll i mallens luckor"));
    assert!(r.body.contains("value=\"Fel i lärplattformen\""));
    assert!(r.body.contains(
        "aria-describedby=\"d1-error\">Lärplattformen fungerar inte sedan kl. …</textarea>"
    ));
    assert!(app.store.draft_incidents(&org.id).await.unwrap()[0].draft);
}

/// The editor's tables fit a phone: each scrolls in its own labelled region.
#[tokio::test]
async fn the_editors_tables_scroll_in_labelled_regions() {
    let app = spawn_with("[status]\nrun_probes = false\n").await;
    let passwords = [
        ("anna.andersson", ANNA_PW.to_owned()),
        ("erik.larsson", ERIK_PW.to_owned()),
        ("sara.lind", SARA_PW.to_owned()),
    ];
    let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &passwords)
        .await
        .unwrap();
    org.probes = portvakt_server::provisioning::demo::probes(app.addr.port()).unwrap();
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    let sara = editor(&app).await;
    let page = sara.get("/admin/status").await.body;
    assert!(page.contains(
        "<div class=\"table-scroll\" role=\"region\" aria-label=\"Läget för varje kontroll\" tabindex=\"0\">"
    ));
    let tables = page.matches("<table").count();
    assert!(tables > 0);
    assert_eq!(
        page.matches("<div class=\"table-scroll\" role=\"region\"")
            .count(),
        tables,
        "every table"
    );
}
