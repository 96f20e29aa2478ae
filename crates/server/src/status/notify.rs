//! E-mail around the status page (seed 000): the organisation's team is
//! told about every incident, opened, updated or resolved; an editor can
//! write to the whole emergency list. Messages are queued in the outbox
//! (sent and retried by the server's worker, never inside a request) in a
//! batch, so the editor sees how far delivery has got.

use crate::http::i18n::{Lang, Tr};
use crate::http::time_fmt::stockholm;
use crate::status::view::affected_text;
use portvakt_core::ids::EventId;
use portvakt_core::status::{
    body, no_gaps, title, Incident, IncidentUpdate, StatusError, TextField,
};
use portvakt_core::store::{Channel, Organisation, OutboxMessage, Store};
use portvakt_core::StoreError;

fn message(org: &Organisation, to: &str, subject: &str, text: &str, now: i64) -> OutboxMessage {
    OutboxMessage {
        id: EventId::generate().to_string(),
        organisation_id: org.id.clone(),
        channel: Channel::Email,
        recipient: to.into(),
        subject: subject.into(),
        body: text.into(),
        created_at: now,
        attempts: 0,
    }
}

/// `path` under Portvakt's public address, so a link in a mail leads
/// somewhere; the bare path when no address is configured.
fn link(base: Option<&str>, path: &str) -> String {
    format!("{}{path}", base.unwrap_or_default())
}

/// Tells the team about an incident's new state: its title, phase, the
/// affected services, the update in both languages and a link to the page.
/// `base` is Portvakt's public address ([`crate::app::config::Config::public_url`]).
///
/// # Errors
/// Store failures.
pub async fn notify_team(
    store: &dyn Store,
    org: &Organisation,
    base: Option<&str>,
    incident: &Incident,
    update: &IncidentUpdate,
    now: i64,
) -> Result<(), StoreError> {
    let (team, _) = store.emergency_contacts(&org.id).await?;
    if team.is_empty() {
        return Ok(());
    }
    let components = store.status_components(&org.id).await?;
    let (sv, en) = (Tr::new(Lang::Sv), Tr::new(Lang::En));
    let phase = |t: Tr| {
        t.get(&format!("status.phase.{}", update.phase.name()))
            .to_owned()
    };
    let affects = |t: Tr| {
        format!(
            "{} {}",
            t.get("status.affects"),
            affected_text(t, &incident.affected, &components)
        )
    };
    // Subjects are single lines whatever was typed (no header injection).
    let subject: String = format!(
        "[{}] {}: {}",
        sv.get("status.title"),
        phase(sv),
        incident.title
    )
    .chars()
    .filter(|c| !c.is_control())
    .collect();
    let mut text = format!(
        "{}\n{} · {}\n{}\n\n{}\n",
        incident.title,
        phase(sv),
        stockholm(update.at),
        affects(sv),
        update.body
    );
    if !update.body_en.is_empty() {
        let title_en = if incident.title_en.is_empty() {
            &incident.title
        } else {
            &incident.title_en
        };
        text.push_str(&format!(
            "\n--\n\n{title_en}\n{} · {}\n{}\n\n{}\n",
            phase(en),
            stockholm(update.at),
            affects(en),
            update.body_en
        ));
    }
    text.push_str(&format!(
        "\n{}\n",
        link(base, &format!("/status/{}", org.slug.as_str()))
    ));
    let messages: Vec<_> = team
        .iter()
        .map(|to| message(org, to, &subject, &text, now))
        .collect();
    store
        .enqueue_batch(&format!("team {} {}", incident.id, update.at), &messages)
        .await
}

/// The published incident `id` as stored now, for the team's mail.
async fn stored(
    store: &dyn Store,
    org: &Organisation,
    id: &str,
) -> Result<Option<Incident>, StoreError> {
    Ok(store
        .incidents(&org.id, 0, 1000)
        .await?
        .into_iter()
        .find(|i| i.id == id))
}

