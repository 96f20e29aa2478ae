//! `[proxy]`: where the built-in reverse proxy publishes apps by path.

use portvakt_core::auth::passkey::Url;
use serde::Deserialize;

/// The built-in reverse proxy's publishing (see `docs/security.md`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProxyConfig {
    /// The origin apps published by path are served on
    /// (`https://apps.exempelkommun.se`), never the portal's own, so an
    /// app's script cannot read portal pages or use its forms (issue 10 H2).
    /// Without it, publishing by path is off; a service with its own
    /// `host` is published at that host either way.
    pub apps_origin: Option<String>,
    /// Portvakt's own address, where the apps origin sends people to be
    /// let in (`https://portal.exempelkommun.se`); defaults to
    /// `forward_auth.portal_url`.
    pub portal_url: Option<String>,
}

impl ProxyConfig {
    /// # Errors
    /// A message naming the bad key.
    pub fn validate(&self, dev_mode: bool, portal_url: Option<&str>) -> Result<(), String> {
        let Some(origin) = &self.apps_origin else {
            return Ok(());
        };
        let key = "proxy.apps_origin";
        let url = Url::parse(origin).map_err(|e| format!("{key}: {e}"))?;
        let Some(host) = url.host_str() else {
            return Err(format!("{key}: needs a host name"));
        };
        let plain_ok = dev_mode && (host == "localhost" || host.ends_with(".localhost"));
        if url.scheme() != "https" && !(plain_ok && url.scheme() == "http") {
            return Err(format!(
                "{key}: must be https:// (http only for *.localhost in dev_mode)"
            ));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{key}: an origin only, without a path or query"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{key}: no user name or password"));
        }
        let Some(portal) = portal_url else {
            return Err(format!(
                "{key}: set proxy.portal_url (or forward_auth.portal_url) too"
            ));
        };
        let portal = Url::parse(portal).map_err(|e| format!("proxy.portal_url: {e}"))?;
        if portal.host_str() == Some(host) {
            return Err(format!(
                "{key}: must be another host than the portal's own ({host})"
            ));
        }
        Ok(())
    }

    /// The apps origin without a trailing slash.
    #[must_use]
    pub fn apps_origin(&self) -> Option<&str> {
        self.apps_origin.as_deref().map(|o| o.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use crate::app::config::{Config, ConfigError};

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(
            &format!("database_url = \"sqlite://x.db\"\n{text}"),
            std::iter::empty(),
            "t.toml",
        )
    }

    #[test]
    fn the_apps_origin_is_an_https_origin_apart_from_the_portal() {
        let ok = "[proxy]\napps_origin = \"https://apps.exempelkommun.se\"\n\
                  portal_url = \"https://portal.exempelkommun.se\"";
        let c = load(ok).unwrap();
        assert_eq!(c.proxy.apps_origin(), Some("https://apps.exempelkommun.se"));
        for (bad, word) in [
            (
                "apps_origin = \"http://apps.exempelkommun.se\"\nportal_url = \"https://p.se\"",
                "https",
            ),
            (
                "apps_origin = \"https://apps.se/x\"\nportal_url = \"https://p.se\"",
                "path",
            ),
            (
                "apps_origin = \"https://p.se\"\nportal_url = \"https://p.se\"",
                "another host",
            ),
            ("apps_origin = \"https://apps.se\"", "portal_url"),
            ("apps = 1", "apps"),
        ] {
            let err = load(&format!("[proxy]\n{bad}")).unwrap_err().to_string();
            assert!(err.contains(word), "{bad}: {err}");
        }
    }
}
