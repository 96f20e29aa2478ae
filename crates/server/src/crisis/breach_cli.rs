//! `portvakt breach open|list`: the installation's admin records one
//! breach that touches several organisations (seed 001: one platform,
//! thirty municipalities) as one part per organisation; each
//! organisation's data protection officer then completes and reports only
//! their own part at `/dpo/breaches`.

use super::cli::record;
use crate::app::config::Config;
use crate::app::startup::open_store;
use anyhow::Context;
use clap::Subcommand;
use portvakt_core::breach::{Breach, BreachId, Details};
use portvakt_core::domain::Slug;
use portvakt_core::ids::{EventId, UserId};
use portvakt_core::store::Store;
use portvakt_core::{Clock, SystemClock};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum BreachCommand {
    /// Records a breach for each named organisation (their parts share an
    /// incident id; no organisation learns which others are affected).
    Open {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        /// Organisation slugs, comma-separated.
        #[arg(long, value_delimiter = ',')]
        orgs: Vec<String>,
        #[arg(long)]
        title: String,
        /// When it was discovered, Swedish time: `2026-11-29 10:00`.
        #[arg(long)]
        discovered: String,
    },
    /// The organisation's breaches and their 72-hour clocks.
    List {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
    },
}

/// # Errors
/// Unknown organisations, a bad time, store errors.
pub async fn run(command: BreachCommand) -> anyhow::Result<()> {
    match command {
        BreachCommand::Open {
            config,
            orgs,
            title,
            discovered,
        } => {
            let store: std::sync::Arc<dyn Store> =
                std::sync::Arc::new(open_store(&Config::load(&config)?).await?);
            let discovered_at =
                crate::http::time_fmt::stockholm_local(&discovered.trim().replace(' ', "T"))
                    .context("--discovered: like 2026-11-29 10:00 (Swedish time)")?;
            let now = SystemClock.now();
            anyhow::ensure!(discovered_at <= now + 300, "--discovered: in the future");
            let title: String = title
                .trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            anyhow::ensure!(!title.is_empty(), "--title: say what happened");
            let group = format!(
                "inc_{}",
                EventId::generate().as_str().trim_start_matches("evt_")
            );
            let mut orgs: Vec<String> = orgs.iter().map(|o| o.trim().to_owned()).collect();
            orgs.sort();
            orgs.dedup();
            let mut parts = Vec::new();
            for slug in &orgs {
                let s = Slug::parse(slug.trim()).context("--orgs: not an organisation slug")?;
                let o = store
                    .organisation_by_slug(&s)
                    .await?
                    .with_context(|| format!("no organisation {s}"))?;
                parts.push(Breach {
                    id: BreachId::generate(),
                    organisation_id: o.id,
                    group_id: (orgs.len() > 1).then(|| group.clone()),
                    number: 0,
                    title: title.clone(),
                    discovered_at,
                    details: Details::default(),
                    created_at: now,
                    created_by: UserId::from_raw("cli"),
                    updated_at: now,
                });
            }
            anyhow::ensure!(!parts.is_empty(), "--orgs: name at least one organisation");
            let created = store.create_breaches(&parts).await?;
            for (b, slug) in created.iter().zip(&orgs) {
                record(
                    &*store,
                    &b.organisation_id,
                    "breach.create",
                    b.id.as_str(),
                    &b.title,
                )
                .await?;
                println!("{slug}\t{}\t{}", b.number, b.id);
            }
            Ok(())
        }
        BreachCommand::List { config, org } => {
            let store: std::sync::Arc<dyn Store> =
                std::sync::Arc::new(open_store(&Config::load(&config)?).await?);
            let s = Slug::parse(&org).context("--org: not an organisation slug")?;
            let o = store
                .organisation_by_slug(&s)
                .await?
                .context("no such organisation")?;
            let now = SystemClock.now();
            for b in store.breaches(&o.id).await? {
                let imy = &b.milestones()[0];
                let state = match imy.left(now) {
                    None => "decided".to_owned(),
                    Some(left) if left >= 0 => format!("{} h left", left / 3600),
                    Some(left) => format!("overdue by {} h", -left / 3600),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    b.number,
                    b.id,
                    crate::http::time_fmt::stockholm(b.discovered_at),
                    b.title
                );
            }
            Ok(())
        }
    }
}
