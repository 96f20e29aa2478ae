//! Configuration: one typed struct read from TOML, with `PORTVAKT_…`
//! environment variables layered on top (`PORTVAKT_SESSION__IDLE_MINUTES=30`
//! sets `[session] idle_minutes`). Unknown keys are errors that name the key.

mod key_file;
mod sections;
#[cfg(test)]
mod tests;

pub use key_file::{read_key_file, write_key_file};
pub use sections::{
    EmailConfig, FactorsConfig, ForwardAuthConfig, LockoutConfig, OidcConfig, PasskeysConfig,
    PasswordConfig, SessionConfig, SmsConfig, StatusConfig,
};

use ipnet::IpNet;
use portvakt_core::auth::lockout::LockoutPolicy;
use portvakt_core::auth::passkey::Url;
use portvakt_core::auth::password::Argon2Params;
use portvakt_core::auth::session::SessionPolicy;
use portvakt_core::domain::Language;
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
    /// The queue of outgoing messages.
    #[serde(default)]
    pub outbox: crate::messaging::senders::OutboxConfig,
    #[serde(default)]
    pub passkeys: Option<PasskeysConfig>,
    #[serde(default)]
    pub forward_auth: Option<ForwardAuthConfig>,
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
    #[serde(default)]
    pub status: StatusConfig,
    #[serde(default)]
    pub proxy: crate::gateway::proxy::config::ProxyConfig,
    /// Header timeout and connections per client (issue 10 L6).
    #[serde(default)]
    pub connections: crate::app::listener::ConnectionsConfig,
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
        if let Some(o) = &self.oidc {
            o.validate()?;
            if self.secret_key_file.is_none() {
                return Err(
                    "oidc: needs secret_key_file (signing keys are stored only sealed)".into(),
                );
            }
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

    /// Portvakt's public address for links read outside the browser (the
    /// team's e-mail): `status.portal_url`, else the portal address of the
    /// proxy or forward-auth section; no trailing slash.
    #[must_use]
    pub fn public_url(&self) -> Option<&str> {
        self.status
            .portal_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'))
            .or_else(|| self.portal_url())
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
