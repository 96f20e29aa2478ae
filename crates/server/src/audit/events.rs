//! Writing the audit log: admin actions, refused admin requests (issue 10
//! L7, SECURITY.md F1) and a person's own security changes (issue 14), each
//! with organisation, actor, IP, user agent, UTC time, action, target and
//! result, appended to the organisation's chain. Never passwords, codes,
//! tokens or message texts.

use crate::app::state::AppState;
use crate::http::error::RoleRefusal;
use crate::http::extract::{Client, CurrentUser};
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use portvakt_core::auth::signin::ClientInfo;
use portvakt_core::ids::{EventId, OrganisationId, UserId};
use portvakt_core::store::{AdminEvent, EventResult};

/// User agents are the client's text: bounded so a request cannot bloat
/// the table.
const MAX_USER_AGENT: usize = 512;

fn new_event(
    state: &AppState,
    organisation: &OrganisationId,
    actor: &UserId,
    client: &ClientInfo,
    action: &str,
    target: &str,
) -> AdminEvent {
    AdminEvent {
        id: EventId::generate(),
        organisation_id: organisation.clone(),
        actor_id: actor.clone(),
        at: state.clock.now(),
        ip: client.ip.to_string(),
        user_agent: client.user_agent.chars().take(MAX_USER_AGENT).collect(),
        action: action.to_owned(),
        target: target.to_owned(),
        result: EventResult::Success,
        detail: "ok".to_owned(),
    }
}

async fn save(state: &AppState, event: &AdminEvent) {
    // The action itself has happened; a failed write must not undo the
    // answer, but it must not pass unnoticed either.
    if let Err(e) = state.store.record_admin_event(event).await {
        tracing::error!(error = %e, action = %event.action, target = %event.target, "admin event not recorded");
    }
}

/// Records a completed action by `admin` (a servicedesk member, or the
/// person acting on their own account); `detail` is machine-readable
/// (`ok`, `sessions=3`).
pub async fn record(
    state: &AppState,
    admin: &CurrentUser,
    client: &ClientInfo,
    action: &str,
    target: &str,
    detail: &str,
) {
    let mut e = new_event(
        state,
        &admin.organisation.id,
        &admin.user.id,
        client,
        action,
        target,
    );
    detail.clone_into(&mut e.detail);
    save(state, &e).await;
}

/// Records an action by someone not signed in (a refused reset during a
/// change freeze): the actor is `anonymous`, the address and user agent
/// are the client's.
pub async fn record_anonymous(
    state: &AppState,
    organisation: &OrganisationId,
    client: &ClientInfo,
    action: &str,
    target: &str,
    detail: &str,
) {
    let mut e = new_event(
        state,
        organisation,
        &UserId::from_raw("anonymous"),
        client,
        action,
        target,
    );
    e.result = EventResult::Failure;
    detail.clone_into(&mut e.detail);
    save(state, &e).await;
}

/// Layer: a response refused for lack of a role ([`RoleRefusal`]) is
/// recorded as `refused` with the method and path asked for, wherever the
/// role check sits.
pub async fn refusals(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let client = Client::from_request_parts(&mut parts, &state).await;
    // Bounded like the user agent: a refusal is one entry, not a payload.
    let target: String = format!("{} {}", parts.method, parts.uri.path())
        .chars()
        .take(MAX_USER_AGENT)
        .collect();
    let resp = next.run(Request::from_parts(parts, body)).await;
    if let (Some(who), Ok(Client(client))) = (resp.extensions().get::<RoleRefusal>(), client) {
        let mut e = new_event(
            &state,
            &who.organisation,
            &who.actor,
            &client,
            "refused",
            &target,
        );
        e.result = EventResult::Failure;
        "forbidden".clone_into(&mut e.detail);
        save(&state, &e).await;
    }
    resp
}
