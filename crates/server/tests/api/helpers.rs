use portvakt_core::auth::password::PasswordHasher;
use portvakt_core::store::Store;
use portvakt_core::ManualClock;
use portvakt_server::app::config::Config;
use portvakt_server::app::startup::Application;
use portvakt_server::provisioning::{apply_run, demo};
use portvakt_store::SqlStore;
use reqwest::redirect::Policy;
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;

pub const START: i64 = 1_795_435_200; // 2026-11-23 13:00 Europe/Stockholm

pub const ANNA: &str = "anna.andersson@exempelkommun.se";
pub const ANNA_PW: &str = "blåbär i skogen hela sommaren";
pub const SARA: &str = "sara.lind@exempelkommun.se";
pub const SARA_PW: &str = "servicedesk har öppet sju till fem";
pub const ERIK_PW: &str = "läraren cyklar till skolan varje dag";

pub struct TestApp {
    pub addr: SocketAddr,
    pub clock: ManualClock,
    pub store: Arc<dyn Store>,
    pub hasher: Arc<PasswordHasher>,
    pub config: Config,
    _dir: TempDir,
}

/// A folder removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(format!(
            "portvakt-test-{}",
            portvakt_core::ids::EventId::generate().as_str()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

pub fn test_config(db_url: &str, extra: &str) -> Config {
    let proxies = if extra.contains("trusted_proxies") {
        ""
    } else {
        "trusted_proxies = [\"127.0.0.1/32\"]\n"
    };
    let password = if extra.contains("[password]") {
        ""
    } else {
        "[password]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n"
    };
    let listen = if extra.contains("listen =") {
        ""
    } else {
        "listen = \"127.0.0.1:0\"\n"
    };
    let text = format!(
        "{listen}database_url = \"{db_url}\"\ndev_mode = true\n\
         default_organisation = \"exempelkommun\"\n\
         {proxies}{extra}\n{password}"
    );
    Config::from_toml(&text, std::iter::empty(), "test").unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_with("").await
}

/// Spawns the app with extra TOML appended to the test config, seeded with
/// the demo organisation using known passwords.
pub async fn spawn_with(extra: &str) -> TestApp {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("t.db").display());
    spawn_on(&url, extra, dir).await
}

pub async fn spawn_on(url: &str, extra: &str, dir: TempDir) -> TestApp {
    let store: Arc<dyn Store> = Arc::new(SqlStore::connect(url).await.unwrap());
    spawn_store(store, url, extra, dir).await
}

/// Spawns the app on an already opened store (with a secret key, say).
pub async fn spawn_store(store: Arc<dyn Store>, url: &str, extra: &str, dir: TempDir) -> TestApp {
    let config = test_config(url, extra);
    let clock = ManualClock::new(START);
    let app = Application::build_with_store(config.clone(), store.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    let addr = app.local_addr().unwrap();
    let hasher = app.state().auth.hasher.clone();
    let org = demo_org(&hasher).await;
    apply_run::apply(&*store, &hasher, &[org], START, false)
        .await
        .unwrap();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        clock,
        store,
        hasher,
        config,
        _dir: dir,
    }
}

/// The demo organisation with the tests' known passwords.
pub async fn demo_org(hasher: &PasswordHasher) -> portvakt_core::apply::DesiredOrganisation {
    let passwords = [
        ("anna.andersson", ANNA_PW.to_owned()),
        ("erik.larsson", ERIK_PW.to_owned()),
        ("sara.lind", SARA_PW.to_owned()),
    ];
    demo::organisation(hasher, &passwords).await.unwrap()
}

impl TestApp {
    /// Applies the demo organisation again, changed by `change` (a setting,
    /// a role).
    pub async fn reapply_demo(
        &self,
        change: impl FnOnce(&mut portvakt_core::apply::DesiredOrganisation),
    ) {
        let mut org = demo_org(&self.hasher).await;
        change(&mut org);
        apply_run::apply(&*self.store, &self.hasher, &[org], START, false)
            .await
            .unwrap();
    }

