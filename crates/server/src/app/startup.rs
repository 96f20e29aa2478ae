//! Building and running the application. `build` binds first so callers
//! (tests, the demo) can read the port before serving starts.

use crate::app::config::Config;
use crate::app::metrics::Metrics;
use crate::app::state::{AppState, AppStateInner, CookieNames};
use crate::gateway::verify_cache::VerifyCache;
use crate::http::{csrf, headers, router};
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use portvakt_core::auth::ip_throttle::IpThrottle;
use portvakt_core::auth::passkey::Passkeys;
use portvakt_core::auth::password::PasswordHasher;
use portvakt_core::auth::signin::AuthService;
use portvakt_core::domain::Slug;
use portvakt_core::store::Store;
use portvakt_core::Clock;
use portvakt_store::SqlStore;
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
    /// Whether the background work opens connections of its own (from
    /// the configuration), so that their threads, too, run at its lower
    /// priority. Off when the store was handed in (tests).
    own_background_store: bool,
}

/// Builds the shared state from config, a store and a clock.
///
/// # Errors
/// When the password parameters are invalid.
pub fn build_state(
    config: Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<AppState> {
    let workers = match config.password.hash_workers {
        0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        n => n,
    };
    let hasher = Arc::new(PasswordHasher::new(
        config.argon2(),
        workers,
        config.password.max_queued,
    )?);
    let auth = Arc::new(AuthService {
        store: store.clone(),
        hasher,
        clock: clock.clone(),
        lockout: config.lockout_policy(),
        sessions: config.session_policy(),
        ip_throttle: IpThrottle::new(
            config.lockout.ip_max_failures,
            config.lockout.ip_window_minutes * 60,
        ),
        default_organisation: config.default_organisation.as_deref().and_then(Slug::parse),
        min_password_length: config.password.min_length,
        code_validity_secs: config.email.code_minutes * 60,
        passkeys: match &config.passkeys {
            Some(p) => Some(Arc::new(
                Passkeys::new(&p.relying_party().map_err(anyhow::Error::msg)?)
                    .map_err(anyhow::Error::msg)?,
            )),
            None => None,
        },
    });
    let senders = crate::messaging::senders::Senders::from_config(&config.email, &config.sms)
        .map_err(anyhow::Error::msg)?;
    let metrics = Arc::new(Metrics::default());
    let oidc_exchanges =
        crate::oidc::exchange::Exchanges::new(store.clone(), clock.clone(), metrics.clone());
    Ok(AppState::new(AppStateInner {
        cookies: CookieNames::new(
            config.secure_cookies(),
            config
                .forward_auth
                .as_ref()
                .and_then(|f| f.cookie_domain.as_deref()),
        ),
        config: Arc::new(config),
        store,
        auth,
        clock,
        metrics: metrics.clone(),
        senders,
        verify: Arc::new(VerifyCache::new(std::time::Duration::from_secs(1))),
        upstreams: crate::gateway::proxy::client(),
        oidc: Arc::new(crate::oidc::issuers::Issuers::new(
            std::time::Duration::from_secs(1),
        )),
        // A thousand waiting sign-ins per address in ten minutes: far above a
        // school behind one address at eight o'clock, far below a flood.
        oidc_requests: Arc::new(IpThrottle::new(1000, 600)),
        oidc_exchanges,
        freezes: crate::crisis::freeze::FreezeCache::default(),
    }))
}

/// The full HTTP application with its layers.
///
/// `/auth/verify` is asked once per request to every protected app, so it
/// is routed before the page layers (CSRF, security headers, the record of
/// refusals, the body limit), which it would only pass through: its answer
/// has no body and sets no cookie. The apps-origin check in the proxy layer
/// still comes first.
pub fn app(state: AppState) -> Router {
    let pages = router::router(&state)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::audit::events::refusals,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::layer,
        ))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::body_deadline::layer,
        ))
        .with_state(state.clone());
    // The OpenID provider's machine endpoints: called by apps, not
    // browsers' forms, so no CSRF form token and no page headers; their
    // own small body limit.
    let api = router::api_router()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            headers::api_layer,
        ))
        .layer(DefaultBodyLimit::max(16 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::body_deadline::layer,
        ));
    Router::new()
        .route(
            "/auth/verify",
            axum::routing::get(crate::gateway::verify::verify),
        )
        .merge(api)
        .fallback_service(pages)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::gateway::proxy::layer,
        ))
        .with_state(state)
}

