//! "Mina inloggningar" (issue 14): a person's own sign-ins and attempts of
//! the last 90 days in words, the changes to their account, their active
//! sessions and apps; and "Det här var inte jag" on any sign-in, which ends
//! every other session and app token, requires a new password, records it
//! in the audit log and tells the organisation's emergency team.

use crate::app::state::AppState;
use crate::http::device;
use crate::http::error::AppError;
use crate::http::event_words::{event_row, zone_names, EventRow};
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::{Lang, Tr};
use crate::http::page::Page;
use crate::http::time_fmt::{stockholm, stockholm_seconds};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::auth::signin::ClientInfo;
use portvakt_core::ids::EventId;
use portvakt_core::intrusion::{CaseId, CaseSource, NewCase, Note};
use portvakt_core::store::{AuditQuery, Channel, OutboxMessage, SignInEvent};
use serde::Deserialize;

const PAGE_SIZE: u32 = 50;
const DAYS: i64 = 90;

struct SessionRow {
    since: String,
    ip: String,
    device: String,
    this_one: bool,
}

struct ChangeRow {
    when: String,
    what: String,
    by: String,
}

#[derive(Template)]
#[template(path = "signins.html")]
struct HistoryPage {
    p: Page,
    notice: Option<&'static str>,
    sessions: Vec<SessionRow>,
    apps: Vec<crate::account::settings_page::AppRow>,
    events: Vec<EventRow>,
    older: Option<String>,
    changes: Vec<ChangeRow>,
}

#[derive(Deserialize, Default)]
pub struct HistoryQuery {
    before_at: Option<i64>,
    before_id: Option<String>,
    done: Option<String>,
}

pub async fn signins_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Query(q): Query<HistoryQuery>,
) -> Result<Html<String>, AppError> {
    let org = &user.organisation.id;
    let now = state.clock.now();
    let since = now - DAYS * 86_400;
    let before = match (q.before_at, q.before_id) {
        (Some(at), Some(id)) => Some((at, EventId::from_raw(id))),
        _ => None,
    };
    let events = state
        .store
        .signin_history(org, &user.user.id, since, before, PAGE_SIZE)
        .await?;
    let older = (events.len() == PAGE_SIZE as usize)
        .then(|| events.last())
        .flatten()
        .map(|e| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("before_at", &e.at.to_string())
                .append_pair("before_id", e.id.as_str())
                .finish()
        });
    let sessions = state
        .store
        .list_user_sessions(org, &user.user.id, now)
        .await?
        .into_iter()
        .filter(|s| !s.pending_mfa)
        .map(|s| SessionRow {
            since: stockholm(s.created_at),
            device: device::in_words(t, &s.user_agent),
            this_one: s.token_hash == user.session.token_hash,
            ip: s.ip,
        })
        .collect();
    let changes = changes(&state, t, &user, since).await?;
    let zones = zone_names(&state, org).await?;
    let notice = match q.done.as_deref() {
        Some("ended") => Some("history.others_ended"),
        _ => None,
    };
    Ok(Html(
        HistoryPage {
            p: Page::for_user(t, &csrf, "/settings/signins", &user),
            notice,
            sessions,
            apps: crate::account::settings_page::app_rows(&state, t, org, &user.user.id).await?,
            events: events.iter().map(|e| event_row(t, &zones, e)).collect(),
            older,
            changes,
        }
        .render()?,
    ))
}

/// What was done to the account in the audit log (by the person or by the
/// servicedesk), newest first.
async fn changes(
    state: &AppState,
    t: Tr,
    user: &CurrentUser,
    since: i64,
) -> Result<Vec<ChangeRow>, AppError> {
    let q = AuditQuery {
        person: Some(user.user.id.clone()),
        from: Some(since),
        ..AuditQuery::default()
    };
    let entries = state
        .store
        .audit_page(&user.organisation.id, &q, 50)
        .await?;
    Ok(entries
        .into_iter()
        .filter(|e| e.event.action != "refused")
        .map(|e| ChangeRow {
            when: stockholm_seconds(e.event.at),
            what: t
                .find(&format!("audit.action.{}", e.event.action))
                .map_or_else(|| e.event.action.clone(), str::to_owned),
            by: if e.event.actor_id == user.user.id {
                t.get("history.by_you").to_owned()
            } else {
                t.get("history.by_servicedesk").to_owned()
            },
        })
        .collect())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}

