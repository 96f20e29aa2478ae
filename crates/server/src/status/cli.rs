//! `portvakt status open|update|probes|confirm|dismiss|export`: incidents
//! and probe drafts from the command line (for when the web is not an
//! option, and for scripts).

use crate::app::config::Config;
use crate::status::feeds::rfc3339;
use anyhow::{anyhow, Context};
use clap::Subcommand;
use portvakt_core::domain::Slug;
use portvakt_core::status::{new_incident, new_update, IncidentDraft};
use portvakt_core::store::{OrgStore, ProbeStore, StatusStore};
use portvakt_core::{Clock, SystemClock};
use portvakt_store::SqlStore;
use std::path::Path;
use std::path::PathBuf;

async fn open_org(
    config: &Path,
    org: &str,
) -> anyhow::Result<(SqlStore, portvakt_core::store::Organisation, Config)> {
    let cfg = Config::load(config)?;
    let store = crate::app::startup::open_store(&cfg)
        .await
        .context("opening the database")?;
    let slug = Slug::parse(org).ok_or_else(|| anyhow!("--org: not a slug"))?;
    let o = store
        .organisation_by_slug(&slug)
        .await?
        .ok_or_else(|| anyhow!("--org: no organisation {org}"))?;
    Ok((store, o, cfg))
}

/// The static copy follows every change; a failed push is reported and
/// the command fails, but the change itself is kept.
async fn publish(
    store: &SqlStore,
    cfg: &Config,
    o: &portvakt_core::store::Organisation,
) -> anyhow::Result<()> {
    crate::status::export::export_and_push(store, &cfg.status, o, SystemClock.now())
        .await
        .context("the change is saved, but the static copy was not updated")
}

