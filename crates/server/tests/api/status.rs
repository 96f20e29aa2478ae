//! The public status page (issue 5, first part): components from the
//! organisation file, an incident's lifecycle through the CLI, the page and
//! its JSON, and bad input refused without changing anything.
use crate::helpers::*;

/// Every file of the static copy.
const COPY_FILES: [&str; 9] = [
    "index.html",
    "en/index.html",
    "check.html",
    "en/check.html",
    "selfcheck.js",
    "portvakt.css",
    "favicon.svg",
    "status.json",
    "status.atom",
];
use std::process::Command;

#[tokio::test]
async fn an_incident_from_open_to_resolved_on_the_page_and_in_json() {
    let app = spawn_app().await;
    let dir = TempDir::new();
    let config = app.cli_config(&dir, "");
    let c = app.client();

    // No sign-in needed; everything works.
    let page = c.get("/status").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Driftinformation – Exempelkommun"));
    assert!(page.body.contains("Alla tjänster fungerar."));
    assert!(page.body.contains("Telefoni – frånvaroanmälan"));
    assert!(
        !page.body.contains("Anmäl frånvaro via webben"),
        "alternatives only when needed"
    );
    assert!(
        page.body.contains("Så når du oss")
            && page.body.contains("Besök receptionen på Storgatan 1"),
        "the organisation's contact ways are always there"
    );

    let out = status_cli(
        &config,
        &[
            "open",
            "--org",
            "exempelkommun",
            "--title",
            "Frånvaroanmälan per telefon fungerar inte",
            "--title-en",
            "Absence reporting by phone is down",
            "--component",
            "franvaro=major_outage",
            "--component",
            "larplattform=degraded",
            "--body",
            "Vi undersöker felet.\nAnmäl frånvaro i appen så länge.",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(id.starts_with("inc_"), "{id}");

    let page = c.get("/status/exempelkommun").await;
    assert!(page.body.contains("Pågående störningar"));
    assert!(page
        .body
        .contains("Frånvaroanmälan per telefon fungerar inte"));
    assert!(page.body.contains("Större avbrott"));
    assert!(page.body.contains("Begränsad funktion"));
    assert!(
        page.body.contains("Anmäl frånvaro via webben eller appen."),
        "alternatives shown"
    );
    assert!(page.body.contains("Undersöker"));

    let json: serde_json::Value =
        serde_json::from_str(&c.get("/status/exempelkommun.json").await.body).unwrap();
    let franvaro = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["slug"] == "franvaro")
        .unwrap();
    assert_eq!(franvaro["state"], "major_outage");
    assert_eq!(json["incidents"][0]["id"], id.as_str());
    assert!(json["incidents"][0]["created_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    let out = status_cli(
        &config,
        &[
            "update",
            "--org",
            "exempelkommun",
            "--incident",
            &id,
            "--phase",
            "resolved",
            "--body",
            "Telefonin fungerar igen.",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = c.get("/status").await;
    assert!(page.body.contains("Alla tjänster fungerar."));
    assert!(page.body.contains("Åtgärdat de senaste två veckorna"));
    assert!(page.body.contains("Telefonin fungerar igen."));

    // The Atom feed, read by feedparser (a reader we did not write) and by
    // a strict XML parser.
    let feed = c.get("/status/exempelkommun.atom").await;
    assert_eq!(feed.status, 200);
    let check = Command::new("python3")
        .args([
            "-c",
            "import sys, feedparser, xml.etree.ElementTree as ET\n\
             data = sys.stdin.read()\n\
             ET.fromstring(data.encode())\n\
             f = feedparser.parse(data)\n\
             assert not f.bozo, f.bozo_exception\n\
             print(len(f.entries), f.entries[0].title, f.entries[0].id)",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        check
            .stdin
            .as_ref()
            .unwrap()
            .write_all(feed.body.as_bytes())
            .unwrap();
    }
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("1 Frånvaroanmälan per telefon fungerar inte urn:portvakt:incident:inc_"),
        "{text}"
    );

    // In English, with the English title.
    c.post_form("/language", &[("lang", "en"), ("back", "/status")])
        .await;
    let page = c.get("/status").await;
    assert!(
        page.body.contains("Absence reporting by phone is down"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let dir = TempDir::new();
    let config = app.cli_config(&dir, "");
    let long = "x".repeat(5001);
    for (args, expect) in [
        (
            vec!["--component", "nope=major_outage", "--body", "b"],
            "unknown component",
        ),
        (
            vec!["--component", "franvaro=broken", "--body", "b"],
            "unknown impact",
        ),
        (
            vec!["--component", "franvaro=degraded", "--body", "  "],
            "text is empty",
        ),
        (
            vec!["--component", "franvaro=degraded", "--body", long.as_str()],
            "longer than",
        ),
    ] {
        let mut all = vec!["open", "--org", "exempelkommun", "--title", "T"];
        all.extend(args);
        let out = status_cli(&config, &all);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{expect}: {err}");
    }
    let out = status_cli(
        &config,
        &[
            "update",
            "--org",
            "exempelkommun",
            "--incident",
            "inc_nope",
            "--phase",
            "resolved",
            "--body",
            "b",
        ],
    );
    assert!(!out.status.success());
    let json: serde_json::Value =
        serde_json::from_str(&app.client().get("/status/exempelkommun.json").await.body).unwrap();
    assert!(
        json["incidents"].as_array().unwrap().is_empty(),
        "nothing was written"
    );

    // Markup in texts is shown as text, never run.
    let out = status_cli(
        &config,
        &[
            "open",
            "--org",
            "exempelkommun",
            "--title",
            "<script>alert(1)</script>",
            "--component",
            "e-post=degraded",
            "--body",
            "<img src=x onerror=alert(1)>",
        ],
    );
    assert!(out.status.success());
    let page = app.client().get("/status").await;
    assert!(!page.body.contains("<script>alert(1)</script>"));
    assert!(
        page.body.contains("alert(1)"),
        "shown as text: {}",
        page.body
    );
    assert!(!page.body.contains("<img src=x"));
    assert_eq!(app.client().get("/status/no-such-org").await.status, 404);
}

/// A WebDAV-like receiver: remembers what was PUT where.
async fn put_receiver() -> (
    std::sync::Arc<std::sync::Mutex<Vec<(String, usize, String)>>>,
    u16,
) {
    use axum::extract::Request;
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let g = g.clone();
        async move {
            let path = req.uri().path().to_owned();
            let auth = req
                .headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap();
            g.lock().unwrap().push((path, body.len(), auth));
            axum::http::StatusCode::CREATED
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (got, port)
}

// Multi-threaded: the CLI runs as a blocking child process while the PUT
// receiver in this test answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_static_copy_is_complete_served_by_a_plain_server_and_pushed() {
    let app = spawn_app().await;
    let dir = TempDir::new();
    let (got, port) = put_receiver().await;
    let export = dir.0.join("export");
    let pushed = dir.0.join("pushed");
    let config = app.cli_config(
        &dir,
        &format!(
            "[status]\nexport_dir = \"{}\"\n\
             push_command = \"cp -r {{dir}} {}\"\npush_url = \"http://127.0.0.1:{port}/dav\"\n\
             push_auth_header = \"Bearer hemligt\"\nportal_url = \"https://portal.exempelkommun.se\"\n",
            export.display(),
            pushed.display()
        ),
    );
    let out = status_cli(
        &config,
        &[
            "open",
            "--org",
            "exempelkommun",
            "--title",
            "E-posten är nere",
            "--component",
            "e-post=major_outage",
            "--body",
            "Vi arbetar med felet.",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let site = export.join("exempelkommun");
    for f in COPY_FILES {
        assert!(site.join(f).is_file(), "{f} exported");
        assert!(pushed.join(f).is_file(), "{f} pushed by the command");
    }
    let puts = got.lock().unwrap().clone();
    let (folders, files): (Vec<_>, Vec<_>) = puts.iter().partition(|(p, _, _)| p.ends_with('/'));
    assert_eq!(files.len(), COPY_FILES.len(), "{puts:?}");
    assert_eq!(
        folders.len(),
        2,
        "the folders are made first (MKCOL): {puts:?}"
    );
    assert_eq!(puts[0].0, "/dav/exempelkommun/");
    assert!(puts
        .iter()
        .any(|(p, n, a)| p == "/dav/exempelkommun/en/index.html"
            && *n > 0
            && a == "Bearer hemligt"));

    // A plain static server (no Portvakt) serves it; every link resolves.
    let http_port = free_port();
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &http_port.to_string(),
            "--bind",
            "127.0.0.1",
            "--directory",
        ])
        .arg(&site)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{http_port}");
    let http = reqwest::Client::new();
    let mut html = String::new();
    for _ in 0..50 {
        if let Ok(r) = http.get(format!("{base}/index.html")).send().await {
            html = r.text().await.unwrap();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(html.contains("E-posten är nere"));
    assert!(html.contains("Senast uppdaterad"), "stamped");
    assert!(!html.contains("<form"), "no server needed: no forms");
    assert!(!html.contains("<script"), "works without JavaScript");
    let check = std::fs::read_to_string(site.join("check.html")).unwrap();
    assert!(
        check.contains("data-portvakt=\"https://portal.exempelkommun.se/healthz\""),
        "the copy's self-check tries Portvakt where it is published"
    );
    for (page, text) in [
        ("index.html", &html),
        ("en/index.html", &String::new()),
        ("check.html", &String::new()),
        ("en/check.html", &String::new()),
    ] {
        let text = if text.is_empty() {
            http.get(format!("{base}/{page}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        } else {
            text.clone()
        };
        let dir_of = page.rsplit_once('/').map_or("", |(d, _)| d);
        for link in text
            .split("href=\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
        {
            if link.starts_with('#') {
                continue;
            }
            let url = if dir_of.is_empty() {
                format!("{base}/{link}")
            } else {
                format!("{base}/{dir_of}/{link}")
            };
            let status = http.get(&url).send().await.unwrap().status();
            assert_eq!(status, 200, "{page}: {link} -> {url}");
        }
    }
    let json: serde_json::Value = serde_json::from_str(
        &http
            .get(format!("{base}/status.json"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["incidents"][0]["title"], "E-posten är nere");
    server.kill().ok();
    server.wait().ok();
}

#[tokio::test]
async fn a_status_editor_opens_updates_and_resolves_from_the_web() {
    let app = spawn_app().await;
    let sara = app.client();
    sara.sign_in(SARA, SARA_PW).await;
    let page = sara.get("/admin/status?template=intrusion").await;
    assert_eq!(page.status, 200, "an org admin is a status editor");
    assert!(
        page.body
            .contains("Störningar efter en misstänkt it-attack"),
        "template filled in"
    );

    // Bad input: no component chosen. Nothing is written.
    let r = sara
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "Avbrott"),
                ("body", "Text"),
                ("impact_e-post", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Välj minst en berörd tjänst"));
    let r = sara
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "Avbrott"),
                ("body", "Text"),
                ("impact_e-post", "exploded"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(app
        .client()
        .get("/status")
        .await
        .body
        .contains("Alla tjänster fungerar."));

    let r = sara
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "E-posten fungerar inte"),
                ("title_en", "E-mail is down"),
                ("body", "Vi felsöker."),
                ("impact_e-post", "major_outage"),
                ("impact_e-portalen", "degraded"),
            ],
        )
        .await;
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/status?done=opened"),
        "{}",
        r.body
    );
    let public = app.client().get("/status").await.body;
    assert!(public.contains("E-posten fungerar inte"));
    assert!(public.contains("Större avbrott"));

    let editor = sara.get("/admin/status").await.body;
    let id = editor
        .split("/admin/status/incidents/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/updates"),
            &[("phase", "resolved"), ("body", "E-posten fungerar igen.")],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/admin/status?done=updated"));
    assert!(app
        .client()
        .get("/status")
        .await
        .body
        .contains("Alla tjänster fungerar."));
    // Resolved stays resolved; an unknown id is not found.
    let r = sara
        .post_form(
            &format!("/admin/status/incidents/{id}/updates"),
            &[("phase", "monitoring"), ("body", "Igen")],
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_team_hears_of_incidents_and_the_emergency_list_gets_messages_by_smtp() {
    use crate::email::{wait_for, Sink};
    let sink = Sink::start();
    let app = spawn_with(&format!(
        "[email]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"Portvakt <portvakt@exempelkommun.se>\"\n",
        sink.port
    ))
    .await;
    let sara = app.client();
    sara.sign_in(SARA, SARA_PW).await;
    let r = sara
        .post_form(
            "/admin/status/incidents",
            &[
                ("title", "Telefonin ligger nere"),
                ("body", "Ring inte växeln; mejla i stället."),
                ("impact_franvaro", "major_outage"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let mut to = Vec::new();
    for n in 1..=2 {
        let (rcpt, text) = wait_for(&sink.dir.0, n);
        assert!(text.contains("Telefonin ligger nere"), "{text}");
        assert!(text.contains("Undersöker"), "{text}");
        to.push(rcpt);
    }
    to.sort();
    assert_eq!(
        to,
        ["it-chef@exempelkommun.se", "kommunikation@exempelkommun.se"]
    );

    // Bad input changes nothing.
    let r = sara
        .post_form("/admin/status/message", &[("subject", ""), ("body", "x")])
        .await;
    assert_eq!(r.status, 400);
    let r = sara
        .post_form(
            "/admin/status/message",
            &[
                ("subject", "Skolorna har öppet som vanligt"),
                (
                    "body",
                    "Lärplattformen är nere. Ring expeditionen vid frånvaro.",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let mut list = Vec::new();
    for n in 3..=5 {
        let (rcpt, text) = wait_for(&sink.dir.0, n);
        assert!(text.contains("Ring expeditionen"), "{text}");
        list.push(rcpt);
    }
    list.sort();
    assert_eq!(
        list,
        [
            "forskolechef@exempelkommun.se",
            "rektor.norra@exempelkommun.se",
            "rektor.sodra@exempelkommun.se"
        ]
    );
    // The delivery report says so once the worker has marked them sent.
    let start = std::time::Instant::now();
    loop {
        let page = sara.get("/admin/status").await.body;
        if page.contains(">3/3</td>") && page.contains(">2/2</td>") {
            break;
        }
        assert!(start.elapsed().as_secs() < 15, "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_self_check_page_may_connect_only_to_the_configured_addresses() {
    let app = spawn_with(
        "[status]\npublic_copy_url = \"https://www.exempelkommun.se/driftinfo/\"\n\
         outside_check_url = \"https://www.gstatic.com/generate_204\"\n",
    )
    .await;
    let r = app
        .client()
        .http
        .get(app.url("/status/check"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("connect-src 'self' https://www.exempelkommun.se https://www.gstatic.com;"),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    let body = r.text().await.unwrap();
    assert!(body.contains("data-outside=\"https://www.gstatic.com/generate_204\""));
    assert!(
        body.contains("Steg för steg"),
        "the checklist works without JavaScript"
    );
    // Elsewhere the strict policy stays.
    let other = app
        .client()
        .http
        .get(app.url("/status"))
        .send()
        .await
        .unwrap();
    assert!(!other.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("connect-src"));
}

/// The documented WebDAV host (docs/examples/nginx-status-dav.conf) on a
/// real nginx: folders made with MKCOL, files PUT, refused without the
/// secret, and then served to readers exactly as exported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_copy_is_pushed_to_a_real_webdav_host() {
    let app = spawn_app().await;
    let dir = TempDir::new();
    let www = dir.0.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let port = free_port();
    let d = dir.0.display();
    let conf = format!(
        "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 64; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/tmp;\n{}\n}}\n",
        include_str!("../../../../docs/examples/nginx-status-dav.conf")
            .lines()
            .filter(|l| !l.contains("ssl_certificate"))
            .collect::<Vec<_>>()
            .join("\n")
            .replace("listen 443 ssl;", &format!("listen 127.0.0.1:{port};"))
            .replace("/var/www/driftinfo", &www.display().to_string())
    );
    let _nginx = crate::forward_auth::run_nginx(&dir.0, &conf, port).await;
    let export = dir.0.join("export");
    let push = |secret: &str| {
        app.cli_config(
            &dir,
            &format!(
                "[status]\nexport_dir = \"{}\"\npush_url = \"http://127.0.0.1:{port}/dav\"\n\
                 push_auth_header = \"Bearer {secret}\"\n",
                export.display()
            ),
        )
    };
    let open = |config: &std::path::Path| {
        status_cli(
            config,
            &[
                "open",
                "--org",
                "exempelkommun",
                "--title",
                "Telefonin ligger nere",
                "--component",
                "franvaro=major_outage",
                "--body",
                "Ring inte växeln.",
            ],
        )
    };

    // The wrong secret: the push fails with the reason, the change is kept.
    let out = open(&push("fel"));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("401"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!www.join("exempelkommun").exists());

    let out = open(&push("CHANGE-ME"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let http = reqwest::Client::new();
    for f in COPY_FILES {
        let served = http
            .get(format!("http://127.0.0.1:{port}/exempelkommun/{f}"))
            .send()
            .await
            .unwrap();
        assert_eq!(served.status(), 200, "{f}");
        let body = served.bytes().await.unwrap();
        assert_eq!(
            body.as_ref(),
            std::fs::read(export.join("exempelkommun").join(f)).unwrap(),
            "{f} served as exported"
        );
    }
    let page = http
        .get(format!("http://127.0.0.1:{port}/exempelkommun/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Telefonin ligger nere"));
    // Readers cannot write.
    let put = http
        .put(format!("http://127.0.0.1:{port}/exempelkommun/index.html"))
        .body("defaced")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 403);
}
