use super::org_named;
use crate::auth::codes;
use crate::store::{CodeChallenge, CodeCheck, FactorKind, Purpose, Store};
use std::sync::Arc;

async fn challenge(store: &dyn Store, session: &str, code: &str, at: i64) {
    let org = org_named(store, "alpha").await;
    let user = store.list_users(&org.id, 0, 1).await.unwrap().remove(0);
    let id = crate::ids::EventId::generate().to_string();
    store
        .create_challenge(&CodeChallenge {
            code_hash: codes::hash(&id, code),
            id,
            organisation_id: org.id.clone(),
            user_id: user.id.clone(),
            session_hash: session.into(),
            purpose: Purpose::SignIn,
            channel: FactorKind::Email,
            destination: "anna@alpha.example".into(),
            created_at: at,
            expires_at: at + 300,
        })
        .await
        .unwrap();
}

/// A right code found by `check_challenge` stays usable until redeemed, and
/// only one of many parallel redemptions wins (issue 10 M3, G3); codes are
/// counted per account for the sending budget (H1, L1).
pub(super) async fn checked_codes_are_redeemed_once_and_counted_per_account(store: Arc<dyn Store>) {
    let s = &*store;
    let org = org_named(s, "alpha").await;
    let user = s.list_users(&org.id, 0, 1).await.unwrap().remove(0);
    let before = s
        .count_challenges(&org.id, &user.id, None, 0)
        .await
        .unwrap();
    challenge(s, "sess-r", "424242", 5000).await;
    assert_eq!(
        s.count_challenges(&org.id, &user.id, None, 0)
            .await
            .unwrap(),
        before + 1
    );
    assert_eq!(
        s.count_challenges(&org.id, &user.id, Some(&Purpose::SignIn), 5000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.count_challenges(&org.id, &user.id, Some(&Purpose::Reset), 0)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        s.count_challenges(&org.id, &user.id, None, 5001)
            .await
            .unwrap(),
        0,
        "older than the window"
    );
    let CodeCheck::Accepted { id, .. } = s
        .check_challenge("sess-r", &Purpose::SignIn, "424242", 5001, 5)
        .await
        .unwrap()
    else {
        panic!("right code")
    };
    // Checked, not used: a second check still finds it.
    assert!(matches!(
        s.check_challenge("sess-r", &Purpose::SignIn, "424242", 5002, 5)
            .await
            .unwrap(),
        CodeCheck::Accepted { .. }
    ));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let st = store.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            st.redeem_challenge(&id, 5003).await.unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
    assert_eq!(
        s.check_challenge("sess-r", &Purpose::SignIn, "424242", 5004, 5)
            .await
            .unwrap(),
        CodeCheck::Void
    );
}

pub(super) async fn codes_are_bound_single_use_and_limited(store: Arc<dyn Store>) {
    let s = &*store;
    challenge(s, "sess-a", "123456", 1000).await;
    assert_eq!(
        s.latest_challenge_at("sess-a", &Purpose::SignIn)
            .await
            .unwrap(),
        Some(1000)
    );
    assert_eq!(
        s.use_challenge("sess-b", &Purpose::SignIn, "123456", 1001, 5)
            .await
            .unwrap(),
        CodeCheck::Void,
        "another attempt's code"
    );
    assert_eq!(
        s.use_challenge("sess-a", &Purpose::SignIn, "654321", 1001, 5)
            .await
            .unwrap(),
        CodeCheck::Wrong { tries_left: 4 }
    );
    assert!(matches!(
        s.use_challenge("sess-a", &Purpose::SignIn, "123456", 1002, 5)
            .await
            .unwrap(),
        CodeCheck::Accepted { destination, .. } if destination == "anna@alpha.example"
    ));
    assert_eq!(
        s.use_challenge("sess-a", &Purpose::SignIn, "123456", 1003, 5)
            .await
            .unwrap(),
        CodeCheck::Void,
        "single use"
    );

    challenge(s, "sess-c", "111111", 2000).await;
    assert_eq!(
        s.use_challenge("sess-c", &Purpose::SignIn, "111111", 2300, 5)
            .await
            .unwrap(),
        CodeCheck::Void,
        "expired at 5:00"
    );

    challenge(s, "sess-d", "222222", 3000).await;
    for left in (0..5).rev() {
        assert_eq!(
            s.use_challenge("sess-d", &Purpose::SignIn, "000000", 3001, 5)
                .await
                .unwrap(),
            CodeCheck::Wrong { tries_left: left }
        );
    }
    assert_eq!(
        s.use_challenge("sess-d", &Purpose::SignIn, "222222", 3002, 5)
            .await
            .unwrap(),
        CodeCheck::Void,
        "sixth try"
    );

    challenge(s, "sess-e", "333333", 4000).await;
    challenge(s, "sess-e", "444444", 4010).await;
    assert_eq!(
        s.use_challenge("sess-e", &Purpose::SignIn, "333333", 4011, 5)
            .await
            .unwrap(),
        CodeCheck::Wrong { tries_left: 4 },
        "resend voids the old code"
    );

    // 50 concurrent submissions of the right code: exactly one is accepted.
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let st = store.clone();
        tasks.push(tokio::spawn(async move {
            st.use_challenge("sess-e", &Purpose::SignIn, "444444", 4012, 100)
                .await
                .unwrap()
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(matches!(t.await.unwrap(), CodeCheck::Accepted { .. }));
    }
    assert_eq!(accepted, 1, "exactly one of 50 parallel uses wins (G3)");
}
