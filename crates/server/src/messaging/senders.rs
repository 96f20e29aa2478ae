//! Delivering queued messages: SMTP (with `lettre`), or a folder of `.eml`
//! files for the demo. The outbox worker retries failures with back-off, so
//! a sign-in request never waits for a mail server.

use crate::app::config::{EmailConfig, SmsConfig};
use crate::app::metrics::Metrics;
use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use portvakt_core::store::{Channel, FactorKind, OutboxMessage, Store};
use portvakt_core::Clock;
use secrecy::{ExposeSecret, SecretString};
use std::path::PathBuf;
use std::sync::Arc;

#[async_trait]
pub trait MessageSender: Send + Sync {
    /// Delivers one message; `Err` carries a reason for the log.
    async fn send(&self, m: &OutboxMessage) -> Result<(), String>;
}

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpSender {
    /// # Errors
    /// A bad URL or sender address.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("email.smtp_url: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from.parse().map_err(|e| format!("email.from: {e}"))?;
        Ok(Self { transport, from })
    }
}

fn build(from: &Mailbox, m: &OutboxMessage) -> Result<Message, String> {
    // Recipient and subject come from our own records, but are still
    // parsed, so no header can be injected through them (SECURITY.md E5).
    let to: Mailbox = m.recipient.parse().map_err(|e| format!("recipient: {e}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.replace(['\r', '\n'], " "))
        .header(ContentType::TEXT_PLAIN)
        .body(m.body.clone())
        .map_err(|e| e.to_string())
}

#[async_trait]
impl MessageSender for SmtpSender {
    async fn send(&self, m: &OutboxMessage) -> Result<(), String> {
        let msg = build(&self.from, m)?;
        self.transport
            .send(msg)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Writes each message to `DIR/<id>.eml`; for the demo and for operators
/// who hand codes over some other way.
pub struct FileOutbox {
    dir: PathBuf,
    from: Mailbox,
}

impl FileOutbox {
    /// # Errors
    /// When the folder cannot be created or the sender address is bad.
    pub fn new(dir: PathBuf, from: &str) -> Result<Self, String> {
        crate::app::private_fs::private_dir(&dir).map_err(|e| format!("email.outbox_dir: {e}"))?;
        Ok(Self {
            dir,
            from: from.parse().map_err(|e| format!("email.from: {e}"))?,
        })
    }
}

#[async_trait]
impl MessageSender for FileOutbox {
    async fn send(&self, m: &OutboxMessage) -> Result<(), String> {
        let msg = build(&self.from, m)?;
        let name: String = m.id.chars().filter(char::is_ascii_alphanumeric).collect();
        let tmp = self.dir.join(format!(".{name}.tmp"));
        crate::app::private_fs::write_private(&tmp, &msg.formatted())
            .await
            .map_err(|e| e.to_string())?;
        tokio::fs::rename(&tmp, self.dir.join(format!("{name}.eml")))
            .await
            .map_err(|e| e.to_string())
    }
}

/// An SMS gateway reached over HTTP(S): a POST of a JSON body built from a
/// template with `{to}` (digits, international) and `{message}`.
pub struct HttpSmsGateway {
    client: reqwest::Client,
    url: SecretString,
    auth_header: Option<SecretString>,
    template: String,
}

impl HttpSmsGateway {
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(c: &SmsConfig, url: &SecretString) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("sms: {e}"))?;
        Ok(Self {
            client,
            url: url.clone(),
            auth_header: c.auth_header.clone(),
            template: c.body_template.clone(),
        })
    }
}

/// A JSON string's contents (without quotes), so a message can never break
/// out of its place in the template.
fn json_inner(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

#[async_trait]
impl MessageSender for HttpSmsGateway {
    async fn send(&self, m: &OutboxMessage) -> Result<(), String> {
        if !m.recipient.bytes().all(|b| b.is_ascii_digit()) {
            return Err("recipient is not a number".into());
        }
        let body = self
            .template
            .replace("{to}", &m.recipient)
            .replace("{message}", &json_inner(&m.body));
        let mut req = self
            .client
            .post(self.url.expose_secret())
            .header("content-type", "application/json")
            .body(body);
        if let Some(h) = &self.auth_header {
            req = req.header("authorization", h.expose_secret());
        }
        // The gateway URL may carry an API key: errors go to logs and the
        // outbox row without it.
        let resp = req.send().await.map_err(|e| e.without_url().to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("gateway answered {}", resp.status()))
        }
    }
}

/// SMS written as text files, for the demo.
pub struct SmsFileOutbox {
    dir: PathBuf,
}

#[async_trait]
impl MessageSender for SmsFileOutbox {
    async fn send(&self, m: &OutboxMessage) -> Result<(), String> {
        let name: String = m.id.chars().filter(char::is_ascii_alphanumeric).collect();
        let text = format!("To: +{}\n\n{}\n", m.recipient, m.body);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        crate::app::private_fs::write_private(&tmp, text.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        tokio::fs::rename(&tmp, self.dir.join(format!("{name}.sms.txt")))
            .await
            .map_err(|e| e.to_string())
    }
}

/// The senders the configuration asks for, per channel.
#[derive(Clone, Default)]
pub struct Senders {
    pub email: Option<Arc<dyn MessageSender>>,
    pub sms: Option<Arc<dyn MessageSender>>,
    /// Digital mailboxes: each organisation names its own adapter.
    pub mailbox: Option<Arc<crate::crisis::mailbox::MailboxSender>>,
}

impl Senders {
    /// # Errors
    /// Invalid settings.
    pub fn from_config(email: &EmailConfig, sms: &SmsConfig) -> Result<Self, String> {
        let email: Option<Arc<dyn MessageSender>> = match (&email.smtp_url, &email.outbox_dir) {
            (Some(url), _) => Some(Arc::new(SmtpSender::new(url.expose_secret(), &email.from)?)),
            (None, Some(dir)) => Some(Arc::new(FileOutbox::new(dir.clone(), &email.from)?)),
            (None, None) => None,
        };
        let sms: Option<Arc<dyn MessageSender>> = match (&sms.gateway_url, &sms.outbox_dir) {
            (Some(url), _) => Some(Arc::new(HttpSmsGateway::new(sms, url)?)),
            (None, Some(dir)) => {
                crate::app::private_fs::private_dir(dir)
                    .map_err(|e| format!("sms.outbox_dir: {e}"))?;
                Some(Arc::new(SmsFileOutbox { dir: dir.clone() }))
            }
            (None, None) => None,
        };
        let mailbox = Some(Arc::new(crate::crisis::mailbox::MailboxSender::new()?));
        Ok(Self {
            email,
            sms,
            mailbox,
        })
    }

    fn for_channel(&self, channel: Channel) -> Option<&Arc<dyn MessageSender>> {
        match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Sms => self.sms.as_ref(),
            Channel::Mailbox => None,
        }
    }

    /// Sends one message by its channel; `Err((reason, permanent))`.
    async fn send(&self, store: &dyn Store, m: &OutboxMessage) -> Result<(), (String, bool)> {
        if m.channel == Channel::Mailbox {
            use crate::crisis::mailbox::MailboxError;
            return match &self.mailbox {
                None => Err(("no mailbox sender".into(), false)),
                Some(s) => s.send(store, m).await.map_err(|e| match e {
                    MailboxError::Retry(r) => (r, false),
                    MailboxError::NoMailbox(r) => (r, true),
                }),
            };
        }
        match self.for_channel(m.channel) {
            Some(sender) => sender.send(m).await.map_err(|e| (e, false)),
            None => Err((
                format!("no sender configured for {}", m.channel.as_str()),
                false,
            )),
        }
    }

    /// Whether codes and notices can reach a factor of this kind (apps and
    /// passkeys have no address).
    #[must_use]
    pub fn delivers(&self, kind: FactorKind) -> bool {
        match kind {
            FactorKind::Email => self.email.is_some(),
            FactorKind::Sms => self.sms.is_some(),
            FactorKind::Totp | FactorKind::Passkey => false,
        }
    }

    #[must_use]
    pub fn any(&self) -> bool {
        self.email.is_some() || self.sms.is_some()
    }
}

/// Most attempts per message before it is given up (about a day of retries).
const MAX_ATTEMPTS: u32 = 12;

/// Messages claimed per step (their deliveries are recorded in one
/// transaction: few writes for thousands of messages).
pub const BATCH: usize = 100;
/// Messages sent at the same time: what a gateway or adapter is asked to
/// take at once.
const CONCURRENT: usize = 20;

/// `[outbox]` in the configuration.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// How long a claimed message is this server's to send. Far longer
    /// than a send may take (SMTP, the gateway and the mailbox adapter give
    /// up after 20 s each); if the server dies meanwhile, a server sends
    /// the message again after this. Default 300.
    pub claim_secs: u32,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self { claim_secs: 300 }
    }
}

