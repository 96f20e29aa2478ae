//! `portvakt freeze status|declare|lift --org …`: the change freeze from
//! the command line, for the installation's admin when the web is out of
//! reach. Lifting from here approves an org admin's proposal (the second
//! pair of eyes); it never lifts a freeze nobody proposed to lift.

use crate::app::config::Config;
use crate::app::startup::open_store;
use anyhow::Context;
use clap::Subcommand;
use portvakt_core::domain::Slug;
use portvakt_core::freeze::{clean_reason, Freeze, LiftRefusal};
use portvakt_core::ids::{EventId, UserId};
use portvakt_core::store::{AdminEvent, EventResult, FreezeStore, OrgStore, Store, UserStore};
use portvakt_core::{Clock, SystemClock};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum FreezeCommand {
    /// Whether the organisation's changes are frozen, since when and why.
    Status {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
    },
    /// Freeze the organisation's risky changes, with a reason everyone sees.
    Declare {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
        #[arg(long)]
        reason: String,
    },
    /// Approve an org admin's proposal to lift the freeze.
    Lift {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
    },
}

/// The operating-system account that ran the command, as the audit log's
/// actor (`cli:<name>`).
fn actor() -> UserId {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    UserId::from_raw(format!(
        "cli:{}",
        who.chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect::<String>()
    ))
}

pub(super) async fn record(
    store: &dyn Store,
    org: &portvakt_core::ids::OrganisationId,
    action: &str,
    target: &str,
    detail: &str,
) -> anyhow::Result<()> {
    store
        .record_admin_event(&AdminEvent {
            id: EventId::generate(),
            organisation_id: org.clone(),
            actor_id: actor(),
            at: SystemClock.now(),
            ip: "cli".into(),
            user_agent: "portvakt cli".into(),
            action: action.into(),
            target: target.into(),
            result: EventResult::Success,
            detail: detail.into(),
        })
        .await?;
    Ok(())
}

/// # Errors
/// Unknown organisation, no freeze to lift, nobody proposed lifting, store errors.
pub async fn run(command: FreezeCommand) -> anyhow::Result<()> {
    let (config, org) = match &command {
        FreezeCommand::Status { config, org }
        | FreezeCommand::Declare { config, org, .. }
        | FreezeCommand::Lift { config, org } => (config, org),
    };
    let store = open_store(&Config::load(config)?).await?;
    let slug = Slug::parse(org).context("--org: not an organisation slug")?;
    let o = store
        .organisation_by_slug(&slug)
        .await?
        .context("no such organisation")?;
    let current = store.active_freeze(&o.id).await?;
    let when = |t: i64| crate::http::time_fmt::stockholm(t);
    match command {
        FreezeCommand::Status { .. } => {
            match current {
                None => println!("{}: changes are not frozen", o.slug),
                Some(f) => {
                    println!(
                        "{}: changes frozen since {} ({})",
                        o.slug,
                        when(f.declared_at),
                        f.reason
                    );
                    if let Some((by, at)) = f.lift_proposed {
                        let name = store
                            .user(&o.id, &by)
                            .await?
                            .map_or_else(|| by.to_string(), |u| u.username.to_string());
                        println!(
                            "lifting proposed by {name} at {}; approve with `portvakt freeze lift`",
                            when(at)
                        );
                    }
                }
            }
            Ok(())
        }
        FreezeCommand::Declare { reason, .. } => {
            let reason = clean_reason(&reason)
                .context("--reason: write why (shown to everyone signed in)")?;
            let f = Freeze {
                id: EventId::generate(),
                organisation_id: o.id.clone(),
                reason,
                declared_at: SystemClock.now(),
                declared_by: actor(),
                lift_proposed: None,
            };
            if !store.declare_freeze(&f).await? {
                anyhow::bail!("{}: changes are frozen already", o.slug);
            }
            record(&store, &o.id, "freeze.declare", f.id.as_str(), &f.reason).await?;
            println!("{}: changes frozen ({})", o.slug, f.reason);
            Ok(())
        }
        FreezeCommand::Lift { .. } => {
            let f = current.with_context(|| format!("{}: changes are not frozen", o.slug))?;
            match f.may_lift(None) {
                Err(LiftRefusal::NotProposed) | Err(LiftRefusal::SamePerson) => anyhow::bail!(
                    "{}: nobody has proposed lifting the freeze; an org admin proposes it at /admin/freeze, then run this again",
                    o.slug
                ),
                Ok(()) => {}
            }
            if !store
                .lift_freeze(&o.id, &f.id, Some(&actor()), SystemClock.now())
                .await?
            {
                anyhow::bail!(
                    "{}: the freeze could not be lifted (changed meanwhile)",
                    o.slug
                );
            }
            record(&store, &o.id, "freeze.lift", f.id.as_str(), "ok").await?;
            println!("{}: the freeze is lifted", o.slug);
            Ok(())
        }
    }
}
