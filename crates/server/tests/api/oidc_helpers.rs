//! Spawning Portvakt with its OpenID provider on: a known port (the issuer
//! must name it), a sealing key in a file and in the store.

use crate::helpers::{free_port, spawn_store, TempDir, TestApp};
use portvakt_store::SqlStore;
use std::sync::Arc;

pub const ORG: &str = "exempelkommun";

pub struct OidcApp {
    pub app: TestApp,
    pub issuer: String,
}

/// What a test needs to call the issuer from a spawned future.
#[derive(Clone)]
pub struct IssuerRef {
    pub issuer: String,
}

impl OidcApp {
    pub fn clone_ref(&self) -> IssuerRef {
        IssuerRef {
            issuer: self.issuer.clone(),
        }
    }
}

/// Portvakt with `[oidc]` on, the demo organisation applied, and `extra`
/// TOML appended to the config.
pub async fn spawn_oidc(extra: &str) -> OidcApp {
    let dir = TempDir::new();
    spawn_oidc_in(dir, extra).await
}

pub async fn spawn_oidc_in(dir: TempDir, extra: &str) -> OidcApp {
    let port = free_port();
    let key_path = dir.0.join("secret.key");
    if !key_path.exists() {
        portvakt_server::app::config::write_key_file(&key_path).unwrap();
    }
    let key = portvakt_server::app::config::read_key_file(&key_path).unwrap();
    let url = format!("sqlite://{}", dir.0.join("t.db").display());
    let store = Arc::new(SqlStore::connect(&url).await.unwrap().with_secret_key(&key));
    let config = format!(
        "listen = \"127.0.0.1:{port}\"\nsecret_key_file = \"{}\"\n{extra}\n\
         [oidc]\nissuer_base = \"http://127.0.0.1:{port}\"\n",
        key_path.display()
    );
    let app = spawn_store(store, &url, &config, dir).await;
    OidcApp {
        issuer: format!("http://127.0.0.1:{port}/oidc/{ORG}"),
        app,
    }
}

impl IssuerRef {
    pub async fn get_json(
        &self,
        url: &str,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        get_json(url).await
    }

    pub async fn post_form(
        &self,
        endpoint: &str,
        basic: Option<(&str, &str)>,
        fields: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        post_form(&self.issuer, endpoint, basic, fields).await
    }
}

async fn get_json(url: &str) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = serde_json::from_str(&r.text().await.unwrap()).unwrap_or(serde_json::Value::Null);
    (status, headers, body)
}

async fn post_form(
    issuer: &str,
    endpoint: &str,
    basic: Option<(&str, &str)>,
    fields: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{issuer}/{endpoint}"))
        .form(fields);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = serde_json::from_str(&r.text().await.unwrap()).unwrap_or(serde_json::Value::Null);
    (status, headers, body)
}

impl OidcApp {
    pub async fn get_json(
        &self,
        url: &str,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        get_json(url).await
    }
}

/// The demo organisation's groups and zones as a file, with `clients`
/// (TOML `[[organisation.client]]` tables) appended: applied through the
/// same parser and plan as `portvakt apply`.
pub fn org_file(slug: &str, clients: &str) -> String {
    format!(
        r#"
[[organisation]]
slug = "{slug}"
name = "Exempelkommun"
domains = ["{slug}.se"]

[[organisation.group]]
slug = "pedagogisk-personal"
name = "Pedagogisk personal"

[[organisation.group]]
slug = "ovrig-personal"
name = "Övrig personal"

[[organisation.zone]]
slug = "demo-lokalt"
name = "Den här datorn (demo)"
cidrs = ["127.0.0.0/8", "::1/128"]
{clients}"#
    )
}

/// Applies an organisation file; returns what `apply` printed.
pub async fn apply_file(app: &TestApp, text: &str) -> Result<Vec<String>, String> {
    let orgs = portvakt_server::provisioning::apply_file::parse("test.toml", text, 8)
        .map_err(|e| e.to_string())?;
    portvakt_server::provisioning::apply_run::apply(
        &*app.store,
        &app.hasher,
        &orgs,
        crate::helpers::START,
        false,
    )
    .await
    .map_err(|e| e.to_string())
}

