use super::{org_named, slug};
use crate::store::Store;

pub(super) async fn incidents_are_scoped_and_resolve_once(store: &dyn Store) {
    use crate::status::{ComponentState, Incident, IncidentUpdate, Phase};
    let org = org_named(store, "alpha").await;
    let other = org_named(store, "scope-b").await;
    let comps = store.status_components(&org.id).await.unwrap();
    assert_eq!(comps.len(), 1);
    assert!(comps[0].alternatives.starts_with("Ring lönekontoret"));
    let update = |at, phase| IncidentUpdate {
        at,
        phase,
        body: format!("Lägesrapport {at}"),
        body_en: String::new(),
    };
    let incident = Incident {
        id: "inc_1".into(),
        organisation_id: org.id.clone(),
        title: "Lönesystemet ligger nere".into(),
        title_en: "Payroll down".into(),
        maintenance: false,
        draft: false,
        phase: Phase::Investigating,
        affected: vec![(slug("payslip-status"), ComponentState::MajorOutage)],
        created_at: 1000,
        resolved_at: None,
        updates: vec![update(1000, Phase::Investigating)],
    };
    store.create_incident(&incident).await.unwrap();
    assert!(
        !store
            .add_incident_update(&other.id, "inc_1", &update(1100, Phase::Identified))
            .await
            .unwrap(),
        "another organisation cannot touch it"
    );
    assert!(store
        .add_incident_update(&org.id, "inc_1", &update(1000, Phase::Identified))
        .await
        .unwrap());
    assert!(store
        .add_incident_update(&org.id, "inc_1", &update(1200, Phase::Resolved))
        .await
        .unwrap());
    assert!(
        !store
            .add_incident_update(&org.id, "inc_1", &update(1300, Phase::Monitoring))
            .await
            .unwrap(),
        "resolved stays resolved"
    );
    let got = store.incidents(&org.id, 0, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].phase, Phase::Resolved);
    assert_eq!(got[0].resolved_at, Some(1200));
    assert_eq!(got[0].updates.len(), 3);
    assert_eq!(got[0].updates[0].at, 1200, "newest update first");
    assert_eq!(
        got[0].updates[1].phase,
        Phase::Identified,
        "within one second, the later one first"
    );
    assert_eq!(got[0].affected, incident.affected);
    assert!(
        store.incidents(&org.id, 1201, 10).await.unwrap().is_empty(),
        "resolved before `since`"
    );
    // The page's view: a resolved incident with its whole history.
    let shown = store.incidents_shown(&org.id, 0, 10).await.unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].updates.len(), 3);
    assert_eq!(shown[0].updates[0].at, 1200, "newest first");
    assert_eq!(shown[0].affected, incident.affected);
    assert!(
        store
            .incidents_shown(&org.id, 0, 0)
            .await
            .unwrap()
            .is_empty(),
        "none resolved wanted"
    );
    assert!(store
        .incidents_shown(&other.id, 0, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store.incidents(&other.id, 0, 10).await.unwrap().is_empty());
}

pub(super) async fn corrections_change_title_and_components_with_a_record(store: &dyn Store) {
    use crate::status::{ComponentState, Correction, IncidentUpdate, Phase};
    let org = org_named(store, "alpha").await;
    let other = org_named(store, "scope-b").await;
    let comps = store.status_components(&org.id).await.unwrap();
    let incident = crate::status::new_incident(
        &comps,
        &crate::status::IncidentDraft {
            title: "Fel i lönen".into(),
            body: "Vi felsöker.".into(),
            affected: vec![("payslip-status".into(), "degraded".into())],
            ..Default::default()
        },
        7000,
    )
    .unwrap();
    store.create_incident(&incident).await.unwrap();
    let fix = Correction {
        title: "Lönebeskeden syns inte".into(),
        title_en: "Payslips not shown".into(),
        affected: vec![(slug("payslip-status"), ComponentState::MajorOutage)],
        title_changed: true,
        affected_changed: true,
    };
    let note = IncidentUpdate {
        at: 7100,
        phase: Phase::Investigating,
        body: "Rubriken ändrad".into(),
        body_en: String::new(),
    };
    assert!(
        !store
            .correct_incident(&other.id, &incident.id, &fix, &note)
            .await
            .unwrap(),
        "another organisation cannot correct it"
    );
    assert!(store
        .correct_incident(&org.id, &incident.id, &fix, &note)
        .await
        .unwrap());
    let got = store.incidents(&org.id, 0, 10).await.unwrap();
    let got = got.iter().find(|i| i.id == incident.id).unwrap();
    assert_eq!(got.title, "Lönebeskeden syns inte");
    assert_eq!(got.title_en, "Payslips not shown");
    assert_eq!(got.affected, fix.affected);
    assert_eq!(got.phase, Phase::Investigating, "the phase stays");
    assert_eq!(got.updates.len(), 2, "the correction is in the history");
    assert_eq!(got.updates[0].body, "Rubriken ändrad");
    let done = crate::status::new_update("resolved", "Klart", "", 7200).unwrap();
    assert!(store
        .add_incident_update(&org.id, &incident.id, &done)
        .await
        .unwrap());
    assert!(
        !store
            .correct_incident(&org.id, &incident.id, &fix, &note)
            .await
            .unwrap(),
        "a resolved incident is not corrected"
    );
}

