//! Authentication: password hashing and rules, lockout, sessions, sign-in.

pub mod codes;
pub mod email_codes;
pub mod guard;
pub mod ip_throttle;
pub mod lockout;
pub mod mfa;
pub mod passkey;
pub mod password;
mod password_patterns;
pub mod password_rules;
pub mod reset;
pub mod session;
pub mod signin;
pub mod totp;
