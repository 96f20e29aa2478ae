//! Issue 15, crisis rotation: everything of the affected people ends at
//! once; each gets one start code by the first channel that reaches them
//! (a local digital-mailbox receiver, an SMS gateway that fails, the
//! manager's printed list); a code works once and leads to choosing a
//! password; running the command again does not hand out second codes.
use crate::helpers::*;
use axum::http::StatusCode;
use axum::routing::post;
use portvakt_core::rotation::{CrisisContact, CrisisPlan, RotationChannel};
use portvakt_core::store::{Factor, FactorKind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ERIK: &str = "erik.larsson@exempelkommun.se";
const OUTSIDE: &str = "203.0.113.7";

/// A digital-mailbox adapter: delivers to everyone but `no_mailbox`.
#[derive(Clone, Default)]
struct Mailbox(Arc<Mutex<Vec<serde_json::Value>>>);

impl Mailbox {
    async fn start(no_mailbox: &'static str) -> (Self, u16) {
        let m = Mailbox::default();
        let seen = m.clone();
        let app = axum::Router::new().route(
            "/deliver",
            post(move |body: String| {
                let seen = seen.clone();
                async move {
                    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                    if v["recipient"]["username"] == no_mailbox {
                        return StatusCode::NOT_FOUND;
                    }
                    seen.0.lock().unwrap().push(v);
                    StatusCode::ACCEPTED
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (m, port)
    }
}

/// An SMS gateway that is down.
async fn broken_gateway() -> (Arc<Mutex<u32>>, u16) {
    let tries = Arc::new(Mutex::new(0));
    let t = tries.clone();
    let app = axum::Router::new().route(
        "/send",
        post(move || {
            let t = t.clone();
            async move {
                *t.lock().unwrap() += 1;
                StatusCode::SERVICE_UNAVAILABLE
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (tries, port)
}

/// The start code (`XXXX-XXXX-XXXX`) in a text.
fn start_code_in(text: &str) -> String {
    let words = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'));
    words
        .filter(|w| {
            w.len() == 14 && w.split('-').count() == 3 && w.split('-').all(|p| p.len() == 4)
        })
        .map(str::to_owned)
        .next()
        .unwrap_or_else(|| panic!("no start code in {text}"))
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < Duration::from_secs(20), "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_ends_everything_and_each_start_code_works_once() {
    let (mailbox, mport) = Mailbox::start("erik.larsson@exempelkommun.se").await;
    let (sms_tries, sport) = broken_gateway().await;
    let app = spawn_with(&format!(
        "[sms]\ngateway_url = \"http://127.0.0.1:{sport}/send\"\n"
    ))
    .await;
    app.reapply_demo(|org| {
        org.crisis = CrisisPlan {
            channels: vec![
                RotationChannel::Mailbox,
                RotationChannel::Sms,
                RotationChannel::Manager,
                RotationChannel::Servicedesk,
            ],
            mailbox_url: Some(format!("http://127.0.0.1:{mport}/deliver")),
            ..CrisisPlan::default()
        };
        let sara = portvakt_core::domain::Username::parse(SARA).unwrap();
        org.crisis_contacts.insert(
            portvakt_core::domain::Username::parse(ERIK).unwrap(),
            CrisisContact {
                manager: Some(sara),
                ..CrisisContact::default()
            },
        );
    })
    .await;
    let (org, erik) = app.org_and_user(ERIK).await;
    app.store
        .add_factor(&Factor {
            id: portvakt_core::ids::FactorId::generate(),
            organisation_id: org.id.clone(),
            user_id: erik.id.clone(),
            kind: FactorKind::Sms,
            label: "Mobilen".into(),
            secret: None,
            destination: Some("46701112233".into()),
            confirmed: true,
            created_at: START,
            last_used_at: None,
        })
        .await
        .unwrap();

    let anna = app.client();
    assert_eq!(anna.sign_in(ANNA, ANNA_PW).await.status, 303);
    assert_eq!(anna.get("/").await.status, 200);

    let sara = app.client();
    assert_eq!(sara.sign_in(SARA, SARA_PW).await.status, 303);
    let page = sara.get("/admin/crisis").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Byt alla lösenord"));
    let token = csrf_from(&page.body);

    // The dry run: two people (Sara, who starts it, keeps her session).
    let plan = sara
        .post_raw("/admin/crisis/plan", &[("csrf", &token), ("group", "")])
        .await;
    assert_eq!(plan.status, 200);
    assert!(plan.body.contains("<strong>2</strong>"), "{}", plan.body);
    assert!(plan.body.contains("Digital brevlåda"));
    assert_eq!(
        sara.post_raw(
            "/admin/crisis/plan",
            &[("csrf", &token), ("group", "Inte En Grupp!")]
        )
        .await
        .status,
        400
    );
    assert_eq!(anna.get("/").await.status, 200, "a dry run changes nothing");

    let unconfirmed = sara
        .post_raw("/admin/crisis/start", &[("csrf", &token), ("group", "")])
        .await;
    assert_eq!(unconfirmed.status, 400);
    assert!(unconfirmed.body.contains("Kryssa i"));
    let started = sara
        .post_raw(
            "/admin/crisis/start",
            &[("csrf", &token), ("group", ""), ("confirm", "yes")],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let status_path = started.location.unwrap();
    let id = status_path.trim_start_matches("/admin/crisis/").to_owned();

    // At once: Anna's session and password are gone.
    assert_ne!(anna.get("/").await.status, 200);
    assert_eq!(app.client().sign_in(ANNA, ANNA_PW).await.status, 401);
    assert_eq!(
        sara.get("/").await.status,
        200,
        "the one who started it goes on"
    );

    wait_for("every code issued", async || {
        sara.get(&status_path)
            .await
            .body
            .contains("Alla har fått en startkod")
    })
    .await;
    wait_for("Anna's mailbox delivery", async || {
        !mailbox.0.lock().unwrap().is_empty()
    })
    .await;
    let letter = mailbox.0.lock().unwrap()[0].clone();
    assert_eq!(letter["recipient"]["username"], ANNA);
    let anna_code = start_code_in(letter["body"].as_str().unwrap());

    // Erik has no mailbox (404: moved on at once), the SMS gateway is down
    // (three tries, then on): his code waits on his manager's list.
    let rid = portvakt_core::ids::RotationId::from_raw(id.clone());
    let mut erik_code = String::new();
    for _ in 0..40 {
        app.clock.advance(45);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let lists = app
            .store
            .hand_outs(&org.id, &rid, RotationChannel::Manager, None)
            .await
            .unwrap();
        if let Some(h) = lists.first() {
            erik_code = h.code.clone();
            break;
        }
    }
    assert!(!erik_code.is_empty(), "Erik reached his manager's list");
    assert!(*sms_tries.lock().unwrap() >= 3);
    // Minutes went by: Sara's session may have idled out.
    let sara = app.client();
    assert_eq!(sara.sign_in(SARA, SARA_PW).await.status, 303);
    let status = sara.get(&status_path).await.body;
    assert!(
        status.contains("Sara Lind"),
        "the manager's list is offered: {status}"
    );
    let print = sara
        .get(&format!(
            "{status_path}/print?list=manager:{}",
            SARA.replace('@', "%40")
        ))
        .await;
    assert_eq!(print.status, 200);
    assert!(print.body.contains(&erik_code) && print.body.contains("Erik Larsson"));
    assert!(
        !print.body.contains(&anna_code),
        "only the manager's people"
    );

    // Anna signs in with the code as she types it, once.
    let typed = anna_code.replace('-', " ").to_lowercase();
    let r = anna.sign_in(ANNA, &typed).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/password"));
    let again = app.client().sign_in(ANNA, &anna_code).await;
    assert_eq!(again.status, 403);
    assert!(again.body.contains("redan använd"));
    let form = anna.get("/password").await;
    assert!(form.body.contains("startkod"), "{}", form.body);
    let new_pw = "nya lösenordet efter intrånget i december";
    let set = anna
        .post_form(
            "/password",
            &[("current", ""), ("new", new_pw), ("confirm", new_pw)],
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(app.client().sign_in(ANNA, new_pw).await.status, 303);
    assert_eq!(
        app.client().sign_in(ANNA, &anna_code).await.status,
        401,
        "the code is dead once a password is chosen"
    );

    // Outside the zones the second factor is still needed, and the code is
    // used up only once that is done: someone with the printed page but
    // without Erik's phone burns nothing.
    let outside = app.client_from(OUTSIDE);
    let r = outside.sign_in(ERIK, &erik_code).await;
    assert_eq!(r.location.as_deref(), Some("/login/factor"));
    let r = app.client().sign_in(ERIK, &erik_code).await;
    assert_eq!(
        r.location.as_deref(),
        Some("/password"),
        "still unused: {}",
        r.body
    );

    // A session whose sign-in overlapped the rotation (made with the
    // credentials from before it) is dead.
    let overlapped = portvakt_core::auth::session::SessionToken::generate();
    app.store
        .create_session(&portvakt_core::store::NewSession {
            token_hash: overlapped.hash(),
            organisation_id: org.id.clone(),
            user_id: erik.id.clone(),
            created_at: START,
            expires_at: START + 36_000,
            ip: "127.0.0.1".into(),
            user_agent: "overlap".into(),
            amr: portvakt_core::store::Amr::of(portvakt_core::access::Method::Password),
            pending_mfa: false,
            credential_epoch: erik.credential_epoch,
            start_code: None,
        })
        .await
        .unwrap();
    let stale = app.client();
    let cookie = reqwest::Url::parse(&app.url("/")).unwrap();
    let jar_header = format!("portvakt={}", overlapped.as_str());
    let r = stale
        .http
        .get(cookie)
        .header("cookie", jar_header)
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 200, "an overlapping sign-in does not survive");
    // Nor does a reset by a registered factor replace the start code.
    let r = app
        .client()
        .post_form("/reset", &[("username", ERIK)])
        .await;
    assert!(r.status < 500);
    // (The reset's work happens after its answer.)
    wait_for("the reset refused for someone in a rotation", async || {
        app.store
            .signin_history(&org.id, &erik.id, 0, None, 100)
            .await
            .unwrap()
            .iter()
            .any(|e| e.reason == "in_rotation")
    })
    .await;

    let report = app.store.rotation_report(&org.id, &rid).await.unwrap();
    assert_eq!(report.people, 2);
    assert_eq!(report.counts(RotationChannel::Mailbox).delivered, 1);
    assert_eq!(report.counts(RotationChannel::Mailbox).failed, 1);
    assert_eq!(report.counts(RotationChannel::Sms).failed, 1);
    assert_eq!(report.counts(RotationChannel::Manager).current, 1);
    assert_eq!((report.used, report.password_set), (2, 1));

    // Another organisation's id, or none, is not found.
    assert_eq!(sara.get("/admin/crisis/rot_0000").await.status, 404);
    // On the command line (its own clock: the web's rotation above is long
    // over by now): a rotation, and running it again hands out no second
    // codes.
    let dir = TempDir::new();
    let cfg = app.cli_config(&dir, "");
    let rotate = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_portvakt"))
            .args([
                "crisis",
                "rotate",
                "--org",
                "exempelkommun",
                "--yes",
                "--config",
            ])
            .arg(&cfg)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let first = rotate();
    assert!(
        first.contains("every password and session of 3 people has ended"),
        "{first}"
    );
    let second = rotate();
    assert!(second.contains("add --new"), "{second}");
    assert_eq!(app.store.rotations(&org.id, 10).await.unwrap().len(), 2);
    assert_eq!(
        app.client().sign_in(ANNA, new_pw).await.status,
        401,
        "the new rotation ended Anna's password too"
    );
}

/// Review finding: the servicedesk's list must not hand a servicedesk
/// member an org admin's code (taking over the admin), nor one org admin
/// another's during a change freeze (four eyes); and a search shows one
/// whole username's code only, each showing on the record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_of_admins_are_not_handed_out_by_whoever_sees_the_list() {
    let app = spawn_app().await;
    app.reapply_demo(|org| {
        for u in &mut org.users {
            if u.username.as_str().starts_with("anna") {
                u.roles = [portvakt_core::domain::Role::Servicedesk].into();
            }
            if u.username.as_str().starts_with("erik") {
                u.roles = [portvakt_core::domain::Role::OrgAdmin].into();
            }
        }
        // Nobody's manager: Erik's code waits at the servicedesk.
        org.crisis_contacts.clear();
    })
    .await;
    let (org, _) = app.org_and_user(ERIK).await;
    let sara = app.client();
    assert_eq!(sara.sign_in(SARA, SARA_PW).await.status, 303);
    let token = sara.csrf().await;
    let started = sara
        .post_raw(
            "/admin/crisis/start",
            &[
                ("csrf", &token),
                ("group", "pedagogisk-personal"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let status_path = started.location.unwrap();
    wait_for("Erik's code issued", async || {
        sara.get(&status_path)
            .await
            .body
            .contains("Alla har fått en startkod")
    })
    .await;
    let desk = format!("{status_path}/desk?q={}", ERIK.replace('@', "%40"));

    // Anna, servicedesk only, may not hand out an org admin's code.
    let anna = app.client();
    assert_eq!(anna.sign_in(ANNA, ANNA_PW).await.status, 303);
    let page = anna.get(&desk).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("kan du inte lämna ut"), "{}", page.body);
    assert!(start_code_in_opt(&page.body).is_none(), "no code shown");
    assert_eq!(anna.get(&format!("{status_path}/print")).await.status, 403);
    // Part of a username lists nobody.
    let partial = anna.get(&format!("{status_path}/desk?q=e")).await;
    assert!(start_code_in_opt(&partial.body).is_none());

    // Sara (org admin) may, outside a freeze, and it is on the record.
    let page = sara.get(&desk).await;
    assert!(start_code_in_opt(&page.body).is_some(), "{}", page.body);
    let shown = app
        .store
        .admin_events(&org.id, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "rotation.code_shown")
        .count();
    assert_eq!(shown, 1);
    // During a freeze, not even she: one admin must not take over another.
    let r = sara
        .post_form("/admin/freeze", &[("reason", "Intrång")])
        .await;
    assert_eq!(r.status, 303);
    let page = sara.get(&desk).await;
    assert!(start_code_in_opt(&page.body).is_none(), "{}", page.body);
    // The installation's admin hands it out from the command line.
    let dir = TempDir::new();
    let cfg = app.cli_config(&dir, "");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portvakt"))
        .args([
            "crisis",
            "code",
            "--org",
            "exempelkommun",
            "--user",
            ERIK,
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let code = start_code_in(&text);
    assert_eq!(
        app.client().sign_in(ERIK, &code).await.location.as_deref(),
        Some("/password")
    );
}

fn start_code_in_opt(text: &str) -> Option<String> {
    std::panic::catch_unwind(|| start_code_in(text)).ok()
}

/// A store with the demo organisation and no server running beside it
/// (whose background worker would issue the codes first).
async fn quiet_store() -> (
    Arc<dyn portvakt_core::store::Store>,
    portvakt_core::store::Organisation,
    String,
    TempDir,
) {
    let dir = TempDir::new();
    let url = format!("sqlite://{}", dir.0.join("t.db").display());
    let store: Arc<dyn portvakt_core::store::Store> =
        Arc::new(portvakt_store::SqlStore::connect(&url).await.unwrap());
    let app = portvakt_server::app::startup::Application::build_with_store(
        test_config(&url, ""),
        store.clone(),
        Arc::new(portvakt_core::ManualClock::new(START)),
    )
    .await
    .unwrap();
    let hasher = app.state().auth.hasher.clone();
    portvakt_server::provisioning::apply_run::apply(
        &*store,
        &hasher,
        &[demo_org(&hasher).await],
        START,
        false,
    )
    .await
    .unwrap();
    let org = store
        .organisation_by_slug(&portvakt_core::domain::Slug::parse("exempelkommun").unwrap())
        .await
        .unwrap()
        .unwrap();
    (store, org, url, dir)
}

/// Issues a fresh rotation's codes through `lane`; returns how many the
/// progress heard of and how long it took.
async fn issue_through(
    lane: &portvakt_server::app::background::IdleLane,
    store: &Arc<dyn portvakt_core::store::Store>,
    org: &portvakt_core::store::Organisation,
) -> (u32, u32, Duration) {
    use portvakt_server::crisis::rotation as engine;
    let r = engine::start(&**store, org, None, false, None, START)
        .await
        .unwrap()
        .unwrap();
    let head = engine::Letterhead {
        organisation: org,
        portal: None,
        expires_at: r.expires_at,
    };
    let mut heard = 0;
    let t = Instant::now();
    assert!(engine::issue_all_yielding(
        Some(lane),
        &**store,
        &r,
        &head,
        "test-runner",
        Arc::new(portvakt_core::ManualClock::new(START)),
        |n| heard += n,
    )
    .await
    .unwrap());
    let elapsed = t.elapsed();
    assert!(
        store
            .pending_people(&org.id, &r.id, 100)
            .await
            .unwrap()
            .is_empty(),
        "everyone has a code"
    );
    (heard, r.people, elapsed)
}

#[tokio::test]
async fn codes_are_issued_on_a_lane_at_the_lowest_cpu_priority() {
    let (store, org, url, _dir) = quiet_store().await;
    // Opened here, as the command and the server do: SQLite's thread for
    // it keeps this thread's priority.
    let lane_store: Arc<dyn portvakt_core::store::Store> = Arc::new(
        portvakt_store::SqlStore::connect_single(&url)
            .await
            .unwrap(),
    );
    let lane = portvakt_server::app::background::IdleLane::spawn("test-idle", move || async move {
        Ok(lane_store)
    })
    .unwrap();
    let (heard, people, _) = issue_through(&lane, &store, &org).await;
    assert!(people > 0);
    assert_eq!(heard, people);
    // The lane's thread is in the idle class (field 41 of its stat).
    if cfg!(target_os = "linux") {
        let (tx, rx) = tokio::sync::oneshot::channel();
        assert!(lane.submit(move |_| async move {
            let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let _ = tx.send(after.split(' ').nth(38).unwrap().to_owned());
        }));
        assert_eq!(rx.await.unwrap(), "5", "SCHED_IDLE");
    }
}

#[tokio::test]
async fn issuing_goes_on_elsewhere_when_the_idle_lane_stalls() {
    let (store, org, _url, _dir) = quiet_store().await;
    // A lane that never gets going (as on a machine with no time to spare).
    let lane = portvakt_server::app::background::IdleLane::spawn("test-stalled", || {
        std::future::pending::<anyhow::Result<Arc<dyn portvakt_core::store::Store>>>()
    })
    .unwrap();
    let (heard, people, took) = issue_through(&lane, &store, &org).await;
    assert_eq!(heard, people);
    assert!(
        took >= portvakt_server::crisis::rotation::LANE_STALLED,
        "gave the lane its time first"
    );
}

/// Attack: eight runners issue the same waiting people at once, each with
/// codes of its own (two servers and a command racing after a lease ran
/// out). Each person ends up with exactly one code, the one whose message
/// was queued, and one message each.
#[tokio::test]
async fn runners_issuing_the_same_people_at_once_give_each_one_code() {
    use portvakt_core::rotation::{code_hash, Issue, PersonState, RotationChannel};
    use portvakt_core::store::{Channel, OutboxMessage};
    let (store, org, _url, _dir) = quiet_store().await;
    let r = portvakt_server::crisis::rotation::start(&*store, &org, None, false, None, START)
        .await
        .unwrap()
        .unwrap();
    let people = store.pending_people(&org.id, &r.id, 1000).await.unwrap();
    assert!(people.len() > 1);
    let runs = (0..8).map(|k| {
        let (store, org, r) = (store.clone(), org.clone(), r.clone());
        let issues: Vec<Issue> = people
            .iter()
            .map(|p| {
                let code = format!("RUN{k}-{}", p.user_id.as_str());
                Issue {
                    user_id: p.user_id.clone(),
                    code_hash: code_hash(&org.id, &p.user_id, &code),
                    position: 0,
                    channel: RotationChannel::Mailbox,
                    state: PersonState::on(RotationChannel::Mailbox),
                    message: Some(OutboxMessage {
                        id: portvakt_core::ids::EventId::generate_at(START).to_string(),
                        organisation_id: org.id.clone(),
                        channel: Channel::Mailbox,
                        recipient: p.username.as_str().to_owned(),
                        subject: "s".into(),
                        body: code.clone(),
                        created_at: START,
                        attempts: 0,
                    }),
                    code,
                }
            })
            .collect();
        tokio::spawn(async move { store.issue_codes(&org.id, &r.id, &issues, START).await })
    });
    let mut issued = 0;
    for run in runs.collect::<Vec<_>>() {
        issued += run.await.unwrap().unwrap();
    }
    assert_eq!(
        issued as usize,
        people.len(),
        "each person issued once in all"
    );
    let queued = store.due_messages(i64::MAX - 1, 100).await.unwrap();
    assert_eq!(queued.len(), people.len(), "one message each");
    for m in &queued {
        let p = people
            .iter()
            .find(|p| p.username.as_str() == m.recipient)
            .unwrap();
        // The queued code is the one that works.
        let h = code_hash(&org.id, &p.user_id, &m.body);
        assert_eq!(
            store
                .check_start_code(&org.id, &p.user_id, &h, START + 1)
                .await
                .unwrap(),
            Some(portvakt_core::rotation::StartCodeCheck::Valid)
        );
    }
}