pub(super) async fn drafts_stay_hidden_until_published(store: &dyn Store) {
    let org = org_named(store, "alpha").await;
    let other = org_named(store, "scope-b").await;
    let comps = store.status_components(&org.id).await.unwrap();
    let draft = crate::status::probe_draft(
        &comps[0],
        crate::status::ComponentState::PartialOutage,
        5000,
    );
    store.create_incident(&draft).await.unwrap();
    let public = |since| store.incidents(&org.id, since, 10);
    assert!(
        public(4000).await.unwrap().iter().all(|i| i.id != draft.id),
        "a draft is not public"
    );
    assert!(
        store
            .incidents_shown(&org.id, 4000, 10)
            .await
            .unwrap()
            .iter()
            .all(|i| i.id != draft.id),
        "nor on the page"
    );
    let drafts = store.draft_incidents(&org.id).await.unwrap();
    assert_eq!(drafts.len(), 1);
    assert!(drafts[0].draft);
    assert_eq!(drafts[0].updates.len(), 1);
    assert!(store.draft_incidents(&other.id).await.unwrap().is_empty());
    let update = crate::status::new_update("identified", "x", "", 5001).unwrap();
    assert!(
        !store
            .add_incident_update(&org.id, &draft.id, &update)
            .await
            .unwrap(),
        "a draft takes no updates before it is published"
    );
    assert!(
        !store
            .publish_draft(&other.id, &draft.id, ("t", ""), ("b", ""))
            .await
            .unwrap(),
        "another organisation cannot publish it"
    );
    assert!(store
        .publish_draft(
            &org.id,
            &draft.id,
            ("Lönen krånglar", "Payroll trouble"),
            ("Vi felsöker.", "")
        )
        .await
        .unwrap());
    assert!(
        !store
            .publish_draft(&org.id, &draft.id, ("t", ""), ("b", ""))
            .await
            .unwrap(),
        "once"
    );
    let shown = public(4000).await.unwrap();
    let got = shown.iter().find(|i| i.id == draft.id).expect("published");
    assert!(!got.draft);
    assert_eq!(got.title, "Lönen krånglar");
    assert_eq!(got.updates[0].body, "Vi felsöker.");
    assert!(
        !store
            .withdraw_draft(&org.id, &draft.id, 5002)
            .await
            .unwrap(),
        "no longer a draft"
    );
    assert!(store
        .add_incident_update(
            &org.id,
            &draft.id,
            &crate::status::new_update("resolved", "Klart", "", 5003).unwrap()
        )
        .await
        .unwrap());

    let second =
        crate::status::probe_draft(&comps[0], crate::status::ComponentState::MajorOutage, 6000);
    store.create_incident(&second).await.unwrap();
    assert!(!store
        .withdraw_draft(&other.id, &second.id, 6001)
        .await
        .unwrap());
    assert!(store
        .withdraw_draft(&org.id, &second.id, 6001)
        .await
        .unwrap());
    assert!(store.draft_incidents(&org.id).await.unwrap().is_empty());
    assert!(
        public(0).await.unwrap().iter().all(|i| i.id != second.id),
        "withdrawn drafts stay hidden"
    );
}
