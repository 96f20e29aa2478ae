//! Portvakt's domain: organisations, users, passwords, sessions and the rules
//! that govern them. Free of HTTP and SQL: the server crate speaks HTTP, the
//! store crate speaks SQL, and both meet here through [`store::Store`].

pub mod access;
pub mod app_path;
pub mod apply;
pub mod audit;
pub mod auth;
pub mod breach;
pub mod clock;
pub mod domain;
pub mod error;
pub mod forward;
pub mod freeze;
pub mod handoff;
pub mod ids;
pub mod intrusion;
pub mod oidc;
pub mod probe;
pub mod return_url;
pub mod rotation;
pub mod status;
pub mod store;
#[cfg(feature = "testing")]
pub mod store_suite;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::StoreError;
