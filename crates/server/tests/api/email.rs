//! Codes by e-mail through a real SMTP server on loopback (aiosmtpd).
use crate::helpers::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const OUTSIDE: &str = "203.0.113.7";

pub struct Sink {
    child: Child,
    pub dir: TempDir,
    pub port: u16,
}

impl Sink {
    pub fn start() -> Self {
        let dir = TempDir::new();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/support/smtp_sink.py"
        );
        let mut child = Command::new("python3")
            .arg(script)
            .arg(&dir.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("sink prints its port");
        Self { child, dir, port }
    }
}

/// Waits for the `n`th message in `dir` and returns (recipient, decoded text).
pub fn wait_for(dir: &std::path::Path, n: usize) -> (String, String) {
    let path = dir.join(format!("{n}.txt"));
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no message {n} arrived"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(path).unwrap();
    let rcpt = text
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("X-Rcpt-To: ")
        .to_owned();
    (rcpt, text)
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_registered_beforehand_receives_sign_in_codes() {
    let sink = Sink::start();
    let app = spawn_with(&format!("[email]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"Portvakt <portvakt@exempelkommun.se>\"\n", sink.port)).await;

    // Register the address from inside; a code sent there proves it.
    let inside = app.client();
    inside.sign_in(ANNA, ANNA_PW).await;
    let bad = inside
        .post_form("/settings/email", &[("address", "inte en adress")])
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Skriv en e-postadress"));
    let r = inside
        .post_form("/settings/email", &[("address", "Anna.Privat@Example.se")])
        .await;
    let confirm_url = r.location.expect("redirect to the confirmation page");
    let (to, mail) = wait(&sink, 1).await;
    assert_eq!(to, "anna.privat@example.se");
    assert!(
        mail.contains("Koden för att lägga till den här e-postadressen")
            && mail.contains("The code for adding this e-mail address"),
        "{mail}"
    );
    let code = code_in(&mail);
    assert_eq!(
        inside
            .post_form(&confirm_url, &[("code", "000000")])
            .await
            .status,
        400
    );
    let ok = inside.post_form(&confirm_url, &[("code", &code)]).await;
    assert_eq!(ok.location.as_deref(), Some("/settings?done=added"));

    // Outside: choose e-mail, receive the code, sign in.
    let c = app.client_from(OUTSIDE);
    assert_eq!(
        c.sign_in(ANNA, ANNA_PW).await.location.as_deref(),
        Some("/login/factor")
    );
    let page = c.get("/login/factor").await;
    assert!(page.body.contains("a…t@example.se"), "masked address shown");
    let id = page
        .body
        .split("/login/factor/send/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = c.post_form(&format!("/login/factor/send/{id}"), &[]).await;
    assert_eq!(r.location, Some(format!("/login/factor?sent={id}")));
    let again = c.post_form(&format!("/login/factor/send/{id}"), &[]).await;
    assert_eq!(again.status, 429, "resend throttled");
    let (_, mail) = wait(&sink, 2).await;
    let code = code_in(&mail);
    // The code belongs to this attempt only (A4).
    let other = app.client_from(OUTSIDE);
    other.sign_in(ANNA, ANNA_PW).await;
    let r = other
        .post_form(
            "/login/factor",
            &[("method", "email"), ("factor", &id), ("code", &code)],
        )
        .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("gäller inte längre"));
    let r = c
        .post_form(
            "/login/factor",
            &[("method", "email"), ("factor", &id), ("code", &code)],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/"));
    let (org, user) = app.org_and_user(ANNA).await;
    let sessions = app
        .store
        .list_user_sessions(&org.id, &user.id, START + 10)
        .await
        .unwrap();
    assert!(
        sessions.iter().any(|s| s.amr.to_string() == "pwd email"),
        "e-mail recorded as the method"
    );
}

async fn wait(sink: &Sink, n: usize) -> (String, String) {
    let dir = sink.dir.0.clone();
    tokio::task::spawn_blocking(move || wait_for(&dir, n))
        .await
        .unwrap()
}

/// Issue 10: an address literal (`a@[127.0.0.1]`) and other addresses that
/// can only fail at delivery are refused at registration with a message
/// that says what is accepted, and nothing is stored.
#[tokio::test]
async fn undeliverable_addresses_are_refused_at_registration() {
    let dir = TempDir::new();
    let app = spawn_with(&format!(
        "[email]\noutbox_dir = \"{}\"\n",
        dir.0.join("mail").display()
    ))
    .await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let too_long = format!("{}@{}.se", "a".repeat(60), "b".repeat(200));
    for bad in [
        "a@[127.0.0.1]",
        "a@127.0.0.1",
        "anna@localhost",
        "anna@exempelkommun",
        "anna@xn--80ak6aa92e.com",
        "anna@аpple.com",
        "anna\u{7}@exempelkommun.se",
        "\"anna\"@exempelkommun.se",
        too_long.as_str(),
    ] {
        let r = c.post_form("/settings/email", &[("address", bad)]).await;
        assert_eq!(r.status, 400, "{bad:?}");
        assert!(r.body.contains("ingen IP-adress"), "{bad:?}");
    }
    c.post_form("/language", &[("lang", "en")]).await;
    let r = c
        .post_form("/settings/email", &[("address", "a@[127.0.0.1]")])
        .await;
    assert!(r.body.contains("no IP address"));
    let (org, user) = app.org_and_user(ANNA).await;
    let factors = app.store.factors(&org.id, &user.id).await.unwrap();
    assert!(
        factors.iter().all(|f| !f.label.contains('@')),
        "nothing stored: {factors:?}"
    );
    let ok = c
        .post_form("/settings/email", &[("address", "Anna.Privat@Example.se")])
        .await;
    assert_eq!(ok.status, 303);
}
