use super::{apply_org, org_named, sample_org};
use crate::access::Method;
use crate::store::{Amr, NewSession, Store};

pub(super) async fn sessions_lifecycle(store: &dyn Store) {
    let d = sample_org("sessions", "CANARY-S");
    apply_org(store, &d, 1).await;
    let org = store.organisation_by_slug(&d.slug).await.unwrap().unwrap();
    let user = store
        .user_by_username(&org.id, &d.users[0].username)
        .await
        .unwrap()
        .unwrap();
    for (i, h) in ["h1", "h2"].iter().enumerate() {
        store
            .create_session(&NewSession {
                token_hash: (*h).into(),
                organisation_id: org.id.clone(),
                user_id: user.id.clone(),
                created_at: 1000 + i64::try_from(i).unwrap(),
                expires_at: 50_000,
                ip: "10.0.0.1".into(),
                user_agent: "test".into(),
                amr: Amr::of(Method::Password),
                pending_mfa: false,
                credential_epoch: 0,
                start_code: None,
            })
            .await
            .unwrap();
    }
    store.touch_session("h1", 1200).await.unwrap();
    store.touch_session("h1", 1100).await.unwrap();
    assert_eq!(
        store.session("h1").await.unwrap().unwrap().last_seen_at,
        1200,
        "touch never moves back"
    );
    assert_eq!(
        store
            .list_user_sessions(&org.id, &user.id, 2000)
            .await
            .unwrap()
            .len(),
        2
    );
    store.revoke_session("h1", 1300).await.unwrap();
    assert_eq!(
        store.session("h1").await.unwrap().unwrap().revoked_at,
        Some(1300)
    );
    assert_eq!(
        store
            .revoke_user_sessions(&org.id, &user.id, "servicedesk", 1400)
            .await
            .unwrap(),
        1
    );
    assert!(store
        .list_user_sessions(&org.id, &user.id, 2000)
        .await
        .unwrap()
        .is_empty());
    assert!(store.session("missing").await.unwrap().is_none());
    let other = org_named(store, "alpha").await;
    assert_eq!(
        store
            .revoke_user_sessions(&other.id, &user.id, "servicedesk", 1500)
            .await
            .unwrap(),
        0
    );
}
