//! Intrusion cases (issue 14, seed 000): the servicedesk's case for a
//! suspected intrusion in one or more accounts, opened by hand or by the
//! person's own "Det här var inte jag". Its timeline comes from the
//! accounts' sign-ins and the audit log; notes, evidence and the seed's
//! checklist are the case's own; actions on the accounts are the user
//! page's (`admin::users`), which bring the servicedesk back here.

pub mod cases;
pub mod evidence;
pub mod export;
pub mod page;
pub mod timeline;

use crate::http::router::{Access, Routes};
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use portvakt_core::domain::Role;

pub fn routes(r: Routes) -> Routes {
    let desk = Access::Role(Role::Servicedesk);
    r.add(&["GET"], "/admin/cases", desk, get(cases::list_get))
        .add(&["POST"], "/admin/cases", desk, post(cases::open_post))
        .add(&["GET"], "/admin/cases/{id}", desk, get(page::case_get))
        .add(
            &["POST"],
            "/admin/cases/{id}/notes",
            desk,
            post(cases::note_post),
        )
        .add(
            &["POST"],
            "/admin/cases/{id}/accounts",
            desk,
            post(cases::account_post),
        )
        .add(
            &["POST"],
            "/admin/cases/{id}/steps",
            desk,
            post(cases::step_post),
        )
        .add(
            &["POST"],
            "/admin/cases/{id}/close",
            desk,
            post(cases::close_post),
        )
        .add(
            &["POST"],
            "/admin/cases/{id}/reopen",
            desk,
            post(cases::reopen_post),
        )
        .add(
            &["POST"],
            "/admin/cases/{id}/evidence",
            desk,
            post(evidence::upload_post).layer(DefaultBodyLimit::max(evidence::MAX_REQUEST)),
        )
        .add(
            &["GET"],
            "/admin/cases/{id}/evidence/{file}",
            desk,
            get(evidence::download_get),
        )
        .add(
            &["GET"],
            "/admin/cases/{id}/export",
            desk,
            get(export::export_get),
        )
}
