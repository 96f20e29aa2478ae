//! Crisis rotation, the work itself (issue 15): plan who is reached how,
//! start (everything ends at once), issue codes in batches, move people on
//! when a channel fails them, send again. The web page, the command line
//! and the background worker all drive these same steps; the store's
//! per-person states make each step safe to repeat after a crash.

use crate::http::i18n::{Lang, Tr};
use crate::http::time_fmt;
use crate::messaging::messages::sms;
use portvakt_core::domain::Slug;
use portvakt_core::ids::{EventId, OrganisationId, RotationId, UserId};
use portvakt_core::rotation::{
    code_hash, new_code, route, Candidate, Issue, PersonState, Rotation, RotationChannel,
    RotationPhase, RoutedPerson, Stop,
};
use portvakt_core::store::{Channel, Organisation, OutboxMessage, Store};
use portvakt_core::StoreError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// People issued per transaction: small enough that a transaction never
/// holds the database for long (sign-ins go on meanwhile), large enough
/// that 10,000 people take seconds.
pub const ISSUE_BATCH: u32 = 250;
/// People issued per transaction on the idle lane: smaller, because a
/// transaction there holds SQLite's write lock while the lane waits for
/// the CPU between its statements (the statements themselves run on the
/// connection's own thread, at low priority).
pub const LANE_BATCH: u32 = 100;
/// A lane batch taking longer than this means the machine has no CPU
/// time to spare (a batch takes tens of milliseconds otherwise).
pub const LANE_STALLED: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a runner's right to issue lasts without renewal (renewed once
/// half of it has passed); a runner that dies is replaced after this.
pub const LEASE_SECS: i64 = 10;
/// Failed tries on one automatic channel before the person is moved on to
/// their next (about two minutes with the outbox's back-off).
pub const MOVE_ON_AFTER: u32 = 3;

/// Who a rotation would include and how each would be reached.
///
/// # Errors
/// Store failures.
pub async fn plan(
    store: &dyn Store,
    org: &OrganisationId,
    group: Option<&Slug>,
    except: Option<&UserId>,
) -> Result<Vec<(Candidate, Vec<Stop>)>, StoreError> {
    let plan = store.crisis_plan(org).await?;
    Ok(store
        .rotation_candidates(org, group)
        .await?
        .into_iter()
        .filter(|c| Some(&c.user.id) != except)
        .map(|c| {
            let r = route(&plan, &c);
            (c, r)
        })
        .collect())
}

/// How many people each channel would reach first.
#[must_use]
pub fn first_channels(people: &[(Candidate, Vec<Stop>)]) -> Vec<(RotationChannel, u32)> {
    RotationChannel::ALL
        .into_iter()
        .map(|ch| {
            let n = people
                .iter()
                .filter(|(_, r)| r.first().map(|s| s.channel) == Some(ch))
                .count();
            (ch, u32::try_from(n).unwrap_or(u32::MAX))
        })
        .collect()
}

/// Starts a rotation: at once every included person's password, sessions
/// and app tokens end. `except` is the person starting it from the web
/// (they keep their session to follow the work, and change their own
/// password themselves). `None` when one is already issuing codes.
///
/// # Errors
/// Store failures.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    store: &dyn Store,
    org: &Organisation,
    group: Option<Slug>,
    revoke_passkeys: bool,
    by: Option<UserId>,
    now: i64,
) -> Result<Option<Rotation>, StoreError> {
    let people = plan(store, &org.id, group.as_ref(), by.as_ref()).await?;
    start_planned(store, org, people, group, revoke_passkeys, by, now).await
}

/// [`start`] with the people [`plan`] gave (reading 10,000 of them takes
/// a while: a caller that showed the plan need not read it again).
///
/// # Errors
/// Store failures.
pub async fn start_planned(
    store: &dyn Store,
    org: &Organisation,
    people: Vec<(Candidate, Vec<Stop>)>,
    group: Option<Slug>,
    revoke_passkeys: bool,
    by: Option<UserId>,
    now: i64,
) -> Result<Option<Rotation>, StoreError> {
    let hours = store.crisis_plan(&org.id).await?.code_hours;
    let rotation = Rotation {
        id: RotationId::generate(),
        organisation_id: org.id.clone(),
        started_by: by,
        started_at: now,
        group,
        revoke_passkeys,
        expires_at: now + i64::from(hours) * 3600,
        phase: RotationPhase::Issuing,
        people: u32::try_from(people.len()).unwrap_or(u32::MAX),
    };
    let rows: Vec<(UserId, Vec<Stop>)> = people.into_iter().map(|(c, r)| (c.user.id, r)).collect();
    Ok(store
        .start_rotation(&rotation, &rows, now)
        .await?
        .then_some(rotation))
}

