//! Configuration: one typed struct read from TOML, with `PORTVAKT_…`
//! environment variables layered on top (`PORTVAKT_SESSION__IDLE_MINUTES=30`
//! sets `[session] idle_minutes`). Unknown keys are errors that name the key.

use ipnet::IpNet;
use portvakt_core::auth::lockout::LockoutPolicy;
use portvakt_core::auth::passkey::{PasskeyConfig, Passkeys, Url};
use portvakt_core::auth::password::Argon2Params;
use portvakt_core::auth::session::SessionPolicy;
use portvakt_core::domain::Language;
use portvakt_core::return_url::ReturnPolicy;
use portvakt_core::store::FactorKind;
use secrecy::SecretString;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Secret: a PostgreSQL URL carries the password.
    pub database_url: SecretString,
    /// Lets cookies go without `Secure` and the `__Host-` prefix, for the
    /// demo over plain HTTP. Refused unless `listen` is a loopback address.
    #[serde(default)]
    pub dev_mode: bool,
    /// Organisation for usernames whose domain matches none (slug).
    #[serde(default)]
    pub default_organisation: Option<String>,
    /// For people who chose no language and whose browser asks for none of ours.
    #[serde(default)]
    pub default_language: Language,
    /// Peers whose `X-Forwarded-For` / `Forwarded` headers are believed (SECURITY.md E1).
    #[serde(default)]
    pub trusted_proxies: Vec<IpNet>,
    /// Separate listener for Prometheus `/metrics`; off unless set (E4).
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// 32 random bytes, base64, that seal second-factor secrets in the
    /// database (`head -c 32 /dev/urandom | base64 > secret.key`, mode
    /// 0600). Without it secrets are stored in the clear, with a warning.
    #[serde(default)]
    pub secret_key_file: Option<std::path::PathBuf>,
    #[serde(default)]
    pub session: SessionConfig,
    #[serde(default)]
    pub password: PasswordConfig,
    #[serde(default)]
    pub lockout: LockoutConfig,
    #[serde(default)]
    pub factors: FactorsConfig,
    #[serde(default)]
    pub email: EmailConfig,
    #[serde(default)]
    pub sms: SmsConfig,
    #[serde(default)]
    pub passkeys: Option<PasskeysConfig>,
    #[serde(default)]
    pub forward_auth: Option<ForwardAuthConfig>,
    #[serde(default)]
    pub status: StatusConfig,
    #[serde(default)]
    pub proxy: crate::gateway::proxy::config::ProxyConfig,
    /// Header timeout and connections per client (issue 10 L6).
    #[serde(default)]
    pub connections: crate::app::listener::ConnectionsConfig,
}

/// The status page's static copy.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusConfig {
    /// Written after every change: `<export_dir>/<organisation>/index.html` …
    pub export_dir: Option<std::path::PathBuf>,
    /// Run after each export (`sh -c`), `{dir}` replaced by the folder,
    /// e.g. `rsync -a {dir}/ www.exempelkommun.se:/var/www/driftinfo/`.
    pub push_command: Option<String>,
    /// Or: each file PUT to `<push_url>/<organisation>/<file>` (WebDAV).
    pub push_url: Option<SecretString>,
    /// Sent as `Authorization` with each PUT.
    pub push_auth_header: Option<SecretString>,
    /// Where the pushed copy is published (`https://www.exempelkommun.se/driftinfo/`),
    /// for the self-check page and as a link.
    pub public_copy_url: Option<String>,
    /// Portvakt's public address, which the copy's self-check tries
    /// (`https://portal.exempelkommun.se`).
    pub portal_url: Option<String>,
    /// A well-known address outside the organisation the self-check tries
    /// (an empty 204 answer is best), e.g. `https://www.gstatic.com/generate_204`.
    pub outside_check_url: Option<String>,
    /// Take part in running the organisations' health probes (default
    /// on). Servers sharing a PostgreSQL database elect one of them to run
    /// the probes; `false` keeps this one out of the election.
    pub run_probes: Option<bool>,
    /// How often probe figures are written and probe definitions reloaded
    /// (seconds, default 60).
    pub probe_flush_seconds: Option<u64>,
}

