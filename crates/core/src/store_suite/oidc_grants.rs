use super::{apply_org, org_named, sample_org};
use crate::ids::ClientRowId;
use crate::store::{
    CodeRecord, GrantRecord, Issue, NewRefreshToken, Redeemed, Rotation, Store, User,
};
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

fn issue(code: &CodeRecord, user: &User, refresh_hash: &str) -> Issue {
    let mut g = grant(&code.organisation_id, &user.id, "");
    g.client_row_id = code.client_row_id.clone();
    Issue {
        grant: g,
        refresh: Some(refresh(refresh_hash)),
    }
}

/// Redeems `codes`, each passing every check.
async fn redeem(
    store: &dyn Store,
    org: &crate::ids::OrganisationId,
    codes: &[&str],
    now: i64,
) -> Vec<Redeemed> {
    let hashes: Vec<String> = codes.iter().map(|c| (*c).to_owned()).collect();
    store
        .redeem_codes(org, &hashes, now, &|_, c, u| {
            Some(issue(c, u, &crate::oidc::tokens::new_secret()))
        })
        .await
        .unwrap()
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
    assert_eq!(
        redeem(&*store, &b, &["code-1"], 105).await,
        vec![Redeemed::Unknown],
        "not from B, and B's try does not burn it"
    );

    // Ten parallel callers, each in its own batch: one wins.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = store.clone();
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            redeem(&*store, &a, &["code-1"], 110).await.remove(0)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        if let Redeemed::Issued {
            code: got,
            user: who,
            grant,
        } = t.await.unwrap()
        {
            assert_eq!(got.redirect_uri, code.redirect_uri, "the code as stored");
            assert_eq!(got.nonce, code.nonce);
            assert_eq!(who.id, user, "with its person");
            winners.push(grant);
        }
    }
    assert_eq!(winners.len(), 1, "one winner");
    assert!(winners[0].id.starts_with("grt_"));
    let stored = store.grant(&a, &winners[0].id).await.unwrap().unwrap();
    assert!(
        stored.revoked_at.is_some(),
        "the losers' reuse revoked the winner's grant"
    );

    // One batch: a good code, a refused one, an unknown one, one shown
    // twice, and a used one.
    for h in ["ok", "refuse", "twice"] {
        store.create_code(h, &code, 100).await.unwrap();
    }
    let shown = ["ok", "refuse", "nope", "twice", "twice", "code-1"];
    let out = store
        .redeem_codes(&a, &shown.map(String::from), 120, &|i, c, u| {
            (shown[i] != "refuse").then(|| issue(c, u, &format!("rt-{i}")))
        })
        .await
        .unwrap();
    let Redeemed::Issued { grant, .. } = &out[0] else {
        panic!("issued: {out:?}");
    };
    let Redeemed::Issued { grant: doubled, .. } = &out[3] else {
        panic!("the first showing is decided: {out:?}");
    };
    assert_eq!(
        [&out[1], &out[2], &out[4], &out[5]],
        [
            &Redeemed::Refused,
            &Redeemed::Unknown,
            &Redeemed::Reused,
            &Redeemed::Reused
        ]
    );
    assert!(
        store
            .grant(&a, &doubled.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some(),
        "the second showing revoked what the first got"
    );
    assert!(store.grant(&a, &grant.id).await.unwrap().unwrap().live(120));
    assert_eq!(
        store
            .grant_of_refresh_token(&a, &ClientRowId::from_raw("cli_a"), "rt-0")
            .await
            .unwrap()
            .map(|g| g.id),
        Some(grant.id.clone()),
        "its refresh token is stored with it"
    );
    assert_eq!(
        redeem(&*store, &a, &["refuse", "twice"], 121).await,
        vec![Redeemed::Reused, Redeemed::Reused],
        "refused and doubled codes are burnt"
    );

    // Refresh rotation on a fresh grant.
    store.create_code("code-2", &code, 100).await.unwrap();
    let out = store
        .redeem_codes(&a, &["code-2".into()], 110, &|_, c, u| {
            Some(issue(c, u, "r0"))
        })
        .await
        .unwrap();
    let Redeemed::Issued { grant, .. } = &out[0] else {
        panic!("issued: {out:?}");
    };
    let grant_id = grant.id.clone();
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
    assert_eq!(got.id, grant_id);
    assert_eq!(
        store
            .grant_of_refresh_token(&a, &cli, "r1")
            .await
            .unwrap()
            .unwrap()
            .id,
        grant_id
    );
    assert_eq!(
        store
            .rotate_refresh_token(&a, &cli, "r0", &refresh("r2"), 130)
            .await
            .unwrap(),
        Rotation::Reused
    );
    assert!(store
        .grant(&a, &grant_id)
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
