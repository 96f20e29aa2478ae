//! Telling a person's own addresses and numbers that their sign-in changed
//! (password, second factors), so a stranger's change is noticed
//! (SECURITY.md: notify the old number on change).
//!
//! The notices are queued in the outbox like every message and sent by its
//! worker; a notice that cannot even be queued is logged and the change
//! stands: refusing a password change because an SMS could not be queued
//! would help no one.

use super::notice_text::{help_phone, Change, Notice};
use crate::app::state::AppState;
use portvakt_core::ids::FactorId;
use portvakt_core::store::{Factor, FactorKind, Organisation, OutboxMessage, User};
use portvakt_core::StoreError;

/// Tells the person's confirmed addresses and numbers about `change`. The
/// factor the change itself added (`just_added`) is left out: whoever added
/// it may be the stranger, so it cannot be the warning.
pub(crate) async fn tell_contacts(
    state: &AppState,
    org: &Organisation,
    user: &User,
    change: Change,
    just_added: Option<&FactorId>,
) {
    if let Err(e) = queue_for_contacts(state, org, user, change, just_added).await {
        tracing::error!(error = %e, user = %user.id, ?change, "notice not queued");
    }
}

async fn queue_for_contacts(
    state: &AppState,
    org: &Organisation,
    user: &User,
    change: Change,
    just_added: Option<&FactorId>,
) -> Result<(), StoreError> {
    let factors = state.store.factors(&org.id, &user.id).await?;
    for f in factors
        .iter()
        .filter(|f| f.confirmed && Some(&f.id) != just_added)
    {
        if let Some(m) = message(state, org, user, f, change) {
            state.store.enqueue_message(&m).await?;
        }
    }
    Ok(())
}

/// A factor was removed (by the person or by servicedesk): the removed
/// address or number hears that it gets no more codes, and the person's
/// other contacts hear what was removed.
pub(crate) async fn factor_removed(
    state: &AppState,
    org: &Organisation,
    user: &User,
    removed: &Factor,
) {
    if !removed.confirmed {
        return;
    }
    if let Some(m) = message(state, org, user, removed, Change::RemovedThis(removed.kind)) {
        if let Err(e) = state.store.enqueue_message(&m).await {
            tracing::error!(error = %e, user = %user.id, "removal notice not queued");
        }
    }
    tell_contacts(
        state,
        org,
        user,
        Change::Removed(removed.kind),
        Some(&removed.id),
    )
    .await;
}

/// The notice for one factor, if it is an address or number this server
/// can reach.
fn message(
    state: &AppState,
    org: &Organisation,
    user: &User,
    to: &Factor,
    change: Change,
) -> Option<OutboxMessage> {
    let dest = to.destination.as_deref()?;
    if !state.senders.delivers(to.kind) {
        return None;
    }
    let now = state.clock.now();
    let phone = help_phone(&org.status_contact);
    let notice = Notice {
        change,
        at: now,
        phone: phone.as_deref(),
        lang: user.language,
    };
    match to.kind {
        FactorKind::Sms => Some(notice.sms(&org.id, dest, now)),
        FactorKind::Email => Some(notice.email(&org.id, dest, now)),
        FactorKind::Totp | FactorKind::Passkey => None,
    }
}
