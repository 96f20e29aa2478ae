//! Portvakt's HTTP server, CLI and configuration.

pub mod access_text;
pub mod apply_file;
pub mod apply_run;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod cookies;
pub mod csrf;
pub mod demo;
pub mod error;
pub mod extract;
pub mod headers;
pub mod i18n;
pub mod icons;
pub mod messages;
pub mod metrics;
pub mod page;
pub mod proxy;
pub mod routes;
pub mod senders;
pub mod startup;
pub mod state;
pub mod status_cli;
pub mod time_fmt;
pub mod verify_cache;
pub mod whatif;
