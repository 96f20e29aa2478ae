//! `portvakt crisis rotate|report --org …`: the crisis rotation from the
//! command line, for when the web is out of reach or an installation admin
//! runs it. Running `rotate` again after a crash finishes the same
//! rotation rather than starting another (which would void everyone's
//! first code); deliveries are sent by the running server(s), whose
//! worker also picks up a rotation the command left half done.

use super::cli::record;
use super::rotation::{self as engine, first_channels, Letterhead};
use crate::app::background::IdleLane;
use crate::app::config::Config;
use crate::app::startup::{open_store, open_worker_store};
use anyhow::Context;
use clap::Subcommand;
use portvakt_core::domain::Slug;
use portvakt_core::rotation::{Candidate, Rotation, RotationChannel, RotationPhase, Stop};
use portvakt_core::store::{Organisation, Store};
use portvakt_core::{Clock, SystemClock};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum CrisisCommand {
    /// New passwords for everyone (or one group): ends every password,
    /// session and app token at once and issues one-time start codes.
    Rotate(RotateArgs),
    /// One person's start code, for the installation's admin to hand out
    /// where nobody else may (an org admin's, during a change freeze).
    /// Recorded in the audit log.
    Code {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
        /// The person's username.
        #[arg(long)]
        user: String,
    },
    /// Sends everyone of the newest rotation not reached yet their same
    /// code again, from the first channel of their route.
    Resend {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
    },
    /// How far the newest rotation has got, per channel.
    Report {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
        /// Print again every few seconds until interrupted.
        #[arg(long)]
        watch: bool,
    },
}

fn channel_name(c: RotationChannel) -> &'static str {
    match c {
        RotationChannel::Mailbox => "digital mailbox",
        RotationChannel::Sms => "SMS",
        RotationChannel::Email => "e-mail",
        RotationChannel::Manager => "through the manager",
        RotationChannel::Servicedesk => "at the servicedesk",
    }
}

/// A progress bar on standard error: `[#####.....] 500/1000`.
fn progress(done: u32, total: u32) {
    let width = 30;
    let filled = if total == 0 {
        width
    } else {
        (u64::from(done) * width as u64 / u64::from(total)) as usize
    };
    eprint!(
        "\r  start codes [{}{}] {done}/{total}",
        "#".repeat(filled),
        ".".repeat(width - filled)
    );
    let _ = std::io::stderr().flush();
}

/// Who a rotation would include, read on the lane; when the lane has not
/// answered within [`PLAN_PATIENCE`] (a machine with no time to spare),
/// read here too, and whichever answers first is taken: starting the
/// rotation (which ends everything) never waits long for spare time.
async fn plan(
    lane: Option<&IdleLane>,
    store: &dyn Store,
    o: &Organisation,
    group: Option<&Slug>,
) -> anyhow::Result<Vec<(Candidate, Vec<Stop>)>> {
    let (org, owned_group) = (o.id.clone(), group.cloned());
    let on_lane = lane.and_then(|l| {
        l.start(move |s| async move {
            engine::plan(&*s, &org, owned_group.as_ref(), None)
                .await
                .ok()
        })
    });
    let Some(on_lane) = on_lane else {
        return Ok(engine::plan(store, &o.id, group, None).await?);
    };
    let here = async {
        tokio::time::sleep(PLAN_PATIENCE).await;
        engine::plan(store, &o.id, group, None).await
    };
    tokio::pin!(here);
    tokio::select! {
        read = on_lane => match read {
            Ok(Some(people)) => Ok(people),
            // The lane failed or went away: the read here goes on.
            _ => Ok(here.await?),
        },
        read = &mut here => Ok(read?),
    }
}

/// How long the plan waits for the lane before it is read here as well.
const PLAN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);
/// How long the closing report waits for the lane before it is read here.
const LANE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

async fn print_report(
    store: &dyn Store,
    lane: Option<&IdleLane>,
    r: &Rotation,
) -> anyhow::Result<u32> {
    let read = match lane {
        Some(lane) => {
            let (org, id) = (r.organisation_id.clone(), r.id.clone());
            lane.run(LANE_PATIENCE, move |s| async move {
                s.rotation_report(&org, &id).await.ok()
            })
            .await
            .flatten()
        }
        None => None,
    };
    let report = match read {
        Some(r) => r,
        None => store.rotation_report(&r.organisation_id, &r.id).await?,
    };
    println!(
        "rotation {} started {}: {} people, {} without a code yet; codes work until {}",
        r.id,
        crate::http::time_fmt::stockholm(r.started_at),
        report.people,
        report.pending,
        crate::http::time_fmt::stockholm(r.expires_at)
    );
    for ch in RotationChannel::ALL {
        let c = report.counts(ch);
        if c.current == 0 && c.failed == 0 {
            continue;
        }
        let done = if ch.is_automatic() {
            "delivered"
        } else if ch == RotationChannel::Servicedesk {
            "handed out"
        } else {
            "printed lists cover all"
        };
        if ch == RotationChannel::Manager {
            println!(
                "  {:<22} {:>6} waiting for their manager ({} moved on here after failures)",
                channel_name(ch),
                c.current,
                c.failed
            );
        } else {
            println!(
                "  {:<22} {:>6} people, {:>6} {done}, {:>6} failing now, {:>6} failed and moved on",
                channel_name(ch),
                c.current,
                c.delivered,
                c.failing,
                c.failed
            );
        }
    }
    println!(
        "  signed in with their code: {}; chose a new password: {}",
        report.used, report.password_set
    );
    Ok(report.unreached())
}