/// SMS codes through an HTTP gateway (or, for the demo, a folder).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// The gateway's URL; Portvakt POSTs the body template as JSON.
    pub gateway_url: Option<SecretString>,
    /// Sent as the `Authorization` header, e.g. `Bearer …`.
    pub auth_header: Option<SecretString>,
    /// JSON with `{to}` (digits, international) and `{message}`.
    pub body_template: String,
    /// Instead of a gateway: write each SMS as a file here.
    pub outbox_dir: Option<std::path::PathBuf>,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            gateway_url: None,
            auth_header: None,
            body_template: r#"{"to": "{to}", "message": "{message}"}"#.into(),
            outbox_dir: None,
        }
    }
}

/// Outgoing e-mail (one-time codes, notifications).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// Sender shown to users.
    pub from: String,
    /// `smtp://host:25` (plain, loopback only), `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host:465` (TLS).
    pub smtp_url: Option<SecretString>,
    /// Instead of SMTP: write each message as a file here (the demo does).
    pub outbox_dir: Option<std::path::PathBuf>,
    /// How long an e-mailed code is valid (1–10).
    pub code_minutes: i64,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            from: "Portvakt <portvakt@localhost>".into(),
            smtp_url: None,
            outbox_dir: None,
            code_minutes: 5,
        }
    }
}

/// Where second factors may be registered from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FactorsConfig {
    /// Second factors may only be added from an internal network zone
    /// (seed 004: numbers "only from the municipality's internal network").
    pub register_inside_only: bool,
    /// Per kind (`totp`, `sms`, `email`, `passkey`), overriding the default above.
    pub inside_only: std::collections::BTreeMap<String, bool>,
}

impl Default for FactorsConfig {
    fn default() -> Self {
        Self {
            register_inside_only: true,
            inside_only: std::collections::BTreeMap::new(),
        }
    }
}

impl FactorsConfig {
    /// Whether a factor of this kind may only be registered from inside.
    #[must_use]
    pub fn inside_only_for(&self, kind: FactorKind) -> bool {
        self.inside_only
            .get(kind.as_str())
            .copied()
            .unwrap_or(self.register_inside_only)
    }
}

/// Forward-auth (`/auth/verify`) for apps behind nginx, Traefik or Caddy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardAuthConfig {
    /// Portvakt's own address, where people are sent to sign in
    /// (`https://portal.exempelkommun.se`).
    pub portal_url: String,
    /// Domains whose addresses people may be sent back to after signing in
    /// (subdomains included), SECURITY.md E3.
    pub domains: Vec<String>,
    /// The session cookie is shared with every host under this domain, so
    /// the apps' requests carry it (single sign-on). One of `domains`.
    pub cookie_domain: Option<String>,
    /// Allow `http://` return addresses (loopback test setups only).
    #[serde(default)]
    pub allow_http: bool,
}

impl ForwardAuthConfig {
    #[must_use]
    pub fn return_policy(&self) -> ReturnPolicy {
        ReturnPolicy {
            domains: self
                .domains
                .iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
            allow_http: self.allow_http,
        }
    }
}

/// The WebAuthn relying party. Without this section passkeys are off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasskeysConfig {
    /// The domain passkeys are bound to: the portal's host name or a parent
    /// domain of it (`portal.exempelkommun.se` or `exempelkommun.se`).
    pub rp_id: String,
    /// The exact origins the portal is reached at (`https://portal.exempelkommun.se`).
    pub origins: Vec<String>,
    /// The name browsers show when asking for the passkey.
    #[serde(default = "default_rp_name")]
    pub name: String,
}

fn default_rp_name() -> String {
    "Portvakt".into()
}

