//! Command-line interface: `serve`, `apply`, `demo` and admin commands.

use crate::app::config::Config;
use crate::app::startup::Application;
use crate::provisioning::{apply_file, apply_run, demo};
use crate::status::cli::StatusCommand;
use anyhow::Context;
use clap::{Parser, Subcommand};
use portvakt_core::auth::password::{hash_blocking, PasswordHasher};
use portvakt_core::domain::{Slug, Username};
use portvakt_core::store::Store;
use portvakt_core::{Clock, SystemClock};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "portvakt",
    version,
    about = "Secure access portal and identity service"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
    },
    /// Make the database match a declarative file (idempotent).
    Apply {
        file: PathBuf,
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        /// Print what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Start a demo installation with the organisation "Exempelkommun".
    Demo {
        /// Data folder (created at first start).
        #[arg(long, default_value = "portvakt-demo")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Unlock an account locked after failed sign-ins.
    Unlock {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        /// Organisation slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        user: String,
    },
    /// Access rules: try a decision before relying on it.
    Access {
        #[command(subcommand)]
        command: AccessCommand,
    },
    /// The status page: open, update and resolve incidents and maintenance.
    Status {
        #[command(subcommand)]
        command: StatusCommand,
    },
    /// The OpenID provider: client secrets, signing keys.
    Oidc {
        #[command(subcommand)]
        command: crate::oidc::cli::OidcCommand,
    },
    /// The change freeze (issue 15): status, declare, approve lifting.
    Freeze {
        #[command(subcommand)]
        command: crate::crisis::cli::FreezeCommand,
    },
    /// Crisis rotation (issue 15): new passwords for everyone, with a
    /// dry run, resumable after a crash; its report per channel.
    Crisis {
        #[command(subcommand)]
        command: crate::crisis::rotate_cli::CrisisCommand,
    },
    /// The breach register (issue 15): record a breach across organisations.
    Breach {
        #[command(subcommand)]
        command: crate::crisis::breach_cli::BreachCommand,
    },
    /// The audit log: verify each organisation's chain, export entries.
    Audit {
        #[command(subcommand)]
        command: crate::audit::cli::AuditCommand,
    },
    /// The key that seals second-factor secrets in the database.
    SecretKey {
        #[command(subcommand)]
        command: SecretKeyCommand,
    },
    /// Print every route with who may reach it (public, signed in, or a
    /// role), as the router enforces it: for reviewing what an installation
    /// exposes and for the browser tests that visit every page.
    Routes {
        /// One JSON array instead of aligned text.
        #[arg(long)]
        json: bool,
    },
    /// Check the database's integrity.
    CheckDb {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
    },
    /// Time one password hash with the configured parameters (for benchmarks).
    HashBench {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long, default_value_t = 10)]
        rounds: u32,
    },
}

#[derive(Subcommand)]
pub enum SecretKeyCommand {
    /// Write a new key file (32 random bytes as base64, mode 0600).
    New { file: PathBuf },
    /// Re-seal every stored secret with the key in NEW, in one transaction
    /// (from the configured key, or from the clear); then point
    /// `secret_key_file` at NEW and restart.
    Rotate {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        new: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum AccessCommand {
    /// Print whether USER may open SERVICE from IP, signed in with METHODs,
    /// at TIME, and why. Exits 0 when allowed, 3 when not.
    Check {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        /// Username, e.g. anna.andersson@exempelkommun.se.
        #[arg(long)]
        user: String,
        /// Service slug, e.g. lonebesked.
        #[arg(long, required_unless_present = "client", conflicts_with = "client")]
        service: Option<String>,
        /// Or an OpenID client's `client_id`, e.g. grafana: may the user
        /// sign in to that app.
        #[arg(long)]
        client: Option<String>,
        /// The client's address.
        #[arg(long)]
        ip: std::net::IpAddr,
        /// Sign-in methods used: password, app, sms, email, passkey (repeat or comma-separate).
        #[arg(long = "method", required = true)]
        methods: Vec<String>,
        /// 2026-11-23T19:00 (Europe/Stockholm) or RFC 3339; default now.
        #[arg(long)]
        time: Option<String>,
    },
}

async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(
        crate::app::startup::open_store(config)
            .await
            .context("opening the database")?,
    ))
}

