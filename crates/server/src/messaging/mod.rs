//! Mail and SMS: the texts people receive and the outbox worker that sends
//! them.

pub mod messages;
pub mod notices;
pub mod senders;