/// [`notify_team`] for an update of an existing incident.
///
/// # Errors
/// Store failures.
pub async fn notify_update(
    store: &dyn Store,
    org: &Organisation,
    base: Option<&str>,
    incident_id: &str,
    update: &IncidentUpdate,
    now: i64,
) -> Result<(), StoreError> {
    match stored(store, org, incident_id).await? {
        Some(incident) => notify_team(store, org, base, &incident, update, now).await,
        None => Ok(()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Text(#[from] StatusError),
    #[error("the emergency list is empty")]
    NoRecipients,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Queues a message to everyone on the emergency list; returns the batch.
///
/// # Errors
/// Bad subject or text, an empty list, store failures.
pub async fn message_list(
    store: &dyn Store,
    org: &Organisation,
    subject: &str,
    text: &str,
    now: i64,
) -> Result<String, MessageError> {
    let (subject, _) = title(subject, "")?;
    let (text, _) = body(text, "")?;
    let (_, list) = store.emergency_contacts(&org.id).await?;
    if list.is_empty() {
        return Err(MessageError::NoRecipients);
    }
    let subject: String = subject.chars().filter(|c| !c.is_control()).collect();
    let batch = format!("list {}", EventId::generate());
    let messages: Vec<_> = list
        .iter()
        .map(|to| message(org, to, &subject, &text, now))
        .collect();
    store.enqueue_batch(&batch, &messages).await?;
    Ok(batch)
}

/// What a probe saw, for the team.
pub struct ProbeNotice<'a> {
    pub component: &'a str,
    pub probe: &'a str,
    pub down: bool,
    pub error: &'a str,
    /// A draft now waits for an editor.
    pub draft_opened: bool,
    /// Its unconfirmed draft was withdrawn.
    pub draft_withdrawn: bool,
}

/// Tells the team a probe found a component down or answering again, in
/// Swedish and English. The reason is internal detail (addresses, status
/// codes) and goes only to the team, never to the public page.
///
/// # Errors
/// Store failures.
pub async fn notify_probe(
    store: &dyn Store,
    org: &Organisation,
    base: Option<&str>,
    n: &ProbeNotice<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let (team, _) = store.emergency_contacts(&org.id).await?;
    if team.is_empty() {
        return Ok(());
    }
    let clean = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).collect() };
    let (sv, en) = if n.down {
        (
            format!("Automatisk kontroll: {} svarar inte", n.component),
            format!("Automatic check: {} is not answering", n.component),
        )
    } else {
        (
            format!("Automatisk kontroll: {} svarar igen", n.component),
            format!("Automatic check: {} answers again", n.component),
        )
    };
    let subject = clean(&format!("[Driftinformation] {sv}"));
    let mut text = format!("{sv}\n{}\n", stockholm(now));
    if n.down {
        text.push_str(&format!("\nKontroll: {}\nFel: {}\n", n.probe, n.error));
    }
    if n.draft_opened {
        text.push_str(
            "\nEtt utkast till störningsmeddelande väntar. Det syns inte för allmänheten förrän en redaktör bekräftar det under Driftinformation – redigera.\n",
        );
    }
    if n.draft_withdrawn {
        text.push_str("\nUtkastet som inte hann bekräftas har tagits bort.\n");
    }
    text.push_str(&format!("\n--\n\n{en}\n"));
    if n.down {
        text.push_str(&format!("Check: {}\nError: {}\n", n.probe, n.error));
    }
    if n.draft_opened {
        text.push_str(
            "A draft incident waits for an editor to confirm it; the public does not see it until then.\n",
        );
    }
    if n.draft_withdrawn {
        text.push_str("The unconfirmed draft was withdrawn.\n");
    }
    text.push_str(&format!(
        "\n{} · {}\n",
        link(base, "/admin/status"),
        link(base, &format!("/status/{}", org.slug.as_str()))
    ));
    let messages: Vec<_> = team
        .iter()
        .map(|to| message(org, to, &subject, &text, now))
        .collect();
    store
        .enqueue_batch(&format!("probe {} {now}", clean(n.probe)), &messages)
        .await
}

/// Why a draft could not be confirmed.
#[derive(Debug)]
pub enum ConfirmError {
    Text(StatusError),
    /// No open draft with that id in this organisation.
    NotFound,
    Store(StoreError),
}

/// Confirms a probe's draft with checked texts (Swedish required, English
/// optional) and tells the team, as opening an incident does. The web
/// editor and `portvakt status confirm` both come here.
///
/// # Errors
/// Bad text or no such draft (nothing is written), or store failures.
pub async fn confirm_draft(
    store: &dyn Store,
    org: &Organisation,
    base: Option<&str>,
    id: &str,
    title_text: (&str, &str),
    body_text: (&str, &str),
    now: i64,
) -> Result<(), ConfirmError> {
    let (t, t_en) = title(title_text.0, title_text.1).map_err(ConfirmError::Text)?;
    let (b, b_en) = body(body_text.0, body_text.1).map_err(ConfirmError::Text)?;
    no_gaps(&[
        (TextField::Title, &t),
        (TextField::TitleEn, &t_en),
        (TextField::Body, &b),
        (TextField::BodyEn, &b_en),
    ])
    .map_err(ConfirmError::Text)?;
    if !store
        .publish_draft(&org.id, id, (&t, &t_en), (&b, &b_en))
        .await
        .map_err(ConfirmError::Store)?
    {
        return Err(ConfirmError::NotFound);
    }
    let first = IncidentUpdate {
        at: now,
        phase: portvakt_core::status::Phase::Investigating,
        body: b,
        body_en: b_en,
    };
    match stored(store, org, id).await.map_err(ConfirmError::Store)? {
        Some(incident) => notify_team(store, org, base, &incident, &first, now)
            .await
            .map_err(ConfirmError::Store),
        None => Ok(()),
    }
}