async fn organisation(store: &dyn Store, org: &str) -> anyhow::Result<Organisation> {
    let slug = Slug::parse(org).context("--org: not an organisation slug")?;
    store
        .organisation_by_slug(&slug)
        .await?
        .context("no such organisation")
}

/// # Errors
/// Unknown organisation or group, refused confirmation, store errors.
pub async fn run(command: CrisisCommand) -> anyhow::Result<()> {
    match command {
        CrisisCommand::Rotate(args) => {
            // The whole command runs at a lower priority (its store's
            // threads inherit it), so people signing in on this machine
            // meanwhile keep their latency.
            tokio::task::spawn_blocking(move || {
                portvakt_core::auth::password::lower_priority();
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(rotate(args))
            })
            .await?
        }
        CrisisCommand::Code { config, org, user } => {
            let store: Arc<dyn Store> = Arc::new(open_store(&Config::load(&config)?).await?);
            let o = organisation(&*store, &org).await?;
            let name = portvakt_core::domain::Username::parse(&user)
                .map_err(|e| anyhow::anyhow!("--user: {e}"))?;
            let person = store
                .user_by_username(&o.id, &name)
                .await?
                .context("no such user in the organisation")?;
            let (rotation, code) = store
                .person_code(&o.id, &person.id)
                .await?
                .context("the person is not in a rotation")?;
            record(
                &*store,
                &o.id,
                "rotation.code_shown",
                person.id.as_str(),
                rotation.as_str(),
            )
            .await?;
            if code.is_empty() {
                anyhow::bail!("{}: the start code is used or expired; the servicedesk can give a temporary password", person.username);
            }
            println!("{}\t{}\t{code}", person.username, person.display_name);
            Ok(())
        }
        CrisisCommand::Resend { config, org } => {
            let config = Config::load(&config)?;
            let store: Arc<dyn Store> = Arc::new(open_store(&config).await?);
            let o = organisation(&*store, &org).await?;
            let r = store
                .rotations(&o.id, 1)
                .await?
                .into_iter()
                .next()
                .context("no rotation yet")?;
            let portal = engine::portal_address(&config);
            let head = Letterhead {
                organisation: &o,
                portal: portal.as_deref(),
                expires_at: r.expires_at,
            };
            let n = engine::resend(&*store, &r, &head, SystemClock.now()).await?;
            record(
                &*store,
                &o.id,
                "rotation.resend",
                r.id.as_str(),
                &n.to_string(),
            )
            .await?;
            println!("{}: sending again to {n} people not reached yet", o.slug);
            Ok(())
        }
        CrisisCommand::Report { config, org, watch } => {
            let store: Arc<dyn Store> = Arc::new(open_store(&Config::load(&config)?).await?);
            let o = organisation(&*store, &org).await?;
            let r = store
                .rotations(&o.id, 1)
                .await?
                .into_iter()
                .next()
                .context("no rotation yet")?;
            loop {
                print_report(&*store, None, &r).await?;
                if !watch {
                    return Ok(());
                }
                tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            }
        }
    }
}

/// `portvakt crisis rotate`'s options.
#[derive(clap::Args)]
pub struct RotateArgs {
    #[arg(long, env = "PORTVAKT_CONFIG")]
    config: PathBuf,
    #[arg(long)]
    org: String,
    /// Only the members of this group.
    #[arg(long)]
    group: Option<String>,
    /// Show who would be affected and through which channel; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Also remove everyone's passkeys.
    #[arg(long)]
    revoke_passkeys: bool,
    /// Start a new rotation even though the last one's codes still work
    /// (everyone gets a new code; the earlier ones stop working).
    #[arg(long)]
    new: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
}

