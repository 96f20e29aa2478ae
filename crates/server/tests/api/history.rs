//! Issue 14, "Mina inloggningar": a person's sign-ins and attempts in words,
//! their sessions and account changes; "Det här var inte jag" ends every
//! other session, requires a new password, is recorded in the audit log and
//! reaches the emergency team; nobody can report another person's entry.
use crate::helpers::*;
use portvakt_core::store::SignInMethod;
use portvakt_core::Clock;

/// Anna signed in from a browser that says it is `ua`.
pub(crate) async fn signed_in_with(app: &TestApp, ua: &str) -> Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("user-agent", ua.parse().unwrap());
    let c = Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(h)
            .build()
            .unwrap(),
        base: format!("http://{}", app.addr),
    };
    assert_eq!(c.sign_in(ANNA, ANNA_PW).await.status, 303);
    c
}

const FIREFOX: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1";

#[tokio::test]
async fn my_sign_ins_in_words_and_this_was_not_me() {
    let app = spawn_app().await;
    let (org, anna) = app.org_and_user(ANNA).await;
    let mine = signed_in_with(&app, FIREFOX).await;
    app.clock.advance(60);
    // A wrong password, then someone else's successful sign-in.
    assert_eq!(
        app.client()
            .sign_in(ANNA, "fel lösenord helt och hållet")
            .await
            .status,
        401
    );
    app.clock.advance(60);
    let stranger = signed_in_with(&app, IPHONE).await;
    assert_eq!(stranger.get("/").await.status, 200);

    let page = mine.get("/settings/signins").await;
    assert_eq!(page.status, 200);
    for words in [
        "Mina inloggningar",
        "Firefox på Windows",
        "Safari på iPhone",
        "Fel lösenord",
        "Inloggad",
        "Lösenord",
        "2026-11-23 13:02:00",
        "(den här)",
        "Logga ut överallt utom här",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }

    // The stranger's sign-in is the newest successful password event.
    let events = app
        .store
        .signin_history(&org.id, &anna.id, 0, None, 10)
        .await
        .unwrap();
    let theirs = events
        .iter()
        .find(|e| e.user_agent == IPHONE && e.method == SignInMethod::Password)
        .unwrap();
    let confirm = mine
        .get(&format!("/settings/signins/{}/not-me", theirs.id))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Safari på iPhone"));
    assert!(confirm.body.contains("Alla andra inloggningar avslutas"));
    // Nothing happens before the confirmation.
    assert_eq!(stranger.get("/").await.status, 200);

    let token = csrf_from(&confirm.body);
    let done = mine
        .post_raw(
            &format!("/settings/signins/{}/not-me", theirs.id),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/password"));
    // The stranger is out; Anna stays, but must choose a new password first.
    let s = stranger.get("/").await;
    assert_eq!(s.status, 303, "the other session ended");
    assert_eq!(s.location.as_deref(), Some("/signed-out?reason=elsewhere"));
    let why = stranger.get("/signed-out?reason=elsewhere").await;
    assert!(why.body.contains("från en annan enhet"), "{}", why.body);
    assert_eq!(
        stranger.get("/").await.location.as_deref(),
        Some("/login"),
        "said once"
    );
    let m = mine.get("/").await;
    assert_eq!(m.location.as_deref(), Some("/password"));
    let pw = mine.get("/password").await;
    assert_eq!(pw.status, 200);

    // Recorded, and the emergency team is told (in both languages).
    let entries = app.store.admin_events(&org.id, 5).await.unwrap();
    let report = entries
        .iter()
        .find(|e| e.action == "account.not_me")
        .unwrap();
    assert_eq!(report.actor_id, anna.id);
    assert_eq!(report.target, format!("{}/{}", anna.id, theirs.id));
    assert_eq!(report.detail, "sessions=1");
    let mail: Vec<_> = app
        .store
        .due_messages(app.clock.now() + 1, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.contains("Misstänkt intrång"))
        .collect();
    assert_eq!(mail.len(), 2, "it-chef and kommunikation");
    assert!(mail[0].body.contains(ANNA) && mail[0].body.contains("Safari på iPhone"));
    assert!(mail[0].body.contains("Suspected") || mail[0].body.contains("A person marked"));

    // After the new password, the report shows under the account's changes.
    let token = csrf_from(&pw.body);
    let changed = mine
        .post_raw(
            "/password",
            &[
                ("csrf", &token),
                ("current", ANNA_PW),
                ("new", "ett helt nytt lösenord för anna idag"),
                ("confirm", "ett helt nytt lösenord för anna idag"),
            ],
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let page = mine.get("/settings/signins").await;
    assert!(
        page.body.contains("Markerade en inloggning som inte sin"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Bytte sitt lösenord"));
}

#[tokio::test]
async fn nobody_reports_another_persons_sign_in_and_others_can_be_signed_out() {
    let app = spawn_app().await;
    let (org, sara) = app.org_and_user(SARA).await;
    let desk = app.client();
    desk.sign_in(SARA, SARA_PW).await;
    let saras = app
        .store
        .signin_history(&org.id, &sara.id, 0, None, 1)
        .await
        .unwrap()
        .remove(0);
    let anna = signed_in_with(&app, FIREFOX).await;
    let other = signed_in_with(&app, IPHONE).await;
    let path = format!("/settings/signins/{}/not-me", saras.id);
    assert_eq!(
        anna.get(&path).await.status,
        404,
        "Sara's entry is not Anna's"
    );
    let token = anna.csrf().await;
    assert_eq!(anna.post_raw(&path, &[("csrf", &token)]).await.status, 404);
    assert_eq!(desk.get("/").await.status, 200, "nothing happened to Sara");
    assert_eq!(
        anna.get("/settings/signins/evt_nonexistent/not-me")
            .await
            .status,
        404
    );

    // "Logga ut överallt utom här".
    let page = anna.get("/settings/signins").await;
    let token = csrf_from(&page.body);
    let r = anna
        .post_raw("/settings/signins/end-others", &[("csrf", &token)])
        .await;
    assert_eq!(r.location.as_deref(), Some("/settings/signins?done=ended"));
    assert_eq!(other.get("/").await.status, 303, "the other session ended");
    let here = anna.get("/settings/signins?done=ended").await;
    assert_eq!(here.status, 200);
    assert!(here.body.contains("Du är utloggad överallt utom här"));
    assert!(
        !here.body.contains("Logga ut överallt utom här"),
        "no other session left"
    );
    // Paging is by the time and id of the last row; a bad cursor is refused.
    assert_eq!(
        anna.get("/settings/signins?before_at=x&before_id=y")
            .await
            .status,
        400
    );
}

/// The servicedesk's view of an account: the sign-in history in words with
/// seconds, a day filter, paging, and the actions on the account.
#[tokio::test]
async fn the_servicedesk_reads_an_accounts_history_in_words_by_day_and_page() {
    use portvakt_core::ids::EventId;
    use portvakt_core::store::{EventResult, SignInEvent};
    let app = spawn_app().await;
    let (org, anna) = app.org_and_user(ANNA).await;
    // 55 wrong passwords over the day before, one a minute.
    for i in 0..55 {
        app.store
            .record_signin_event(&SignInEvent {
                id: EventId::generate(),
                organisation_id: Some(org.id.clone()),
                user_id: Some(anna.id.clone()),
                at: START - 86_400 + i * 60,
                ip: "198.51.100.7".into(),
                user_agent: FIREFOX.into(),
                method: SignInMethod::Password,
                result: EventResult::Failure,
                reason: "bad_password".into(),
                zone: String::new(),
            })
            .await
            .unwrap();
    }
    let desk = app.client();
    desk.sign_in(SARA, SARA_PW).await;
    let path = format!("/admin/users/{}", anna.id);
    let page = desk.get(&path).await;
    assert_eq!(page.status, 200);
    for words in [
        "Fel lösenord",
        "utanför kommunens nät, 198.51.100.7",
        "Firefox på Windows",
        "2026-11-22 13:54:00",
        "Äldre poster",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }
    assert!(
        !page.body.contains("2026-11-22 13:00:00"),
        "the oldest is on page two"
    );
    let older = page
        .body
        .split("href=\"")
        .find(|s| s.contains("before_at"))
        .unwrap();
    let older = older[..older.find('"').unwrap()]
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let two = desk.get(&older).await;
    assert!(two.body.contains("2026-11-22 13:00:00"), "{}", two.body);
    assert!(!two.body.contains("Äldre poster"));

    // By day (Stockholm): the 23rd has none of them.
    let day = desk
        .get(&format!("{path}?from=2026-11-23&until=2026-11-23"))
        .await;
    assert!(!day.body.contains("Fel lösenord"));
    let bad = desk.get(&format!("{path}?from=igår")).await;
    assert!(bad.body.contains("Datumet ska skrivas ÅÅÅÅ-MM-DD."));

    // The servicedesk's own action shows among the account's actions.
    let token = csrf_from(&page.body);
    desk.post_raw(&format!("{path}/unlock"), &[("csrf", &token)])
        .await;
    let after = desk.get(&path).await;
    assert!(after.body.contains("Åtgärder på kontot"));
    assert!(after.body.contains("Låste upp kontot"));

    // Ending her sessions: Anna's next page says who did it.
    let anna_browser = app.client();
    anna_browser.sign_in(ANNA, ANNA_PW).await;
    let r = desk
        .post_raw(&format!("{path}/revoke-sessions"), &[("csrf", &token)])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Avsluta alla inloggningar"), "asked first");
    assert_eq!(
        anna_browser.get("/settings").await.status,
        200,
        "nothing ended before the confirmation"
    );
    let r = desk
        .post_raw(
            &format!("{path}/revoke-sessions"),
            &[("csrf", &token), ("confirm", "1")],
        )
        .await;
    assert_eq!(r.status, 200);
    let next = anna_browser.get("/settings").await;
    assert_eq!(
        next.location.as_deref(),
        Some("/signed-out?reason=servicedesk")
    );
    let why = anna_browser.get("/signed-out?reason=servicedesk").await;
    assert!(why
        .body
        .contains("Din inloggning avslutades av servicedesk"));
}

/// Thirty parallel "Det här var inte jag" on one sign-in (a double click,
/// or a script): the other session ends, and the report is recorded and
/// mailed once, not thirty times.
#[tokio::test]
async fn thirty_parallel_reports_are_recorded_and_mailed_once() {
    let app = spawn_app().await;
    let (org, anna) = app.org_and_user(ANNA).await;
    let mine = std::sync::Arc::new(signed_in_with(&app, FIREFOX).await);
    let stranger = signed_in_with(&app, IPHONE).await;
    let theirs = app
        .store
        .signin_history(&org.id, &anna.id, 0, None, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.user_agent == IPHONE)
        .unwrap();
    let path = format!("/settings/signins/{}/not-me", theirs.id);
    let token = csrf_from(&mine.get(&path).await.body);
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let (mine, path, token) = (mine.clone(), path.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            mine.post_raw(&path, &[("csrf", &token)]).await.status
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 303);
    }
    assert_eq!(
        stranger.get("/").await.status,
        303,
        "the other session ended"
    );
    let reports = app
        .store
        .admin_events(&org.id, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "account.not_me")
        .count();
    assert_eq!(reports, 1);
    let mails = app
        .store
        .due_messages(app.clock.now() + 1, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.subject.contains("Misstänkt intrång"))
        .count();
    assert_eq!(mails, 2, "one per emergency contact");
}

/// Issue 14: with `notify_signins`, a sign-in from a browser new to the
/// account, or from outside every zone, e-mails the person; the account's
/// first browser and a known one do not; without the setting nothing is
/// sent.
#[tokio::test]
async fn sign_ins_from_a_new_browser_or_outside_are_told_when_the_organisation_asks() {
    use portvakt_core::domain::{MfaPolicy, SigninNotices};
    let app = spawn_app().await;
    let notices = |app: &TestApp| {
        let (store, now) = (app.store.clone(), app.clock.now());
        async move {
            store
                .due_messages(now + 1, 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.subject.contains("Ny inloggning") && m.recipient == ANNA)
                .collect::<Vec<_>>()
        }
    };
    // Off by default: a second browser is not news to anyone.
    app.client().sign_in(ANNA, ANNA_PW).await;
    app.client().sign_in(ANNA, ANNA_PW).await;
    assert!(notices(&app).await.is_empty());

    app.reapply_demo(|org| {
        org.signin_notices = SigninNotices {
            outside: true,
            new_device: true,
        };
        org.mfa_policy = MfaPolicy::Never;
    })
    .await;
    let mine = app.client();
    assert_eq!(mine.sign_in(ANNA, ANNA_PW).await.status, 303);
    let told = notices(&app).await;
    assert_eq!(told.len(), 1, "a browser new to the account");
    assert!(told[0]
        .body
        .contains("webbläsare som inte har loggat in på ditt konto förut"));
    assert!(told[0].body.contains("Det här var inte jag"));
    assert!(told[0].body.contains("--"), "Swedish, then English");
    // The same browser again: nothing new.
    app.clock.advance(60);
    mine.get("/").await;
    let again = mine.post_form("/logout", &[]).await;
    assert!(again.status == 303 || again.status == 200);
    assert_eq!(mine.sign_in(ANNA, ANNA_PW).await.status, 303);
    assert_eq!(notices(&app).await.len(), 1);
    // From outside every zone, in a known browser: told why.
    let away = app.client_from("203.0.113.44");
    assert_eq!(away.sign_in(ANNA, ANNA_PW).await.status, 303);
    let told = notices(&app).await;
    assert_eq!(told.len(), 2);
    assert!(told.iter().any(|m| m.body.contains("203.0.113.44")));
    // The device cookie is the browser's own, long-lived and host-only.
    let c = app.client();
    let r = c.sign_in(ANNA, ANNA_PW).await;
    let device = r
        .set_cookies
        .iter()
        .find(|c| c.starts_with("portvakt-device="))
        .expect("a device cookie");
    assert!(
        device.contains("HttpOnly") && device.contains("Max-Age=34560000"),
        "{device}"
    );
}
