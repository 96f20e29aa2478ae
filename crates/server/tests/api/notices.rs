//! Issue 12: a person's own numbers and addresses hear about changes to
//! their sign-in (password, reset, second factors added or removed): what,
//! when, and whom to call, in their language, never with a code, and never
//! only to the number or address the change itself added. E-mail through a
//! real SMTP server (aiosmtpd), SMS as files in the outbox folder.
use crate::email::{wait_for, Sink};
use crate::helpers::*;
use crate::mfa::oathtool;
use portvakt_core::domain::Language;
use portvakt_core::ids::FactorId;
use portvakt_core::store::{Factor, FactorKind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const NEW_PW: &str = "ett alldeles nytt lösenord i vinter";
const MOBILE: &str = "46701234567";
const MAILBOX: &str = "anna.privat@example.se";
/// The demo organisation's contact text starts "Kontaktcenter: 0123-45 60 00".
const HELP: &str = "0123-45 60 00";

struct World {
    app: TestApp,
    sink: Sink,
    sms_dir: PathBuf,
    _dirs: TempDir,
}

async fn world() -> World {
    world_with("").await
}

async fn world_with(extra: &str) -> World {
    let sink = Sink::start();
    let dirs = TempDir::new();
    let sms_dir = dirs.0.join("sms");
    let app = spawn_with(&format!(
        "[email]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"Portvakt <portvakt@exempelkommun.se>\"\n\
         [sms]\noutbox_dir = \"{}\"\n{extra}",
        sink.port,
        sms_dir.display()
    ))
    .await;
    World {
        app,
        sink,
        sms_dir,
        _dirs: dirs,
    }
}

/// Gives Anna a number or an address directly in the store.
async fn give(app: &TestApp, kind: FactorKind, to: &str, confirmed: bool) -> FactorId {
    let (org, user) = app.org_and_user(ANNA).await;
    let f = Factor {
        id: FactorId::generate(),
        organisation_id: org.id.clone(),
        user_id: user.id.clone(),
        kind,
        label: to.into(),
        secret: None,
        destination: Some(to.into()),
        confirmed,
        created_at: START,
        last_used_at: None,
    };
    app.store.add_factor(&f).await.unwrap();
    f.id
}

/// Every SMS written so far: (number, text).
fn sms_sent(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".sms.txt"))
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let (head, body) = text.split_once("\n\n").unwrap();
            (
                head.trim_start_matches("To: +").to_owned(),
                body.trim().to_owned(),
            )
        })
        .collect()
}