/// # Errors
/// Anything the command reports; `main` prints it and exits non-zero.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config } => {
            let cfg = Config::load(&config)?;
            let app = Application::build(cfg, Arc::new(SystemClock)).await?;
            tracing::info!(address = %app.local_addr()?, "portvakt listening");
            app.run_until_stopped().await?;
            Ok(())
        }
        Command::Apply {
            file,
            config,
            dry_run,
        } => apply(&file, &config, dry_run).await,
        Command::Demo { data, listen } => run_demo(&data, &listen).await,
        Command::Status { command } => crate::status::cli::run(command).await,
        Command::Oidc { command } => crate::oidc::cli::run(command).await,
        Command::Audit { command } => crate::audit::cli::run(command).await,
        Command::Freeze { command } => crate::crisis::cli::run(command).await,
        Command::Crisis { command } => crate::crisis::rotate_cli::run(command).await,
        Command::Breach { command } => crate::crisis::breach_cli::run(command).await,
        Command::SecretKey { command } => match command {
            SecretKeyCommand::New { file } => {
                crate::app::config::write_key_file(&file)
                    .with_context(|| format!("writing {}", file.display()))?;
                println!("{}", file.display());
                Ok(())
            }
            SecretKeyCommand::Rotate { config, new } => {
                let cfg = Config::load(&config)?;
                let key = crate::app::config::read_key_file(&new).map_err(anyhow::Error::msg)?;
                let store = crate::app::startup::open_store(&cfg).await?;
                let n = store
                    .reseal_secrets(&portvakt_store::Sealer::new(&key))
                    .await
                    .context("nothing was changed")?;
                println!(
                    "{n} secret(s) sealed with {}; set secret_key_file to it and restart",
                    new.display()
                );
                Ok(())
            }
        },
        Command::Access {
            command:
                AccessCommand::Check {
                    config,
                    user,
                    service,
                    client,
                    ip,
                    methods,
                    time,
                },
        } => {
            let cfg = Config::load(&config)?;
            let store = open_store(&cfg).await?;
            let at = match time {
                Some(t) => crate::gateway::whatif::parse_time(&t)?,
                None => SystemClock.now(),
            };
            let target = match (service, client) {
                (Some(s), _) => crate::gateway::whatif::Target::Service(s),
                (None, Some(c)) => crate::gateway::whatif::Target::Client(c),
                (None, None) => anyhow::bail!("--service or --client"),
            };
            let report =
                crate::gateway::whatif::check(&*store, &user, &target, ip, &methods, at).await?;
            print!("{}", report.text);
            if !report.allowed {
                std::process::exit(3);
            }
            Ok(())
        }
        Command::Routes { json } => {
            print!("{}", routes_listing(json));
            Ok(())
        }
        Command::Unlock { config, org, user } => {
            let cfg = Config::load(&config)?;
            let store = open_store(&cfg).await?;
            let slug = Slug::parse(&org).context("--org: not an organisation slug")?;
            let o = store
                .organisation_by_slug(&slug)
                .await?
                .context("no such organisation")?;
            let name = Username::parse(&user).map_err(|e| anyhow::anyhow!("--user: {e}"))?;
            // Lifts the servicedesk's lock too, as the web's "Lås upp".
            let found = store.user_by_username(&o.id, &name).await?;
            match &found {
                Some(u) => {
                    store
                        .unlock_account(
                            &o.id,
                            &u.id,
                            portvakt_core::Clock::now(&portvakt_core::SystemClock),
                        )
                        .await?;
                }
                None => store.clear_failures(&o.id, &name).await?,
            }
            // Recorded like the web's unlock (issue 10 L7); the actor is the
            // operating-system account that ran the command.
            let target = found.map_or_else(|| "unknown".to_owned(), |u| u.id.to_string());
            let os_user = std::env::var("SUDO_USER")
                .or_else(|_| std::env::var("USER"))
                .unwrap_or_else(|_| "unknown".into());
            store
                .record_admin_event(&portvakt_core::store::AdminEvent {
                    id: portvakt_core::ids::EventId::generate(),
                    organisation_id: o.id.clone(),
                    actor_id: portvakt_core::ids::UserId::from_raw(format!(
                        "cli:{}",
                        os_user
                            .chars()
                            .filter(|c| !c.is_control())
                            .take(64)
                            .collect::<String>()
                    )),
                    at: SystemClock.now(),
                    ip: "cli".into(),
                    user_agent: "portvakt unlock".into(),
                    action: "user.unlock".into(),
                    target,
                    result: portvakt_core::store::EventResult::Success,
                    detail: "ok".into(),
                })
                .await?;
            println!("unlocked {name} in {org}");
            Ok(())
        }
        Command::CheckDb { config } => {
            let cfg = Config::load(&config)?;
            open_store(&cfg).await?.integrity_check().await?;
            println!("ok");
            Ok(())
        }
        Command::HashBench { config, rounds } => {
            let cfg = Config::load(&config)?;
            let params = cfg.argon2();
            hash_blocking(params, b"warm-up")?;
            let start = std::time::Instant::now();
            for _ in 0..rounds {
                hash_blocking(params, b"correct horse battery staple")?;
            }
            let per = start.elapsed().as_secs_f64() / f64::from(rounds.max(1));
            println!("{per:.6}");
            Ok(())
        }
    }
}

