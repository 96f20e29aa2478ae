//! The digital-mailbox adapter (issue 15, seed 002: "i första hand via
//! system för digitala brevlådor (som Kivra, Billo eller Min
//! myndighetspost)"). Portvakt speaks one small JSON contract
//! (`docs/crisis.md`); each organisation points it at an adapter that
//! speaks the mailbox operator's API.
//!
//! `POST <mailbox_url>` with `{"message_id", "recipient": {"username",
//! "name", "email", "mailbox_id"}, "subject", "body"}`; any 2xx means
//! delivered; 404, 410 or 422 mean the person has no mailbox there (the
//! rotation moves them to their next channel at once); anything else is
//! retried. `message_id` is the same on every retry, so the adapter can
//! drop repeats.

use portvakt_core::store::{OutboxMessage, Store};
use secrecy::{ExposeSecret, SecretString};

/// Why a message did not go: worth retrying, or never going to work.
#[derive(Debug)]
pub enum MailboxError {
    Retry(String),
    NoMailbox(String),
}

pub struct MailboxSender {
    client: reqwest::Client,
}

impl MailboxSender {
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new() -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("mailbox: {e}"))?;
        Ok(Self { client })
    }

    /// Delivers one message through its organisation's adapter.
    ///
    /// # Errors
    /// See [`MailboxError`].
    pub async fn send(&self, store: &dyn Store, m: &OutboxMessage) -> Result<(), MailboxError> {
        let plan = store
            .crisis_plan(&m.organisation_id)
            .await
            .map_err(|e| MailboxError::Retry(e.to_string()))?;
        let Some(url) = plan.mailbox_url else {
            return Err(MailboxError::NoMailbox(
                "the organisation has no mailbox adapter".into(),
            ));
        };
        let recipient: serde_json::Value = serde_json::from_str(&m.recipient)
            .map_err(|_| MailboxError::NoMailbox("recipient is not JSON".into()))?;
        let body = serde_json::json!({
            "message_id": m.id,
            "recipient": recipient,
            "subject": m.subject,
            "body": m.body,
        });
        let mut req = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(var) = plan
            .mailbox_auth_env
            .as_ref()
            .filter(|v| v.starts_with(portvakt_core::rotation::MAILBOX_ENV_PREFIX))
        {
            // Read at each send, so a rotated token needs no restart.
            if let Ok(v) = std::env::var(var) {
                let v = SecretString::from(v);
                req = req.header("authorization", v.expose_secret());
            }
        }
        let resp = req
            .send()
            .await
            .map_err(|e| MailboxError::Retry(e.without_url().to_string()))?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else if matches!(status.as_u16(), 404 | 410 | 422) {
            Err(MailboxError::NoMailbox(format!(
                "no digital mailbox ({status})"
            )))
        } else {
            Err(MailboxError::Retry(format!("adapter answered {status}")))
        }
    }
}
