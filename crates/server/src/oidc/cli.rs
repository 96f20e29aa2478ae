//! `portvakt oidc …`: client secrets, signing keys and their rotation,
//! and the signature benchmark.

use crate::app::config::Config;
use anyhow::Context;
use clap::Subcommand;
use portvakt_core::domain::Slug;
use portvakt_core::oidc::client::{hash_secret, MIN_SECRET_LEN};
use portvakt_core::oidc::jose::{self, Alg, SigningKey};
use portvakt_core::oidc::keyring::KeyTimes;
use portvakt_core::store::StoredSigningKey;
use portvakt_core::{Clock, SystemClock};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum OidcCommand {
    /// Read a client secret from standard input and print the hash to put
    /// in the organisation file (`client_secret_hash`). Secrets shorter than
    /// 32 characters are refused.
    HashSecret,
    /// The organisation's signing keys and when each signs and leaves.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Microseconds per ES256 and RS256 signature on this machine (the
    /// bound for the token endpoint).
    SignBench,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    List {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
    },
    /// Publish a new key now, let it sign after `--publish-minutes` (apps
    /// fetch the JWK Set again within five minutes), and take the old key
    /// out of the set only after every token it signed has expired.
    Rotate {
        #[arg(long, env = "PORTVAKT_CONFIG")]
        config: PathBuf,
        #[arg(long)]
        org: String,
        /// ES256, RS256 or both.
        #[arg(long, default_value = "both")]
        alg: String,
        #[arg(long, default_value_t = 60)]
        publish_minutes: i64,
    },
}

/// # Errors
/// Bad input, or store failures.
pub async fn run(command: OidcCommand) -> anyhow::Result<()> {
    match command {
        OidcCommand::HashSecret => {
            let mut secret = String::new();
            std::io::stdin().read_line(&mut secret)?;
            let secret = secret.trim_end_matches(['\n', '\r']);
            anyhow::ensure!(
                secret.chars().count() >= MIN_SECRET_LEN,
                "a client secret needs at least {MIN_SECRET_LEN} characters; leave client_secret_hash out to have one generated"
            );
            println!("{}", hash_secret(secret));
            Ok(())
        }
        OidcCommand::SignBench => {
            for alg in [Alg::Es256, Alg::Rs256] {
                let (_, key) = SigningKey::generate(alg)?;
                let claims = serde_json::json!({"iss": "https://portal.example/oidc/x", "sub": "bench", "exp": 0});
                let n = if alg == Alg::Es256 { 20_000 } else { 2_000 };
                let start = std::time::Instant::now();
                for _ in 0..n {
                    jose::sign(&key, "at+jwt", &claims)?;
                }
                let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
                println!("{us:.1} µs per {} token ({n} signed)", alg.as_str());
            }
            Ok(())
        }
        OidcCommand::Keys { command } => keys(command).await,
    }
}

async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    let (config, org) = match &command {
        KeysCommand::List { config, org } | KeysCommand::Rotate { config, org, .. } => {
            (config, org)
        }
    };
    let cfg = Config::load(config)?;
    let store = crate::app::startup::open_store(&cfg).await?;
    let slug = Slug::parse(org).context("--org: not an organisation slug")?;
    let o = portvakt_core::store::OrgStore::organisation_by_slug(&store, &slug)
        .await?
        .context("no such organisation")?;
    let now = SystemClock.now();
    let at = |t: i64| {
        jiff::Timestamp::from_second(t).map_or_else(|_| t.to_string(), |ts| ts.to_string())
    };
    match command {
        KeysCommand::List { .. } => {
            for k in
                portvakt_core::store::OidcKeyStore::oidc_signing_keys(&store, &o.id, now).await?
            {
                println!(
                    "{} {} signs from {}{}",
                    k.alg.as_str(),
                    k.kid,
                    at(k.times.activates_at),
                    k.times.unpublish_at.map_or(String::new(), |u| format!(
                        ", leaves the JWK Set at {}",
                        at(u)
                    ))
                );
            }
            Ok(())
        }
        KeysCommand::Rotate {
            alg,
            publish_minutes,
            ..
        } => {
            anyhow::ensure!(
                (5..=7 * 24 * 60).contains(&publish_minutes),
                "--publish-minutes: between 5 (apps cache the JWK Set for five minutes) and 10080"
            );
            anyhow::ensure!(
                portvakt_core::store::OidcKeyStore::seals_keys(&store),
                "signing keys are stored only sealed: set secret_key_file"
            );
            let algs = match alg.as_str() {
                "both" => vec![Alg::Es256, Alg::Rs256],
                a => vec![Alg::parse(a).context("--alg: ES256, RS256 or both")?],
            };
            // The old key verifies every token it signed: access tokens
            // live at most access_token_minutes, ID tokens five minutes.
            let token_life = cfg
                .oidc
                .as_ref()
                .map_or(60, |c| i64::from(c.access_token_minutes))
                .max(5)
                * 60;
            let activates_at = now + publish_minutes * 60;
            let retire_at = activates_at + token_life + 300;
            for alg in algs {
                let (pkcs8, key) =
                    tokio::task::spawn_blocking(move || SigningKey::generate(alg)).await??;
                let stored = StoredSigningKey {
                    kid: key.kid().to_owned(),
                    alg,
                    pkcs8,
                    times: KeyTimes {
                        created_at: now,
                        activates_at,
                        unpublish_at: None,
                    },
                };
                portvakt_core::store::OidcKeyStore::add_oidc_key(&store, &o.id, &stored, retire_at)
                    .await?;
                println!(
                    "{} {} published now, signs from {}; the previous key leaves the JWK Set at {}",
                    alg.as_str(),
                    key.kid(),
                    at(activates_at),
                    at(retire_at)
                );
            }
            Ok(())
        }
    }
}