/// What a message needs to say besides the code.
pub struct Letterhead<'a> {
    pub organisation: &'a Organisation,
    /// Where people sign in, when the installation knows its address.
    pub portal: Option<&'a str>,
    pub expires_at: i64,
}

/// The message carrying `code` to `person` on route stop `position`;
/// `None` for the hand-over channels.
#[must_use]
pub fn message(
    head: &Letterhead<'_>,
    person: &RoutedPerson,
    position: usize,
    code: &str,
    now: i64,
) -> Option<OutboxMessage> {
    let stop = person.route.get(position)?;
    let until = time_fmt::stockholm(head.expires_at);
    let org = &head.organisation;
    let fill = |t: Tr, key: &str| {
        t.get(key)
            .replace("{org}", &org.name)
            .replace("{name}", &person.display_name)
            .replace("{username}", person.username.as_str())
            .replace("{code}", code)
            .replace("{until}", &until)
            .replace(
                "{portal}",
                head.portal.unwrap_or(t.get("rotation.msg.portal_unknown")),
            )
    };
    let (channel, recipient) = match stop.channel {
        RotationChannel::Sms => {
            let lang = person.language.unwrap_or(Lang::Sv);
            return Some(sms(
                &org.id,
                &stop.address,
                fill(Tr::new(lang), "rotation.sms"),
                now,
            ));
        }
        RotationChannel::Email => (Channel::Email, stop.address.clone()),
        RotationChannel::Mailbox => (Channel::Mailbox, stop.address.clone()),
        RotationChannel::Manager | RotationChannel::Servicedesk => return None,
    };
    let (sv, en) = (Tr::new(Lang::Sv), Tr::new(Lang::En));
    Some(OutboxMessage {
        id: EventId::generate_at(now).to_string(),
        organisation_id: org.id.clone(),
        channel,
        recipient,
        subject: format!(
            "{} / {}",
            fill(sv, "rotation.msg.subject"),
            fill(en, "rotation.msg.subject")
        ),
        body: format!(
            "{}\n\n--\n\n{}\n",
            fill(sv, "rotation.msg.body"),
            fill(en, "rotation.msg.body")
        ),
        created_at: now,
        attempts: 0,
    })
}

/// Puts `person` on route stop `position` with `code`.
fn issue_at(
    head: &Letterhead<'_>,
    person: &RoutedPerson,
    position: usize,
    code: String,
    now: i64,
) -> Issue {
    let channel = person
        .route
        .get(position)
        .map_or(RotationChannel::Servicedesk, |s| s.channel);
    Issue {
        user_id: person.user_id.clone(),
        code_hash: code_hash(&head.organisation.id, &person.user_id, &code),
        message: message(head, person, position, &code, now),
        code,
        position,
        channel,
        state: PersonState::on(channel),
    }
}

/// Issues codes to up to `size` people still waiting for one; returns
/// how many were waiting (0 when none are left) and how many were issued
/// here (fewer when another runner issued some meanwhile).
///
/// # Errors
/// Store failures.
async fn issue_batch(
    store: &dyn Store,
    rotation: &Rotation,
    head: &Letterhead<'_>,
    size: u32,
    now: i64,
) -> Result<(usize, u32), StoreError> {
    let org = &rotation.organisation_id;
    let people = store.pending_people(org, &rotation.id, size).await?;
    let issues: Vec<Issue> = people
        .iter()
        .map(|p| issue_at(head, p, 0, new_code(), now))
        .collect();
    // Also marks the rotation issued when nobody is left.
    let issued = store.issue_codes(org, &rotation.id, &issues, now).await?;
    Ok((people.len(), issued))
}

/// How issuing ended for one runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Issued {
    /// Nobody is left waiting for a code.
    All,
    /// Another runner holds the lease, or issued what this one read: it
    /// is issuing them.
    Elsewhere,
    /// Told to stop (another thread goes on).
    Stopped,
}

