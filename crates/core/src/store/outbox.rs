use super::StoreResult;
use crate::clock::UnixTime;
use crate::ids::OrganisationId;
use async_trait::async_trait;

/// How a queued message travels; each has its own sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
    /// A digital mailbox, through the organisation's adapter (issue 15);
    /// the recipient is a JSON object naming the person.
    Mailbox,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Mailbox];

    /// The stored form.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Mailbox => "mailbox",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// An e-mail or SMS waiting to be sent by the outbox worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: String,
    pub organisation_id: OrganisationId,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub created_at: UnixTime,
    pub attempts: u32,
}

/// How far one batch of messages has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    pub batch: String,
    pub subject: String,
    pub created_at: UnixTime,
    pub total: u32,
    pub sent: u32,
    /// Tried and failed at least once, not sent yet (still retried unless given up).
    pub failing: u32,
    /// One of the errors, for the report.
    pub last_error: Option<String>,
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    async fn enqueue_message(&self, m: &OutboxMessage) -> StoreResult<()>;
    async fn due_messages(&self, now: UnixTime, limit: u32) -> StoreResult<Vec<OutboxMessage>>;
    async fn mark_sent(&self, id: &str, now: UnixTime) -> StoreResult<()>;
    /// [`Self::mark_sent`] for several messages, in one transaction.
    async fn mark_sent_many(&self, ids: &[String], now: UnixTime) -> StoreResult<()>;
    async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: UnixTime,
    ) -> StoreResult<()>;

    /// Queues messages that belong together (one notice to many), in one
    /// transaction, so their delivery can be reported.
    async fn enqueue_batch(&self, batch: &str, messages: &[OutboxMessage]) -> StoreResult<()>;
    /// Delivery of the organisation's newest batches, newest first.
    async fn batch_reports(
        &self,
        org: &OrganisationId,
        limit: u32,
    ) -> StoreResult<Vec<BatchReport>>;
}
