//! Times appends to an organisation's audit chain on a file-backed SQLite
//! store with the server's settings, one transaction each (the chain's
//! head read and written, the entry hashed and inserted, fsync).
//! Used by `bench/case_bench.py`; prints `median_us=… mean_us=… n=…`.
//!
//! Usage: audit_append <file.db> <appends>

use portvakt_core::ids::{EventId, OrganisationId, UserId};
use portvakt_core::store::{AdminEvent, EventResult, EventStore};
use portvakt_store::SqlStore;
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: audit_append <file.db> <appends>")?;
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let store = SqlStore::connect(&format!("sqlite://{path}")).await?;
    let org = OrganisationId::from_raw("org_bench");
    let actor = UserId::from_raw("usr_bench");
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let e = AdminEvent {
            id: EventId::generate(),
            organisation_id: org.clone(),
            actor_id: actor.clone(),
            at: 1_800_000_000 + i64::try_from(i).unwrap_or_default(),
            ip: "10.1.2.3".into(),
            user_agent: "Mozilla/5.0 (bench)".into(),
            action: "user.unlock".into(),
            target: "usr_target".into(),
            result: EventResult::Success,
            detail: "ok".into(),
        };
        let t = Instant::now();
        store.record_admin_event(&e).await?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    times.sort_by(f64::total_cmp);
    println!(
        "median_us={:.1} mean_us={mean:.1} n={n}",
        times[times.len() / 2]
    );
    Ok(())
}
