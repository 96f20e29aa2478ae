use crate::config::Config;
use crate::metrics::Metrics;
use portvakt_core::auth::signin::AuthService;
use portvakt_core::store::Store;
use portvakt_core::Clock;
use std::sync::Arc;

/// Everything a handler may use; cloned per request (all `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub auth: Arc<AuthService>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub cookies: CookieNames,
    /// Deliver queued e-mail and SMS; a channel without a sender is not offered.
    pub senders: crate::senders::Senders,
}

/// Cookie names: `__Host-` prefixed in production, so a sibling subdomain
/// cannot set or shadow them (SECURITY.md B5); plain in loopback dev mode,
/// where browsers refuse `Secure` cookies over HTTP.
#[derive(Clone, Debug)]
pub struct CookieNames {
    pub session: &'static str,
    pub csrf: &'static str,
    pub lang: &'static str,
    /// Binds a forgotten-password attempt to this browser.
    pub reset: &'static str,
    pub secure: bool,
}

impl CookieNames {
    #[must_use]
    pub fn new(secure: bool) -> Self {
        if secure {
            Self {
                session: "__Host-portvakt",
                csrf: "__Host-portvakt-csrf",
                lang: "__Host-portvakt-lang",
                reset: "__Host-portvakt-reset",
                secure,
            }
        } else {
            Self {
                session: "portvakt",
                csrf: "portvakt-csrf",
                lang: "portvakt-lang",
                reset: "portvakt-reset",
                secure,
            }
        }
    }
}
