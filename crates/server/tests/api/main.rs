//! Integration tests: the real server on a random port, a real SQLite file
//! (and PostgreSQL where noted), a controllable clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod admin_events;
mod apply;
mod audit;
mod code_limits;
mod connections;
mod email;
mod files;
mod forms;
mod forward_auth;
mod freeze;
mod headers;
mod helpers;
mod history;
mod intrusion;
mod isolation;
mod login;
mod mfa;
mod notices;
mod oidc_authlib;
mod oidc_code;
mod oidc_discovery;
mod oidc_helpers;
mod oidc_lifecycle;
mod oidc_tokens;
mod passkeys;
mod probes;
mod proxy;
mod proxy_helpers;
mod proxy_hygiene;
mod proxy_origin;
mod reset;
mod rotation;
mod routes;
mod sessions;
mod sms;
mod soft_passkey;
mod status;
mod status_editor;
mod status_public;
mod two_servers;
mod user_list;
mod wayfinding;
mod zones;
