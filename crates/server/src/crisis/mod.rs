//! When the whole organisation is hit (issue 15): the change freeze and
//! the crisis rotation (new passwords for everyone); the breach register
//! comes here too.

pub mod breach_cli;
pub mod breach_export;
pub mod breach_notify;
pub mod breach_page;
pub mod cli;
pub mod freeze;
pub mod mailbox;
pub mod rotate_cli;
pub mod rotation;
pub mod rotation_page;

use crate::http::router::{Access, Routes};
use axum::routing::{get, post};
use portvakt_core::domain::Role;

pub fn routes(r: Routes) -> Routes {
    let admin = Access::Role(Role::OrgAdmin);
    let desk = Access::Role(Role::Servicedesk);
    let dpo = Access::Role(Role::DataProtectionOfficer);
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
    .add(
        &["GET", "POST"],
        "/dpo/breaches",
        dpo,
        get(breach_page::list_get).post(breach_page::create_post),
    )
    .add(
        &["GET", "POST"],
        "/dpo/breaches/{id}",
        dpo,
        get(breach_page::record_get).post(breach_page::record_post),
    )
    .add(
        &["POST"],
        "/dpo/breaches/{id}/phases",
        dpo,
        post(breach_page::phase_post),
    )
    .add(
        &["POST"],
        "/dpo/breaches/{id}/inform",
        dpo,
        post(breach_notify::inform_post),
    )
    .add(
        &["GET"],
        "/dpo/breaches/{id}/export",
        dpo,
        get(breach_export::export_get),
    )
    .add(
        &["GET"],
        "/admin/crisis",
        admin,
        get(rotation_page::crisis_get),
    )
    .add(
        &["POST"],
        "/admin/crisis/plan",
        admin,
        post(rotation_page::plan_post),
    )
    .add(
        &["POST"],
        "/admin/crisis/start",
        admin,
        post(rotation_page::start_post),
    )
    .add(
        &["GET"],
        "/admin/crisis/{id}",
        admin,
        get(rotation_page::status_get),
    )
    .add(
        &["POST"],
        "/admin/crisis/{id}/resend",
        admin,
        post(rotation_page::resend_post),
    )
    .add(
        &["GET"],
        "/admin/crisis/{id}/print",
        admin,
        get(rotation_page::print_get),
    )
    .add(
        &["GET"],
        "/admin/crisis/{id}/desk",
        desk,
        get(rotation_page::desk_get),
    )
    .add(
        &["POST"],
        "/admin/crisis/{id}/desk/handed-out",
        desk,
        post(rotation_page::handed_out_post),
    )
}
