//! Portvakt's HTTP server, CLI and configuration, one folder per capability.
//!
//! `http` holds the plumbing every capability shares (errors, extractors,
//! CSRF, cookies, language, the recorded route table); `app` starts and
//! wires the server. A capability never imports another capability's
//! handlers: what two of them share lives in `http` or in `portvakt_core`.
//! docs/architecture.md has the map.

pub mod account;
pub mod admin;
pub mod app;
pub mod audit;
pub mod cli;
pub mod crisis;
pub mod gateway;
pub mod http;
pub mod messaging;
pub mod oidc;
pub mod portal;
pub mod provisioning;
pub mod signin;
pub mod status;
