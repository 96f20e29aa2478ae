//! Access to the organisation's services: `/auth/verify` for nginx and
//! Caddy, the denied page, the verify cache and the built-in proxy.

pub mod denied;
pub mod proxy;
pub mod verify;
pub mod verify_cache;
pub mod whatif;

use crate::http::router::{Access, Routes};
use axum::routing::get;
use Access::Public;

/// Forward-auth for nginx, Traefik and Caddy.
pub fn routes(r: Routes) -> Routes {
    r.add(&["GET"], "/auth/verify", Public, get(verify::verify))
        .add(&["GET"], "/auth/denied", Public, get(verify::denied))
}
