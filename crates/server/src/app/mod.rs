//! Start-up and wiring: configuration, state, the listener, metrics and
//! the background workers started with the server.

pub mod background;
pub mod config;
pub mod health;
pub mod listener;
pub mod metrics;
pub mod private_fs;
pub mod startup;
pub mod state;

use crate::http::router::{Access, Routes};
use axum::routing::get;
use Access::Public;

/// Liveness and readiness.
pub fn routes(r: Routes) -> Routes {
    r.add(&["GET"], "/healthz", Public, get(health::healthz))
        .add(&["GET"], "/readyz", Public, get(health::readyz))
}
