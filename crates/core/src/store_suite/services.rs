use super::{org_named, sample_org, slug};
use crate::store::Store;
use std::collections::BTreeSet;

pub(super) async fn service_rules_round_trip(store: &dyn Store) {
    let org = org_named(store, "alpha").await;
    let services = store.services_with_groups(&org.id).await.unwrap();
    let (payslip, groups) = services
        .iter()
        .find(|(s, _)| s.slug == slug("payslip"))
        .unwrap();
    assert_eq!(groups, &BTreeSet::from([slug("staff")]));
    let expected = sample_org("alpha", "x").services[0].access.clone();
    assert_eq!(payslip.access, expected, "rule and host survive storage");
    assert_eq!(payslip.access.open[0].to_string(), "mon-fri 07:00-18:00");
    let other = org_named(store, "scope-b").await;
    for (s, _) in store.services_with_groups(&other.id).await.unwrap() {
        assert_ne!(s.id, payslip.id, "another organisation's services stay out");
    }
}