/// "Logga ut överallt utom här": every other session and app token.
pub async fn end_others_post(
    State(state): State<AppState>,
    Client(client): Client,
    user: CurrentUser,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let n = state
        .store
        .revoke_other_sessions(
            &user.organisation.id,
            &user.user.id,
            &user.session.token_hash,
            false,
            state.clock.now(),
        )
        .await?
        .sessions;
    crate::audit::events::record(
        &state,
        &user,
        &client,
        "account.end_other_sessions",
        user.user.id.as_str(),
        &format!("sessions={n}"),
    )
    .await;
    Ok(Redirect::to("/settings/signins?done=ended").into_response())
}

#[derive(Template)]
#[template(path = "not_me.html")]
struct NotMePage {
    p: Page,
    event: EventRow,
}

/// The person's own sign-in event `id`; anyone else's is "not found".
async fn own_event(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<SignInEvent, AppError> {
    state
        .store
        .signin_event(&user.organisation.id, &user.user.id, &EventId::from_raw(id))
        .await?
        .ok_or(AppError::NotFound)
}

/// What "Det här var inte jag" will do, before it is done.
pub async fn not_me_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    let e = own_event(&state, &user, &id).await?;
    Ok(Html(
        NotMePage {
            p: Page::for_user(t, &csrf, "/settings/signins", &user),
            event: event_row(t, &zone_names(&state, &user.organisation.id).await?, &e),
        }
        .render()?,
    ))
}

/// Ends every other session and app token, requires a new password (the
/// next page is the password form), records the report in the audit log
/// and tells the emergency team.
pub async fn not_me_post(
    State(state): State<AppState>,
    Client(client): Client,
    headers: axum::http::HeaderMap,
    user: CurrentUser,
    Path(id): Path<String>,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let e = own_event(&state, &user, &id).await?;
    let now = state.clock.now();
    let org = &user.organisation;
    let ended = state
        .store
        .revoke_other_sessions(&org.id, &user.user.id, &user.session.token_hash, true, now)
        .await?;
    if !ended.newly_required {
        // Already reported (a double click, or parallel requests): the
        // sessions are ended again, nothing is recorded or sent twice.
        return Ok(Redirect::to("/password").into_response());
    }
    let n = ended.sessions;
    let this_browser = crate::signin::notice::device_hash(&state, &headers);
    crate::signin::notice::forget_devices(&state, &user.user, this_browser.as_deref()).await;
    crate::audit::events::record(
        &state,
        &user,
        &client,
        "account.not_me",
        &format!("{}/{}", user.user.id, e.id),
        &format!("sessions={n}"),
    )
    .await;
    // The servicedesk's case: a new one, or a note on the one open for
    // this account. The report stands even if this fails; it is logged.
    let sv = Tr::new(Lang::Sv);
    let row = event_row(sv, &zone_names(&state, &org.id).await?, &e);
    let what = format!(
        "{} · {} · {} · {} · {} · {}",
        row.when, row.place, row.ip, row.method, row.device, row.outcome
    );
    let new_case = match open_case(&state, &user, &client, &e.id, &what).await {
        Ok(new) => new,
        Err(err) => {
            tracing::error!(error = %err, user = %user.user.id, "intrusion case not opened for a not-me report");
            true
        }
    };
    // A further report while the account's case is open is a note on it;
    // the team heard of the case already.
    if new_case {
        tell_team(&state, &user, &e, now).await?;
    }
    Ok(Redirect::to("/password").into_response())
}

