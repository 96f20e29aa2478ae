//! The audit log (issue 14): every organisation's administrative and
//! security actions in one hash chain (`portvakt_core::audit`), verified
//! and exported from the command line and read in the web UI.

pub mod cli;
pub mod events;
pub mod page;
pub mod words;

use crate::http::router::{Access, Routes};
use axum::routing::get;
use portvakt_core::domain::Role;

/// Who reads the audit log: the organisation's admins and its data
/// protection officer.
pub const READERS: &[Role] = &[Role::OrgAdmin, Role::DataProtectionOfficer];

pub fn routes(r: Routes) -> Routes {
    r.add(
        &["GET"],
        "/admin/audit",
        Access::AnyRole(READERS),
        get(page::audit_get),
    )
}
