//! `portvakt apply` as an operator runs it: the real binary, a real file.
use crate::helpers::TempDir;
use std::process::Command;

const FILE: &str = r#"
[[organisation]]
slug = "testkommun"
name = "Testkommun"
domains = ["testkommun.se"]

[[organisation.group]]
slug = "ovrig-personal"
name = "Övrig personal"

[[organisation.zone]]
slug = "administrativa-natet"
name = "Administrativa nätet"
cidrs = ["10.10.0.0/16", "2001:db8:10::/48"]

[[organisation.service]]
slug = "lonebesked"
name = "Lönebesked"
description = "Se dina lönebesked."
url = "https://lon.testkommun.se/"
category = "Personal"
groups = ["ovrig-personal"]

[[organisation.user]]
username = "kim.berg@testkommun.se"
name = "Kim Berg"
email = "kim.berg@testkommun.se"
groups = ["ovrig-personal"]
initial_password = "ett tillfälligt lösenord för kim"

[[organisation.user]]
username = "migrerad@testkommun.se"
name = "Migrerad Användare"
password_hash = "$2b$04$3X7RW/ITqnbINbFXCOSmmOd9MsZAu1mrWc09dIEX1GcSMn7sWY.ru"
"#;

struct Setup {
    dir: TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = TempDir::new();
        let cfg = format!(
            "database_url = \"sqlite://{}\"\n[password]\nmemory_kib = 64\niterations = 1\nparallelism = 1\n",
            dir.0.join("a.db").display()
        );
        std::fs::write(dir.0.join("portvakt.toml"), cfg).unwrap();
        Self { dir }
    }

    fn run(&self, file_text: &str, extra: &[&str]) -> (bool, String, String) {
        let f = self.dir.0.join("org.toml");
        std::fs::write(&f, file_text).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_portvakt"));
        cmd.arg("apply")
            .arg(&f)
            .arg("--config")
            .arg(self.dir.0.join("portvakt.toml"))
            .args(extra);
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn apply_is_idempotent_and_dry_run_writes_nothing() {
    let s = Setup::new();
    let (ok, out, err) = s.run(FILE, &["--dry-run"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("would create organisation testkommun"),
        "{out}"
    );
    assert!(out.contains("would create user testkommun/kim.berg@testkommun.se"));
    assert!(out.contains("nothing written"));
    let (_, out, _) = s.run(FILE, &["--dry-run"]);
    assert!(
        out.contains("would create organisation"),
        "dry run wrote nothing"
    );

    let (ok, out, err) = s.run(FILE, &[]);
    assert!(ok, "{err}");
    assert!(out.contains("6 change(s) applied"), "{out}");
    let (ok, out, _) = s.run(FILE, &[]);
    assert!(ok);
    assert!(
        out.contains("0 change(s) applied"),
        "second run changes nothing: {out}"
    );

    let changed = FILE.replace("name = \"Kim Berg\"", "name = \"Kim Berg-Ek\"");
    let (_, out, _) = s.run(&changed, &["--dry-run"]);
    assert!(
        out.contains("would update user testkommun/kim.berg@testkommun.se"),
        "{out}"
    );
    assert!(out.contains("1 change(s)"));
}

#[test]
fn invalid_files_name_file_line_and_field_and_change_nothing() {
    let s = Setup::new();
    assert!(s.run(FILE, &[]).0);
    let bad = FILE
        .replace(
            "groups = [\"ovrig-personal\"]\ninitial_password",
            "groups = [\"saknas\"]\ninitial_password",
        )
        .replace("cidrs = [\"10.10.0.0/16\"", "cidrs = [\"10.10.0.0/33\"")
        .replace("name = \"Kim Berg\"", "name = \"Kim Berg-Ek\"")
        .replace("ett tillfälligt lösenord för kim", "sommar2025");
    let (ok, _, err) = s.run(&bad, &[]);
    assert!(!ok);
    assert!(
        err.contains("org.toml:14: organisation[0].zone[0].cidrs: '10.10.0.0/33' is not a CIDR"),
        "{err}"
    );
    assert!(
        err.contains("organisation[0].user[0].groups: unknown group 'saknas'"),
        "{err}"
    );
    assert!(
        err.contains("organisation[0].user[0].initial_password: rejected"),
        "{err}"
    );
    let (_, out, _) = s.run(FILE, &["--dry-run"]);
    assert!(
        out.contains("0 change(s)"),
        "nothing was written by the failed apply: {out}"
    );

    let (ok, _, err) = s.run("[[organisation]]\nslug = \"Bad Slug\"\nname = \"\"\n", &[]);
    assert!(!ok);
    assert!(
        err.contains(":2: organisation[0].slug")
            && err.contains(":3: organisation[0].name: must not be empty"),
        "{err}"
    );
    let (ok, _, err) = s.run("[[organisation]\n", &[]);
    assert!(!ok && err.contains("org.toml:1: toml:"), "{err}");
}

/// Issue 10: a zone of 0.0.0.0/0 (or ::/0, or any /1–/7) makes everyone
/// "inside" and skips the second factor; `apply` warns in dry and real
/// runs, and the server warns at every start.
#[tokio::test]
async fn a_zone_covering_the_internet_is_warned_about_loudly() {
    let s = Setup::new();
    let file = FILE.replace(
        r#"cidrs = ["10.10.0.0/16", "2001:db8:10::/48"]"#,
        r#"cidrs = ["0.0.0.0/0", "::/0", "10.10.0.0/16"]"#,
    );
    for extra in [&["--dry-run"][..], &[]] {
        let (ok, out, err) = s.run(&file, extra);
        assert!(ok, "{err}");
        assert!(
            out.contains("WARNING: zone testkommun/administrativa-natet contains 0.0.0.0/0, ::/0"),
            "{extra:?}: {out}"
        );
        assert!(out.contains("no second factor is asked"), "{out}");
    }
    let (_, quiet, _) = s.run(FILE, &["--dry-run"]);
    assert!(!quiet.contains("WARNING"), "{quiet}");
    let url = format!("sqlite://{}", s.dir.0.join("a.db").display());
    let store = portvakt_store::SqlStore::connect(&url).await.unwrap();
    let at_start = portvakt_server::app::startup::wide_zone_warnings(&store)
        .await
        .unwrap();
    assert_eq!(at_start.len(), 1, "{at_start:?}");
    assert!(at_start[0].contains("0.0.0.0/0, ::/0"));
}
