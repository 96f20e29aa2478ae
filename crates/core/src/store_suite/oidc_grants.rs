use super::{apply_org, org_named, sample_org};
use crate::ids::ClientRowId;
use crate::store::{CodeRecord, GrantRecord, NewRefreshToken, Redemption, Rotation, Store};
use std::sync::Arc;

fn grant(org: &crate::ids::OrganisationId, user: &crate::ids::UserId, id: &str) -> GrantRecord {
    GrantRecord {
        id: id.into(),
        organisation_id: org.clone(),
        client_row_id: ClientRowId::from_raw("cli_a"),
        user_id: user.clone(),
        scope: "openid".into(),
        auth_time: 100,
        amr: "pwd".into(),
        created_at: 100,
        expires_at: 10_000,
        revoked_at: None,
    }
}

fn refresh(hash: &str) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: hash.into(),
        expires_at: 10_000,
    }
}

/// A code is won by exactly one of many parallel callers; a second use
/// revokes what the first made; refresh tokens rotate once, and a reused
/// one ends the grant; nothing is visible from another organisation.
pub(super) async fn codes_and_refresh_tokens_have_one_winner(store: Arc<dyn Store>) {
    apply_org(&*store, &sample_org("grants-a", "CANARY-GA"), 1).await;
    apply_org(&*store, &sample_org("grants-b", "CANARY-GB"), 1).await;
    let a = org_named(&*store, "grants-a").await.id;
    let b = org_named(&*store, "grants-b").await.id;
    let user = store
        .user_by_username(
            &a,
            &crate::domain::Username::parse("anna@grants-a.example").unwrap(),
        )
        .await
        .unwrap()
        .unwrap()
        .id;
    let code = CodeRecord {
        organisation_id: a.clone(),
        client_row_id: ClientRowId::from_raw("cli_a"),
        user_id: user.clone(),
        redirect_uri: "https://app.example/cb".into(),
        scope: "openid".into(),
        nonce: Some("n".into()),
        code_challenge: None,
        auth_time: 100,
        amr: "pwd".into(),
        expires_at: 160,
        used_at: None,
    };
    store.create_code("code-1", &code, 100).await.unwrap();
    assert_eq!(store.code(&a, "code-1").await.unwrap().unwrap(), code);
    assert!(
        store.code(&b, "code-1").await.unwrap().is_none(),
        "not from B"
    );

    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = store.clone();
        let (a, user) = (a.clone(), user.clone());
        tasks.push(tokio::spawn(async move {
            let g = grant(&a, &user, &format!("grt_{i}"));
            let r = refresh(&format!("rt-{i}"));
            store
                .redeem_code(&a, "code-1", 110, Some((&g, Some(&r))))
                .await
                .unwrap()
        }));
    }
    let mut issued = 0;
    for t in tasks {
        if t.await.unwrap() == Redemption::Issued {
            issued += 1;
        }
    }
    assert_eq!(issued, 1, "one winner");
    let used = store.code(&a, "code-1").await.unwrap().unwrap();
    assert_eq!(used.used_at, Some(110));
    // The losers' reuse already revoked the winner's grant.
    let mut winners = Vec::new();
    for i in 0..10 {
        if let Some(g) = store.grant(&a, &format!("grt_{i}")).await.unwrap() {
            winners.push(g);
        }
    }
    assert_eq!(winners.len(), 1);
    assert!(
        winners[0].revoked_at.is_some(),
        "reuse revokes the first grant"
    );
    assert_eq!(
        store.redeem_code(&b, "code-1", 111, None).await.unwrap(),
        Redemption::Unknown
    );

    // Refresh rotation on a fresh grant.
    store.create_code("code-2", &code, 100).await.unwrap();
    let g = grant(&a, &user, "grt_r");
    assert_eq!(
        store
            .redeem_code(&a, "code-2", 110, Some((&g, Some(&refresh("r0")))))
            .await
            .unwrap(),
        Redemption::Issued
    );
    let cli = ClientRowId::from_raw("cli_a");
    let other = ClientRowId::from_raw("cli_b");
    assert_eq!(
        store
            .rotate_refresh_token(&a, &other, "r0", &refresh("x"), 120)
            .await
            .unwrap(),
        Rotation::Invalid,
        "another client's token"
    );
    assert_eq!(
        store
            .rotate_refresh_token(&b, &cli, "r0", &refresh("x"), 120)
            .await
            .unwrap(),
        Rotation::Invalid,
        "from another organisation"
    );
    let Rotation::Rotated(got) = store
        .rotate_refresh_token(&a, &cli, "r0", &refresh("r1"), 120)
        .await
        .unwrap()
    else {
        panic!("rotates");
    };
    assert_eq!(got.id, "grt_r");
    assert_eq!(
        store
            .grant_of_refresh_token(&a, &cli, "r1")
            .await
            .unwrap()
            .unwrap()
            .id,
        "grt_r"
    );
    assert_eq!(
        store
            .rotate_refresh_token(&a, &cli, "r0", &refresh("r2"), 130)
            .await
            .unwrap(),
        Rotation::Reused
    );
    assert!(store
        .grant(&a, "grt_r")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert_eq!(
        store
            .rotate_refresh_token(&a, &cli, "r1", &refresh("r3"), 131)
            .await
            .unwrap(),
        Rotation::Invalid,
        "the grant is gone, so is its newest token"
    );

    // Waiting requests and consents.
    store
        .put_auth_request(&a, "req-1", "{}", 100, 700)
        .await
        .unwrap();
    assert_eq!(
        store.auth_request(&a, "req-1", 200).await.unwrap(),
        Some(("{}".into(), 100))
    );
    assert!(store
        .auth_request(&b, "req-1", 200)
        .await
        .unwrap()
        .is_none());
    assert!(
        store
            .auth_request(&a, "req-1", 700)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    store
        .put_consent(&a, &user, &cli, "openid email", 100)
        .await
        .unwrap();
    assert_eq!(
        store.consent(&a, &user, &cli).await.unwrap().as_deref(),
        Some("openid email")
    );
    assert!(store.consent(&b, &user, &cli).await.unwrap().is_none());
}