/// Issues every code still due, `batch` people at a time, while holding
/// the rotation's lease as `runner` (renewed as it runs out) and until
/// `stop` is set; `progress` hears how many each batch issued.
///
/// # Errors
/// Store failures.
#[allow(clippy::too_many_arguments)]
async fn issue_all(
    store: &dyn Store,
    rotation: &Rotation,
    head: &Letterhead<'_>,
    runner: &str,
    clock: &dyn portvakt_core::Clock,
    batch: u32,
    stop: Option<&AtomicBool>,
    mut progress: impl FnMut(u32),
) -> Result<Issued, StoreError> {
    let org = &rotation.organisation_id;
    let mut leased_until = i64::MIN;
    loop {
        if stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return Ok(Issued::Stopped);
        }
        let now = clock.now();
        // Renewed once half of it has passed: a write of its own each
        // batch would cost a commit (and a flush to disk) per batch.
        if now + LEASE_SECS / 2 >= leased_until {
            if !store
                .lease_rotation(org, &rotation.id, runner, now, now + LEASE_SECS)
                .await?
            {
                return Ok(Issued::Elsewhere);
            }
            leased_until = now + LEASE_SECS;
        }
        let (waiting, n) = issue_batch(store, rotation, head, batch, now).await?;
        progress(n);
        if waiting == 0 {
            return Ok(Issued::All);
        }
        if n == 0 {
            // Another runner took over (this one's lease ran out during a
            // slow batch) and issued them first.
            return Ok(Issued::Elsewhere);
        }
        // Sign-ins and checks go on between batches.
        tokio::task::yield_now().await;
    }
}

/// What the idle lane tells the runner waiting for it.
enum LaneNews {
    Issued(u32),
    Ended(Result<Issued, StoreError>),
}

/// Issues every code still due like [`issue_all`], on `lane` while it
/// makes progress: there the work takes only CPU time nobody else wants,
/// so sign-ins and checks on the same machine keep their latency. When a
/// batch takes longer than [`LANE_STALLED`] (the machine has no time to
/// spare, and the lane cannot raise its priority) or the lane is missing
/// or fails, the rest is issued here, on `store`, in [`ISSUE_BATCH`]es.
/// `false` when another runner holds the lease.
///
/// # Errors
/// Store failures.
pub async fn issue_all_yielding(
    lane: Option<&crate::app::background::IdleLane>,
    store: &dyn Store,
    rotation: &Rotation,
    head: &Letterhead<'_>,
    runner: &str,
    clock: Arc<dyn portvakt_core::Clock>,
    mut progress: impl FnMut(u32),
) -> Result<bool, StoreError> {
    if let Some(lane) = lane {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let stop = Arc::new(AtomicBool::new(false));
        let job = {
            let (rotation, organisation, runner, clock, stop) = (
                rotation.clone(),
                head.organisation.clone(),
                runner.to_owned(),
                clock.clone(),
                stop.clone(),
            );
            let (portal, expires_at) = (head.portal.map(str::to_owned), head.expires_at);
            move |lane_store: Arc<dyn Store>| async move {
                let head = Letterhead {
                    organisation: &organisation,
                    portal: portal.as_deref(),
                    expires_at,
                };
                let ended = issue_all(
                    &*lane_store,
                    &rotation,
                    &head,
                    &runner,
                    &*clock,
                    LANE_BATCH,
                    Some(&stop),
                    |n| {
                        let _ = tx.send(LaneNews::Issued(n));
                    },
                )
                .await;
                let _ = tx.send(LaneNews::Ended(ended));
            }
        };
        if lane.submit(job) {
            loop {
                match tokio::time::timeout(LANE_STALLED, rx.recv()).await {
                    Ok(Some(LaneNews::Issued(n))) => progress(n),
                    Ok(Some(LaneNews::Ended(Ok(Issued::All)))) => return Ok(true),
                    Ok(Some(LaneNews::Ended(Ok(Issued::Elsewhere)))) => return Ok(false),
                    Ok(Some(LaneNews::Ended(Ok(Issued::Stopped)))) | Ok(None) => break,
                    Ok(Some(LaneNews::Ended(Err(e)))) => {
                        tracing::warn!(rotation = %rotation.id, error = %e, "crisis rotation: the idle lane failed; issuing goes on here");
                        break;
                    }
                    Err(_) => {
                        stop.store(true, Ordering::Relaxed);
                        tracing::info!(rotation = %rotation.id, "crisis rotation: the machine has no CPU time to spare; issuing goes on at low priority");
                        break;
                    }
                }
            }
        }
    }
    Ok(issue_all(
        store,
        rotation,
        head,
        runner,
        &*clock,
        ISSUE_BATCH,
        None,
        progress,
    )
    .await?
        == Issued::All)
}

