//! What the breach register sends: reminders of the 72-hour clock to the
//! organisation's data protection officers (at 48 and 66 hours while the
//! report to IMY is undecided), and the notice to the people affected
//! (Art. 34), in Swedish and English, with a delivery report.

use super::breach_page::own_breach;
use crate::app::state::AppState;
use crate::audit::events as audit;
use crate::http::error::AppError;
use crate::http::extract::{Client, CurrentUser, ValidForm};
use crate::http::i18n::{Lang, Tr};
use crate::http::time_fmt::stockholm;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use portvakt_core::breach::{clean_text, Breach, Informed, DEADLINE_HOURS};
use portvakt_core::domain::Slug;
use portvakt_core::ids::EventId;
use portvakt_core::store::{Channel, OutboxMessage, Store};
use serde::Deserialize;

/// The reminder e-mail for `hours` after discovery, Swedish then English.
fn reminder(b: &Breach, org_name: &str, to: &str, hours: i64, now: i64) -> OutboxMessage {
    let deadline = stockholm(b.discovered_at + DEADLINE_HOURS * 3600);
    let fill = |t: Tr, key: &str| {
        t.get(key)
            .replace("{hours}", &hours.to_string())
            .replace("{left}", &(DEADLINE_HOURS - hours).to_string())
            .replace("{number}", &b.number.to_string())
            .replace("{title}", &b.title)
            .replace("{org}", org_name)
            .replace("{deadline}", &deadline)
    };
    let (sv, en) = (Tr::new(Lang::Sv), Tr::new(Lang::En));
    OutboxMessage {
        id: EventId::generate().to_string(),
        organisation_id: b.organisation_id.clone(),
        channel: Channel::Email,
        recipient: to.into(),
        subject: format!(
            "{} / {}",
            fill(sv, "breach.reminder.subject"),
            fill(en, "breach.reminder.subject")
        ),
        body: format!(
            "{}\n\n--\n\n{}\n",
            fill(sv, "breach.reminder.body"),
            fill(en, "breach.reminder.body")
        ),
        created_at: now,
        attempts: 0,
    }
}

/// Sends the reminders that are due, once each (recorded with their
/// messages in one transaction, so two servers never both send one).
pub async fn reminders_step(store: &dyn Store, now: i64) {
    let undecided = match store.undecided_breaches().await {
        Ok(u) => u,
        Err(e) => {
            tracing::error!(error = %e, "breach register: reading undecided breaches failed");
            return;
        }
    };
    for (b, sent) in undecided {
        for hours in b.reminders_due(now, &sent) {
            let org = match store.organisation(&b.organisation_id).await {
                Ok(Some(o)) => o,
                _ => continue,
            };
            let to = match store.dpo_addresses(&b.organisation_id).await {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!(error = %e, "breach register: reading DPO addresses failed");
                    continue;
                }
            };
            let messages: Vec<OutboxMessage> = to
                .iter()
                .map(|a| reminder(&b, &org.name, a, hours, now))
                .collect();
            match store
                .send_breach_reminder(&b.organisation_id, &b.id, hours, &messages, now)
                .await
            {
                Ok(true) => {
                    tracing::info!(breach = %b.id, hours, recipients = messages.len(), "breach register: reminder sent")
                }
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "breach register: reminder failed"),
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InformForm {
    #[allow(dead_code)]
    csrf: String,
    /// A group's slug; empty: everyone in the organisation.
    #[serde(default)]
    group: String,
    #[serde(default)]
    subject_sv: String,
    #[serde(default)]
    body_sv: String,
    #[serde(default)]
    subject_en: String,
    #[serde(default)]
    body_en: String,
}

/// E-mails the notice to everyone of the organisation (or a group) with an
/// address, as one batch whose delivery the record then reports; marks
/// the people informed.
pub async fn inform_post(
    State(state): State<AppState>,
    Client(client): Client,
    dpo: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<InformForm>,
) -> Result<Response, AppError> {
    let b = own_breach(&state, &dpo, &id).await?;
    let org = &dpo.organisation.id;
    let group = match f.group.trim() {
        "" => None,
        g => {
            let slug = Slug::parse(g).ok_or(AppError::BadRequest)?;
            // Only a group of the organisation: an unknown one would send
            // nothing yet mark everyone informed.
            if !state
                .store
                .org_groups(org)
                .await?
                .iter()
                .any(|x| x.slug == slug)
            {
                return Err(AppError::BadRequest);
            }
            Some(slug)
        }
    };
    let line = |s: &str| -> String {
        s.trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect()
    };
    let (subject_sv, subject_en) = (line(&f.subject_sv), line(&f.subject_en));
    let (body_sv, body_en) = (clean_text(&f.body_sv), clean_text(&f.body_en));
    if [&subject_sv, &subject_en, &body_sv, &body_en]
        .iter()
        .any(|s| s.is_empty())
    {
        return Err(AppError::BadRequest);
    }
    let now = state.clock.now();
    // A second press (or a resent form) within a minute sends nothing.
    let prefix = format!("breach:{}:", b.id);
    if state
        .store
        .batch_reports(org, 100)
        .await?
        .iter()
        .any(|r| r.batch.starts_with(&prefix) && r.created_at > now - 60)
    {
        return Ok(Redirect::to(&format!("/dpo/breaches/{}?done=informed", b.id)).into_response());
    }
    let people = state.store.rotation_candidates(org, group.as_ref()).await?;
    let messages: Vec<OutboxMessage> = people
        .iter()
        .filter_map(|c| c.user.email.as_ref())
        .map(|to| OutboxMessage {
            id: EventId::generate().to_string(),
            organisation_id: org.clone(),
            channel: Channel::Email,
            recipient: to.clone(),
            subject: format!("{subject_sv} / {subject_en}"),
            body: format!("{body_sv}\n\n--\n\n{body_en}\n"),
            created_at: now,
            attempts: 0,
        })
        .collect();
    if messages.is_empty() {
        return Ok(Redirect::to(&format!("/dpo/breaches/{}?done=nobody", b.id)).into_response());
    }
    let batch = format!("breach:{}:{now}", b.id);
    state.store.enqueue_batch(&batch, &messages).await?;
    let mut updated = b.clone();
    if updated.details.informed != Informed::Yes {
        updated.details.informed = Informed::Yes;
        updated.details.informed_at = Some(now);
    }
    if updated.details.informed_how.is_empty() {
        updated.details.informed_how = format!(
            "E-post / e-mail: {} ({})",
            messages.len(),
            group.as_ref().map_or("*", Slug::as_str)
        );
    }
    updated.updated_at = now;
    state.store.update_breach(&updated).await?;
    audit::record(
        &state,
        &dpo,
        &client,
        "breach.inform",
        b.id.as_str(),
        &format!(
            "{} {}",
            group.as_ref().map_or("*", Slug::as_str),
            messages.len()
        ),
    )
    .await;
    Ok(Redirect::to(&format!("/dpo/breaches/{}?done=informed", b.id)).into_response())
}
