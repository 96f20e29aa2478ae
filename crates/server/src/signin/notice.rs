//! "Ny inloggning på ditt konto" (issue 14): after a completed sign-in,
//! the person is e-mailed when their organisation asks for it
//! (`notify_signins` in the organisation file): for a sign-in from outside
//! every zone, and for one from a browser that has not signed in to the
//! account before. Browsers are told apart by a random cookie of their
//! own (only its SHA-256 is stored); an account's first browser is no
//! news. The mail goes to the account's address and its confirmed e-mail
//! addresses for codes, and says what to do if it was not them.

use crate::app::state::AppState;
use crate::http::cookies;
use crate::http::device;
use crate::http::i18n::{Lang, Tr};
use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use cookie::SameSite;
use portvakt_core::auth::signin::ClientInfo;
use portvakt_core::ids::EventId;
use portvakt_core::store::{Channel, FactorKind, Organisation, OutboxMessage, User};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// How long a browser keeps its id (browsers cap cookies near 400 days).
const DEVICE_COOKIE_SECS: i64 = 400 * 86_400;

/// Why the person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Outside,
    NewDevice,
}

/// Remembers the browser, e-mails the person if the organisation asks and
/// this sign-in qualifies, and returns the device cookie to set (always,
/// so it lives 400 days from the last sign-in). Never fails the sign-in:
/// a store or queue error is logged.
pub(crate) async fn after_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    user: &User,
    org: &Organisation,
    client: &ClientInfo,
) -> HeaderValue {
    let token = cookies::read(headers, state.cookies.device)
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .unwrap_or_else(new_token);
    let hash = hex(&Sha256::digest(token.as_bytes()));
    let now = state.clock.now();
    match state
        .store
        .remember_device(&org.id, &user.id, &hash, now)
        .await
    {
        Ok(seen) => {
            let wanted = org.signin_notices;
            let why = if wanted.new_device && seen.new && !seen.first {
                Some(Why::NewDevice)
            } else if wanted.outside {
                match state.auth.zone_of(&org.id, client.ip).await {
                    Ok(None) => Some(Why::Outside),
                    Ok(Some(_)) => None,
                    Err(e) => {
                        tracing::error!(error = %e, "zone lookup for a sign-in notice failed");
                        None
                    }
                }
            } else {
                None
            };
            if let Some(why) = why {
                if let Err(e) = tell(state, user, org, client, why, now).await {
                    tracing::error!(error = %e, user = %user.id, "sign-in notice not queued");
                }
            }
        }
        Err(e) => tracing::error!(error = %e, user = %user.id, "device not remembered"),
    }
    cookies::build(
        &state.cookies,
        state.cookies.device,
        &token,
        SameSite::Lax,
        Some(DEVICE_COOKIE_SECS),
    )
}

/// The hash this browser's device cookie is stored under, if it has one.
pub(crate) fn device_hash(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookies::read(headers, state.cookies.device)
        .filter(|v| v.len() == 43)
        .map(|t| hex(&Sha256::digest(t.as_bytes())))
}

/// Forgets the person's browsers but this one, so an intruder's browser
/// counts as new again; never fails the action it follows.
pub(crate) async fn forget_devices(state: &AppState, user: &User, keep: Option<&str>) {
    if let Err(e) = state
        .store
        .forget_devices(&user.organisation_id, &user.id, keep)
        .await
    {
        tracing::error!(error = %e, user = %user.id, "devices not forgotten");
    }
}

fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Queues the notice to the account's address and its confirmed e-mail
/// addresses for codes, in the person's language (else Swedish, then
/// English).
async fn tell(
    state: &AppState,
    user: &User,
    org: &Organisation,
    client: &ClientInfo,
    why: Why,
    now: i64,
) -> Result<(), portvakt_core::StoreError> {
    let mut to: Vec<String> = user.email.iter().cloned().collect();
    for f in state.store.factors(&org.id, &user.id).await? {
        if f.confirmed && f.kind == FactorKind::Email {
            if let Some(d) = f.destination {
                if !to.iter().any(|t| t.eq_ignore_ascii_case(&d)) {
                    to.push(d);
                }
            }
        }
    }
    if to.is_empty() {
        return Ok(());
    }
    let zone = state.auth.zone_of(&org.id, client.ip).await?;
    let zones = state.store.zones(&org.id).await?;
    let langs = user
        .language
        .map_or_else(|| vec![Lang::Sv, Lang::En], |l| vec![l]);
    let phone = crate::messaging::notice_text::help_phone(&org.status_contact);
    let body = |t: Tr| {
        let place = match &zone {
            None => t.get("history.outside").to_owned(),
            Some(slug) => {
                let name = zones
                    .iter()
                    .find(|z| z.slug.as_str() == slug)
                    .map_or(slug.as_str(), |z| z.name.as_str());
                format!("{} {name}", t.get("history.inside"))
            }
        };
        let reason = t.get(match why {
            Why::Outside => "signin_notice.why_outside",
            Why::NewDevice => "signin_notice.why_new_device",
        });
        let not_you = match &phone {
            Some(p) => t.get("signin_notice.not_you_phone").replace("{phone}", p),
            None => t.get("signin_notice.not_you").to_owned(),
        };
        format!(
            "{}\n\n{}: {}\n{}: {place}, {}\n{}: {}\n\n{reason}\n\n{}\n\n{not_you}\n",
            t.get("signin_notice.lead")
                .replace("{user}", user.username.as_str()),
            t.get("signin_notice.when"),
            crate::http::time_fmt::stockholm(now),
            t.get("history.place"),
            client.ip,
            t.get("history.device"),
            device::in_words(t, &client.user_agent),
            t.get("signin_notice.if_you"),
        )
    };
    let subject = langs
        .iter()
        .map(|l| Tr::new(*l).get("signin_notice.subject"))
        .collect::<Vec<_>>()
        .join(" / ");
    let text = langs
        .iter()
        .map(|l| body(Tr::new(*l)))
        .collect::<Vec<_>>()
        .join("\n--\n\n");
    for recipient in to {
        state
            .store
            .enqueue_message(&OutboxMessage {
                id: EventId::generate().to_string(),
                organisation_id: org.id.clone(),
                channel: Channel::Email,
                recipient,
                subject: subject.clone(),
                body: text.clone(),
                created_at: now,
                attempts: 0,
            })
            .await?;
    }
    Ok(())
}
