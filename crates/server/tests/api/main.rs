//! Integration tests: the real server on a random port, a real SQLite file
//! (and PostgreSQL where noted), a controllable clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod admin_events;
mod apply;
mod connections;
mod email;
mod files;
mod forms;
mod forward_auth;
mod headers;
mod helpers;
mod isolation;
mod login;
mod mfa;
mod passkeys;
mod probes;
mod proxy;
mod reset;
mod routes;
mod sessions;
mod sms;
mod soft_passkey;
mod status;
mod zones;