/// Waits for an SMS whose text contains `needle`.
async fn sms_with(dir: &Path, needle: &str) -> (String, String) {
    let start = Instant::now();
    loop {
        if let Some(m) = sms_sent(dir).into_iter().find(|(_, b)| b.contains(needle)) {
            return m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no SMS with {needle:?}: {:?}",
            sms_sent(dir)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn mail(sink: &Sink, n: usize) -> (String, String) {
    let dir = sink.dir.0.clone();
    tokio::task::spawn_blocking(move || wait_for(&dir, n))
        .await
        .unwrap()
}

fn mails_so_far(sink: &Sink) -> usize {
    std::fs::read_dir(&sink.dir.0)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".txt"))
        .count()
}

fn has_six_digit_code(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit())
        .any(|w| w.len() == 6)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_is_told_to_every_confirmed_number_and_address() {
    let w = world().await;
    give(&w.app, FactorKind::Sms, MOBILE, true).await;
    give(&w.app, FactorKind::Email, MAILBOX, true).await;
    give(&w.app, FactorKind::Sms, "46709999999", false).await;
    w.app.clock.advance(5 * 3600 + 5 * 60); // 18:05 in Stockholm
    let c = w.app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let r = c
        .post_form(
            "/password",
            &[("current", ANNA_PW), ("new", NEW_PW), ("confirm", NEW_PW)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let (to, sms) = sms_with(&w.sms_dir, "Lösenordet").await;
    assert_eq!(to, MOBILE);
    assert_eq!(
        sms,
        format!(
            "Portvakt: Lösenordet till ditt konto byttes 2026-11-23 kl. 18:05. \
             Var det inte du? Kontakta servicedesk på {HELP}."
        )
    );
    let (to, text) = mail(&w.sink, 1).await;
    assert_eq!(to, MAILBOX);
    assert!(text.contains("Lösenordet till ditt konto byttes 2026-11-23 kl. 18:05"));
    assert!(text.contains("The password of your account was changed on 2026-11-23 at 18:05"));
    assert!(text.contains(HELP));
    assert!(!text.contains(NEW_PW) && !has_six_digit_code(&text));
    assert!(
        sms_sent(&w.sms_dir).iter().all(|(to, _)| to == MOBILE),
        "a number never confirmed hears nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_is_told_in_the_persons_own_language_without_the_code() {
    let w = world().await;
    let secret = crate::reset::add_app(&w.app, ANNA).await;
    let (org, user) = w.app.org_and_user(ANNA).await;
    give(&w.app, FactorKind::Sms, MOBILE, true).await;
    w.app
        .store
        .set_user_language(&org.id, &user.id, Some(Language::En))
        .await
        .unwrap();

    let c = w.app.client_from("203.0.113.7");
    c.post_form("/reset", &[("username", ANNA)]).await;
    let (_, code_sms) = sms_with(&w.sms_dir, "code for changing").await;
    let sent_code = code_in(&code_sms);
    let app_code = oathtool(&secret, START);
    let ok = c
        .post_form(
            "/reset/code",
            &[("code", &app_code), ("new", NEW_PW), ("confirm", NEW_PW)],
        )
        .await;
    assert_eq!(ok.location.as_deref(), Some("/signed-out?reason=reset"));

    let (to, sms) = sms_with(&w.sms_dir, "Someone used").await;
    assert_eq!(to, MOBILE);
    assert!(
        sms.contains("changed the password of your account on 2026-11-23 at 13:00"),
        "{sms}"
    );
    assert!(sms.contains(&format!("Contact the service desk on {HELP}")));
    assert!(!sms.contains("Lösenord"), "English only: {sms}");
    assert!(
        !sms.contains(&sent_code) && !sms.contains(&app_code) && !has_six_digit_code(&sms),
        "no code in a notice: {sms}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn methods_added_and_removed_are_told_to_the_other_contacts() {
    let w = world().await;
    let mobile = give(&w.app, FactorKind::Sms, MOBILE, true).await;
    let c = w.app.client();
    c.sign_in(ANNA, ANNA_PW).await;

    // A new address: its code mail speaks of adding it, not of signing in;
    // the notice goes to the number, not to the new address.
    let r = c
        .post_form("/settings/email", &[("address", MAILBOX)])
        .await;
    let confirm = r.location.expect("to the confirmation page");
    let (to, code_mail) = mail(&w.sink, 1).await;
    assert_eq!(to, MAILBOX);
    assert!(code_mail.contains("Koden för att lägga till den här e-postadressen i Portvakt är"));
    assert!(code_mail.contains("Du kan bortse från meddelandet"));
    assert!(!code_mail.contains("logga in") && !code_mail.contains("lösenord"));
    let ok = c
        .post_form(&confirm, &[("code", &code_in(&code_mail))])
        .await;
    assert_eq!(ok.location.as_deref(), Some("/settings?done=added"));
    let (to, sms) = sms_with(&w.sms_dir, "e-postadress").await;
    assert_eq!(to, MOBILE);
    assert!(sms.starts_with(
        "Portvakt: En ny e-postadress lades till på ditt konto 2026-11-23 kl. 13:00."
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        mails_so_far(&w.sink),
        1,
        "the new address is not told of itself"
    );

    // An authenticator app: both contacts hear.
    let r = c.post_form("/settings/totp", &[]).await;
    let page_url = r.location.unwrap();
    let page = c.get(&page_url).await;
    let start = page.body.find("<code id=\"secret\">").unwrap() + 18;
    let secret = &page.body[start..start + page.body[start..].find("</code>").unwrap()];
    let token = csrf_from(&page.body);
    let ok = c
        .post_raw(
            &page_url,
            &[
                ("csrf", &token),
                ("label", "Jobbtelefonen"),
                ("code", &oathtool(secret, START)),
            ],
        )
        .await;
    assert_eq!(ok.location.as_deref(), Some("/settings?done=added"));
    sms_with(&w.sms_dir, "En autentiseringsapp lades till").await;
    let (to, text) = mail(&w.sink, 2).await;
    assert_eq!(to, MAILBOX);
    assert!(text.contains("En autentiseringsapp lades till som inloggningsmetod"));
    assert!(text.contains("An authenticator app was added"));

    // The number removed: it hears it gets no more codes; the address
    // hears a number was removed.
    let r = c
        .post_form(&format!("/settings/factors/{mobile}/remove"), &[])
        .await;
    assert_eq!(r.location.as_deref(), Some("/settings?done=removed"));
    let (to, sms) = sms_with(&w.sms_dir, "Det här numret togs bort").await;
    assert_eq!(to, MOBILE);
    assert!(sms.contains("får inga fler koder"));
    let (to, text) = mail(&w.sink, 3).await;
    assert_eq!(to, MAILBOX);
    assert!(text.contains("Ett mobilnummer togs bort från ditt konto 2026-11-23 kl. 13:00"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_number_gets_its_own_words_not_a_sign_in_warning() {
    let w = world().await;
    let c = w.app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let r = c
        .post_form("/settings/sms", &[("number", "070-123 45 67")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let (to, sms) = sms_with(&w.sms_dir, "lägga till").await;
    assert_eq!(to, MOBILE);
    assert!(
        sms.starts_with("Koden för att lägga till det här numret i Portvakt är "),
        "{sms}"
    );
    assert!(sms.contains("Var det inte du? Du kan bortse från meddelandet."));
    assert!(
        !sms.contains("logga in") && !sms.contains("lösenord"),
        "{sms}"
    );
}

/// The outbox takes the notice; a gateway that is down only delays it.
#[tokio::test]
async fn a_notice_that_cannot_be_delivered_does_not_undo_the_change() {
    let app = spawn_with(&format!(
        "[sms]\ngateway_url = \"http://127.0.0.1:{}/send\"\n",
        free_port()
    ))
    .await;
    give(&app, FactorKind::Sms, MOBILE, true).await;
    let c = app.client();
    c.sign_in(ANNA, ANNA_PW).await;
    let r = c
        .post_form(
            "/password",
            &[("current", ANNA_PW), ("new", NEW_PW), ("confirm", NEW_PW)],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Lösenordet är bytt"));
    assert_eq!(app.client().sign_in(ANNA, NEW_PW).await.status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_added_used_for_a_reset_and_removed_are_told() {
    use crate::passkeys::{enrol, ORIGIN, PASSKEYS};
    use crate::soft_passkey::Prompt;
    let w = world_with(PASSKEYS).await;
    give(&w.app, FactorKind::Sms, MOBILE, true).await;
    let (_, mut key) = enrol(&w.app).await;
    sms_with(&w.sms_dir, "En passkey lades till som inloggningsmetod").await;

    let c = w.app.client_from("198.51.100.7");
    let page = c.post_form("/reset/passkey", &[]).await;
    let prompt = Prompt::from_page(&page.body);
    let answer = key.assert(&prompt, ORIGIN);
    let r = c
        .post_form(
            "/reset/passkey/finish",
            &[
                ("ceremony", &prompt.ceremony),
                ("credential", &answer),
                ("new", NEW_PW),
                ("confirm", NEW_PW),
            ],
        )
        .await;
    assert_eq!(r.location.as_deref(), Some("/signed-out?reason=reset"));
    sms_with(&w.sms_dir, "Någon använde ”Glömt lösenordet”").await;

    let (org, user) = w.app.org_and_user(ANNA).await;
    let passkey = w
        .app
        .store
        .factors(&org.id, &user.id)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.kind == FactorKind::Passkey)
        .unwrap();
    let c = w.app.client();
    c.sign_in(ANNA, NEW_PW).await;
    let r = c
        .post_form(&format!("/settings/factors/{}/remove", passkey.id), &[])
        .await;
    assert_eq!(r.location.as_deref(), Some("/settings?done=removed"));
    let (to, _) = sms_with(&w.sms_dir, "En passkey togs bort från ditt konto").await;
    assert_eq!(to, MOBILE);
}

/// Servicedesk removing a lost phone: the number hears it gets no more
/// codes, and the person's address hears what was removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_removed_by_servicedesk_is_told_and_so_is_the_address() {
    let w = world().await;
    let mobile = give(&w.app, FactorKind::Sms, MOBILE, true).await;
    give(&w.app, FactorKind::Email, MAILBOX, true).await;
    let (_, anna) = w.app.org_and_user(ANNA).await;
    let desk = w.app.client();
    desk.sign_in(SARA, SARA_PW).await;
    let r = desk
        .post_form(
            &format!("/admin/users/{}/factors/{mobile}/remove", anna.id),
            &[("confirm", "1")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (to, _) = sms_with(&w.sms_dir, "Det här numret togs bort från ditt konto").await;
    assert_eq!(to, MOBILE);
    let (to, text) = mail(&w.sink, 1).await;
    assert_eq!(to, MAILBOX);
    assert!(text.contains("Ett mobilnummer togs bort från ditt konto"));
}
