//! Runs every organisation's health probes. One small task per probe does
//! the network check on its interval and reports to one collector, which
//! applies the failure and recovery thresholds, records transitions at
//! once (the component's public state, a draft incident, the team's
//! e-mail, the static copy) and writes the per-component daily figures
//! in one transaction per flush: no raw history is kept.

use crate::app::state::AppState;
use crate::status::notify::{notify_probe, ProbeNotice};
use crate::status::probes::check::Checker;
use portvakt_core::domain::Slug;
use portvakt_core::ids::OrganisationId;
use portvakt_core::probe::{CheckResult, DayFigure, Probe, ProbeState, Tracker, Transition};
use portvakt_core::status::probe_draft;
use portvakt_core::store::Lead;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

type Key = (OrganisationId, Slug);

/// The task name of the probe lead among servers on one database.
const PROBE_TASK: &str = "probes";

/// Daily figures are kept this long, then pruned.
const KEEP_DAYS: i64 = 400;

struct Outcome {
    key: Key,
    /// Which definition produced it: a result of a replaced probe is
    /// dropped.
    generation: u64,
    at: i64,
    result: CheckResult,
}

struct Running {
    probe: Probe,
    generation: u64,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Runner {
    state: AppState,
    running: HashMap<Key, Running>,
    trackers: HashMap<Key, Tracker>,
    views: HashMap<Key, ProbeState>,
    /// Checks and failures per (organisation, component, day) since the
    /// last flush.
    figures: HashMap<(OrganisationId, Slug, String), (i64, i64)>,
    generation: u64,
    /// When each organisation's static copy was last refreshed for its
    /// bars and "last updated" stamp.
    refreshed: HashMap<OrganisationId, tokio::time::Instant>,
}

/// The static copy of an organisation with probes is rewritten at least
/// this often, so its uptime bars do not go stale between incidents.
const REFRESH_COPY: Duration = Duration::from_secs(3600);

/// How often a server that does not run the probes asks whether it may,
/// and the leader checks it still does (at most; never less often than
/// the flush).
const ELECTION_SECS: u64 = 5;

/// Starts the probe runner unless `[status] run_probes = false`. Of the
/// servers sharing a database, only the one holding the probe lead runs
/// probes; the others wait and take over when it stops.
#[must_use]
pub fn spawn(state: AppState) -> Option<JoinHandle<()>> {
    if state.config.status.run_probes == Some(false) {
        return None;
    }
    Some(tokio::spawn(run(state)))
}

async fn run(state: AppState) {
    let flush_secs = state
        .config
        .status
        .probe_flush_seconds
        .unwrap_or(60)
        .clamp(1, 3600);
    let (tx, mut rx) = mpsc::channel::<Outcome>(4096);
    let mut r = Runner {
        state,
        running: HashMap::new(),
        trackers: HashMap::new(),
        views: HashMap::new(),
        figures: HashMap::new(),
        generation: 0,
        refreshed: HashMap::new(),
    };
    let mut lead: Option<Box<dyn Lead>> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(flush_secs.min(ELECTION_SECS)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_flush = tokio::time::Instant::now();
    loop {
        tokio::select! {
            Some(o) = rx.recv() => {
                if lead.is_some() {
                    r.handle(o).await;
                }
            }
            _ = tick.tick() => {
                let was_leading = lead.is_some();
                r.elect(&mut lead).await;
                if lead.is_none() {
                    continue;
                }
                let due = !was_leading
                    || last_flush.elapsed() >= Duration::from_secs(flush_secs);
                if due {
                    r.flush().await;
                    r.sync(&tx).await;
                    last_flush = tokio::time::Instant::now();
                }
            }
        }
    }
}

impl Runner {
    /// Keeps, takes or gives up the probe lead. A server that loses it
    /// stops its probes at once (another server may already run them) and
    /// forgets what it tracked: the next leader resumes from the stored
    /// states.
    async fn elect(&mut self, lead: &mut Option<Box<dyn Lead>>) {
        if let Some(l) = lead.as_mut() {
            if l.still_leading().await {
                return;
            }
            tracing::warn!(
                "probes: lost the probe lead (database connection gone); stopping probes"
            );
            *lead = None;
            self.running.clear();
            self.trackers.clear();
            self.views.clear();
            self.figures.clear();
        }
        match self.state.store.try_lead(PROBE_TASK).await {
            Ok(Some(l)) => {
                tracing::info!("probes: this server now runs the probes");
                *lead = Some(l);
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "probes: could not ask for the probe lead"),
        }
        let leading = u64::from(lead.is_some());
        self.state
            .metrics
            .probe_leader
            .store(leading, std::sync::atomic::Ordering::Relaxed);
    }

    /// Starts new probes, stops removed ones, restarts changed ones.
    async fn sync(&mut self, tx: &mpsc::Sender<Outcome>) {
        let probes = match self.state.store.probes(None).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "probes not loaded");
                return;
            }
        };
        let wanted: HashMap<Key, Probe> = probes
            .into_iter()
            .map(|p| ((p.organisation_id.clone(), p.slug.clone()), p))
            .collect();
        self.running
            .retain(|k, r| wanted.get(k).is_some_and(|p| *p == r.probe));
        self.trackers.retain(|k, _| wanted.contains_key(k));
        self.views.retain(|k, _| wanted.contains_key(k));
        let mut stored: HashMap<OrganisationId, Vec<ProbeState>> = HashMap::new();
        for (key, probe) in wanted {
            if self.running.contains_key(&key) {
                continue;
            }
            // A restart resumes where the last run left off, so an outage
            // is neither forgotten nor reported twice.
            if !stored.contains_key(&key.0) {
                let s = self
                    .state
                    .store
                    .probe_states(&key.0)
                    .await
                    .unwrap_or_default();
                stored.insert(key.0.clone(), s);
            }
            let previous = stored.get(&key.0).and_then(|list| {
                list.iter()
                    .find(|s| s.probe == key.1 && s.component == probe.component)
                    .cloned()
            });
            let down = previous.as_ref().is_some_and(|s| s.down);
            self.trackers.insert(key.clone(), Tracker::new(down));
            if let Some(p) = previous {
                self.views.insert(key.clone(), p);
            }
            self.generation += 1;
            let task = tokio::spawn(probe_loop(
                key.clone(),
                self.generation,
                probe.clone(),
                self.state.clock.clone(),
                tx.clone(),
            ));
            self.running.insert(
                key,
                Running {
                    probe,
                    generation: self.generation,
                    task,
                },
            );
        }
    }

    async fn handle(&mut self, o: Outcome) {
        let Some(run) = self.running.get(&o.key) else {
            return;
        };
        if run.generation != o.generation {
            return;
        }
        let probe = run.probe.clone();
        let day = portvakt_core::clock::stockholm_day(o.at).to_string();
        let f = self
            .figures
            .entry((o.key.0.clone(), probe.component.clone(), day))
            .or_default();
        f.0 += 1;
        f.1 += i64::from(!o.result.ok);
        let tracker = self.trackers.entry(o.key.clone()).or_default();
        let transition = tracker.observe(o.result.ok, probe.spec.failures, probe.spec.recoveries);
        let since = match (transition, self.views.get(&o.key)) {
            (None, Some(v)) => v.since,
            _ => o.at,
        };
        let view = ProbeState {
            organisation_id: o.key.0.clone(),
            probe: o.key.1.clone(),
            component: probe.component.clone(),
            down: tracker.down,
            since,
            checked_at: o.at,
            last_error: o.result.error.chars().take(300).collect(),
            impact: probe.impact(),
            // The store keeps an editor's dismissal while the probe stays
            // down and clears it when it comes up.
            muted: false,
        };
        self.views.insert(o.key.clone(), view.clone());
        if let Some(t) = transition {
            tracing::warn!(
                organisation = %o.key.0.as_str(), probe = %o.key.1.as_str(),
                component = %probe.component.as_str(), down = view.down, error = %view.last_error,
                "probe state changed"
            );
            if let Err(e) = self
                .state
                .store
                .put_probe_states(std::slice::from_ref(&view))
                .await
            {
                tracing::error!(error = %e, "probe state not stored");
            }
            if let Err(e) = self.transition(&probe, t, &view).await {
                tracing::error!(error = %e, "probe transition not handled");
            }
        }
    }

    /// A draft when a component goes down (unless one exists or editors
    /// already published an incident for it), its withdrawal when the
    /// component answers again before anyone confirmed it; the team is
    /// told either way and the static copy follows the public state.
    async fn transition(
        &self,
        probe: &Probe,
        t: Transition,
        view: &ProbeState,
    ) -> anyhow::Result<()> {
        let store = &*self.state.store;
        let org_id = &probe.organisation_id;
        let Some(org) = store.organisation(org_id).await? else {
            return Ok(());
        };
        let now = view.checked_at;
        let components = store.status_components(org_id).await?;
        let Some(component) = components.iter().find(|c| c.slug == probe.component) else {
            return Ok(());
        };
        let names = |i: &portvakt_core::status::Incident| {
            i.resolved_at.is_none() && i.affected.iter().any(|(c, _)| *c == component.slug)
        };
        let drafts: Vec<_> = store
            .draft_incidents(org_id)
            .await?
            .into_iter()
            .filter(|i| names(i))
            .collect();
        let mut notice = ProbeNotice {
            component: &component.name,
            probe: probe.slug.as_str(),
            down: t == Transition::WentDown,
            error: &view.last_error,
            draft_opened: false,
            draft_withdrawn: false,
        };
        match t {
            Transition::WentDown => {
                let published = store.incidents(org_id, now, 200).await?.iter().any(names);
                if drafts.is_empty() && !published {
                    store
                        .create_incident(&probe_draft(component, probe.impact(), now))
                        .await?;
                    notice.draft_opened = true;
                }
            }
            Transition::CameUp => {
                let still_down = self.views.values().any(|v| {
                    v.down && v.organisation_id == *org_id && v.component == component.slug
                });
                if !still_down {
                    for d in &drafts {
                        notice.draft_withdrawn |= store.withdraw_draft(org_id, &d.id, now).await?;
                    }
                }
            }
        }
        notify_probe(store, &org, self.state.config.public_url(), &notice, now).await?;
        crate::status::export::publish(&self.state, org);
        Ok(())
    }

    /// Writes the figures and views gathered since the last flush.
    async fn flush(&mut self) {
        let store = &*self.state.store;
        if !self.figures.is_empty() {
            let batch: Vec<(OrganisationId, DayFigure)> = self
                .figures
                .iter()
                .map(|((org, component, day), (checks, failures))| {
                    (
                        org.clone(),
                        DayFigure {
                            component: component.clone(),
                            day: day.clone(),
                            checks: *checks,
                            failures: *failures,
                        },
                    )
                })
                .collect();
            match store.add_probe_figures(&batch).await {
                Ok(()) => self.figures.clear(),
                // Kept and added to next time.
                Err(e) => tracing::error!(error = %e, "probe figures not stored"),
            }
        }
        let views: Vec<ProbeState> = self.views.values().cloned().collect();
        if !views.is_empty() {
            if let Err(e) = store.put_probe_states(&views).await {
                tracing::error!(error = %e, "probe states not stored");
            }
        }
        if self.state.config.status.export_dir.is_some() {
            let orgs: std::collections::BTreeSet<OrganisationId> =
                self.running.keys().map(|k| k.0.clone()).collect();
            for org in orgs {
                let due = self
                    .refreshed
                    .get(&org)
                    .is_none_or(|t| t.elapsed() >= REFRESH_COPY);
                if due {
                    if let Ok(Some(o)) = store.organisation(&org).await {
                        crate::status::export::publish(&self.state, o);
                    }
                    self.refreshed.insert(org, tokio::time::Instant::now());
                }
            }
        }
        let now = self.state.clock.now();
        let oldest = portvakt_core::clock::stockholm_day(now - KEEP_DAYS * 86_400).to_string();
        if let Err(e) = store.prune_probe_days(&oldest).await {
            tracing::error!(error = %e, "old probe figures not pruned");
        }
    }
}

/// One probe: its checks on its interval, the first one spread over the
/// interval so hundreds of probes do not fire together.
async fn probe_loop(
    key: Key,
    generation: u64,
    probe: Probe,
    clock: std::sync::Arc<dyn portvakt_core::Clock>,
    tx: mpsc::Sender<Outcome>,
) {
    let interval = Duration::from_secs(u64::from(probe.spec.interval_s));
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    let offset = Duration::from_millis(h.finish() % (interval.as_millis().max(1) as u64));
    let checker = Checker::new(&probe.spec).map_err(|e| e.to_string());
    let start = tokio::time::Instant::now() + offset;
    let mut tick = tokio::time::interval_at(start, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = clock.now();
        let result = match &checker {
            Ok(c) => c.check(now).await,
            Err(e) => CheckResult {
                ok: false,
                error: e.clone(),
                millis: 0,
            },
        };
        let o = Outcome {
            key: key.clone(),
            generation,
            at: clock.now(),
            result,
        };
        if tx.send(o).await.is_err() {
            return;
        }
    }
}
