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

/// Issue 14: the servicedesk's user list finds people by any part of a
/// name in any case (Å, Ä and Ö too), by e-mail and by mobile number as
/// people say it, and filters locked, disabled and no-second-factor
/// accounts; never another organisation's.
pub(super) async fn the_user_list_finds_by_any_case_and_number(store: &dyn Store) {
    use crate::apply::{DesiredUser, InitialPassword};
    use crate::auth::lockout::LockoutPolicy;
    use crate::domain::Username;
    use crate::store::{Factor, FactorKind, UserFilter, UserSearch};
    let mut d = sample_org("sok", "CANARY-SOK");
    let user = |name: &str, display: &str, disabled: bool| DesiredUser {
        username: Username::parse(&format!("{name}@sok.example")).unwrap(),
        display_name: display.into(),
        email: None,
        groups: Default::default(),
        roles: Default::default(),
        disabled,
        totp_secret: None,
        initial_password: Some(InitialPassword::Hash(
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$8vXqP1hX5cA7LhQ9mKQ2Yg".into(),
        )),
    };
    let asa = user("asa.oberg", "Åsa Öberg", false);
    let bertil = user("bertil", "Bertil Ek", true);
    d.users.push(asa);
    d.users.push(bertil);
    apply_org(store, &d, 1).await;
    apply_org(store, &sample_org("sok-granne", "CANARY-GRANNE"), 1).await;
    let org = org_named(store, "sok").await.id;
    let anna = store
        .user_by_username(&org, &Username::parse("anna@sok.example").unwrap())
        .await
        .unwrap()
        .unwrap();
    store
        .add_factor(&Factor {
            id: crate::ids::FactorId::generate(),
            organisation_id: org.clone(),
            user_id: anna.id.clone(),
            kind: FactorKind::Sms,
            label: "Mobilen".into(),
            secret: None,
            destination: Some("+46701234567".into()),
            confirmed: true,
            created_at: 1,
            last_used_at: None,
        })
        .await
        .unwrap();
    let find = |text: &str, only: Option<UserFilter>| {
        let s = UserSearch {
            text: text.into(),
            only,
        };
        let org = org.clone();
        async move {
            store
                .search_users(&org, &s, 100, 0, 50)
                .await
                .unwrap()
                .into_iter()
                .map(|l| l.user.username.to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("", None).await.len(), 3, "everyone, one organisation");
    assert_eq!(find("åsa", None).await, ["asa.oberg@sok.example"]);
    assert_eq!(find("ÖBERG", None).await, ["asa.oberg@sok.example"]);
    assert_eq!(
        find("canary-sok", None).await,
        ["anna@sok.example"],
        "by e-mail"
    );
    assert_eq!(
        find("070-123 45 67", None).await,
        ["anna@sok.example"],
        "by number"
    );
    assert_eq!(find("+46 70 123", None).await, ["anna@sok.example"]);
    assert!(find("100%_!", None).await.is_empty(), "wildcards are text");
    assert!(
        find("CANARY-GRANNE", None).await.is_empty(),
        "not the neighbour's"
    );
    assert_eq!(
        find("", Some(UserFilter::Disabled)).await,
        ["bertil@sok.example"]
    );
    assert_eq!(
        find("", Some(UserFilter::NoSecondFactor)).await,
        ["asa.oberg@sok.example", "bertil@sok.example"]
    );
    assert!(find("", Some(UserFilter::Locked)).await.is_empty());
    let name = Username::parse("asa.oberg@sok.example").unwrap();
    for _ in 0..6 {
        store
            .record_failure(&org, &name, 90, &LockoutPolicy::default())
            .await
            .unwrap();
    }
    assert_eq!(
        find("", Some(UserFilter::Locked)).await,
        ["asa.oberg@sok.example"]
    );
    let listed = store
        .search_users(&org, &UserSearch::default(), 100, 0, 50)
        .await
        .unwrap();
    let a = listed.iter().find(|l| l.user.username == name).unwrap();
    assert_eq!(a.failures, 6);
    assert!(a.locked_until > 100);
    assert!(listed
        .iter()
        .any(|l| l.user.id == anna.id && l.has_second_factor));
}
