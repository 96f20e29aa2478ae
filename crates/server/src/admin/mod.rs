//! The service desk's tools for other people's accounts, and intrusion
//! cases (what they do is recorded by `audit::events`).

pub mod actions;
pub mod intrusion;
pub mod users;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use portvakt_core::domain::Role;

/// The service desk's pages for other people's accounts.
pub fn routes(r: Routes) -> Routes {
    let desk = Access::Role(Role::Servicedesk);
    intrusion::routes(r)
        .add(&["GET"], "/admin/users", desk, get(users::users_get))
        .add(&["GET"], "/admin/users/{id}", desk, get(users::user_get))
        .add(
            &["POST"],
            "/admin/users/{id}/unlock",
            desk,
            post(actions::unlock_post),
        )
        .add(
            &["POST"],
            "/admin/users/{id}/lock",
            desk,
            post(actions::lock_post),
        )
        .add(
            &["POST"],
            "/admin/users/{id}/revoke-sessions",
            desk,
            post(actions::revoke_post),
        )
        .add(
            &["POST"],
            "/admin/users/{id}/oral-reset",
            desk,
            post(actions::oral_reset_post),
        )
        .add(
            &["POST"],
            "/admin/users/{id}/factors/{factor}/remove",
            desk,
            post(actions::factor_remove_post),
        )
}
