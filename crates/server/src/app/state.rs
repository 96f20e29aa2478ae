use crate::app::config::Config;
use crate::app::metrics::Metrics;
use portvakt_core::auth::signin::AuthService;
use portvakt_core::store::Store;
use portvakt_core::Clock;
use std::sync::Arc;

/// Everything a handler may use. Cloned several times per request (by
/// each layer and extractor), so it is one `Arc`; fields are reached
/// through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl AppState {
    #[must_use]
    pub fn new(inner: AppStateInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

pub struct AppStateInner {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub auth: Arc<AuthService>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub cookies: CookieNames,
    /// Deliver queued e-mail and SMS; a channel without a sender is not offered.
    pub senders: crate::messaging::senders::Senders,
    /// Sessions and rules for `/auth/verify`, with bounded staleness.
    pub verify: Arc<crate::gateway::verify_cache::VerifyCache>,
    /// Pooled connections to the apps the built-in proxy publishes.
    pub upstreams: crate::gateway::proxy::Upstreams,
    /// Each organisation's OpenID issuer: documents and parsed keys.
    pub oidc: Arc<crate::oidc::issuers::Issuers>,
    /// Authorization requests put aside to wait, per client address.
    pub oidc_requests: Arc<portvakt_core::auth::ip_throttle::IpThrottle>,
    /// Code exchanges waiting to be redeemed together.
    pub oidc_exchanges: crate::oidc::exchange::Exchanges,
    /// Each organisation's change freeze, read at most once a second.
    pub freezes: crate::crisis::freeze::FreezeCache,
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
    /// Where to go after signing in (a checked forward-auth return URL).
    pub return_to: &'static str,
    /// The apps origin's own cookie: a session link, never the session
    /// token itself, and host-only on the apps origin (issue 10 H2).
    pub apps: &'static str,
    /// Binds a hand-over ticket to the browser on the apps origin that
    /// asked for it (as OAuth's `state`).
    pub apps_state: &'static str,
    /// During a step-up: the full session it started from, handed back if
    /// the person cancels, ended once the step-up completes. Host-only, so
    /// forward-auth apps under `session_domain` never see it.
    pub step_up: &'static str,
    /// A browser's own random id, to tell a sign-in from a new browser
    /// (issue 14). Host-only, long-lived, never the session.
    pub device: &'static str,
    pub secure: bool,
    /// Forward-auth single sign-on: the session cookie is sent to every
    /// host under this domain (so it cannot carry the `__Host-` prefix).
    pub session_domain: Option<Arc<str>>,
}

impl CookieNames {
    #[must_use]
    pub fn new(secure: bool, session_domain: Option<&str>) -> Self {
        let session_domain: Option<Arc<str>> = session_domain.map(Arc::from);
        if secure {
            Self {
                session: if session_domain.is_some() {
                    "__Secure-portvakt"
                } else {
                    "__Host-portvakt"
                },
                csrf: "__Host-portvakt-csrf",
                lang: "__Host-portvakt-lang",
                reset: "__Host-portvakt-reset",
                return_to: "__Host-portvakt-return",
                apps: "__Host-portvakt-apps",
                apps_state: "__Host-portvakt-apps-state",
                step_up: "__Host-portvakt-stepup",
                device: "__Host-portvakt-device",
                secure,
                session_domain,
            }
        } else {
            Self {
                session: "portvakt",
                csrf: "portvakt-csrf",
                lang: "portvakt-lang",
                reset: "portvakt-reset",
                return_to: "portvakt-return",
                apps: "portvakt-apps",
                apps_state: "portvakt-apps-state",
                step_up: "portvakt-stepup",
                device: "portvakt-device",
                secure,
                session_domain,
            }
        }
    }
}