async fn apply(file: &Path, config: &Path, dry_run: bool) -> anyhow::Result<()> {
    let cfg = Config::load(config)?;
    let src =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let orgs = apply_file::parse(&file.display().to_string(), &src, cfg.password.min_length)?;
    for w in portvakt_core::apply::warnings(&orgs) {
        println!("{w}");
    }
    let store = open_store(&cfg).await?;
    let hasher = PasswordHasher::new(cfg.argon2(), 2, 1_000_000)?;
    let changes = apply_run::apply(&*store, &hasher, &orgs, SystemClock.now(), dry_run).await?;
    for c in &changes {
        println!("{}{c}", if dry_run { "would " } else { "" });
    }
    println!(
        "{} change(s){}",
        changes.len(),
        if dry_run {
            " planned, nothing written"
        } else {
            " applied"
        }
    );
    Ok(())
}

async fn run_demo(data: &Path, listen: &str) -> anyhow::Result<()> {
    let first = !data.join("portvakt.toml").exists();
    if first {
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        let key = data.join("secret.key");
        if !key.exists() {
            crate::app::config::write_key_file(&key)?;
        }
        std::fs::write(data.join("portvakt.toml"), demo::config_text(data, listen))?;
    }
    let mut cfg = demo::load_config(data)?;
    cfg.listen = listen
        .parse()
        .context("--listen: not an address such as 127.0.0.1:8080")?;
    // Passkeys are bound to a domain name, never an IP address: the demo
    // is reached as http://localhost:PORT, which browsers treat as secure.
    if cfg.passkeys.is_none() {
        cfg.passkeys = Some(demo::passkeys(cfg.listen.port()));
    }
    if cfg.oidc.is_none() {
        cfg.oidc = Some(demo::oidc(cfg.listen.port()));
    }
    let store = open_store(&cfg).await?;
    if first {
        let passwords: Vec<(&str, String)> = ["anna.andersson", "erik.larsson", "sara.lind"]
            .into_iter()
            .map(|u| (u, demo::random_password()))
            .collect();
        let hasher = PasswordHasher::new(cfg.argon2(), 2, 100)?;
        let mut org = demo::organisation(&hasher, &passwords).await?;
        org.probes = demo::probes(cfg.listen.port())?;
        let printed = apply_run::apply(&*store, &hasher, &[org], SystemClock.now(), false).await?;
        println!("\nPortvakt demo – Exempelkommun\n");
        println!(
            "Sign in at http://localhost:{}/login with one of these accounts.",
            cfg.listen.port()
        );
        println!(
            "The passwords are shown only now; delete {} to start over.\n",
            data.display()
        );
        for (u, p) in &passwords {
            let role = if *u == "sara.lind" {
                "  (servicedesk, org admin, data protection officer)"
            } else {
                ""
            };
            println!("  DEMO-LOGIN {u}@exempelkommun.se {p}{role}");
        }
        println!();
        if let Some(secret) = printed
            .iter()
            .find_map(|l| l.strip_prefix("secret of client exempel-app "))
            .and_then(|l| l.rsplit(' ').next())
        {
            println!("{}", demo::sample_instructions(cfg.listen.port(), secret));
        }
    } else {
        println!(
            "Portvakt demo: using the existing data in {} (passwords were printed at first start).",
            data.display()
        );
        println!("Sign in at http://localhost:{}/login", cfg.listen.port());
    }
    let app = Application::build_with_store(cfg, store, Arc::new(SystemClock)).await?;
    app.run_until_stopped().await?;
    Ok(())
}

fn routes_listing(json: bool) -> String {
    use crate::http::router::{route_table, Access};
    let rows: Vec<(&str, &str, String, bool)> = route_table()
        .into_iter()
        .map(|r| {
            let access = match r.access {
                Access::Public => "public".to_owned(),
                Access::SignedIn => "signed_in".to_owned(),
                Access::Client => "oauth_client".to_owned(),
                Access::Bearer => "bearer_token".to_owned(),
                Access::Role(role) => format!("role:{}", role.as_str()),
                Access::AnyRole(roles) => format!(
                    "role:{}",
                    roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join("|")
                ),
            };
            (r.method, r.path, access, r.api)
        })
        .collect();
    if json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|(m, p, a, api)| {
                serde_json::json!({
                    "method": m,
                    "path": p,
                    "access": a,
                    "surface": if *api { "api" } else { "page" },
                })
            })
            .collect();
        return format!("{}\n", serde_json::Value::Array(list));
    }
    rows.iter()
        .map(|(m, p, a, api)| {
            let a = if *api {
                format!("{a} (api)")
            } else {
                a.clone()
            };
            format!("{m:<6} {p:<45} {a}\n")
        })
        .collect()
}