/// Opens the configured database with the secret-sealing key, sealing any
/// secret still stored in the clear (from before the key was set).
///
/// # Errors
/// Database or migration failures, or a bad `secret_key_file`.
pub async fn open_store(config: &Config) -> anyhow::Result<SqlStore> {
    keyed(
        config,
        SqlStore::connect(config.database_url.expose_secret()).await?,
    )
    .await
}

/// [`open_store`] with a single connection, for a worker doing one thing
/// after another (see [`SqlStore::connect_single`]).
///
/// # Errors
/// As [`open_store`].
pub async fn open_worker_store(config: &Config) -> anyhow::Result<SqlStore> {
    keyed(
        config,
        SqlStore::connect_single(config.database_url.expose_secret()).await?,
    )
    .await
}

async fn keyed(config: &Config, mut store: SqlStore) -> anyhow::Result<SqlStore> {
    match config.secret_key().map_err(anyhow::Error::msg)? {
        Some(key) => {
            store = store.with_secret_key(&key);
            let n = store.seal_plain_secrets().await?;
            if n > 0 {
                tracing::info!(
                    sealed = n,
                    "second-factor secrets sealed with the secret key"
                );
            }
        }
        None => tracing::warn!(
            "no secret_key_file: second-factor secrets are stored in the clear in the database"
        ),
    }
    Ok(store)
}

