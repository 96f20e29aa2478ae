use super::{apply_org, org_named, sample_org};
use crate::domain::Language;
use crate::store::Store;

pub(super) async fn lookups_are_scoped_by_organisation(store: &dyn Store) {
    let a = sample_org("scope-a", "CANARY-SA");
    let b = sample_org("scope-b", "CANARY-SB");
    apply_org(store, &a, 1).await;
    apply_org(store, &b, 1).await;
    let oa = store.organisation_by_slug(&a.slug).await.unwrap().unwrap();
    let ob = store.organisation_by_slug(&b.slug).await.unwrap().unwrap();
    let ua = store
        .user_by_username(&oa.id, &a.users[0].username)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store.user(&ob.id, &ua.id).await.unwrap().is_none(),
        "user of A via org B"
    );
    assert!(store
        .user_by_username(&ob.id, &a.users[0].username)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .services_for_user(&ob.id, &ua.id)
        .await
        .unwrap()
        .is_empty());
    assert!(store.user_groups(&ob.id, &ua.id).await.unwrap().is_empty());
    assert!(store.user_roles(&ob.id, &ua.id).await.unwrap().is_empty());
    let listed = store.list_users(&ob.id, 0, 1000).await.unwrap();
    assert!(listed.iter().all(|u| u.organisation_id == ob.id));
    assert!(listed.iter().all(|u| !u.display_name.contains("CANARY-SA")));
    assert_eq!(
        store
            .organisation_by_domain("scope-b.example")
            .await
            .unwrap()
            .unwrap()
            .id,
        ob.id
    );
}

pub(super) async fn a_users_language_is_theirs(store: &dyn Store) {
    let d = sample_org("alpha", "CANARY-A");
    let org = org_named(store, "alpha").await;
    let other = org_named(store, "scope-b").await;
    let anna = store
        .user_by_username(&org.id, &d.users[0].username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anna.language, None);
    assert!(
        !store
            .set_user_language(&other.id, &anna.id, Some(Language::En))
            .await
            .unwrap(),
        "not from another organisation"
    );
    assert!(store
        .set_user_language(&org.id, &anna.id, Some(Language::En))
        .await
        .unwrap());
    apply_org(store, &d, 50).await;
    let again = store.user(&org.id, &anna.id).await.unwrap().unwrap();
    assert_eq!(
        again.language.map(Language::as_str),
        Some("en"),
        "apply keeps it"
    );
    store
        .set_user_language(&org.id, &anna.id, None)
        .await
        .unwrap();
    let back = store.user(&org.id, &anna.id).await.unwrap().unwrap();
    assert_eq!(back.language, None);
}
