//! Health probes against real loopback services that go down and come
//! back: HTTP (status and body), TCP, and TLS certificate expiry through a
//! real `openssl s_server`. Thresholds, the public state, drafts that stay
//! hidden until an editor confirms them, withdrawal on recovery, the team's
//! notice, the daily figures and the bars.
use crate::helpers::*;
use portvakt_core::apply::DesiredProbe;
use portvakt_core::domain::Slug;
use portvakt_core::probe::{ProbeKind, ProbeSpec};
use portvakt_server::provisioning::{apply_run, demo};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn spec(kind: ProbeKind) -> ProbeSpec {
    ProbeSpec {
        kind,
        interval_s: 2,
        timeout_s: 1,
        failures: 2,
        recoveries: 2,
        impact: "major_outage".into(),
        ca_file: None,
    }
}

fn probe(slug: &str, component: &str, spec: ProbeSpec) -> DesiredProbe {
    DesiredProbe {
        slug: Slug::parse(slug).unwrap(),
        component: Slug::parse(component).unwrap(),
        spec,
    }
}

async fn with_probes(app: &TestApp, probes: Vec<DesiredProbe>) {
    let passwords = [
        ("anna.andersson", ANNA_PW.to_owned()),
        ("erik.larsson", ERIK_PW.to_owned()),
        ("sara.lind", SARA_PW.to_owned()),
    ];
    let mut org = demo::organisation(&app.hasher, &passwords).await.unwrap();
    org.probes = probes;
    apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
}

/// A health endpoint whose answer the test sets: 200 "ok", or anything else.
async fn health_server() -> (u16, Arc<AtomicU16>) {
    let code = Arc::new(AtomicU16::new(200));
    let c = code.clone();
    let app = axum::Router::new().route(
        "/health",
        axum::routing::get(move || {
            let c = c.clone();
            async move {
                let code = c.load(Ordering::SeqCst);
                let body = if code == 200 {
                    "status: ok"
                } else {
                    "status: fel"
                };
                (axum::http::StatusCode::from_u16(code).unwrap(), body)
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(l, app).await });
    (port, code)
}

/// A TCP service that can be stopped (connections refused) and started
/// again on the same port.
struct TcpService {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TcpService {
    async fn start(port: u16) -> Self {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let port = l.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                drop(s);
            }
        });
        Self {
            port,
            task: Some(task),
        }
    }

    async fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

async fn status_json(c: &Client) -> serde_json::Value {
    serde_json::from_str(&c.get("/status/exempelkommun.json").await.body).unwrap()
}

fn component<'a>(json: &'a serde_json::Value, slug: &str) -> &'a serde_json::Value {
    json["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["slug"] == slug)
        .unwrap()
}