impl Application {
    /// Connects to the configured database and binds the listeners.
    ///
    /// # Errors
    /// Database, migration or bind failures.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store: Arc<dyn Store> = Arc::new(open_store(&config).await?);
        let mut app = Self::build_with_store(config, store, clock).await?;
        app.own_background_store = true;
        Ok(app)
    }

    /// # Errors
    /// Bind failures or invalid config.
    pub async fn build_with_store(
        config: Config,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.listen).await?;
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let state = build_state(config, store, clock)?;
        Ok(Self {
            listener,
            metrics_listener,
            state,
            own_background_store: false,
        })
    }

    /// # Errors
    /// When the socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    #[must_use]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then lets requests in flight finish.
    ///
    /// # Errors
    /// Server I/O errors.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match wide_zone_warnings(&*self.state.store).await {
            Ok(warnings) => warnings.iter().for_each(|w| tracing::warn!("{w}")),
            Err(e) => tracing::warn!(error = %e, "could not check zones for very wide ranges"),
        }
        // The background work ends with the server: a stopped server
        // neither sends mail nor holds the probe lead.
        let mut workers = Workers(Vec::new());
        if let Some(ml) = self.metrics_listener {
            let metrics = self.state.metrics.clone();
            let r = Router::new().route("/metrics", get(move || async move { metrics.render() }));
            workers.push(tokio::spawn(async move {
                let _ = axum::serve(ml, r).await;
            }));
        }
        // The outbox (always: digital mailboxes are configured per
        // organisation, and crisis rotations queue their codes there) and
        // crisis rotations (codes still to issue, after a crash too; people
        // to move on to their next channel) run at a lower priority.
        let state = self.state.clone();
        let own_store = self.own_background_store;
        let _background =
            crate::app::background::spawn("portvakt-background", move |stop| async move {
                // Connections opened here have their threads at this
                // thread's priority (SQLite does its work on them).
                let store: Arc<dyn Store> = if own_store {
                    match open_store(&state.config).await {
                        Ok(s) => Arc::new(s),
                        Err(e) => {
                            tracing::warn!(error = %e, "background: using the shared connections");
                            state.store.clone()
                        }
                    }
                } else {
                    state.store.clone()
                };
                // Codes of rotations started on the web (or left half done)
                // are issued on CPU time nobody else wants, when there is some.
                let lane = if own_store {
                    // Opened here, so that SQLite's thread for it has this
                    // thread's (low, not idle) priority.
                    match open_worker_store(&state.config).await {
                        Ok(s) => {
                            let s: Arc<dyn Store> = Arc::new(s);
                            crate::app::background::IdleLane::spawn(
                                "portvakt-idle",
                                move || async move { Ok(s) },
                            )
                            .map_err(|e| tracing::warn!(error = %e, "no idle lane"))
                            .ok()
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "no idle lane");
                            None
                        }
                    }
                } else {
                    None
                };
                let portal = crate::crisis::rotation::portal_address(&state.config);
                let runner = format!("server:{}", portvakt_core::ids::EventId::generate());
                let claim_secs = state.config.outbox.claim_secs;
                let outbox = async {
                    while !crate::app::background::stopping(&stop) {
                        // While a crisis rotation issues its codes, they go
                        // first: delivering meanwhile would only contend
                        // for the database's write lock (a few seconds).
                        let issuing =
                            store
                                .open_rotations(state.clock.now())
                                .await
                                .is_ok_and(|r| {
                                    r.iter().any(|r| {
                                        r.phase == portvakt_core::rotation::RotationPhase::Issuing
                                    })
                                });
                        if issuing {
                            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                            continue;
                        }
                        let claimed = crate::messaging::senders::outbox_step(
                            &*store,
                            &state.senders,
                            &*state.clock,
                            &state.metrics,
                            claim_secs,
                        )
                        .await;
                        // A full batch: more may be due at once.
                        if claimed < crate::messaging::senders::BATCH {
                            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                        }
                    }
                };
                let rotations = async {
                    while !crate::app::background::stopping(&stop) {
                        // The breach register's reminders (a few rows).
                        crate::crisis::breach_notify::reminders_step(&*store, state.clock.now())
                            .await;
                        crate::crisis::rotation::worker_step(
                            &*store,
                            lane.as_ref(),
                            &state.clock,
                            portal.as_deref(),
                            &runner,
                        )
                        .await;
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                };
                tokio::join!(outbox, rotations);
            })?;
        workers.extend(crate::status::probes::runner::spawn(self.state.clone()));
        let state = self.state.clone();
        workers.push(tokio::spawn(async move {
            crate::oidc::prepare_keys(&state).await;
        }));
        let config = self.state.config.clone();
        crate::app::listener::serve(
            self.listener,
            app(self.state),
            &config.connections,
            &config.trusted_proxies,
            shutdown_signal(),
        )
        .await
    }
}

/// Tasks that stop when dropped.
struct Workers(Vec<tokio::task::JoinHandle<()>>);

impl Workers {
    fn push(&mut self, task: tokio::task::JoinHandle<()>) {
        self.0.push(task);
    }

    fn extend(&mut self, tasks: impl IntoIterator<Item = tokio::task::JoinHandle<()>>) {
        self.0.extend(tasks);
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// The `apply` warning about zones that make everyone "inside", repeated at
/// every start so a zone set before the warning existed is not missed
/// (issue 10).
///
/// # Errors
/// Store failures (the caller logs them and serves on).
pub async fn wide_zone_warnings(
    store: &dyn Store,
) -> Result<Vec<String>, portvakt_core::StoreError> {
    let mut out = Vec::new();
    for o in store.list_organisations().await? {
        for z in store.zones(&o.id).await? {
            let items: Vec<&str> = z.cidrs.split(',').collect();
            if let Ok(cidrs) = portvakt_core::domain::ZoneCidrs::parse(&items) {
                let wide = cidrs.too_wide();
                if !wide.is_empty() {
                    out.push(portvakt_core::domain::wide_zone_warning(
                        o.slug.as_str(),
                        z.slug.as_str(),
                        &wide,
                    ));
                }
            }
        }
    }
    Ok(out)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