/// The secret `apply` printed for `client_id`.
pub fn printed_secret(lines: &[String], client_id: &str) -> String {
    lines
        .iter()
        .find(|l| l.starts_with(&format!("secret of client {client_id} ")))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or_else(|| panic!("no secret printed for {client_id}: {lines:?}"))
        .to_owned()
}

pub const SERVICE_SECRET: &str = "en-lång-hemlighet-för-tjänsten-som-testas-0123456789";

/// Two service clients: `lonesystem` (ES256, secret given as hash) and
/// `rapporter` (RS256, secret generated), both `client_credentials`.
pub fn service_clients() -> String {
    format!(
        r#"
[[organisation.client]]
client_id = "lonesystem"
name = "Lönesystemet"
grants = ["client_credentials"]
scopes = ["lon:read", "lon:write", "openid"]
audience = "https://lon.exempelkommun.se"
client_secret_hash = "{}"

[[organisation.client]]
client_id = "rapporter"
name = "Rapporter"
grants = ["client_credentials"]
scopes = ["rapport:read"]
signing_alg = "RS256"
"#,
        portvakt_core::oidc::client::hash_secret(SERVICE_SECRET)
    )
}

impl OidcApp {
    /// POSTs a form to an endpoint of the issuer, with Basic credentials
    /// when given.
    pub async fn post_form(
        &self,
        endpoint: &str,
        basic: Option<(&str, &str)>,
        fields: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        post_form(&self.issuer, endpoint, basic, fields).await
    }
}

pub const REDIRECT: &str = "http://127.0.0.1/cb";

/// RFC 7636 Appendix B: the verifier the tests' requests use, and its challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// Code-flow clients: `intranat` (confidential, ES256, first-party, every
/// scope, refresh), `rs-app` (RS256), `mobilapp` (public, PKCE),
/// `extern` (not first-party: consent), `lararappen` (teachers only),
/// `stark` (authenticator app or passkey required).
pub fn code_clients() -> String {
    let hash = portvakt_core::oidc::client::hash_secret(SERVICE_SECRET);
    let mut out = String::new();
    for (id, extra) in [
        ("intranat", "scopes = [\"openid\", \"profile\", \"email\", \"groups\"]\nfirst_party = true\ngroups = [\"ovrig-personal\", \"pedagogisk-personal\"]\n"),
        ("rs-app", "signing_alg = \"RS256\"\nfirst_party = true\ngroups = [\"ovrig-personal\"]\n"),
        ("extern", "groups = [\"ovrig-personal\"]\n"),
        ("lararappen", "first_party = true\ngroups = [\"pedagogisk-personal\"]\n"),
        ("stark", "first_party = true\ngroups = [\"ovrig-personal\"]\nmethods = [\"app\", \"passkey\"]\n"),
    ] {
        out.push_str(&format!(
            "\n[[organisation.client]]\nclient_id = \"{id}\"\nname = \"App {id}\"\n\
             redirect_uris = [\"{REDIRECT}\"]\ngrants = [\"authorization_code\", \"refresh_token\"]\n\
             client_secret_hash = \"{hash}\"\n{extra}"
        ));
    }
    out.push_str(
        "\n[[organisation.client]]\nclient_id = \"mobilapp\"\nname = \"Mobilappen\"\nkind = \"public\"\n\
         redirect_uris = [\"http://127.0.0.1/native\"]\nfirst_party = true\ngroups = [\"ovrig-personal\"]\n",
    );
    out
}

/// Portvakt with the code-flow clients and the service clients applied.
pub async fn with_code_clients() -> OidcApp {
    let o = spawn_oidc("").await;
    apply_file(
        &o.app,
        &org_file(ORG, &format!("{}{}", code_clients(), service_clients())),
    )
    .await
    .unwrap();
    o
}

/// The query parameters of a redirect's `Location`.
pub fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let q = location.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// Sets the test clock to the real time: clients we did not write check
/// expiry against the machine's clock.
pub fn use_real_time(o: &OidcApp) {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    o.app.clock.set(i64::try_from(now).unwrap());
}

/// Where a page that sends the browser back to the app points (after a
/// form the way back is a page, see `oidc::authorize::Ctx`).
pub fn return_page_target(html: &str) -> String {
    let start = html
        .find("content=\"0;url=")
        .unwrap_or_else(|| panic!("not a page back to the app: {html}"))
        + "content=\"0;url=".len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].replace("&#38;", "&").replace("&amp;", "&")
}
