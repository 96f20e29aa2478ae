//! Telling a person's own addresses and numbers that their factors changed,
//! so a stranger adding or removing one is noticed.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::extract::CurrentUser;
use portvakt_core::ids::FactorId;

/// Tells a removed address or number that it no longer gets codes.
pub(crate) async fn notify_removed(
    state: &AppState,
    org: &portvakt_core::ids::OrganisationId,
    f: &portvakt_core::store::Factor,
) -> Result<(), AppError> {
    if let (Some(d), true) = (&f.destination, state.senders.delivers(f.kind)) {
        if let Some(m) =
            crate::messaging::messages::change_notice(org, f.kind, d, false, state.clock.now())
        {
            state.store.enqueue_message(&m).await?;
        }
    }
    Ok(())
}

/// Tells the user's other addresses and numbers that a factor was added, so a stranger
/// adding a number is noticed (SECURITY.md: notify the old number).
pub(crate) async fn notify_other_contacts(
    state: &AppState,
    user: &CurrentUser,
    except: &FactorId,
) -> Result<(), AppError> {
    let factors = state
        .store
        .factors(&user.organisation.id, &user.user.id)
        .await?;
    for f in factors.iter().filter(|f| f.confirmed && &f.id != except) {
        if let (Some(d), true) = (&f.destination, state.senders.delivers(f.kind)) {
            if let Some(m) = crate::messaging::messages::change_notice(
                &user.organisation.id,
                f.kind,
                d,
                true,
                state.clock.now(),
            ) {
                state.store.enqueue_message(&m).await?;
            }
        }
    }
    Ok(())
}