/// The report becomes an intrusion case for the
/// servicedesk, or a note on the case already open for their account.
/// Recorded with the person as the actor. True when a case was opened.
async fn open_case(
    state: &AppState,
    person: &CurrentUser,
    client: &ClientInfo,
    event: &EventId,
    what: &str,
) -> Result<bool, AppError> {
    let org = &person.organisation.id;
    let now = state.clock.now();
    let t = Tr::new(crate::http::i18n::Lang::Sv);
    if let Some(open) = state.store.open_case_of(org, &person.user.id).await? {
        let note = Note {
            id: EventId::generate(),
            at: now,
            written_at: now,
            author: person.user.id.clone(),
            body: format!("{}: {what}", t.get("case.not_me_note")),
        };
        if state.store.add_note(org, &open, &note).await? {
            crate::audit::events::record(
                state,
                person,
                client,
                "case.note",
                open.as_str(),
                "not_me",
            )
            .await;
            return Ok(false);
        }
    }
    let id = CaseId::generate();
    let number = state
        .store
        .open_case(&NewCase {
            id: id.clone(),
            organisation_id: org.clone(),
            title: format!(
                "{}: {} ({})",
                t.get("case.not_me_title"),
                person.user.display_name,
                person.user.username
            )
            .chars()
            .take(portvakt_core::intrusion::MAX_TITLE)
            .collect(),
            opened_at: now,
            opened_by: person.user.id.clone(),
            source: CaseSource::NotMe,
            reported_event: Some(event.clone()),
            accounts: vec![person.user.id.clone()],
        })
        .await?;
    crate::audit::events::record(
        state,
        person,
        client,
        "case.open",
        id.as_str(),
        &format!("case={number} not_me={event}"),
    )
    .await;
    Ok(true)
}

/// The organisation's emergency team hears at once, in Swedish and
/// English: who, which sign-in, and what has been done.
async fn tell_team(
    state: &AppState,
    user: &CurrentUser,
    e: &SignInEvent,
    now: i64,
) -> Result<(), AppError> {
    let org = &user.organisation;
    let (team, _) = state.store.emergency_contacts(&org.id).await?;
    if team.is_empty() {
        return Ok(());
    }
    let (sv, en) = (Tr::new(Lang::Sv), Tr::new(Lang::En));
    let zones = zone_names(state, &org.id).await?;
    let who = format!("{} ({})", user.user.display_name, user.user.username);
    let body = |t: Tr| {
        let row = event_row(t, &zones, e);
        format!(
            "{}\n\n{}: {who}\n{}: {} · {} · {} · {} · {}\n\n{}\n",
            t.get("history.team_lead"),
            t.get("history.team_person"),
            t.get("history.team_event"),
            row.when,
            row.place,
            row.ip,
            row.method,
            row.device,
            t.get("history.team_done"),
        )
    };
    // One line whatever the name holds (no header injection).
    let subject: String = format!("[Portvakt] {}: {}", sv.get("history.team_subject"), who)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let text = format!("{}\n--\n\n{}", body(sv), body(en));
    let messages: Vec<OutboxMessage> = team
        .iter()
        .map(|to| OutboxMessage {
            id: EventId::generate_at(now).to_string(),
            organisation_id: org.id.clone(),
            channel: Channel::Email,
            recipient: to.clone(),
            subject: subject.clone(),
            body: text.clone(),
            created_at: now,
            attempts: 0,
        })
        .collect();
    state
        .store
        .enqueue_batch(&format!("not-me {} {}", user.user.id, e.id), &messages)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_and_known_reason_has_words_in_both_languages() {
        for t in [Tr::new(Lang::Sv), Tr::new(Lang::En)] {
            for m in portvakt_core::store::SignInMethod::ALL {
                let key = format!("event.method.{}", m.as_str());
                assert_ne!(t.get(&key), key);
            }
            for r in [
                "ok",
                "bad_password",
                "unknown_user",
                "locked",
                "throttled",
                "ip_throttled",
                "bad_code",
                "password_ok_second_factor_next",
                "no_second_factor",
            ] {
                assert!(t.find(&format!("history.reason.{r}")).is_some(), "{r}");
            }
        }
    }
}
