use super::{apply_org, sample_org};
use crate::auth::lockout::{LockoutPolicy, HARD_LOCK};
use crate::domain::Username;
use crate::store::Store;
use std::sync::Arc;

pub(super) async fn failure_counter_is_atomic(store: Arc<dyn Store>) {
    let d = sample_org("throttle", "CANARY-T");
    apply_org(&*store, &d, 1).await;
    let org = store.organisation_by_slug(&d.slug).await.unwrap().unwrap();
    let name = Username::parse("nobody@throttle.example").unwrap();
    let policy = LockoutPolicy::default();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (s, o, n, p) = (store.clone(), org.id.clone(), name.clone(), policy.clone());
        tasks.push(tokio::spawn(async move {
            s.record_failure(&o, &n, 1000, &p).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let st = store.throttle_state(&org.id, &name).await.unwrap();
    assert_eq!(st.failures, 20, "no failure lost under concurrency");
    assert_eq!(st.locked_until, HARD_LOCK);
    store.clear_failures(&org.id, &name).await.unwrap();
    assert_eq!(
        store.throttle_state(&org.id, &name).await.unwrap().failures,
        0
    );

    // Tries taken before their secret is checked (issue 10): of 20 at the
    // same moment, only the free ones are admitted; the rest are refused
    // without being counted (G3).
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (s, o, n, p) = (store.clone(), org.id.clone(), name.clone(), policy.clone());
        tasks.push(tokio::spawn(async move {
            s.begin_try(&o, &n, 2000, &p).await.unwrap().is_ok()
        }));
    }
    let mut admitted = 0;
    for t in tasks {
        admitted += usize::from(t.await.unwrap());
    }
    assert_eq!(admitted, 5, "the free attempts, then the delay");
    let st = store.throttle_state(&org.id, &name).await.unwrap();
    assert_eq!(st.failures, 5, "refused tries are not counted");
    store
        .forgive_try(&org.id, &name, 2000, &policy)
        .await
        .unwrap();
    let st = store.throttle_state(&org.id, &name).await.unwrap();
    assert_eq!(
        (st.failures, st.locked_until),
        (4, 0),
        "a right secret takes its try back"
    );
    store.clear_failures(&org.id, &name).await.unwrap();
}
