//! The static copy of the status page: plain files (HTML in Swedish and
//! English, CSS, icon, JSON, Atom) that any web server can serve, so citizens can
//! read it when Portvakt itself is down. Written after every change and
//! pushed to a separate host by a command or HTTP PUT (seeds 000, 002).

use crate::app::config::StatusConfig;
use crate::http::i18n::{Lang, Tr};
use crate::status::feeds::{atom_text, json_text};
use crate::status::view::{body, StaticStatusPage};
use anyhow::{anyhow, Context};
use askama::Template;
use portvakt_core::store::{Organisation, Store};
use secrecy::ExposeSecret;
use std::path::{Path, PathBuf};

/// Writes one file so a reader never sees half of it.
fn write_atomic(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// Writes the copy of `org`'s page into `dir`; returns the files written,
/// relative to `dir`.
///
/// # Errors
/// Store or file-system failures.
pub async fn export(
    store: &dyn Store,
    org: &Organisation,
    dir: &Path,
    now: i64,
) -> anyhow::Result<Vec<PathBuf>> {
    export_with(store, org, dir, now, &StatusConfig::default()).await
}

/// [`export`] with the self-check's addresses from the configuration.
///
/// # Errors
/// Store or file-system failures.
pub async fn export_with(
    store: &dyn Store,
    org: &Organisation,
    dir: &Path,
    now: i64,
    config: &StatusConfig,
) -> anyhow::Result<Vec<PathBuf>> {
    let data = crate::status::view::load_from(store, org, now, false).await?;
    std::fs::create_dir_all(dir.join("en"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let mut files = Vec::new();
    for (lang, path, root, other) in [
        (Lang::Sv, "index.html", "", "en/index.html"),
        (Lang::En, "en/index.html", "../", "../index.html"),
    ] {
        let check = "check.html";
        let t = Tr::new(lang);
        let html = StaticStatusPage {
            t,
            b: body(t, org, &data, now),
            root,
            other,
            check,
        }
        .render()?;
        write_atomic(&dir.join(path), html.as_bytes())?;
        files.push(PathBuf::from(path));
    }
    // The self-check, for when Portvakt itself does not answer.
    let health = config
        .portal_url
        .as_deref()
        .map(|u| format!("{}/healthz", u.trim_end_matches('/')))
        .unwrap_or_default();
    for (lang, path, root, other, json) in [
        (Lang::Sv, "check.html", "", "en/check.html", "status.json"),
        (
            Lang::En,
            "en/check.html",
            "../",
            "../check.html",
            "../status.json",
        ),
    ] {
        let html = crate::status::selfcheck::StaticSelfCheckPage {
            t: Tr::new(lang),
            org_name: org.name.clone(),
            root,
            other,
            portvakt_health: health.clone(),
            // This page is part of the copy, so the copy answers.
            copy_url: "index.html".into(),
            outside_url: config.outside_check_url.clone().unwrap_or_default(),
            // The copy's own JSON: what the probes saw at the last export
            // (every change of a probe's view is exported at once).
            status_json: json.into(),
        }
        .render()?;
        write_atomic(&dir.join(path), html.as_bytes())?;
        files.push(PathBuf::from(path));
    }
    for (path, content) in [
        (
            "selfcheck.js",
            include_str!("../../static/selfcheck.js").to_owned(),
        ),
        (
            "portvakt.css",
            include_str!("../../static/portvakt.css").to_owned(),
        ),
        ("favicon.svg", crate::http::assets::FAVICON.to_owned()),
        ("status.json", json_text(org, &data, now)),
        (
            "status.atom",
            atom_text(org, &data.incidents, "index.html", now),
        ),
    ] {
        write_atomic(&dir.join(path), content.as_bytes())?;
        files.push(PathBuf::from(path));
    }
    Ok(files)
}

/// Exports to the configured folder and pushes it, if so configured.
/// A failed push is reported but the local copy stays written.
///
/// # Errors
/// Export or push failures, with what failed.
pub async fn export_and_push(
    store: &dyn Store,
    config: &StatusConfig,
    org: &Organisation,
    now: i64,
) -> anyhow::Result<()> {
    let Some(base) = &config.export_dir else {
        return Ok(());
    };
    let dir = base.join(org.slug.as_str());
    let files = export_with(store, org, &dir, now, config).await?;
    if let Some(cmd) = &config.push_command {
        let line = cmd.replace("{dir}", &dir.display().to_string());
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("sh")
                .args(["-c", &line])
                .output()
        })
        .await?
        .context("running status.push_command")?;
        if !out.status.success() {
            return Err(anyhow!(
                "status.push_command failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    if let Some(url) = &config.push_url {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()?;
        let base = format!(
            "{}/{}/",
            url.expose_secret().trim_end_matches('/'),
            org.slug.as_str()
        );
        // WebDAV servers want each folder made before files go into it
        // (MKCOL); plain PUT targets may not know the method, and one that
        // exists already answers 405, so the answer is only a hint: a PUT
        // that then fails is what gets reported.
        let mut folders = vec![String::new()];
        for f in &files {
            if let Some(parent) = f.parent().filter(|p| !p.as_os_str().is_empty()) {
                let folder = format!("{}/", parent.display());
                if !folders.contains(&folder) {
                    folders.push(folder);
                }
            }
        }
        let mkcol = reqwest::Method::from_bytes(b"MKCOL")?;
        for folder in &folders {
            let mut req = client.request(mkcol.clone(), format!("{base}{folder}"));
            if let Some(h) = &config.push_auth_header {
                req = req.header("Authorization", h.expose_secret());
            }
            let _ = req.send().await;
        }
        for f in &files {
            let mut req = client
                .put(format!("{base}{}", f.display()))
                .body(std::fs::read(dir.join(f))?);
            if let Some(h) = &config.push_auth_header {
                req = req.header("Authorization", h.expose_secret());
            }
            let resp = req
                .send()
                .await
                // The push URL may carry credentials.
                .map_err(reqwest::Error::without_url)
                .with_context(|| format!("PUT {}", f.display()))?;
            if !resp.status().is_success() {
                return Err(anyhow!("PUT {}: {}", f.display(), resp.status()));
            }
        }
    }
    Ok(())
}

/// After a change: the static copy, in the background (a slow push host
/// must not hold up the editor); failures are logged.
pub fn publish(state: &crate::app::state::AppState, org: portvakt_core::store::Organisation) {
    let state = state.clone();
    tokio::spawn(async move {
        let now = state.clock.now();
        if let Err(e) =
            crate::status::export::export_and_push(&*state.store, &state.config.status, &org, now)
                .await
        {
            tracing::error!(error = %e, organisation = %org.slug.as_str(), "status page copy not updated");
        }
    });
}