impl PasskeysConfig {
    /// # Errors
    /// A message naming the bad key.
    pub fn relying_party(&self) -> Result<PasskeyConfig, String> {
        let mut origins = Vec::new();
        for o in &self.origins {
            let url = Url::parse(o).map_err(|e| format!("passkeys.origins: {o}: {e}"))?;
            let local = matches!(url.host_str(), Some("localhost"));
            if url.scheme() != "https" && !local {
                return Err(format!(
                    "passkeys.origins: {o}: must be https (http only for localhost)"
                ));
            }
            origins.push(url);
        }
        let config = PasskeyConfig {
            rp_id: self.rp_id.clone(),
            origins,
            rp_name: self.name.clone(),
        };
        Passkeys::new(&config)?;
        Ok(config)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_minutes: i64,
    pub absolute_hours: i64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_minutes: 15,
            absolute_hours: 12,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Minimum length of new passwords (SECURITY.md: 15 when a password is used alone).
    pub min_length: usize,
    /// Concurrent hashes; 0 means one per CPU core.
    pub hash_workers: usize,
    /// Sign-ins waiting for a hashing slot before new ones get "busy".
    pub max_queued: usize,
}

impl Default for PasswordConfig {
    fn default() -> Self {
        let p = Argon2Params::default();
        Self {
            memory_kib: p.memory_kib,
            iterations: p.iterations,
            parallelism: p.parallelism,
            min_length: 15,
            hash_workers: 0,
            max_queued: 256,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockoutConfig {
    pub free_attempts: u32,
    pub base_delay_seconds: i64,
    pub max_delay_seconds: i64,
    pub lock_after: u32,
    pub ip_max_failures: u32,
    pub ip_window_minutes: i64,
}

impl Default for LockoutConfig {
    fn default() -> Self {
        let p = LockoutPolicy::default();
        Self {
            free_attempts: p.free_attempts,
            base_delay_seconds: p.base_delay_secs,
            max_delay_seconds: p.max_delay_secs,
            lock_after: p.lock_after,
            ip_max_failures: 100,
            ip_window_minutes: 10,
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Config {
    /// The key from `secret_key_file`, if one is configured.
    ///
    /// # Errors
    /// An unreadable file or anything but 32 bytes of base64.
    pub fn secret_key(&self) -> Result<Option<[u8; 32]>, String> {
        self.secret_key_file
            .as_deref()
            .map(read_key_file)
            .transpose()
    }

    /// Reads a TOML file and the environment.
    ///
    /// # Errors
    /// Unreadable file, bad TOML, unknown or invalid keys; the message names the key.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_toml(&text, std::env::vars(), &path.display().to_string())
    }

    /// # Errors
    /// As [`Config::load`].
    pub fn from_toml(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
        origin: &str,
    ) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: origin.to_owned(),
            message,
        };
        let mut value: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("PORTVAKT_") else {
                continue;
            };
            if rest == "CONFIG" || rest == "LOG" {
                continue;
            }
            let keys: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            let parsed = format!("x = {v}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("x"))
                .unwrap_or(toml::Value::String(v));
            set_path(&mut value, &keys, parsed);
        }
        let cfg: Config = toml::Value::Table(value)
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        cfg.validate().map_err(invalid)?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), String> {
        if self.dev_mode && !self.listen.ip().is_loopback() {
            return Err("dev_mode: only allowed when `listen` is a loopback address".into());
        }
        if !(1..=24 * 60).contains(&self.session.idle_minutes) {
            return Err("session.idle_minutes: must be between 1 and 1440".into());
        }
        if !(1..=24 * 30).contains(&self.session.absolute_hours) {
            return Err("session.absolute_hours: must be between 1 and 720".into());
        }
        self.argon2()
            .validate()
            .map_err(|e| format!("password: {e}"))?;
        self.connections.validate()?;
        if self.password.min_length < 8 {
            return Err("password.min_length: must be at least 8".into());
        }
        if !(1..=10).contains(&self.email.code_minutes) {
            return Err("email.code_minutes: must be between 1 and 10".into());
        }
        if self.lockout.lock_after == 0 || self.lockout.lock_after > 100 {
            return Err("lockout.lock_after: must be between 1 and 100".into());
        }
        if let Some(k) = self
            .factors
            .inside_only
            .keys()
            .find(|k| FactorKind::parse(k).is_none())
        {
            return Err(format!(
                "factors.inside_only.{k}: unknown kind (totp, sms, email, passkey)"
            ));
        }
        if let Some(p) = &self.passkeys {
            p.relying_party()?;
        }
        if let Some(f) = &self.forward_auth {
            let portal =
                Url::parse(&f.portal_url).map_err(|e| format!("forward_auth.portal_url: {e}"))?;
            if portal.scheme() != "https" && !(f.allow_http && portal.scheme() == "http") {
                return Err("forward_auth.portal_url: must be https://".into());
            }
            if f.domains.is_empty() {
                return Err("forward_auth.domains: name at least one domain".into());
            }
            if let Some(d) = &f.cookie_domain {
                if f.return_policy().check(&format!("https://{d}/")).is_none() {
                    return Err(format!(
                        "forward_auth.cookie_domain: {d} is not one of forward_auth.domains"
                    ));
                }
            }
        }
        self.proxy.validate(self.dev_mode, self.portal_url())
    }

    /// The portal's own address for the apps origin to send people back to.
    #[must_use]
    pub fn portal_url(&self) -> Option<&str> {
        self.proxy
            .portal_url
            .as_deref()
            .or(self.forward_auth.as_ref().map(|f| f.portal_url.as_str()))
            .map(|u| u.trim_end_matches('/'))
    }

    #[must_use]
    pub fn argon2(&self) -> Argon2Params {
        Argon2Params {
            memory_kib: self.password.memory_kib,
            iterations: self.password.iterations,
            parallelism: self.password.parallelism,
        }
    }

    #[must_use]
    pub fn session_policy(&self) -> SessionPolicy {
        SessionPolicy {
            idle_secs: self.session.idle_minutes * 60,
            absolute_secs: self.session.absolute_hours * 3600,
            ..SessionPolicy::default()
        }
    }

    #[must_use]
    pub fn lockout_policy(&self) -> LockoutPolicy {
        LockoutPolicy {
            free_attempts: self.lockout.free_attempts,
            base_delay_secs: self.lockout.base_delay_seconds,
            max_delay_secs: self.lockout.max_delay_seconds,
            lock_after: self.lockout.lock_after,
        }
    }

    /// Whether cookies carry `Secure` and the `__Host-` prefix.
    #[must_use]
    pub fn secure_cookies(&self) -> bool {
        !self.dev_mode
    }
}

fn set_path(table: &mut toml::Table, keys: &[String], v: toml::Value) {
    match keys {
        [] => {}
        [last] => {
            table.insert(last.clone(), v);
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = entry {
                set_path(t, rest, v);
            }
        }
    }
}

/// Reads a key file: 32 bytes as base64.
///
/// # Errors
/// An unreadable file or anything but 32 bytes of base64, naming the file.
pub fn read_key_file(path: &Path) -> Result<[u8; 32], String> {
    use base64::Engine;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("secret key file {}: {e}", path.display()))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| format!("secret key file {}: not base64", path.display()))?;
    <[u8; 32]>::try_from(raw.as_slice())
        .map_err(|_| format!("secret key file {}: must hold 32 bytes", path.display()))
}

/// Writes a fresh key file (base64 of 32 random bytes), readable by the
/// owner only; refuses to overwrite one.
///
/// # Errors
/// File-system failures, or the file exists.
pub fn write_key_file(path: &Path) -> std::io::Result<()> {
    use base64::Engine;
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let text = base64::engine::general_purpose::STANDARD.encode(key) + "\n";
    let mut f = std::fs::OpenOptions::new();
    f.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
    std::io::Write::write_all(&mut f.open(path)?, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn env_overrides_and_unknown_keys_are_named() {
        let env = vec![("PORTVAKT_SESSION__IDLE_MINUTES".to_owned(), "30".to_owned())];
        let c = Config::from_toml(
            "database_url = \"sqlite://x.db\"",
            env.into_iter(),
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.session.idle_minutes, 30);
        let err = Config::from_toml(
            "database_url = \"x\"\nbogus = 1",
            std::iter::empty(),
            "t.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
        let err = Config::from_toml(
            "database_url = \"x\"\nlisten = \"0.0.0.0:8080\"\ndev_mode = true",
            std::iter::empty(),
            "t.toml",
        )
        .unwrap_err();
        assert!(err.to_string().contains("dev_mode"));
    }

    /// Issue 11: a loaded configuration can be logged or printed in a
    /// panic without giving away a password, token or API key.
    #[test]
    fn secrets_never_print() {
        let text = "database_url = \"postgres://portvakt:db-S3CRET@db/portvakt\"\n\
            [email]\nsmtp_url = \"smtps://mail:smtp-S3CRET@smtp.example:465\"\n\
            [sms]\ngateway_url = \"https://sms.example/send?key=url-S3CRET\"\n\
            auth_header = \"Bearer sms-S3CRET\"\n\
            [status]\npush_url = \"https://dav:dav-S3CRET@www.example/dav\"\n";
        let env = [(
            "PORTVAKT_STATUS__PUSH_AUTH_HEADER".to_owned(),
            "Basic push-S3CRET".to_owned(),
        )];
        let c = Config::from_toml(text, env.into_iter(), "t.toml").unwrap();
        assert_eq!(
            c.status
                .push_auth_header
                .as_ref()
                .map(|h| h.expose_secret()),
            Some("Basic push-S3CRET")
        );
        for shown in [format!("{c:?}"), format!("{c:#?}")] {
            assert!(!shown.contains("S3CRET"), "{shown}");
            assert!(shown.contains("REDACTED"), "{shown}");
        }
    }

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(
            &format!("database_url = \"sqlite://x.db\"\n{text}"),
            std::iter::empty(),
            "t.toml",
        )
    }

    #[test]
    fn the_default_language_is_one_of_ours() {
        assert_eq!(load("").unwrap().default_language, Language::Sv);
        assert_eq!(
            load("default_language = \"en\"").unwrap().default_language,
            Language::En
        );
        let err = load("default_language = \"de\"").unwrap_err().to_string();
        assert!(err.contains("default_language"), "{err}");
        assert!(err.contains("`sv` or `en`"), "{err}");
    }

    #[test]
    fn inside_only_is_set_per_kind_and_unknown_kinds_are_named() {
        let c =
            load("[factors]\nregister_inside_only = true\n[factors.inside_only]\npasskey = false")
                .unwrap();
        assert!(c.factors.inside_only_for(FactorKind::Sms));
        assert!(!c.factors.inside_only_for(FactorKind::Passkey));
        let err = load("[factors.inside_only]\nfax = true").unwrap_err();
        assert!(err.to_string().contains("factors.inside_only.fax"), "{err}");
    }

    #[test]
    fn passkey_origins_must_be_https_and_fit_the_rp_id() {
        let ok = "[passkeys]\nrp_id = \"exempelkommun.se\"\norigins = [\"https://portal.exempelkommun.se\"]";
        assert!(load(ok).unwrap().passkeys.is_some());
        let http = "[passkeys]\nrp_id = \"exempelkommun.se\"\norigins = [\"http://portal.exempelkommun.se\"]";
        assert!(load(http).unwrap_err().to_string().contains("https"));
        let local = "[passkeys]\nrp_id = \"localhost\"\norigins = [\"http://localhost:8080\"]";
        assert!(load(local).is_ok());
        let other =
            "[passkeys]\nrp_id = \"example.org\"\norigins = [\"https://portal.exempelkommun.se\"]";
        assert!(load(other).unwrap_err().to_string().contains("passkeys"));
    }
}
