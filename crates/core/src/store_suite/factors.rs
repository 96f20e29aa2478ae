use super::org_named;
use crate::ids::FactorId;
use crate::store::{Ceremony, Factor, FactorKind, Purpose, Store};
use std::sync::Arc;

pub(super) async fn factors_are_single_use_and_scoped(store: Arc<dyn Store>) {
    let org = org_named(&*store, "alpha").await;
    let other = org_named(&*store, "scope-b").await;
    assert_eq!(store.zones(&org.id).await.unwrap().len(), 1);
    let user = store.list_users(&org.id, 0, 1).await.unwrap().remove(0);
    let mk = |id: &FactorId| Factor {
        id: id.clone(),
        organisation_id: org.id.clone(),
        user_id: user.id.clone(),
        kind: FactorKind::Totp,
        label: String::new(),
        secret: Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".into()),
        destination: None,
        confirmed: false,
        created_at: 10,
        last_used_at: None,
    };
    let (a, b) = (FactorId::generate(), FactorId::generate());
    store.add_factor(&mk(&a)).await.unwrap();
    store.add_factor(&mk(&b)).await.unwrap();
    assert!(
        !store
            .consume_totp_step(&org.id, &user.id, &a, 5, 20)
            .await
            .unwrap(),
        "unconfirmed factors are unusable"
    );
    assert!(
        !store
            .confirm_factor(&other.id, &user.id, &a, "x", 1)
            .await
            .unwrap(),
        "other organisation"
    );
    assert!(store
        .confirm_factor(&org.id, &user.id, &a, "Jobbtelefonen", 1)
        .await
        .unwrap());
    assert!(!store
        .confirm_factor(&org.id, &user.id, &a, "again", 1)
        .await
        .unwrap());

    // 50 concurrent uses of one step: exactly one wins (SECURITY.md G3).
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (s, o, u, f) = (store.clone(), org.id.clone(), user.id.clone(), a.clone());
        tasks.push(tokio::spawn(async move {
            s.consume_totp_step(&o, &u, &f, 7, 30).await.unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
    assert!(
        !store
            .consume_totp_step(&org.id, &user.id, &a, 6, 31)
            .await
            .unwrap(),
        "older step refused"
    );
    assert!(store
        .consume_totp_step(&org.id, &user.id, &a, 8, 32)
        .await
        .unwrap());

    // The last confirmed factor stays when asked to keep one; an unconfirmed one can go.
    assert!(!store
        .remove_factor(&org.id, &user.id, &a, true)
        .await
        .unwrap());
    assert!(store
        .remove_factor(&org.id, &user.id, &b, true)
        .await
        .unwrap());
    assert!(
        !store
            .remove_factor(&other.id, &user.id, &a, false)
            .await
            .unwrap(),
        "other organisation"
    );
    assert_eq!(store.factors(&org.id, &user.id).await.unwrap().len(), 1);
    assert!(store.factors(&other.id, &user.id).await.unwrap().is_empty());
    assert!(store
        .remove_factor(&org.id, &user.id, &a, false)
        .await
        .unwrap());
}

pub(super) async fn passkeys_are_unique_and_ceremonies_single_use(store: Arc<dyn Store>) {
    let org = org_named(&*store, "alpha").await;
    let other = org_named(&*store, "scope-b").await;
    let mut users = store.list_users(&org.id, 0, 1).await.unwrap();
    users.extend(store.list_users(&other.id, 0, 1).await.unwrap());
    let key = |user: &crate::store::User, cred: &str| Factor {
        id: FactorId::generate(),
        organisation_id: user.organisation_id.clone(),
        user_id: user.id.clone(),
        kind: FactorKind::Passkey,
        label: "Nyckel".into(),
        secret: Some("{}".into()),
        destination: Some(cred.into()),
        confirmed: true,
        created_at: 10,
        last_used_at: None,
    };
    let first = key(&users[0], "cred-1");
    store.add_factor(&first).await.unwrap();
    assert!(
        matches!(
            store.add_factor(&key(&users[1], "cred-1")).await,
            Err(crate::StoreError::Conflict(_))
        ),
        "a credential id belongs to one account in the installation"
    );
    let found = store.factor_by_credential("cred-1").await.unwrap().unwrap();
    assert_eq!(found.user_id, users[0].id);
    assert!(store
        .factor_by_credential("cred-2")
        .await
        .unwrap()
        .is_none());
    store
        .update_factor_secret(&org.id, &users[0].id, &first.id, "{\"n\":1}", 50)
        .await
        .unwrap();
    let found = store.factor_by_credential("cred-1").await.unwrap().unwrap();
    assert_eq!(found.secret.as_deref(), Some("{\"n\":1}"));
    assert_eq!(found.last_used_at, Some(50));

    let c = |id: &str, at: i64| Ceremony {
        id: id.into(),
        purpose: Purpose::SignIn,
        user: None,
        session_hash: None,
        state: "{}".into(),
        created_at: at,
        expires_at: at + 300,
    };
    store.create_ceremony(&c("c1", 100)).await.unwrap();
    assert!(
        store
            .take_ceremony("c1", &Purpose::Reset, 110)
            .await
            .unwrap()
            .is_none(),
        "purpose is checked"
    );
    let (x, y) = tokio::join!(
        store.take_ceremony("c1", &Purpose::SignIn, 110),
        store.take_ceremony("c1", &Purpose::SignIn, 110)
    );
    assert_eq!(
        usize::from(x.unwrap().is_some()) + usize::from(y.unwrap().is_some()),
        1,
        "a ceremony is taken exactly once"
    );
    store.create_ceremony(&c("c2", 100)).await.unwrap();
    assert!(
        store
            .take_ceremony("c2", &Purpose::SignIn, 401)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    let mut bound = c("c3", 1000);
    bound.user = Some((org.id.clone(), users[0].id.clone()));
    bound.session_hash = Some("h".into());
    store.create_ceremony(&bound).await.unwrap();
    let back = store
        .take_ceremony("c3", &Purpose::SignIn, 1001)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.user, bound.user);
    assert_eq!(back.session_hash.as_deref(), Some("h"));
}
