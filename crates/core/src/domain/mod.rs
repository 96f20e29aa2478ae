//! Values that parse once at the edge and are trusted afterwards.

mod domain_name;
mod email;
mod language;
mod mfa_policy;
mod phone;
mod role;
mod signin_notices;
mod slug;
mod username;
mod zone;

pub use domain_name::{DomainError, DomainName};
pub use email::{EmailAddress, EmailError};
pub use language::Language;
pub use mfa_policy::MfaPolicy;
pub use phone::{PhoneError, PhoneNumber};
pub use role::Role;
pub use signin_notices::SigninNotices;
pub use slug::Slug;
pub use username::{Username, UsernameError};
pub use zone::{wide_zone_warning, ZoneCidrs, ZoneError};