    /// A config file for running the `portvakt` CLI against this app's
    /// database, with `extra` TOML appended; kept in `dir`.
    pub fn cli_config(&self, dir: &TempDir, extra: &str) -> std::path::PathBuf {
        let path = dir.0.join("portvakt.toml");
        std::fs::write(
            &path,
            format!(
                "database_url = \"{}\"\n{extra}",
                self.config.database_url.expose_secret()
            ),
        )
        .unwrap();
        path
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The organisation and the stored user for a demo username.
    pub async fn org_and_user(
        &self,
        username: &str,
    ) -> (
        portvakt_core::store::Organisation,
        portvakt_core::store::User,
    ) {
        let slug = portvakt_core::domain::Slug::parse("exempelkommun").unwrap();
        let org = self
            .store
            .organisation_by_slug(&slug)
            .await
            .unwrap()
            .unwrap();
        let name = portvakt_core::domain::Username::parse(username).unwrap();
        let user = self
            .store
            .user_by_username(&org.id, &name)
            .await
            .unwrap()
            .unwrap();
        (org, user)
    }

    /// A second organisation, "grannkommun" (its users' names carry the
    /// canary `CANARY-GRANN`), for isolation tests; its id.
    pub async fn neighbour_org(&self) -> portvakt_core::ids::OrganisationId {
        let other = portvakt_core::store_suite::sample_org("grannkommun", "CANARY-GRANN");
        portvakt_server::provisioning::apply_run::apply(
            &*self.store,
            &self.hasher,
            std::slice::from_ref(&other),
            START,
            false,
        )
        .await
        .unwrap();
        self.store
            .organisation_by_slug(&portvakt_core::domain::Slug::parse("grannkommun").unwrap())
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{}", self.addr),
        }
    }

    /// A client seen from `ip`, as a trusted reverse proxy would report it.
    pub fn client_from(&self, ip: &str) -> Client {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-forwarded-for", ip.parse().unwrap());
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .default_headers(h)
                .build()
                .unwrap(),
            base: format!("http://{}", self.addr),
        }
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

impl Client {
    pub async fn get(&self, path: &str) -> Page {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        page(r).await
    }

    /// Posts a form, adding the CSRF token from a fresh GET of `form_page`.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("csrf", &token)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap();
        page(r).await
    }

    pub async fn csrf(&self) -> String {
        let p = self.get("/login").await;
        let p = if p.status == 200 {
            p
        } else {
            self.get("/signed-out").await
        };
        csrf_from(&p.body)
    }

    pub async fn sign_in(&self, user: &str, pw: &str) -> Page {
        self.post_form("/login", &[("username", user), ("password", pw)])
            .await
    }
}

pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a csrf field") + marker.len();
    html[start..start + 43].to_owned()
}

async fn page(r: reqwest::Response) -> Page {
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let set_cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body = r.text().await.unwrap();
    Page {
        status,
        location,
        set_cookies,
        body,
    }
}

/// A port for a child process (nginx, Caddy, a static server) to listen on.
///
/// Ports handed out by the kernel for `bind(0)` and for outgoing connections
/// come from the ephemeral range (32768–60999), so a port picked there and
/// released can be taken by another test before the child binds it. These
/// come from below that range, in turn within this process and from a
/// per-process start, and only ports that bind right now.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let start = std::process::id().wrapping_mul(2_654_435_761) % SPAN;
    loop {
        let port = (LOW + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Runs `portvakt status ARGS --config CONFIG` (the real binary).
pub fn status_cli(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_portvakt"))
        .arg("status")
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap()
}

/// The six-digit code in a mail or SMS: a line of its own, else the first
/// six-digit word.
pub fn code_in(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .or_else(|| {
            text.split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
        })
        .expect("a code")
        .to_owned()
}
