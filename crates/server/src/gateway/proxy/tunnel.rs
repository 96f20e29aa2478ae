//! An upgraded connection (WebSocket) between the browser and an app,
//! closed when the session that opened it ends (issue 10 L2, SECURITY.md
//! B3): signing out, "end all sessions", a disabled account, idle time or
//! the absolute lifetime. The session is re-read from the store, not the
//! node's cache, so a revocation on another node counts too.

use crate::app::state::AppState;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use portvakt_core::auth::session::SessionState;
use std::time::Duration;

/// How often an open tunnel re-checks its session: ends within ≤ 1 s (B3).
pub const RECHECK: Duration = Duration::from_millis(500);

/// Whether the session behind `hash` still lets its user in. Store
/// errors count as ended: a tunnel fails closed.
async fn still_valid(state: &AppState, hash: &str) -> bool {
    let Ok(Some(s)) = state.store.session(hash).await else {
        return false;
    };
    // Read-only: an open socket must not keep an idle session alive.
    let valid = matches!(
        state
            .config
            .session_policy()
            .evaluate(&s, state.clock.now()),
        SessionState::Valid { .. }
    );
    valid
        && !s.pending_mfa
        && matches!(
            state.store.user(&s.organisation_id, &s.user_id).await,
            Ok(Some(u)) if u.is_active() && !u.must_change_password
        )
}

/// Copies bytes both ways until either side closes or the session ends.
/// `slot` keeps the client's connection counted under its cap while the
/// tunnel is open (SECURITY.md L6).
pub fn spawn(
    state: AppState,
    session_hash: String,
    client: OnUpgrade,
    upstream: OnUpgrade,
    slot: crate::app::listener::ConnectionSlot,
) {
    tokio::spawn(async move {
        let _slot = slot;
        let (Ok(a), Ok(b)) = (client.await, upstream.await) else {
            return;
        };
        let (mut a, mut b) = (TokioIo::new(a), TokioIo::new(b));
        let watch = async {
            loop {
                tokio::time::sleep(RECHECK).await;
                if !still_valid(&state, &session_hash).await {
                    return;
                }
            }
        };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
            () = watch => {
                tracing::info!("session ended: closing its tunnel to an app");
            }
        }
        // Dropping both halves closes both connections.
    });
}