/// Moves each of `people` (who hold a code) to the route position `to`
/// gives, with the same code; `failed` when their channel failed them.
/// Returns how many moved (someone else may have moved one first).
async fn move_all(
    store: &dyn Store,
    rotation: &Rotation,
    head: &Letterhead<'_>,
    people: Vec<RoutedPerson>,
    to: impl Fn(&RoutedPerson) -> usize,
    failed: bool,
    now: i64,
) -> Result<u32, StoreError> {
    let mut moved = 0;
    for p in people {
        let Some(code) = p.code.clone() else { continue };
        let issue = issue_at(head, &p, to(&p), code, now);
        if store
            .move_person(
                &rotation.organisation_id,
                &rotation.id,
                p.position,
                &issue,
                failed,
                now,
            )
            .await?
        {
            moved += 1;
        }
    }
    Ok(moved)
}

/// Moves people whose automatic channel has failed them on to their next
/// channel, with the same code. Returns how many moved.
///
/// # Errors
/// Store failures.
pub async fn move_on_stalled(
    store: &dyn Store,
    rotation: &Rotation,
    head: &Letterhead<'_>,
    now: i64,
) -> Result<u32, StoreError> {
    let people = store
        .stalled_people(&rotation.organisation_id, &rotation.id, MOVE_ON_AFTER, 500)
        .await?;
    let next = |p: &RoutedPerson| (p.position + 1).min(p.route.len().saturating_sub(1));
    move_all(store, rotation, head, people, next, true, now).await
}

/// Sends everyone not reached yet their same code again, from the first
/// channel of their route. Returns how many.
///
/// # Errors
/// Store failures.
pub async fn resend(
    store: &dyn Store,
    rotation: &Rotation,
    head: &Letterhead<'_>,
    now: i64,
) -> Result<u32, StoreError> {
    let people = store
        .unreached_people(&rotation.organisation_id, &rotation.id)
        .await?;
    move_all(store, rotation, head, people, |_| 0, false, now).await
}

/// One round of the background work for every open rotation: issue what
/// is left (in batches, yielding between them so sign-ins go on), then
/// move stalled people on.
pub async fn worker_step(
    store: &dyn Store,
    lane: Option<&crate::app::background::IdleLane>,
    clock: &Arc<dyn portvakt_core::Clock>,
    portal: Option<&str>,
    runner: &str,
) {
    let now = clock.now();
    // Once a minute is soon enough, and keeps the idle round cheap.
    if now % 60 == 0 {
        if let Err(e) = store.forget_expired_codes(now).await {
            tracing::error!(error = %e, "crisis rotation: forgetting expired codes failed");
        }
    }
    let rotations = match store.open_rotations(now).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "crisis rotation: reading open rotations failed");
            return;
        }
    };
    for r in rotations {
        let org = match store.organisation(&r.organisation_id).await {
            Ok(Some(o)) => o,
            Ok(None) => continue,
            Err(e) => {
                tracing::error!(error = %e, "crisis rotation: reading organisation failed");
                continue;
            }
        };
        let head = Letterhead {
            organisation: &org,
            portal,
            expires_at: r.expires_at,
        };
        if r.phase == RotationPhase::Issuing {
            let mut issued = 0;
            if let Err(e) = issue_all_yielding(lane, store, &r, &head, runner, clock.clone(), |n| {
                issued += n;
            })
            .await
            {
                tracing::error!(rotation = %r.id, error = %e, "crisis rotation: issuing failed");
            }
            if issued > 0 {
                tracing::info!(rotation = %r.id, issued, "crisis rotation: codes issued");
            }
        }
        match move_on_stalled(store, &r, &head, clock.now()).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(rotation = %r.id, moved = n, "crisis rotation: moved on to the next channel")
            }
            Err(e) => {
                tracing::error!(rotation = %r.id, error = %e, "crisis rotation: moving on failed")
            }
        }
    }
}

/// Where people sign in, for messages: the portal's public address.
#[must_use]
pub fn portal_address(config: &crate::app::config::Config) -> Option<String> {
    config
        .forward_auth
        .as_ref()
        .map(|f| f.portal_url.clone())
        .or_else(|| config.oidc.as_ref().map(|o| o.issuer_base.clone()))
}
