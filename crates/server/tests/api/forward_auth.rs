//! Forward-auth through a real nginx (`auth_request`) in front of a small
//! test app (issue 4). nginx and the app listen on loopback; host names
//! under `exempelkommun.test` are resolved to 127.0.0.1 by the client.
use crate::helpers::*;
use axum::http::HeaderMap;
use portvakt_core::access::Method;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

const DOMAIN: &str = "exempelkommun.test";

/// A test app that answers every request with the headers it received.
async fn echo_app() -> u16 {
    let app = axum::Router::new().fallback(|headers: HeaderMap| async move {
        let map: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned().into(),
                )
            })
            .collect();
        axum::Json(serde_json::Value::Object(map))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

#[derive(Clone, Copy, Debug)]
enum Proxy {
    Nginx,
    Caddy,
}

/// A proxy process, stopped when dropped.
pub struct ProxyProcess {
    child: Child,
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The configuration documented in docs/forward-auth.md, with test ports.
fn nginx_conf(dir: &Path, port: u16, portvakt: u16, app: u16) -> String {
    let d = dir.display();
    include_str!("../../../../docs/examples/nginx-forward-auth.conf")
        .lines()
        .filter(|l| !l.contains("ssl_certificate"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("PORTVAKT_ADDR", &format!("127.0.0.1:{portvakt}"))
        .replace("APP_ADDR", &format!("127.0.0.1:{app}"))
        .replace("listen 443 ssl;", &format!("listen 127.0.0.1:{port};"))
        .replace("https://portal.exempelkommun.se", &format!("http://portal.{DOMAIN}:{port}"))
        .replace("exempelkommun.se", DOMAIN)
        .replace(
            "http {",
            &format!(
                "pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 256; }}\nhttp {{\n    access_log off;\n    client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp;\n    fastcgi_temp_path {d}/tmp; uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;"
            ),
        )
}

/// The Caddyfile documented in docs/forward-auth.md, with test ports and
/// plain HTTP.
fn caddyfile(dir: &Path, port: u16, portvakt: u16, app: u16) -> String {
    let mut out = format!(
        "{{\n\tadmin off\n\tauto_https off\n\tstorage file_system {}\n}}\n",
        dir.display()
    );
    for line in include_str!("../../../../docs/examples/Caddyfile").lines() {
        let site = !line.starts_with(['\t', ' ', '#', '}']) && line.ends_with('{');
        let line = if site {
            let hosts: Vec<String> = line
                .trim_end_matches('{')
                .split(',')
                .map(|h| {
                    let h = h.trim().replace("exempelkommun.se", DOMAIN);
                    format!("http://{h}:{port}")
                })
                .collect();
            format!("{} {{", hosts.join(", "))
        } else {
            line.replace("PORTVAKT_ADDR", &format!("127.0.0.1:{portvakt}"))
                .replace("APP_ADDR", &format!("127.0.0.1:{app}"))
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

async fn start_caddy(dir: &Path, port: u16, portvakt: u16, app: u16) -> ProxyProcess {
    let file = dir.join("Caddyfile");
    std::fs::write(&file, caddyfile(dir, port, portvakt, app)).unwrap();
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("caddy.log")).unwrap())
        .spawn()
        .expect("caddy is installed by scripts/test");
    wait_for(ProxyProcess { child }, port, &dir.join("caddy.log")).await
}

async fn wait_for(mut p: ProxyProcess, port: u16, log: &Path) -> ProxyProcess {
    for _ in 0..100 {
        // A proxy that could not bind has exited; whatever answers on the
        // port then is not it.
        if let Ok(Some(status)) = p.child.try_wait() {
            panic!(
                "proxy exited ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "proxy did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

async fn start_nginx(dir: &Path, port: u16, portvakt: u16, app: u16) -> ProxyProcess {
    run_nginx(dir, &nginx_conf(dir, port, portvakt, app), port).await
}

/// A real nginx with `conf`, in one process as this user, answering on
/// `port` (its temporary files under `dir/tmp`, its log in `dir`).
pub(crate) async fn run_nginx(dir: &Path, conf_text: &str, port: u16) -> ProxyProcess {
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, conf_text).unwrap();
    let bin = if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    };
    let child = Command::new(bin)
        .args(["-p", &dir.display().to_string(), "-c"])
        .arg(&conf)
        .args(["-g", "daemon off; master_process off;"])
        .spawn()
        .expect("nginx is installed by scripts/test");
    wait_for(ProxyProcess { child }, port, &dir.join("error.log")).await
}

struct Setup {
    app: TestApp,
    _proxy: ProxyProcess,
    port: u16,
    dir: TempDir,
}

/// Portvakt (demo organisation) with services published at hosts, nginx in
/// front of it and of the echo app.
async fn setup(proxy: Proxy) -> Setup {
    let port = free_port();
    let extra = format!(
        "[forward_auth]\nportal_url = \"http://portal.{DOMAIN}:{port}\"\n\
         domains = [\"{DOMAIN}\"]\ncookie_domain = \"{DOMAIN}\"\nallow_http = true\n"
    );
    let app = spawn_with(&extra).await;
    let mut org = portvakt_server::provisioning::demo::organisation(&app.hasher, &[])
        .await
        .unwrap();
    org.users.clear();
    let host = |s: &str| Some(format!("{s}.{DOMAIN}"));
    for s in &mut org.services {
        match s.slug.as_str() {
            // Needs an authenticator or a passkey.
            "lonebesked" => s.access.host = host("lon"),
            // Open weekdays 07–18.
            "arendehantering" => s.access.host = host("arende"),
            // Only from the administrative network.
            "intranat" => {
                s.access.host = host("intra");
                s.access.zones = Some(
                    [portvakt_core::domain::Slug::parse("administrativa-natet").unwrap()].into(),
                );
            }
            // Another group's service.
            "larplattform" => s.access.host = host("larplattform"),
            // No rule beyond the groups.
            "webbmejl" => s.access.host = host("app"),
            _ => {}
        }
    }
    assert_eq!(
        org.services[0].access.methods,
        Some([Method::App, Method::Passkey].into())
    );
    portvakt_server::provisioning::apply_run::apply(&*app.store, &app.hasher, &[org], START, false)
        .await
        .unwrap();
    let upstream = echo_app().await;
    let dir = TempDir::new();
    let process = match proxy {
        Proxy::Nginx => start_nginx(&dir.0, port, app.addr.port(), upstream).await,
        Proxy::Caddy => start_caddy(&dir.0, port, app.addr.port(), upstream).await,
    };
    Setup {
        app,
        _proxy: process,
        port,
        dir,
    }
}

impl Setup {
    fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}.{DOMAIN}:{}{path}", self.port)
    }

    /// A browser-like client that reaches every test host through nginx.
    fn browser(&self) -> reqwest::Client {
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let mut b = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none());
        for h in ["portal", "app", "lon", "arende", "intra", "larplattform"] {
            b = b.resolve(&format!("{h}.{DOMAIN}"), addr);
        }
        b.build().unwrap()
    }

    /// Signs Anna in through nginx, starting from the app's redirect.
    async fn sign_in(&self, c: &reqwest::Client, target: &str) -> reqwest::Response {
        let r = c.get(target).send().await.unwrap();
        assert_eq!(r.status(), 302, "no session: to sign-in");
        let login = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            login.starts_with(&self.url("portal", "/login?rd=")),
            "{login}"
        );
        let page = c.get(&login).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_from(&page);
        c.post(self.url("portal", "/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", ANNA),
                ("password", ANNA_PW),
            ])
            .send()
            .await
            .unwrap()
    }
}

async fn json(r: reqwest::Response) -> serde_json::Value {
    assert_eq!(r.status(), 200);
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn nginx_sends_to_sign_in_and_back_and_the_app_sees_who() {
    sign_in_and_back(Proxy::Nginx).await;
}

#[tokio::test]
async fn caddy_sends_to_sign_in_and_back_and_the_app_sees_who() {
    sign_in_and_back(Proxy::Caddy).await;
}

#[tokio::test]
async fn nginx_refuses_by_group_method_zone_and_time_with_an_explanation() {
    refusals(Proxy::Nginx).await;
}

#[tokio::test]
async fn caddy_refuses_by_group_method_zone_and_time_with_an_explanation() {
    refusals(Proxy::Caddy).await;
}

async fn sign_in_and_back(proxy: Proxy) {
    let s = setup(proxy).await;
    let c = s.browser();
    let target = s.url("app", "/inkorg?mapp=1");
    let r = s.sign_in(&c, &target).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        target,
        "back to where the user was going"
    );
    // The app sees who it is, whatever the client claims.
    let seen = json(
        c.get(&target)
            .header("Remote-User", "sara.lind@exempelkommun.se")
            .header("Remote-Groups", "admins")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(seen["remote-user"], ANNA, "via {proxy:?}: {seen}");
    assert_eq!(seen["remote-groups"], "ovrig-personal");
    assert_eq!(seen["remote-name"], "Anna Andersson");
    assert_eq!(seen["remote-email"], ANNA);
    let cookie = seen["cookie"].as_str().unwrap_or_default();
    assert!(
        cookie.contains("portvakt="),
        "the app's own request carries the cookie"
    );

    // Spoofed identity headers without a session get nowhere.
    let stranger = s.browser();
    let r = stranger
        .get(&target)
        .header("Remote-User", ANNA)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);

    // Signing out takes effect within the cache's second.
    let portal = c
        .get(s.url("portal", "/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = c
        .post(s.url("portal", "/logout"))
        .form(&[("csrf", csrf_from(&portal).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(c.get(&target).send().await.unwrap().status(), 302);
    drop(s.dir);
}

async fn refusals(proxy: Proxy) {
    let s = setup(proxy).await;
    let c = s.browser();
    s.sign_in(&c, &s.url("app", "/")).await;
    let denied = |host: &'static str| {
        let c = c.clone();
        let url = s.url(host, "/");
        async move {
            let r = c
                .get(url)
                // A spoofed client address never moves anyone into a zone.
                .header("X-Forwarded-For", "10.10.1.1")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "{host} via {proxy:?}");
            r.text().await.unwrap()
        }
    };
    let page = denied("lon").await;
    assert!(
        page.contains("Kräver inloggning med autentiseringsapp eller passkey."),
        "{page}"
    );
    assert!(denied("intra")
        .await
        .contains("Kan bara öppnas från Administrativa nätet."));
    assert!(denied("larplattform")
        .await
        .contains("Tjänsten ingår inte i dina behörigheter."));
    // Monday 13:00: case handling is open.
    assert_eq!(
        c.get(s.url("arende", "/")).send().await.unwrap().status(),
        200
    );
    // 19:00 (a new sign-in: the old one went idle meanwhile).
    s.app.clock.set(START + 6 * 3600);
    let late = s.browser();
    s.sign_in(&late, &s.url("app", "/")).await;
    let r = late.get(s.url("arende", "/")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Öppen måndag–fredag 07.00–18.00."));
}
