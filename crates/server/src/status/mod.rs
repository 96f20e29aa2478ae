//! The public status page and everything behind it: the editor, the
//! self-check page, the static export, notifications, probes and the
//! `status` CLI verbs.

pub mod cli;
mod correct;
pub mod editor;
mod editor_page;
pub mod export;
pub mod feeds;
pub mod notify;
pub mod probes;
pub mod public;
pub mod selfcheck;
pub mod view;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use portvakt_core::domain::Role;
use Access::Public;

/// The public page, the self-check page and the editor.
pub fn routes(r: Routes) -> Routes {
    let editor = Access::Role(Role::StatusEditor);
    r.add(&["GET"], "/status", Public, get(public::default_page))
        .add(
            &["GET"],
            "/status/check",
            Public,
            get(selfcheck::selfcheck_get),
        )
        .add(
            &["GET"],
            "/static/selfcheck.js",
            Public,
            get(selfcheck::script),
        )
        .add(&["GET"], "/status/{org}", Public, get(public::org_page))
        .add(&["GET"], "/admin/status", editor, get(editor::editor_get))
        .add(
            &["POST"],
            "/admin/status/incidents",
            editor,
            post(editor::open_post),
        )
        .add(
            &["POST"],
            "/admin/status/message",
            editor,
            post(editor::message_post),
        )
        .add(
            &["POST"],
            "/admin/status/incidents/{id}/updates",
            editor,
            post(editor::update_post),
        )
        .add(
            &["POST"],
            "/admin/status/incidents/{id}/correct",
            editor,
            post(correct::correct_post),
        )
        .add(
            &["POST"],
            "/admin/status/drafts/{id}/publish",
            editor,
            post(editor::draft_publish),
        )
        .add(
            &["POST"],
            "/admin/status/drafts/{id}/withdraw",
            editor,
            post(editor::draft_withdraw),
        )
}
