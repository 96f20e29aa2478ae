//! The portal page: the services a person may open, and step-up.

pub mod home;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use Access::SignedIn;

/// The portal page and step-up.
pub fn routes(r: Routes) -> Routes {
    r.add(&["GET"], "/", SignedIn, get(home::portal_get)).add(
        &["POST"],
        "/step-up",
        SignedIn,
        post(home::step_up_post),
    )
}
