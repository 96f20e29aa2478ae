//! Background work that must not slow down answering people: delivering
//! the outbox and issuing a crisis rotation's codes run on a thread of
//! their own at a lower priority (SCHED_BATCH, nice 9, as password hashing
//! does), with a small runtime of its own. Under load, `/auth/verify` and
//! sign-ins keep their latency; the background work takes what is left.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Stops the thread's loops when dropped (the server stopping).
pub struct Background {
    stop: Arc<AtomicBool>,
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Runs `work(stop)` on a new low-priority thread with its own
/// single-threaded runtime. `work` gets the stop flag to end its loops.
///
/// # Errors
/// When the thread or its runtime cannot be made.
pub fn spawn<F, Fut>(name: &str, work: F) -> std::io::Result<Background>
where
    F: FnOnce(Arc<AtomicBool>) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            portvakt_core::auth::password::lower_priority();
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(work(flag)),
                Err(e) => tracing::error!(error = %e, "background runtime not started"),
            }
        })?;
    Ok(Background { stop })
}

/// Whether the server is stopping.
#[must_use]
pub fn stopping(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Relaxed)
}
