//! Two servers on one PostgreSQL database (issue 11): every queued message
//! reaches the real SMTP sink exactly once, and exactly one server runs the
//! probes; when it stops, the other takes over within two probe intervals.
use crate::email::Sink;
use crate::helpers::*;
use portvakt_core::apply::DesiredProbe;
use portvakt_core::domain::Slug;
use portvakt_core::ids::OrganisationId;
use portvakt_core::probe::{ProbeKind, ProbeSpec};
use portvakt_core::store::{Channel, OutboxMessage, OutboxStore, Store};
use portvakt_core::ManualClock;
use portvakt_server::app::startup::Application;
use portvakt_server::app::state::AppState;
use portvakt_server::provisioning::{apply_run, demo};
use portvakt_store::SqlStore;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    async fn new() -> Self {
        let admin = std::env::var("TEST_POSTGRES_ADMIN_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!(
            "portvakt_two_{}",
            &portvakt_core::ids::EventId::generate().as_str()[4..20]
        );
        let url = portvakt_store::testing::create_database(&admin, &name)
            .await
            .expect("PostgreSQL (scripts/test starts it)");
        Self { admin, name, url }
    }

    async fn drop_it(self) {
        portvakt_store::testing::drop_database(&self.admin, &self.name)
            .await
            .ok();
    }
}

/// One server: its own connection pool, its own state; aborting the
/// handle stops it and its background work.
struct Server {
    state: AppState,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start(url: &str, extra: &str) -> Server {
    let store: Arc<dyn Store> = Arc::new(SqlStore::connect(url).await.unwrap());
    let app = Application::build_with_store(
        test_config(url, extra),
        store,
        Arc::new(ManualClock::new(START)),
    )
    .await
    .unwrap();
    let state = app.state().clone();
    Server {
        state,
        task: tokio::spawn(app.run_until_stopped()),
    }
}

fn sink_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.ends_with(".txt").then(|| dir.join(name))
        })
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_deliver_each_of_200_queued_messages_exactly_once() {
    let db = Database::new().await;
    let sink = Sink::start();
    let store = SqlStore::connect(&db.url).await.unwrap();
    let org = OrganisationId::from_raw("org_two_servers".to_owned());
    for i in 0..200 {
        store
            .enqueue_message(&OutboxMessage {
                id: format!("msg-{i:03}"),
                organisation_id: org.clone(),
                channel: Channel::Email,
                recipient: format!("person{i:03}@exempelkommun.se"),
                subject: format!("Meddelande {i:03}"),
                body: format!("Hej nummer {i:03}"),
                created_at: START,
                attempts: 0,
            })
            .await
            .unwrap();
    }
    let extra = format!(
        "[email]\nsmtp_url = \"smtp://127.0.0.1:{}\"\n\
         from = \"Portvakt <portvakt@exempelkommun.se>\"\n",
        sink.port
    );
    let (a, b) = tokio::join!(start(&db.url, &extra), start(&db.url, &extra));
    let deadline = Instant::now() + Duration::from_secs(90);
    while sink_files(&sink.dir.0).len() < 200 {
        assert!(
            Instant::now() < deadline,
            "only {} of 200 arrived",
            sink_files(&sink.dir.0).len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for a duplicate to show up, had either server sent one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let texts = sink_files(&sink.dir.0);
    let mut subjects: Vec<String> = texts
        .iter()
        .map(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap()
                .to_owned()
        })
        .collect();
    subjects.sort();
    let expected: Vec<String> = (0..200).map(|i| format!("Meddelande {i:03}")).collect();
    assert_eq!(subjects, expected, "each message exactly once");
    let sent = |s: &Server| s.state.metrics.messages_sent.load(Ordering::Relaxed);
    assert_eq!(sent(&a) + sent(&b), 200);
    eprintln!("server a sent {}, server b sent {}", sent(&a), sent(&b));
    assert!(store
        .due_messages(START + 10_000, 100)
        .await
        .unwrap()
        .is_empty());
    a.task.abort();
    b.task.abort();
    store.close().await;
    db.drop_it().await;
}

/// A health endpoint that counts the checks it gets.
async fn counting_health() -> (u16, Arc<AtomicU64>) {
    let hits = Arc::new(AtomicU64::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/health",
        axum::routing::get(move || {
            h.fetch_add(1, Ordering::SeqCst);
            async { "status: ok" }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(l, app).await });
    (port, hits)
}

const INTERVAL_S: u32 = 2;

async fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "{what} not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_server_runs_the_probes_and_the_other_takes_over() {
    let db = Database::new().await;
    let (port, hits) = counting_health().await;
    let extra = "[status]\nprobe_flush_seconds = 1\n";
    let (a, b) = tokio::join!(start(&db.url, extra), start(&db.url, extra));
    let store = SqlStore::connect(&db.url).await.unwrap();
    let hasher = a.state.auth.hasher.clone();
    let mut org = demo::organisation(&hasher, &[]).await.unwrap();
    org.probes = vec![DesiredProbe {
        slug: Slug::parse("lar-http").unwrap(),
        component: Slug::parse("larplattform").unwrap(),
        spec: ProbeSpec {
            kind: ProbeKind::Http {
                url: format!("http://127.0.0.1:{port}/health"),
                expect_status: vec![200],
                expect_body: None,
            },
            interval_s: INTERVAL_S,
            timeout_s: 1,
            failures: 2,
            recoveries: 2,
            impact: "major_outage".into(),
            ca_file: None,
        },
    }];
    apply_run::apply(&store, &hasher, &[org], START, false)
        .await
        .unwrap();
    let leads = |s: &Server| s.state.metrics.probe_leader.load(Ordering::Relaxed) == 1;
    wait_until("a probe leader", Duration::from_secs(10), || {
        leads(&a) || leads(&b)
    })
    .await;
    wait_until("the first check", Duration::from_secs(10), || {
        hits.load(Ordering::SeqCst) > 0
    })
    .await;
    // Ten intervals: one server checks about ten times, two would check
    // about twenty.
    let before = hits.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(u64::from(10 * INTERVAL_S))).await;
    let checks = hits.load(Ordering::SeqCst) - before;
    assert!(
        (8..=13).contains(&checks),
        "{checks} checks in ten intervals: not exactly one prober"
    );
    assert!(leads(&a) != leads(&b), "exactly one leader");

    // Stop the leader; the other takes over within two intervals.
    let (leader, follower) = if leads(&a) { (a, b) } else { (b, a) };
    leader.task.abort();
    let stopped = hits.load(Ordering::SeqCst);
    let limit = Duration::from_secs(u64::from(2 * INTERVAL_S));
    let took = wait_until("take-over", limit, || leads(&follower)).await;
    wait_until("a check by the new leader", limit, || {
        hits.load(Ordering::SeqCst) > stopped
    })
    .await;
    eprintln!("took over after {took:?}");
    follower.task.abort();
    store.close().await;
    db.drop_it().await;
}
