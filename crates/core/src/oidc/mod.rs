//! The OpenID Connect provider: one issuer per organisation, each with its
//! own keys, clients and tokens (RFC 6749, RFC 9700, OpenID Connect Core
//! and Discovery 1.0). Free of HTTP and SQL like the rest of core.

pub mod client;
pub mod discovery;
pub mod flow;
pub mod grants;
pub mod jose;
pub mod keyring;
pub mod request;
pub mod tokens;