/// Sends what is due, once: up to [`BATCH`] messages, twenty at a time
/// (a crisis rotation queues thousands), their deliveries recorded in one
/// transaction. Returns how many were claimed: a full batch means more
/// may be due at once. The worker loop calls this every half second when
/// idle; tests call it directly. Messages are claimed before they are
/// sent, so servers sharing a database never send one twice.
pub async fn outbox_step(
    store: &dyn Store,
    senders: &Senders,
    clock: &dyn Clock,
    metrics: &Metrics,
    claim_secs: u32,
) -> usize {
    let now = clock.now();
    // At least 30 s: shorter claims would have servers sending one
    // message twice while its first send is still under way.
    let claim = i64::from(claim_secs.max(30));
    let due = match store
        .claim_due_messages(now, BATCH as u32, now + claim)
        .await
    {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "outbox: reading due messages failed");
            return 0;
        }
    };
    let mut results = Vec::with_capacity(due.len());
    for chunk in due.chunks(CONCURRENT) {
        results.extend(
            futures_util::future::join_all(chunk.iter().map(|m| senders.send(store, m))).await,
        );
    }
    let mut sent = Vec::new();
    for (m, result) in due.iter().zip(results) {
        match result {
            Ok(()) => {
                Metrics::inc(&metrics.messages_sent);
                sent.push(m.id.clone());
            }
            Err((reason, permanent)) => {
                Metrics::inc(&metrics.messages_failed);
                let attempts = m.attempts + 1;
                let next = if permanent {
                    tracing::warn!(message = %m.id, reason = %reason, "outbox: cannot be delivered this way");
                    i64::MAX
                } else if attempts >= MAX_ATTEMPTS {
                    tracing::error!(message = %m.id, attempts, reason = %reason, "outbox: giving up");
                    i64::MAX
                } else {
                    tracing::warn!(message = %m.id, attempts, reason = %reason, "outbox: delivery failed, will retry");
                    now + (15_i64 << attempts.min(12)).min(3600)
                };
                if let Err(e) = store.mark_failed(&m.id, &reason, next).await {
                    tracing::error!(error = %e, message = %m.id, "outbox: marking failure failed");
                }
            }
        }
    }
    if !sent.is_empty() {
        if let Err(e) = store.mark_sent_many(&sent, clock.now()).await {
            tracing::error!(error = %e, "outbox: marking sent failed");
        }
    }
    due.len()
}
