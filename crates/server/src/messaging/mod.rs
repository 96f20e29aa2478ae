//! Mail and SMS: the texts people receive, the outbox worker that sends
//! them, and notices to a person's own contacts when their sign-in changes.

pub mod messages;
pub mod notice_text;
pub mod notices;
pub mod senders;
