//! The service desk's tools for other people's accounts (what they do is
//! recorded by `audit::events`).

pub mod users;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use portvakt_core::domain::Role;

/// The service desk's pages for other people's accounts.
pub fn routes(r: Routes) -> Routes {
    let desk = Access::Role(Role::Servicedesk);
    r.add(&["GET"], "/admin/users", desk, get(users::users_get))
        .add(&["GET"], "/admin/users/{id}", desk, get(users::user_get))
        .add(
            &["POST"],
            "/admin/users/{id}/unlock",
            desk,
            post(users::unlock_post),
        )
        .add(
            &["POST"],
            "/admin/users/{id}/revoke-sessions",
            desk,
            post(users::revoke_post),
        )
        .add(
            &["POST"],
            "/admin/users/{id}/factors/{factor}/remove",
            desk,
            post(users::factor_remove_post),
        )
}