#[derive(Subcommand)]
pub enum StatusCommand {
    /// Open an incident (or, with --maintenance, announce maintenance); prints its id.
    Open {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        /// Organisation slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        title_en: String,
        /// COMPONENT=IMPACT, e.g. larplattform=major_outage (repeat for more).
        #[arg(long = "component", required = true)]
        components: Vec<String>,
        /// The first update, in Swedish.
        #[arg(long)]
        body: String,
        #[arg(long, default_value = "")]
        body_en: String,
        #[arg(long)]
        maintenance: bool,
    },
    /// List the probes with what they see, and the drafts waiting for an editor.
    Probes {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
    },
    /// Confirm a probe's draft (its own texts unless given): it becomes public.
    Confirm {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
        #[arg(long)]
        incident: String,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        title_en: Option<String>,
        #[arg(long)]
        body: Option<String>,
        #[arg(long)]
        body_en: Option<String>,
    },
    /// Dismiss a probe's draft as a false alarm; nobody outside sees it.
    Dismiss {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
        #[arg(long)]
        incident: String,
    },
    /// Write the static copy of the page to a folder.
    Export {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Add an update: investigating, identified, monitoring or resolved.
    Update {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
        #[arg(long)]
        incident: String,
        #[arg(long)]
        phase: String,
        #[arg(long)]
        body: String,
        #[arg(long, default_value = "")]
        body_en: String,
    },
}

/// # Errors
/// Bad input (nothing is written) or store failures.
pub async fn run(command: StatusCommand) -> anyhow::Result<()> {
    match command {
        StatusCommand::Open {
            config,
            org,
            title,
            title_en,
            components,
            body,
            body_en,
            maintenance,
        } => {
            let (store, o, cfg) = open_org(&config, &org).await?;
            let mut affected = Vec::new();
            for c in &components {
                let (slug, impact) = c
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--component {c}: use COMPONENT=IMPACT"))?;
                affected.push((slug.to_owned(), impact.to_owned()));
            }
            let list = store.status_components(&o.id).await?;
            let incident = new_incident(
                &list,
                &IncidentDraft {
                    title,
                    title_en,
                    maintenance,
                    affected,
                    body,
                    body_en,
                },
                SystemClock.now(),
            )?;
            store.create_incident(&incident).await?;
            println!("{}", incident.id);
            if let Some(first) = incident.updates.first() {
                crate::status::notify::notify_team(
                    &store,
                    &o,
                    cfg.public_url(),
                    &incident,
                    first,
                    SystemClock.now(),
                )
                .await?;
            }
            publish(&store, &cfg, &o).await
        }
        StatusCommand::Update {
            config,
            org,
            incident,
            phase,
            body,
            body_en,
        } => {
            let (store, o, cfg) = open_org(&config, &org).await?;
            let update = new_update(&phase, &body, &body_en, SystemClock.now())?;
            if !store.add_incident_update(&o.id, &incident, &update).await? {
                return Err(anyhow!(
                    "--incident {incident}: no open incident with that id in {org}"
                ));
            }
            println!("{} {}", incident, update.phase.name());
            crate::status::notify::notify_update(
                &store,
                &o,
                cfg.public_url(),
                &incident,
                &update,
                SystemClock.now(),
            )
            .await?;
            publish(&store, &cfg, &o).await
        }
        StatusCommand::Probes { config, org } => {
            let (store, o, _) = open_org(&config, &org).await?;
            let views = store.probe_states(&o.id).await?;
            for p in store.probes(Some(&o.id)).await? {
                let v = views.iter().find(|v| v.probe == p.slug);
                let state = match v {
                    None => "waiting".to_owned(),
                    Some(v) if v.down && v.muted => {
                        format!("DOWN since {} (dismissed, not shown)", rfc3339(v.since))
                    }
                    Some(v) if v.down => format!("DOWN since {}", rfc3339(v.since)),
                    Some(v) => format!("up since {}", rfc3339(v.since)),
                };
                println!(
                    "{}\t{}\t{}\t{}",
                    p.slug.as_str(),
                    p.component.as_str(),
                    state,
                    v.map(|v| v.last_error.as_str()).unwrap_or_default()
                );
            }
            for d in store.draft_incidents(&o.id).await? {
                println!("draft\t{}\t{}\t{}", d.id, rfc3339(d.created_at), d.title);
            }
            Ok(())
        }
        StatusCommand::Confirm {
            config,
            org,
            incident,
            title,
            title_en,
            body,
            body_en,
        } => {
            let (store, o, cfg) = open_org(&config, &org).await?;
            let draft = store
                .draft_incidents(&o.id)
                .await?
                .into_iter()
                .find(|d| d.id == incident)
                .ok_or_else(|| {
                    anyhow!("--incident {incident}: no open draft with that id in {org}")
                })?;
            let first = draft.updates.last();
            let title = title.unwrap_or(draft.title.clone());
            let title_en = title_en.unwrap_or(draft.title_en.clone());
            let body = body.unwrap_or_else(|| first.map(|u| u.body.clone()).unwrap_or_default());
            let body_en =
                body_en.unwrap_or_else(|| first.map(|u| u.body_en.clone()).unwrap_or_default());
            match crate::status::notify::confirm_draft(
                &store,
                &o,
                cfg.public_url(),
                &incident,
                (&title, &title_en),
                (&body, &body_en),
                SystemClock.now(),
            )
            .await
            {
                Ok(()) => {}
                Err(crate::status::notify::ConfirmError::Text(e)) => return Err(e.into()),
                Err(crate::status::notify::ConfirmError::NotFound) => {
                    return Err(anyhow!(
                        "--incident {incident}: no open draft with that id in {org}"
                    ))
                }
                Err(crate::status::notify::ConfirmError::Store(e)) => return Err(e.into()),
            }
            println!("{incident} published");
            publish(&store, &cfg, &o).await
        }
        StatusCommand::Dismiss {
            config,
            org,
            incident,
        } => {
            let (store, o, _) = open_org(&config, &org).await?;
            if !store
                .withdraw_draft(&o.id, &incident, SystemClock.now())
                .await?
            {
                return Err(anyhow!(
                    "--incident {incident}: no open draft with that id in {org}"
                ));
            }
            println!("{incident} dismissed");
            Ok(())
        }
        StatusCommand::Export { config, org, out } => {
            let (store, o, cfg) = open_org(&config, &org).await?;
            let files = crate::status::export::export_with(
                &store,
                &o,
                &out,
                SystemClock.now(),
                &cfg.status,
            )
            .await?;
            for f in files {
                println!("{}", out.join(f).display());
            }
            Ok(())
        }
    }
}
