//! When the whole organisation is hit (issue 15): the change freeze (this
//! far); crisis rotation and the breach register come here too.

pub mod cli;
pub mod freeze;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use portvakt_core::domain::Role;

pub fn routes(r: Routes) -> Routes {
    let admin = Access::Role(Role::OrgAdmin);
    r.add(
        &["GET", "POST"],
        "/admin/freeze",
        admin,
        get(freeze::freeze_get).post(freeze::declare_post),
    )
    .add(
        &["POST"],
        "/admin/freeze/propose-lift",
        admin,
        post(freeze::propose_lift_post),
    )
    .add(
        &["POST"],
        "/admin/freeze/lift",
        admin,
        post(freeze::lift_post),
    )
}
