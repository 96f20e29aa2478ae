use super::{org_named, slug};
use crate::store::Store;

pub(super) async fn probe_states_and_days(store: &dyn Store) {
    use crate::probe::{DayFigure, ProbeState};
    let org = org_named(store, "alpha").await;
    let other = org_named(store, "scope-b").await;
    let all = store.probes(None).await.unwrap();
    let mine = store.probes(Some(&org.id)).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(all.len() > mine.len(), "every organisation's probes");
    assert_eq!(mine[0].spec.impact, "partial_outage");
    let state = |probe: &str, down| ProbeState {
        organisation_id: org.id.clone(),
        probe: slug(probe),
        component: slug("payslip-status"),
        down,
        since: 100,
        checked_at: 130,
        last_error: "connection refused".into(),
        impact: crate::status::ComponentState::PartialOutage,
        muted: false,
    };
    store
        .put_probe_states(&[state("payslip-http", true), state("not-defined", true)])
        .await
        .unwrap();
    let states = store.probe_states(&org.id).await.unwrap();
    assert_eq!(
        states,
        vec![state("payslip-http", true)],
        "only defined probes"
    );
    let overview = store.probe_overview(&org.id).await.unwrap();
    assert_eq!(overview.watching, 1);
    assert_eq!(overview.components, vec![slug("payslip-status")]);
    assert_eq!(overview.checked_at, Some(130));
    assert_eq!(overview.down, vec![state("payslip-http", true)]);
    store
        .put_probe_states(&[state("payslip-http", false)])
        .await
        .unwrap();
    assert!(!store.probe_states(&org.id).await.unwrap()[0].down);
    assert!(store.probe_overview(&org.id).await.unwrap().down.is_empty());
    assert_eq!(store.probe_overview(&other.id).await.unwrap().watching, 0);
    assert!(store
        .probe_overview(&other.id)
        .await
        .unwrap()
        .components
        .is_empty());

    // Dismissing a draft mutes the probe while it stays down; coming up
    // clears that, so the next outage counts again.
    store
        .put_probe_states(&[state("payslip-http", true)])
        .await
        .unwrap();
    let comps = store.status_components(&org.id).await.unwrap();
    let draft =
        crate::status::probe_draft(&comps[0], crate::status::ComponentState::PartialOutage, 140);
    store.create_incident(&draft).await.unwrap();
    assert!(store.withdraw_draft(&org.id, &draft.id, 141).await.unwrap());
    assert!(store.probe_states(&org.id).await.unwrap()[0].muted);
    assert!(
        store.probe_overview(&org.id).await.unwrap().down.is_empty(),
        "not public"
    );
    store
        .put_probe_states(&[state("payslip-http", true)])
        .await
        .unwrap();
    assert!(
        store.probe_states(&org.id).await.unwrap()[0].muted,
        "kept while down"
    );
    store
        .put_probe_states(&[state("payslip-http", false)])
        .await
        .unwrap();
    assert!(
        !store.probe_states(&org.id).await.unwrap()[0].muted,
        "cleared when up"
    );
    store
        .put_probe_states(&[state("payslip-http", true)])
        .await
        .unwrap();
    assert_eq!(store.probe_overview(&org.id).await.unwrap().down.len(), 1);
    store
        .put_probe_states(&[state("payslip-http", false)])
        .await
        .unwrap();
    assert!(store.probe_states(&other.id).await.unwrap().is_empty());

    let fig = |day: &str, checks, failures| DayFigure {
        component: slug("payslip-status"),
        day: day.into(),
        checks,
        failures,
    };
    store
        .add_probe_figures(&[
            (org.id.clone(), fig("2026-11-22", 10, 1)),
            (org.id.clone(), fig("2026-11-23", 5, 0)),
        ])
        .await
        .unwrap();
    store
        .add_probe_figures(&[(org.id.clone(), fig("2026-11-23", 5, 2))])
        .await
        .unwrap();
    assert_eq!(
        store.probe_days(&org.id, "2026-11-23").await.unwrap(),
        vec![fig("2026-11-23", 10, 2)],
        "figures add up"
    );
    assert_eq!(
        store.probe_days(&org.id, "2000-01-01").await.unwrap(),
        vec![fig("2026-11-22", 10, 1), fig("2026-11-23", 10, 2)],
        "oldest first"
    );
    assert!(store
        .probe_days(&other.id, "2000-01-01")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.prune_probe_days("2026-11-23").await.unwrap(), 1);
    assert_eq!(
        store.probe_days(&org.id, "2000-01-01").await.unwrap().len(),
        1
    );
}
