use super::{apply_org, org_named, sample_org};
use crate::oidc::jose::{Alg, SigningKey};
use crate::oidc::keyring::KeyTimes;
use crate::store::{Store, StoredSigningKey};
use std::sync::Arc;

fn new_key(alg: Alg, created_at: i64, activates_at: i64) -> StoredSigningKey {
    let (pkcs8, key) = SigningKey::generate(alg).unwrap();
    StoredSigningKey {
        kid: key.kid().to_owned(),
        alg,
        pkcs8,
        times: KeyTimes {
            created_at,
            activates_at,
            unpublish_at: None,
        },
    }
}

/// Keys are stored only sealed, once per organisation however many servers
/// start together, read back per organisation, and rotated by time.
pub(super) async fn signing_keys_are_sealed_scoped_and_rotated(store: Arc<dyn Store>) {
    apply_org(&*store, &sample_org("keys-a", "CANARY-KA"), 1).await;
    apply_org(&*store, &sample_org("keys-b", "CANARY-KB"), 1).await;
    let a = org_named(&*store, "keys-a").await.id;
    let b = org_named(&*store, "keys-b").await.id;
    let first = [new_key(Alg::Es256, 10, 10), new_key(Alg::Rs256, 10, 10)];
    if !store.seals_keys() {
        assert!(
            store.create_first_oidc_keys(&a, &first).await.is_err(),
            "private keys are never stored in the clear"
        );
        assert!(store.oidc_signing_keys(&a, 10).await.unwrap().is_empty());
        return;
    }
    // Two servers starting at once: exactly one set is stored.
    let other = [new_key(Alg::Es256, 10, 10), new_key(Alg::Rs256, 10, 10)];
    let (s1, s2) = (store.clone(), store.clone());
    let (a1, a2) = (a.clone(), a.clone());
    let (r1, r2) = tokio::join!(
        async move { s1.create_first_oidc_keys(&a1, &first).await },
        async move { s2.create_first_oidc_keys(&a2, &other).await }
    );
    assert_eq!(
        [r1.unwrap(), r2.unwrap()].iter().filter(|w| **w).count(),
        1,
        "one set of first keys wins"
    );
    let stored = store.oidc_signing_keys(&a, 10).await.unwrap();
    assert_eq!(stored.len(), 2);
    for k in &stored {
        let parsed = SigningKey::from_pkcs8(k.alg, &k.pkcs8).unwrap();
        assert_eq!(parsed.kid(), k.kid, "the key opens and is the one stored");
    }
    assert!(
        store.oidc_signing_keys(&b, 10).await.unwrap().is_empty(),
        "organisation B sees none of A's keys"
    );
    assert!(!store
        .create_first_oidc_keys(&a, &[new_key(Alg::Es256, 20, 20)])
        .await
        .unwrap());

    // Rotation: the new ES256 key is stored, the old one leaves at 500;
    // the RS256 key is untouched.
    let next = new_key(Alg::Es256, 100, 300);
    store.add_oidc_key(&a, &next, 500).await.unwrap();
    let at = |t| {
        let store = store.clone();
        let a = a.clone();
        async move {
            let mut v: Vec<(Alg, String, Option<i64>)> = store
                .oidc_signing_keys(&a, t)
                .await
                .unwrap()
                .into_iter()
                .map(|k| (k.alg, k.kid, k.times.unpublish_at))
                .collect();
            v.sort();
            v
        }
    };
    let during = at(400).await;
    assert_eq!(during.len(), 3);
    assert_eq!(
        during.iter().filter(|k| k.2 == Some(500)).count(),
        1,
        "only the old ES256 key is retired"
    );
    let after = at(500).await;
    assert_eq!(after.len(), 2);
    assert!(after.iter().any(|k| k.1 == next.kid));
}