async fn rotate(a: RotateArgs) -> anyhow::Result<()> {
    let RotateArgs {
        config,
        org,
        group,
        dry_run,
        revoke_passkeys,
        new,
        yes,
    } = a;
    let config = Config::load(&config)?;
    let store: Arc<dyn Store> = Arc::new(open_worker_store(&config).await?);
    // Reading who is affected and issuing the codes run on CPU time
    // nobody else wants while there is some: people signing in on this
    // machine meanwhile keep their speed. Ending everything (one
    // transaction) does not wait for spare time (the plan before it at
    // most a second, see `plan`).
    let lane = match open_worker_store(&config).await {
        Ok(s) => {
            let s: Arc<dyn Store> = Arc::new(s);
            IdleLane::spawn("portvakt-idle", move || async move { Ok(s) }).ok()
        }
        Err(e) => {
            tracing::warn!(error = %e, "no idle lane");
            None
        }
    };
    let o = organisation(&*store, &org).await?;
    let group = group
        .as_deref()
        .map(|g| Slug::parse(g).context("--group: not a group slug"))
        .transpose()?;
    let latest = store.rotations(&o.id, 1).await?.into_iter().next();
    let now = SystemClock.now();
    let (rotation, fresh) = match latest {
        // Finishing what a crash left half done.
        Some(r) if r.phase == RotationPhase::Issuing => {
            println!(
                "{}: finishing rotation {} (started {})",
                o.slug,
                r.id,
                crate::http::time_fmt::stockholm(r.started_at)
            );
            (r, false)
        }
        Some(r) if r.expires_at > now && !new && !dry_run => {
            println!(
                "{}: rotation {} has issued every code, and they work until {}. \
                 Its report follows; to start another (everyone gets a new code and \
                 these stop working), add --new.",
                o.slug,
                r.id,
                crate::http::time_fmt::stockholm(r.expires_at)
            );
            print_report(&*store, lane.as_ref(), &r).await?;
            return Ok(());
        }
        _ => {
            let people = plan(lane.as_ref(), &*store, &o, group.as_ref()).await?;
            if people.is_empty() {
                anyhow::bail!(
                    "nobody to rotate: no active accounts{}",
                    group
                        .as_ref()
                        .map(|g| format!(" in group {g}"))
                        .unwrap_or_default()
                );
            }
            println!(
                "{}: {} people would get a new password",
                o.slug,
                people.len()
            );
            for (ch, n) in first_channels(&people) {
                if n > 0 {
                    println!("  {:<22} {n:>6}", channel_name(ch));
                }
            }
            if dry_run {
                for (c, route) in &people {
                    let r: Vec<&str> = route.iter().map(|s| channel_name(s.channel)).collect();
                    println!(
                        "{}\t{}\t{}",
                        c.user.username,
                        c.user.display_name,
                        r.join(" -> ")
                    );
                }
                return Ok(());
            }
            let (people, now) = if yes {
                (people, now)
            } else {
                eprint!(
                    "Every password, session and app sign-in of these people ends now. \
                     Type the organisation's slug ({}) to start: ",
                    o.slug
                );
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                if line.trim() != o.slug.as_str() {
                    anyhow::bail!("not started");
                }
                // The answer may come minutes later: whoever joined or was
                // enabled meanwhile is included too.
                (
                    plan(lane.as_ref(), &*store, &o, group.as_ref()).await?,
                    SystemClock.now(),
                )
            };
            let r = engine::start_planned(
                &*store,
                &o,
                people,
                group.clone(),
                revoke_passkeys,
                None,
                now,
            )
            .await?
            .context("a rotation is already issuing codes; run this again to finish it")?;
            record(
                &*store,
                &o.id,
                "rotation.start",
                r.id.as_str(),
                &format!(
                    "people={} group={} passkeys={}",
                    r.people,
                    group.map(|g| g.to_string()).unwrap_or_else(|| "*".into()),
                    if revoke_passkeys { "revoked" } else { "kept" }
                ),
            )
            .await?;
            println!(
                "{}: every password and session of {} people has ended",
                o.slug, r.people
            );
            (r, true)
        }
    };
    let portal = engine::portal_address(&config);
    let head = Letterhead {
        organisation: &o,
        portal: portal.as_deref(),
        expires_at: rotation.expires_at,
    };
    let runner = format!("cli:{}", std::process::id());
    let (mut done, people) = if fresh {
        (0, rotation.people)
    } else {
        let r = store.rotation_report(&o.id, &rotation.id).await?;
        (r.people - r.pending, r.people)
    };
    progress(done, people);
    let mine = engine::issue_all_yielding(
        lane.as_ref(),
        &*store,
        &rotation,
        &head,
        &runner,
        Arc::new(SystemClock),
        |n| {
            done += n;
            progress(done, people);
        },
    )
    .await?;
    if !mine {
        // A server is issuing them (its worker took over, or it
        // was started on the web): follow its progress.
        loop {
            let r = store.rotation_report(&o.id, &rotation.id).await?;
            progress(r.people - r.pending, r.people);
            if r.pending == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    eprintln!();
    print_report(&*store, lane.as_ref(), &rotation).await?;
    println!(
        "Messages are sent by the running Portvakt server(s). Print the managers' lists at \
         /admin/crisis/{id}; follow with `portvakt crisis report --org {}`.",
        o.slug,
        id = rotation.id
    );
    Ok(())
}
