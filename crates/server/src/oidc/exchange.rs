//! Code exchanges, group-committed. Each exchange must be durable before
//! its tokens leave (a crash must not forget a grant whose refresh token an
//! app holds), and with SQLite every commit waits for its own `fsync`
//! behind a single writer. So exchanges arriving together are redeemed
//! together: one task takes every exchange waiting, one transaction and one
//! `fsync` store them all, and each caller gets its own outcome. Under no
//! load a batch is one exchange and nothing waits; under load the batch
//! grows while the previous one commits.

use crate::app::metrics::Metrics;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::OrganisationId;
use portvakt_core::oidc::grants::CodeExchange;
use portvakt_core::store::{GrantRecord, Issue, NewRefreshToken, Redeemed, Store};
use portvakt_core::{Clock, StoreError};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// At most this many exchanges per transaction (SQL parameters stay far
/// below both backends' limits).
const MAX_BATCH: usize = 128;
/// Exchanges waiting beyond this make callers wait to queue.
const QUEUE: usize = 4096;

/// One exchange asked for at the token endpoint.
pub struct Exchange {
    pub organisation: OrganisationId,
    pub code_hash: String,
    pub shown: CodeExchange,
    /// The refresh token to store (its hash), if the client gets one.
    pub refresh_hash: Option<String>,
    /// How long the grant lives, in seconds.
    pub grant_seconds: i64,
}

struct Job {
    exchange: Exchange,
    reply: oneshot::Sender<Result<Redeemed, StoreError>>,
}

/// The queue to the redeeming task, started on first use (inside the
/// server's runtime).
pub struct Exchanges {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    queue: OnceLock<mpsc::Sender<Job>>,
}

impl Exchanges {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, metrics: Arc<Metrics>) -> Self {
        Self {
            store,
            clock,
            metrics,
            queue: OnceLock::new(),
        }
    }

    /// Redeems one code (with whatever else is waiting).
    ///
    /// # Errors
    /// The store's error, for every exchange of a batch that failed.
    pub async fn redeem(&self, exchange: Exchange) -> Result<Redeemed, StoreError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(run(
                self.store.clone(),
                self.clock.clone(),
                self.metrics.clone(),
                rx,
            ));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Backend("the code exchange task has stopped".into());
        queue
            .send(Job { exchange, reply })
            .await
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    mut rx: mpsc::Receiver<Job>,
) {
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        // Under load, let the requests already read reach the queue before
        // committing: one more turn of the runtime costs nothing when idle
        // and makes the batch (and the share of each commit) larger.
        if waiting.len() > 1 {
            tokio::task::yield_now().await;
            while waiting.len() < MAX_BATCH {
                let Ok(job) = rx.try_recv() else { break };
                waiting.push(job);
            }
        }
        metrics
            .oidc_code_exchanges
            .fetch_add(waiting.len() as u64, Relaxed);
        let mut by_org: BTreeMap<OrganisationId, Vec<Job>> = BTreeMap::new();
        for job in waiting.drain(..) {
            by_org
                .entry(job.exchange.organisation.clone())
                .or_default()
                .push(job);
        }
        for (org, jobs) in by_org {
            Metrics::inc(&metrics.oidc_exchange_batches);
            // Its own task: a panic fails this batch's callers (their
            // replies are dropped), not every exchange after it.
            let batch = tokio::spawn(redeem_batch(store.clone(), clock.now(), org, jobs));
            if let Err(e) = batch.await {
                tracing::error!(error = %e, "a batch of code exchanges failed");
            }
        }
    }
}

async fn redeem_batch(store: Arc<dyn Store>, now: UnixTime, org: OrganisationId, jobs: Vec<Job>) {
    let hashes: Vec<String> = jobs.iter().map(|j| j.exchange.code_hash.clone()).collect();
    let decide = |i: usize, code: &_, user: &_| {
        let ex: &Exchange = &jobs[i].exchange;
        ex.shown.accepts(code, user, now).then(|| {
            let expires_at = now + ex.grant_seconds;
            Issue {
                grant: GrantRecord {
                    // The store gives the grant the id the code points to.
                    id: String::new(),
                    organisation_id: org.clone(),
                    client_row_id: code.client_row_id.clone(),
                    user_id: code.user_id.clone(),
                    scope: code.scope.clone(),
                    auth_time: code.auth_time,
                    amr: code.amr.clone(),
                    created_at: now,
                    expires_at,
                    revoked_at: None,
                },
                refresh: ex.refresh_hash.as_ref().map(|h| NewRefreshToken {
                    token_hash: h.clone(),
                    expires_at,
                }),
            }
        })
    };
    match store.redeem_codes(&org, &hashes, now, &decide).await {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.reply.send(Ok(outcome));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, exchanges = jobs.len(), "code exchanges not stored");
            for job in jobs {
                let _ = job.reply.send(Err(StoreError::Backend(e.to_string())));
            }
        }
    }
}
