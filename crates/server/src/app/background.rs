//! Background work that must not slow down answering people: delivering
//! the outbox and a crisis rotation's worker run on a thread of their own
//! at a lower priority (SCHED_BATCH, nice 9, as password hashing does),
//! with a small runtime of its own. Under load, `/auth/verify` and sign-ins
//! keep their latency; the background work takes what is left. Issuing a
//! rotation's codes goes further down, onto an [`IdleLane`].

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use portvakt_core::store::Store;

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

type LaneJob =
    Box<dyn FnOnce(Arc<dyn Store>) -> std::pin::Pin<Box<dyn Future<Output = ()>>> + Send + 'static>;

/// A thread at the lowest CPU priority (SCHED_IDLE) with a runtime and a
/// store of its own. Work given to it runs only on CPU time nobody else
/// wants: on a shared core, even low-priority work that wakes up often
/// (a statement at a time) delays a woken request thread by up to a
/// scheduler tick; idle-class work does not (docs/benchmarks.md).
///
/// The store should be opened by the caller, not on the lane: with SQLite
/// the statements run on a thread that has the priority of the thread that
/// opened the connection, and that thread must not be idle-class. It holds
/// the database's write lock during a transaction and flushes it to disk
/// (an idle-class thread also gets idle-class disk I/O); starved by a busy
/// machine in the middle of one, it would hold up every sign-in. The lane
/// itself starves harmlessly between statements, and cannot raise its
/// priority again: callers watch its progress and go on in their own
/// thread when it stalls.
pub struct IdleLane {
    jobs: tokio::sync::mpsc::UnboundedSender<LaneJob>,
}

impl IdleLane {
    /// Starts the thread; `open` runs on it and gives its store (open the
    /// connections before, see above, and hand them over). When it fails,
    /// the lane takes no work ([`IdleLane::submit`] says so) and callers do
    /// the work themselves.
    ///
    /// # Errors
    /// When the thread cannot be made.
    pub fn spawn<F, Fut>(name: &str, open: F) -> std::io::Result<Self>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<Arc<dyn Store>>>,
    {
        let (jobs, mut rx) = tokio::sync::mpsc::unbounded_channel::<LaneJob>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                if !portvakt_core::auth::password::lowest_priority() {
                    tracing::debug!("idle lane: the OS kept its priority");
                }
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::warn!(error = %e, "idle lane: no runtime");
                        return;
                    }
                };
                rt.block_on(async move {
                    let store = match open().await {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::warn!(error = %e, "idle lane: no database connection");
                            return;
                        }
                    };
                    while let Some(job) = rx.recv().await {
                        job(store.clone()).await;
                    }
                });
            })?;
        Ok(Self { jobs })
    }

    /// Runs `work` on the lane and gives its result, or `None` when the
    /// lane is gone or has not answered within `patience` (the caller then
    /// does the work itself, at its own priority). For reads: work given
    /// up on still finishes on the lane, and its result is dropped.
    pub async fn run<T, F, Fut>(&self, patience: std::time::Duration, work: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        tokio::time::timeout(patience, self.start(work)?)
            .await
            .ok()?
            .ok()
    }

    /// Queues `work` and gives the receiver of its result (`None` when
    /// the lane is gone; the receiver errs when it goes away meanwhile).
    pub fn start<T, F, Fut>(&self, work: F) -> Option<tokio::sync::oneshot::Receiver<T>>
    where
        T: Send + 'static,
        F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
        Fut: Future<Output = T> + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(move |store| async move {
            let _ = tx.send(work(store).await);
        })
        .then_some(rx)
    }

    /// Queues `job` for the lane; `false` when the lane is gone (it could
    /// not open its store, or stopped).
    pub fn submit<F, Fut>(&self, job: F) -> bool
    where
        F: FnOnce(Arc<dyn Store>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.jobs
            .send(Box::new(move |store| Box::pin(job(store))))
            .is_ok()
    }
}
