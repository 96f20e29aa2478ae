use super::{apply_org, org_named, sample_org};
use crate::breach::{Breach, BreachId, Details, Phase, Reporting};
use crate::ids::{EventId, UserId};
use crate::store::{Channel, OutboxMessage, Store};
use std::sync::Arc;

/// Issue 15: one breach across two organisations is two parts, each
/// numbered and seen only in its organisation; phases and reminders stay
/// with their part; a reminder is sent once.
pub(super) async fn breach_parts_stay_in_their_organisation(store: Arc<dyn Store>) {
    for (slug, canary) in [
        ("breach-a", "CANARY-BA"),
        ("breach-b", "CANARY-BB"),
        ("breach-c", "CANARY-BC"),
    ] {
        apply_org(&*store, &sample_org(slug, canary), 1).await;
    }
    let a = org_named(&*store, "breach-a").await.id;
    let b = org_named(&*store, "breach-b").await.id;
    let c = org_named(&*store, "breach-c").await.id;
    let dpo = UserId::from_raw("usr_dpo");
    let part = |org: &crate::ids::OrganisationId| Breach {
        id: BreachId::generate(),
        organisation_id: org.clone(),
        group_id: Some("grp-vklass".into()),
        number: 0,
        title: "Lärplattformen".into(),
        discovered_at: 1000,
        details: Details {
            description: "Uppgifter publicerades".into(),
            ..Details::default()
        },
        created_at: 1000,
        created_by: dpo.clone(),
        updated_at: 1000,
    };
    let parts = store.create_breaches(&[part(&a), part(&b)]).await.unwrap();
    assert_eq!(parts.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 1]);
    let own = Breach {
        group_id: None,
        ..part(&a)
    };
    assert_eq!(store.create_breaches(&[own]).await.unwrap()[0].number, 2);
    let (pa, pb) = (&parts[0], &parts[1]);
    assert!(
        store.breach(&b, &pa.id).await.unwrap().is_none(),
        "A's part is not B's"
    );
    assert_eq!(
        store
            .breach(&a, &pa.id)
            .await
            .unwrap()
            .unwrap()
            .details
            .description,
        "Uppgifter publicerades"
    );
    assert_eq!(store.breaches(&a).await.unwrap().len(), 2);
    assert_eq!(store.breaches(&b).await.unwrap().len(), 1);
    assert_eq!(store.breach_group_size(&a, "grp-vklass").await.unwrap(), 1);
    assert_eq!(
        store.breach_group_size(&c, "grp-vklass").await.unwrap(),
        0,
        "not a part: nothing"
    );

    let mut changed = pb.clone();
    changed.organisation_id = a.clone();
    changed.title = "Kapad".into();
    assert!(
        !store.update_breach(&changed).await.unwrap(),
        "B's part is not reached through A"
    );
    let mut mine = pa.clone();
    mine.details.reporting = Reporting::Reported;
    mine.details.imy_reference = "IMY-2026-1".into();
    mine.updated_at = 2000;
    assert!(store.update_breach(&mine).await.unwrap());
    assert_eq!(store.breach(&a, &pa.id).await.unwrap().unwrap(), mine);

    let phase = Phase {
        at: 1500,
        by: dpo.clone(),
        text: "Plattformen stängd".into(),
        submitted: true,
    };
    assert!(store.add_breach_phase(&a, &pa.id, &phase).await.unwrap());
    assert!(!store.add_breach_phase(&b, &pa.id, &phase).await.unwrap());
    assert_eq!(store.breach_phases(&a, &pa.id).await.unwrap(), [phase]);
    assert!(store.breach_phases(&b, &pa.id).await.unwrap().is_empty());

    // B's part is undecided: reminded once per mark.
    let undecided = store.undecided_breaches().await.unwrap();
    assert!(undecided
        .iter()
        .any(|(x, sent)| x.id == pb.id && sent.is_empty()));
    assert!(
        !undecided.iter().any(|(x, _)| x.id == pa.id),
        "reported: no reminders"
    );
    let msg = OutboxMessage {
        id: EventId::generate().to_string(),
        organisation_id: b.clone(),
        channel: Channel::Email,
        recipient: "dpo@breach-b.example".into(),
        subject: "48 h".into(),
        body: "b".into(),
        created_at: 2000,
        attempts: 0,
    };
    assert!(!store
        .send_breach_reminder(&a, &pb.id, 48, std::slice::from_ref(&msg), 2000)
        .await
        .unwrap());
    assert!(store
        .send_breach_reminder(&b, &pb.id, 48, std::slice::from_ref(&msg), 2000)
        .await
        .unwrap());
    let again = OutboxMessage {
        id: EventId::generate().to_string(),
        ..msg.clone()
    };
    assert!(
        !store
            .send_breach_reminder(&b, &pb.id, 48, &[again], 2001)
            .await
            .unwrap(),
        "once"
    );
    let undecided = store.undecided_breaches().await.unwrap();
    assert!(undecided
        .iter()
        .any(|(x, sent)| x.id == pb.id && sent == &[48]));
}
