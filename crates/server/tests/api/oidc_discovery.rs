//! Issue 13, increment 1: each organisation's issuer, discovery document
//! and JWK Set, read by an independent client (the `openidconnect` crate).

use crate::helpers::{spawn_app, TempDir};
use crate::oidc_helpers::{spawn_oidc, spawn_oidc_in, ORG};
use openidconnect::core::{CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::IssuerUrl;
use portvakt_core::domain::Slug;
use portvakt_core::store_suite::sample_org;

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn discovery_document_is_complete_and_read_by_openidconnect() {
    let o = spawn_oidc("").await;
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(o.issuer.clone()).unwrap(), &http())
            .await
            .expect("openidconnect accepts the discovery document and the JWK Set");
    assert_eq!(meta.issuer().as_str(), o.issuer);
    assert_eq!(
        meta.token_endpoint().unwrap().as_str(),
        format!("{}/token", o.issuer)
    );
    let algs: Vec<String> = meta
        .id_token_signing_alg_values_supported()
        .iter()
        .map(|a| {
            serde_json::to_value(a)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(algs, ["ES256", "RS256"]);
    assert_eq!(meta.jwks().keys().len(), 2);

    let (status, headers, doc) = o
        .get_json(&format!("{}/.well-known/openid-configuration", o.issuer))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.get("set-cookie").is_none());
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    for implicit in ["implicit", "password"] {
        assert!(!doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == implicit));
    }
}

#[tokio::test]
async fn jwks_publishes_one_es256_and_one_rs256_key_with_thumbprint_kids() {
    let o = spawn_oidc("").await;
    let (status, headers, jwks) = o.get_json(&format!("{}/jwks", o.issuer)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["access-control-allow-origin"], "*");
    let parsed: CoreJsonWebKeySet = serde_json::from_value(jwks.clone()).unwrap();
    assert_eq!(parsed.keys().len(), 2);
    let keys = jwks["keys"].as_array().unwrap();
    let mut algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    algs.sort_unstable();
    assert_eq!(algs, ["ES256", "RS256"]);
    for k in keys {
        assert_eq!(k["use"], "sig");
        assert_eq!(k["kid"].as_str().unwrap().len(), 43, "SHA-256 thumbprint");
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "{private} is never published");
        }
    }
    assert_eq!(
        keys.iter().find(|k| k["kty"] == "EC").unwrap()["crv"],
        "P-256"
    );
}

#[tokio::test]
async fn each_organisation_has_its_own_issuer_and_keys() {
    let o = spawn_oidc("").await;
    let hasher = o.app.hasher.clone();
    let _ = hasher;
    portvakt_server::provisioning::apply_run::apply(
        &*o.app.store,
        &o.app.hasher,
        &[sample_org("grannkommun", "CANARY-G")],
        crate::helpers::START,
        false,
    )
    .await
    .unwrap();
    let other = o.issuer.replace(ORG, "grannkommun");
    let (_, _, a) = o.get_json(&format!("{}/jwks", o.issuer)).await;
    let (_, _, b) = o.get_json(&format!("{other}/jwks")).await;
    let kids = |j: &serde_json::Value| -> Vec<String> {
        j["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(kids(&b).len(), 2);
    assert!(
        kids(&a).iter().all(|k| !kids(&b).contains(k)),
        "no key of organisation A is in organisation B's set"
    );
    let (_, _, doc) = o
        .get_json(&format!("{other}/.well-known/openid-configuration"))
        .await;
    assert_eq!(doc["issuer"], other);
    assert!(doc["jwks_uri"].as_str().unwrap().starts_with(&other));
}

#[tokio::test]
async fn unknown_organisations_and_a_provider_that_is_off_answer_404_json() {
    let o = spawn_oidc("").await;
    let base = o.issuer.trim_end_matches(ORG).to_owned();
    for org in [
        "ingen-sadan",
        "EXEMPELKOMMUN",
        "-x",
        "a.b",
        "a%00b",
        "%C3%A5",
    ] {
        for path in ["/.well-known/openid-configuration", "/jwks"] {
            let (status, _, body) = o.get_json(&format!("{base}{org}{path}")).await;
            assert_eq!(status, 404, "{org}{path}");
            assert_eq!(body["error"], "not_found", "{org}{path}");
        }
    }
    let off = spawn_app().await;
    let r = reqwest::get(off.url(&format!("/oidc/{ORG}/jwks")))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn keys_are_sealed_and_survive_a_restart() {
    let dir = TempDir::new();
    let path = dir.0.clone();
    let o = spawn_oidc_in(dir, "").await;
    let (_, _, before) = o.get_json(&format!("{}/jwks", o.issuer)).await;
    let org = o
        .app
        .store
        .organisation_by_slug(&Slug::parse(ORG).unwrap())
        .await
        .unwrap()
        .unwrap();
    // Without the key file the private keys do not open.
    let url = format!("sqlite://{}", path.join("t.db").display());
    let unsealed = portvakt_store::SqlStore::connect(&url).await.unwrap();
    assert!(portvakt_core::store::OidcKeyStore::oidc_signing_keys(
        &unsealed,
        &org.id,
        crate::helpers::START
    )
    .await
    .is_err());
    // A second server on the same database and key publishes the same keys.
    let key = portvakt_server::app::config::read_key_file(&path.join("secret.key")).unwrap();
    let store = std::sync::Arc::new(
        portvakt_store::SqlStore::connect(&url)
            .await
            .unwrap()
            .with_secret_key(&key),
    );
    let again = portvakt_core::store::OidcKeyStore::oidc_signing_keys(
        &*store,
        &org.id,
        crate::helpers::START,
    )
    .await
    .unwrap();
    let mut kids: Vec<String> = again.iter().map(|k| k.kid.clone()).collect();
    kids.sort();
    let mut published: Vec<String> = before["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    published.sort();
    assert_eq!(kids, published);
}

#[test]
fn the_issuer_must_be_https_and_needs_the_sealing_key() {
    use portvakt_server::app::config::Config;
    let base = "database_url = \"sqlite://x.db\"\nsecret_key_file = \"k\"\n";
    let cfg = |extra: &str| Config::from_toml(&format!("{base}{extra}"), std::iter::empty(), "t");
    assert!(cfg("[oidc]\nissuer_base = \"https://portal.exempelkommun.se\"\n").is_ok());
    assert!(cfg("[oidc]\nissuer_base = \"http://127.0.0.1:8080\"\n").is_ok());
    for bad in [
        "http://portal.exempelkommun.se",
        "https://portal.exempelkommun.se/?x=1",
        "https://user@portal.exempelkommun.se",
        "portal.exempelkommun.se",
    ] {
        let e = cfg(&format!("[oidc]\nissuer_base = \"{bad}\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("oidc.issuer_base"), "{bad}: {e}");
    }
    let e = Config::from_toml(
        "database_url = \"sqlite://x.db\"\n[oidc]\nissuer_base = \"https://p.se\"\n",
        std::iter::empty(),
        "t",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("secret_key_file"), "{e}");
}
