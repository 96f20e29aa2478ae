use super::{apply_org, org_named, sample_org, slug};
use crate::apply::{plan, Change, InitialPassword};
use crate::domain::{Role, Username};
use crate::ids::UserId;
use crate::store::Store;
use std::collections::BTreeSet;

pub(super) async fn apply_is_idempotent_and_round_trips(store: &dyn Store) {
    let d = sample_org("alpha", "CANARY-A");
    assert!(apply_org(store, &d, 100).await > 0, "first apply writes");
    assert_eq!(
        apply_org(store, &d, 200).await,
        0,
        "second apply is a no-op"
    );
    let org = store.organisation_by_slug(&d.slug).await.unwrap().unwrap();
    assert_eq!(org.domains, vec!["alpha.example".to_owned()]);
    let user = store
        .user_by_username(&org.id, &d.users[0].username)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.display_name, "Anna CANARY-A");
    assert!(user.password_hash.is_some());
    assert_eq!(
        store.user_roles(&org.id, &user.id).await.unwrap(),
        vec![Role::Servicedesk]
    );
    assert_eq!(store.user_groups(&org.id, &user.id).await.unwrap().len(), 1);
    let services = store.services_for_user(&org.id, &user.id).await.unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].name, "Payslip CANARY-A");

    // A changed display name updates; the stored password is left alone.
    let mut d2 = d.clone();
    d2.users[0].display_name = "Anna Andersson".into();
    d2.users[0].initial_password = Some(InitialPassword::Hash(
        "$2b$04$abcdefghijklmnopqrstuu5sN1iZb6s6Xq7o1X0oW2dVYbT8f1pS2".into(),
    ));
    assert_eq!(apply_org(store, &d2, 300).await, 1);
    let again = store.user(&org.id, &user.id).await.unwrap().unwrap();
    assert_eq!(again.display_name, "Anna Andersson");
    assert_eq!(again.password_hash, user.password_hash);
}

pub(super) async fn domain_belongs_to_one_organisation(store: &dyn Store) {
    let mut d = sample_org("thief", "CANARY-X");
    d.domains = vec!["alpha.example".into()];
    let snap = store.snapshot(&d.slug).await.unwrap();
    let changes: Vec<Change> = plan(&d, &snap, 1).into_iter().map(|p| p.change).collect();
    assert!(
        store.apply_changes(&changes).await.is_err(),
        "a second organisation cannot claim a domain"
    );
}

pub(super) async fn failed_apply_changes_nothing(store: &dyn Store) {
    assert!(
        store
            .organisation_by_slug(&slug("thief"))
            .await
            .unwrap()
            .is_none(),
        "rolled back whole"
    );
    let org = org_named(store, "alpha").await;
    let bogus = Change::PutUser {
        org: org.id.clone(),
        user: crate::store::User {
            id: UserId::generate(),
            organisation_id: org.id.clone(),
            username: Username::parse("plain@alpha.example").unwrap(),
            display_name: "x".into(),
            email: None,
            password_hash: None,
            must_change_password: true,
            disabled: false,
            created_at: 1,
            language: None,
            password_expires_at: None,
            lock_reason: String::new(),
            credential_epoch: 0,
        },
        groups: BTreeSet::new(),
        roles: BTreeSet::new(),
        new_password: Some(InitialPassword::Plain("never stored".into())),
        new_totp: None,
    };
    let before = store.list_users(&org.id, 0, 100).await.unwrap().len();
    assert!(store.apply_changes(&[bogus]).await.is_err());
    assert_eq!(
        store.list_users(&org.id, 0, 100).await.unwrap().len(),
        before
    );
}
