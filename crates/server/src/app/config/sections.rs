//! The sections of the configuration file, each with its defaults.

use portvakt_core::auth::lockout::LockoutPolicy;
use portvakt_core::auth::passkey::{PasskeyConfig, Passkeys, Url};
use portvakt_core::auth::password::Argon2Params;
use portvakt_core::return_url::ReturnPolicy;
use portvakt_core::store::FactorKind;
use secrecy::SecretString;
use serde::Deserialize;

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
    /// Portvakt's public address, which the copy's self-check tries and
    /// the team's mail links to (`https://portal.exempelkommun.se`).
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

/// The OpenID Connect provider (issue 13). Absent: off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Portvakt's public address as apps reach it
    /// (`https://portal.exempelkommun.se`); each organisation's issuer is
    /// `{issuer_base}/oidc/{organisation}`. Never derived from the
    /// request's `Host`, so a forged header cannot change the issuer.
    pub issuer_base: String,
    /// Lifetime of access tokens (JWT, RFC 9068), 1–60 minutes.
    #[serde(default = "default_access_token_minutes")]
    pub access_token_minutes: u32,
    /// How long an app may stay signed in with refresh tokens after the
    /// person signed in (1–720 hours); signing out ends it sooner.
    #[serde(default = "default_grant_hours")]
    pub grant_hours: u32,
}

fn default_grant_hours() -> u32 {
    12
}

fn default_access_token_minutes() -> u32 {
    5
}

impl OidcConfig {
    /// `https://`, or `http://` to a loopback host (tests, the demo); no
    /// query, fragment or credentials.
    ///
    /// # Errors
    /// The message names the key and the rule.
    pub fn validate(&self) -> Result<(), String> {
        let url = Url::parse(&self.issuer_base).map_err(|e| format!("oidc.issuer_base: {e}"))?;
        let host = url.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(
                "oidc.issuer_base: must be https:// (http:// only for a loopback address)".into(),
            );
        }
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err("oidc.issuer_base: no query, fragment or user name".into());
        }
        if !(1..=720).contains(&self.grant_hours) {
            return Err("oidc.grant_hours: must be between 1 and 720".into());
        }
        if !(1..=60).contains(&self.access_token_minutes) {
            return Err("oidc.access_token_minutes: must be between 1 and 60".into());
        }
        Ok(())
    }

    /// The base without a trailing slash.
    #[must_use]
    pub fn base(&self) -> &str {
        self.issuer_base.trim_end_matches('/')
    }
}
