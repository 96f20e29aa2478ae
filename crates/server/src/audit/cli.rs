//! `portvakt audit …`: verify each organisation's chain, export entries
//! as JSON lines.

use crate::app::config::Config;
use crate::app::startup::open_store;
use anyhow::Context;
use clap::Subcommand;
use portvakt_core::audit::{AuditEntry, Verifier};
use portvakt_core::domain::Slug;
use portvakt_core::store::{EventStore, OrgStore, Organisation, Store};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check that no entry was edited, removed or reordered: recomputes
    /// every organisation's chain (or one's) and names the first entry that
    /// is not as written. Exits 1 if any chain is broken.
    Verify {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        /// One organisation's slug (default: all).
        #[arg(long)]
        org: Option<String>,
    },
    /// Write an organisation's entries as JSON lines (UTC RFC 3339 times,
    /// with each entry's place in the chain and hashes), oldest first.
    Export {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
        /// Only entries from this day on (YYYY-MM-DD, UTC).
        #[arg(long)]
        since: Option<String>,
        /// Only entries before this day (YYYY-MM-DD, UTC).
        #[arg(long)]
        until: Option<String>,
    },
}

const PAGE: u32 = 1000;

/// # Errors
/// Bad input, store failures, or (for `verify`) a broken chain.
pub async fn run(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { config, org } => {
            let store = open_store(&Config::load(&config)?).await?;
            let orgs = match org {
                Some(slug) => vec![organisation(&store, &slug).await?],
                None => store.list_organisations().await?,
            };
            let mut broken = 0;
            for o in &orgs {
                match verify(&store, o).await? {
                    Ok(n) => println!("{}: {n} entries, chain intact", o.slug),
                    Err(why) => {
                        broken += 1;
                        println!("{}: BROKEN: {why}", o.slug);
                    }
                }
            }
            if broken > 0 {
                anyhow::bail!("{broken} of {} audit chains are broken", orgs.len());
            }
            Ok(())
        }
        AuditCommand::Export {
            config,
            org,
            since,
            until,
        } => {
            let store = open_store(&Config::load(&config)?).await?;
            let o = organisation(&store, &org).await?;
            let from = since.as_deref().map(day_start).transpose()?;
            let to = until.as_deref().map(day_start).transpose()?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut after = 0;
            loop {
                let page = store.audit_entries(&o.id, after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for e in &page {
                    let at = e.event.at;
                    if from.is_some_and(|f| at < f) || to.is_some_and(|t| at >= t) {
                        continue;
                    }
                    writeln!(out, "{}", entry_json(&o, e))?;
                }
            }
            out.flush()?;
            Ok(())
        }
    }
}

async fn organisation(store: &dyn Store, slug: &str) -> anyhow::Result<Organisation> {
    let slug = Slug::parse(slug).context("--org: not an organisation slug")?;
    store
        .organisation_by_slug(&slug)
        .await?
        .with_context(|| format!("no organisation {slug}"))
}

/// The chain's length, or a description of its first break.
///
/// # Errors
/// Store failures.
pub async fn verify(store: &dyn Store, org: &Organisation) -> anyhow::Result<Result<u64, String>> {
    let state = store.audit_state(&org.id).await?;
    let mut v = Verifier::new(&org.id);
    let mut after = 0;
    loop {
        let page = store.audit_entries(&org.id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            if let Err(b) = v.feed(e) {
                return Ok(Err(b.to_string()));
            }
        }
    }
    let n = match v.finish(state.head.as_ref()) {
        Ok(n) => n,
        Err(b) => return Ok(Err(b.to_string())),
    };
    if state.unlinked > 0 {
        return Ok(Err(format!(
            "{} entries were put in the log outside the chain",
            state.unlinked
        )));
    }
    Ok(Ok(n))
}

fn day_start(day: &str) -> anyhow::Result<i64> {
    let d: jiff::civil::Date = day
        .parse()
        .with_context(|| format!("{day}: not a date (YYYY-MM-DD)"))?;
    Ok(d.to_zoned(jiff::tz::TimeZone::UTC)?.timestamp().as_second())
}

/// One entry as a JSON object (the export's line).
#[must_use]
pub fn entry_json(org: &Organisation, e: &AuditEntry) -> serde_json::Value {
    let ev = &e.event;
    json!({
        "organisation": org.slug.as_str(),
        "seq": e.seq,
        "id": ev.id.as_str(),
        "at": jiff::Timestamp::from_second(ev.at).map(|t| t.to_string()).unwrap_or_default(),
        "actor": ev.actor_id.as_str(),
        "ip": ev.ip,
        "user_agent": ev.user_agent,
        "action": ev.action,
        "target": ev.target,
        "result": ev.result.as_str(),
        "detail": ev.detail,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    })
}