/// Polls the public JSON until `ok` holds (at most 30 s).
async fn until(
    c: &Client,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    for _ in 0..150 {
        let json = status_json(c).await;
        if ok(&json) {
            return json;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("timed out waiting for {what}: {}", status_json(c).await);
}

/// The organisation's drafts once `ok` holds (at most 10 s): the runner
/// records a probe's new state first and opens or withdraws its draft
/// right after.
async fn drafts_when(
    app: &TestApp,
    org: &portvakt_core::ids::OrganisationId,
    ok: impl Fn(&[portvakt_core::status::Incident]) -> bool,
) -> Vec<portvakt_core::status::Incident> {
    for _ in 0..100 {
        let d = app.store.draft_incidents(org).await.unwrap();
        if ok(&d) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "drafts never as expected: {:?}",
        app.store.draft_incidents(org).await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_follow_services_down_and_up_with_drafts_for_editors() {
    use crate::email::{wait_for, Sink};
    let sink = Sink::start();
    let app = spawn_with(&format!(
        "[status]\nprobe_flush_seconds = 1\n[email]\nsmtp_url = \"smtp://127.0.0.1:{}\"\n\
         from = \"Portvakt <portvakt@exempelkommun.se>\"\n",
        sink.port
    ))
    .await;
    let (http_port, code) = health_server().await;
    let mut tcp = TcpService::start(0).await;
    with_probes(
        &app,
        vec![
            probe(
                "lar-http",
                "larplattform",
                spec(ProbeKind::Http {
                    url: format!("http://127.0.0.1:{http_port}/health"),
                    expect_status: vec![200],
                    expect_body: Some("status: ok".into()),
                }),
            ),
            probe(
                "tel-tcp",
                "franvaro",
                ProbeSpec {
                    impact: "partial_outage".into(),
                    ..spec(ProbeKind::Tcp {
                        address: format!("127.0.0.1:{}", tcp.port),
                    })
                },
            ),
        ],
    )
    .await;
    let c = app.client();
    let (org, _) = app.org_and_user(SARA).await;

    // Both answer: every component works, the probes are watching.
    let json = until(&c, "two probes reporting", |j| j["probes"]["watching"] == 2).await;
    assert_eq!(component(&json, "larplattform")["state"], "operational");
    assert!(json["probes"]["down"].as_array().unwrap().is_empty());

    // The learning platform answers 503: after two failures in a row it
    // shows as down, detected by the probe, and a draft waits unseen.
    code.store(503, Ordering::SeqCst);
    let json = until(&c, "larplattform down", |j| {
        component(j, "larplattform")["state"] == "major_outage"
    })
    .await;
    assert_eq!(component(&json, "larplattform")["detected_by_probe"], true);
    assert_eq!(json["probes"]["down"][0], "larplattform");
    let drafts = drafts_when(&app, &org.id, |d| d.len() == 1).await;
    assert_eq!(drafts.len(), 1, "one draft");
    assert!(
        json["incidents"].as_array().unwrap().is_empty(),
        "the draft is not public: {json}"
    );
    let page = c.get("/status").await;
    assert!(page.body.contains("upptäckt av automatisk kontroll"));
    assert!(
        !page.body.contains(&drafts[0].title),
        "draft title not shown"
    );

    // The team is told, by e-mail through a real SMTP server, with the reason.
    for n in 1..=2 {
        let (_, text) = wait_for(&sink.dir.0, n);
        assert!(text.contains("Lärplattform svarar inte"), "{text}");
        assert!(text.contains("status 503"), "{text}");
        assert!(text.contains("utkast"), "{text}");
    }

    // The editor sees the draft and the probes, and confirms it in her own
    // words; only then is it public.
    let sara = app.client();
    sara.sign_in(SARA, SARA_PW).await;
    let editor = sara.get("/admin/status").await;
    assert!(editor.body.contains("Att bekräfta"));
    assert!(
        editor.body.contains("status 503"),
        "the reason is shown to editors"
    );
    assert!(editor.body.contains("lar-http"));
    let bad = sara
        .post_form(
            &format!("/admin/status/drafts/{}/publish", drafts[0].id),
            &[("title", ""), ("body", "x")],
        )
        .await;
    assert_eq!(bad.status, 400, "an empty title is refused");
    let r = sara
        .post_form(
            &format!("/admin/status/drafts/{}/publish", drafts[0].id),
            &[
                ("title", "Lärplattformen svarar inte"),
                ("title_en", ""),
                (
                    "body",
                    "Vi felsöker. Lämna in uppgifter via e-post så länge.",
                ),
                ("body_en", ""),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/admin/status?done=confirmed"));
    let json = status_json(&c).await;
    assert_eq!(json["incidents"][0]["title"], "Lärplattformen svarar inte");
    assert_eq!(
        json["incidents"][0]["updates"][0]["body"],
        "Vi felsöker. Lämna in uppgifter via e-post så länge."
    );

    // The telephony line goes away entirely (connections refused) and comes
    // back before anyone confirmed: its draft is withdrawn unseen.
    tcp.stop().await;
    let json = until(&c, "franvaro down", |j| {
        component(j, "franvaro")["state"] == "partial_outage"
    })
    .await;
    assert!(json["incidents"].as_array().unwrap().len() == 1);
    drafts_when(&app, &org.id, |d| d.len() == 1).await;
    let editor = sara.get("/admin/status").await;
    assert!(
        editor.body.contains("connection refused"),
        "{}",
        editor.body
    );
    let mut tcp = TcpService::start(tcp.port).await;
    until(&c, "franvaro up", |j| {
        component(j, "franvaro")["state"] == "operational"
    })
    .await;
    // Withdrawn when it recovered unconfirmed.
    drafts_when(&app, &org.id, <[_]>::is_empty).await;

    // Down again, and this time an editor calls it a false alarm: the draft
    // goes, and the probe stops showing the outage while it lasts.
    tcp.stop().await;
    until(&c, "franvaro down again", |j| {
        component(j, "franvaro")["state"] == "partial_outage"
    })
    .await;
    let draft = drafts_when(&app, &org.id, |d| d.len() == 1).await.remove(0);
    let r = sara
        .post_form(&format!("/admin/status/drafts/{}/withdraw", draft.id), &[])
        .await;
    assert_eq!(r.location.as_deref(), Some("/admin/status?done=withdrawn"));
    let json = status_json(&c).await;
    assert_eq!(component(&json, "franvaro")["state"], "operational");
    assert!(sara
        .get("/admin/status")
        .await
        .body
        .contains("avfärdat som falskt larm"));
    let _tcp = TcpService::start(tcp.port).await;

    // The platform recovers. The published incident is the editors' word
    // and stays until they resolve it; it alone now holds the state.
    code.store(200, Ordering::SeqCst);
    let json = until(&c, "larplattform answering", |j| {
        j["probes"]["down"].as_array().is_some_and(Vec::is_empty)
    })
    .await;
    assert!(json["incidents"][0]["resolved_at"].is_null());
    assert_eq!(component(&json, "larplattform")["state"], "major_outage");
    assert_eq!(component(&json, "larplattform")["detected_by_probe"], false);
    let id = json["incidents"][0]["id"].as_str().unwrap().to_owned();
    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/updates"),
            &[
                ("phase", "resolved"),
                ("body", "Lärplattformen fungerar igen."),
                ("body_en", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let json = status_json(&c).await;
    assert_eq!(component(&json, "larplattform")["state"], "operational");

    // The daily figures carry the failures into the uptime bars.
    let json = until(&c, "figures flushed", |j| {
        component(j, "larplattform")["uptime"]["history"][0]["failures"]
            .as_i64()
            .is_some_and(|f| f >= 2)
    })
    .await;
    let up = &component(&json, "larplattform")["uptime"];
    assert!(up["percent"].as_f64().unwrap() < 100.0);
    assert_eq!(up["days"], 90);
    let page = c.get("/status").await;
    assert!(page
        .body
        .contains("Lyckade automatiska kontroller de senaste 90 dagarna"));
    assert!(page.body.contains("class=\"day-"), "bars drawn");
    assert!(page.body.contains("Dagar med störningar"));
}

#[tokio::test]
async fn bad_probe_definitions_are_refused_with_the_field() {
    let dir = TempDir::new();
    let file = dir.0.join("org.toml");
    std::fs::write(
        &file,
        r#"
[[organisation]]
slug = "prov"
name = "Prov"

[[organisation.status_component]]
slug = "webb"
name = "Webb"
group = "Allmänt"

[[organisation.probe]]
slug = "webb-http"
component = "finns-inte"
http = "ftp://example/"

[[organisation.probe]]
slug = "webb-tcp"
component = "webb"
tcp = "127.0.0.1:1"
tls = "127.0.0.1:2"

[[organisation.probe]]
slug = "webb-tls"
component = "webb"
tls = "127.0.0.1:443"
interval = "1s"
impact = "operational"
"#,
    )
    .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let err = portvakt_server::provisioning::apply_file::parse("org.toml", &text, 12)
        .expect_err("refused")
        .to_string();
    assert!(err.contains("probe[0].component"), "{err}");
    assert!(err.contains("probe[0].url"), "{err}");
    assert!(err.contains("exactly one of http, tcp or tls"), "{err}");
    assert!(err.contains("probe[2].interval"), "{err}");
}

fn openssl(args: &[&str], dir: &std::path::Path) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a `localhost` certificate valid for `days`.
fn certificates(dir: &std::path::Path, days: &str) {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=Prov CA",
        ],
        dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=localhost",
        ],
        dir,
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            days,
            "-extfile",
            "ext.cnf",
        ],
        dir,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_probes_check_the_chain_and_the_days_left() {
    let dir = TempDir::new();
    certificates(&dir.0, "5");
    let port = free_port();
    let mut server = std::process::Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            "leaf.pem",
            "-key",
            "leaf.key",
            "-www",
            "-quiet",
        ])
        .current_dir(&dir.0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let ca = dir.0.join("ca.pem").display().to_string();
    let tls = |min_days_left| ProbeSpec {
        ca_file: Some(ca.clone()),
        ..spec(ProbeKind::Tls {
            address: format!("127.0.0.1:{port}"),
            server_name: "localhost".into(),
            min_days_left,
        })
    };
    let app = spawn_with("[status]\nprobe_flush_seconds = 1\n").await;
    // Days left count from now, as the certificate's do.
    app.clock
        .set(portvakt_core::Clock::now(&portvakt_core::SystemClock));
    with_probes(
        &app,
        vec![
            // Five days left is fine for a one-day margin…
            probe("portal-tls", "e-portalen", tls(1)),
            // …not for fourteen.
            probe("lar-tls", "larplattform", tls(14)),
            // Without our CA the chain does not verify.
            probe(
                "tel-tls",
                "franvaro",
                ProbeSpec {
                    ca_file: None,
                    ..tls(1)
                },
            ),
            // HTTPS with the same CA: s_server -www answers 200.
            probe(
                "mejl-https",
                "e-post",
                ProbeSpec {
                    ca_file: Some(ca.clone()),
                    ..spec(ProbeKind::Http {
                        url: format!("https://localhost:{port}/"),
                        expect_status: vec![200],
                        expect_body: None,
                    })
                },
            ),
        ],
    )
    .await;
    let c = app.client();
    let json = until(&c, "both failing TLS probes down", |j| {
        component(j, "larplattform")["state"] == "major_outage"
            && component(j, "franvaro")["state"] == "major_outage"
    })
    .await;
    let (org, _) = app.org_and_user(SARA).await;
    // Probes that pass are written at the next flush (each second here).
    let mut views = Vec::new();
    for _ in 0..100 {
        views = app.store.probe_states(&org.id).await.unwrap();
        if views.len() == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let view = |p: &str| {
        views
            .iter()
            .find(|v| v.probe.as_str() == p)
            .unwrap()
            .clone()
    };
    assert!(
        view("lar-tls").last_error.contains("expires in"),
        "{:?}",
        view("lar-tls")
    );
    assert!(
        view("tel-tls").last_error.contains("TLS"),
        "{:?}",
        view("tel-tls")
    );
    assert!(!view("portal-tls").down, "{:?}", view("portal-tls"));
    assert_eq!(component(&json, "e-portalen")["state"], "operational");
    assert!(!view("mejl-https").down, "{:?}", view("mejl-https"));
    assert_eq!(view("mejl-https").last_error, "");
    server.kill().ok();
    server.wait().ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_are_listed_confirmed_and_dismissed_from_the_cli() {
    let app = spawn_app().await;
    let dir = TempDir::new();
    let config = app.cli_config(&dir, "[status]\nrun_probes = false\n");
    let (org, _) = app.org_and_user(SARA).await;
    let comps = app.store.status_components(&org.id).await.unwrap();
    let lar = comps
        .iter()
        .find(|c| c.slug.as_str() == "larplattform")
        .unwrap();
    let first = portvakt_core::status::probe_draft(
        lar,
        portvakt_core::status::ComponentState::MajorOutage,
        START,
    );
    let second = portvakt_core::status::probe_draft(
        lar,
        portvakt_core::status::ComponentState::Degraded,
        START + 1,
    );
    app.store.create_incident(&first).await.unwrap();
    app.store.create_incident(&second).await.unwrap();

    let out = status_cli(&config, &["probes", "--org", "exempelkommun"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains(&format!("draft\t{}", first.id)), "{listed}");

    // An empty title is refused and nothing changes.
    let out = status_cli(
        &config,
        &[
            "confirm",
            "--org",
            "exempelkommun",
            "--incident",
            &first.id,
            "--title",
            " ",
        ],
    );
    assert!(!out.status.success());
    assert_eq!(app.store.draft_incidents(&org.id).await.unwrap().len(), 2);

    let out = status_cli(
        &config,
        &[
            "confirm",
            "--org",
            "exempelkommun",
            "--incident",
            &first.id,
            "--title",
            "Lärplattformen är nere",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = app.store.incidents(&org.id, 0, 10).await.unwrap();
    assert_eq!(public[0].title, "Lärplattformen är nere");
    assert!(
        public[0].updates[0]
            .body
            .starts_with("Vi undersöker ett fel i Lärplattform"),
        "the draft's own text"
    );

    let out = status_cli(
        &config,
        &[
            "dismiss",
            "--org",
            "exempelkommun",
            "--incident",
            &second.id,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(app.store.draft_incidents(&org.id).await.unwrap().is_empty());
    assert_eq!(
        app.store.incidents(&org.id, 0, 10).await.unwrap().len(),
        1,
        "dismissed stays hidden"
    );
    let out = status_cli(
        &config,
        &[
            "dismiss",
            "--org",
            "exempelkommun",
            "--incident",
            &second.id,
        ],
    );
    assert!(!out.status.success(), "only once");
}
