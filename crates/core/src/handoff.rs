//! Handing a portal session over to the apps origin (issue 10 H2). Apps
//! published by path live on an origin of their own, which never sees the
//! portal's session cookie. The portal mints a one-time ticket for a
//! signed-in browser; the apps origin exchanges it for a session link, a
//! token of its own that stands for the same portal session. Ending the
//! session (sign-out, "end all sessions", idle time) ends the link with it.
//!
//! A ticket is also bound to the browser that asked for it: the apps
//! origin's `state` cookie (as OAuth's `state`), so a ticket minted for
//! someone else's session cannot sign a victim's browser in as them on the
//! apps origin (login CSRF).

pub use crate::store::{AppsTicket, HandoffStore, SessionLink};

/// A ticket lives at most this long: one redirect from the portal to the
/// apps origin (authorization-code rule, SECURITY.md numbers).
pub const TICKET_SECS: i64 = 60;
