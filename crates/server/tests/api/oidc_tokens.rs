//! Issue 13, increment 2: clients from the organisation file, the
//! `client_credentials` grant and introspection, and everything they must
//! refuse (RFC 6749 §5.2, RFC 7662, RFC 9068; SECURITY.md D7, C1).

use crate::helpers::START;
use crate::oidc_helpers::*;
use base64::Engine;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::JsonWebKey;
use portvakt_core::store_suite::sample_org;
use serde_json::{json, Value};

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn segments(token: &str) -> (Value, Value) {
    let mut p = token.split('.');
    let h = serde_json::from_slice(&b64(p.next().unwrap())).unwrap();
    let c = serde_json::from_slice(&b64(p.next().unwrap())).unwrap();
    (h, c)
}

/// Verifies a token's signature with the `openidconnect` crate's JWK code
/// against the published JWK Set: an implementation that is not ours.
async fn verify_independently(o: &OidcApp, token: &str) -> Value {
    let (_, _, jwks) = o.get_json(&format!("{}/jwks", o.issuer)).await;
    let set: CoreJsonWebKeySet = serde_json::from_value(jwks).unwrap();
    let (header, claims) = segments(token);
    let kid = header["kid"].as_str().unwrap();
    let key = set
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
        .expect("the token's kid is published");
    let alg = match header["alg"].as_str().unwrap() {
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        other => panic!("unexpected alg {other}"),
    };
    let (signed, sig) = token.rsplit_once('.').unwrap();
    key.verify_signature(&alg, signed.as_bytes(), &b64(sig))
        .expect("signature verifies");
    claims
}

async fn with_clients() -> (OidcApp, String) {
    let o = spawn_oidc("").await;
    let printed = apply_file(&o.app, &org_file(ORG, &service_clients()))
        .await
        .unwrap();
    let generated = printed_secret(&printed, "rapporter");
    (o, generated)
}

#[tokio::test]
async fn client_credentials_issues_signed_rfc9068_access_tokens() {
    let (o, generated) = with_clients().await;
    // client_secret_basic, ES256.
    let (status, headers, body) = o
        .post_form(
            "token",
            Some(("lonesystem", SERVICE_SECRET)),
            &[("grant_type", "client_credentials"), ("scope", "lon:read")],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "lon:read");
    let token = body["access_token"].as_str().unwrap();
    let (header, _) = segments(token);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    let claims = verify_independently(&o, token).await;
    assert_eq!(claims["iss"], o.issuer);
    assert_eq!(claims["sub"], "lonesystem");
    assert_eq!(claims["client_id"], "lonesystem");
    assert_eq!(claims["aud"], "https://lon.exempelkommun.se");
    assert_eq!(claims["exp"], START + 300);
    assert_eq!(claims["iat"], START);
    assert!(claims["jti"].as_str().unwrap().len() >= 22);

    // client_secret_post with the generated secret, RS256, default scope.
    let (status, _, body) = o
        .post_form(
            "token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "rapporter"),
                ("client_secret", &generated),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "rapport:read");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(segments(token).0["alg"], "RS256");
    let claims = verify_independently(&o, token).await;
    assert_eq!(
        claims["aud"], "rapporter",
        "the client itself without an audience"
    );

    // Another app of the same organisation learns nothing of it (C5)...
    let (status, _, intro) = o
        .post_form(
            "introspect",
            Some(("lonesystem", SERVICE_SECRET)),
            &[("token", token)],
        )
        .await;
    assert_eq!((status, intro), (200, json!({"active": false})));
    // ... the client it was issued to does.
    let (status, _, intro) = o
        .post_form(
            "introspect",
            Some(("rapporter", &generated)),
            &[("token", token)],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(intro["active"], true);
    assert_eq!(intro["client_id"], "rapporter");
    assert_eq!(intro["scope"], "rapport:read");
    assert_eq!(intro["iss"], o.issuer);
    // ... and inactive once it has expired.
    o.app.clock.advance(301);
    let (_, _, intro) = o
        .post_form(
            "introspect",
            Some(("rapporter", &generated)),
            &[("token", token)],
        )
        .await;
    assert_eq!(intro, json!({"active": false}));
}

#[tokio::test]
async fn the_token_endpoint_answers_the_oauth_error_for_each_mistake() {
    let (o, _) = with_clients().await;
    let cc = [("grant_type", "client_credentials")];
    let lon = Some(("lonesystem", SERVICE_SECRET));
    type Case<'a> = (
        &'a str,
        Option<(&'a str, &'a str)>,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "wrong secret",
            Some(("lonesystem", "fel")),
            cc.to_vec(),
            401,
            "invalid_client",
        ),
        (
            "unknown client",
            Some(("okand", SERVICE_SECRET)),
            cc.to_vec(),
            401,
            "invalid_client",
        ),
        (
            "no authentication",
            None,
            cc.to_vec(),
            401,
            "invalid_client",
        ),
        (
            "confidential client naming itself only",
            None,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "lonesystem"),
            ],
            401,
            "invalid_client",
        ),
        (
            "two methods",
            lon,
            vec![
                ("grant_type", "client_credentials"),
                ("client_secret", SERVICE_SECRET),
            ],
            400,
            "invalid_request",
        ),
        (
            "client_id differs from Basic",
            lon,
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "rapporter"),
            ],
            400,
            "invalid_request",
        ),
        ("no grant_type", lon, vec![], 400, "invalid_request"),
        (
            "password grant",
            lon,
            vec![("grant_type", "password")],
            400,
            "unsupported_grant_type",
        ),
        (
            "implicit",
            lon,
            vec![("grant_type", "implicit")],
            400,
            "unsupported_grant_type",
        ),
        (
            "made up",
            lon,
            vec![("grant_type", "x")],
            400,
            "unsupported_grant_type",
        ),
        (
            "person scope",
            lon,
            vec![("grant_type", "client_credentials"), ("scope", "openid")],
            400,
            "invalid_scope",
        ),
        (
            "scope not the client's",
            lon,
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "rapport:read"),
            ],
            400,
            "invalid_scope",
        ),
        (
            "duplicated parameter",
            lon,
            vec![
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
            400,
            "invalid_request",
        ),
    ];
    for (what, auth, fields, status, error) in cases {
        let (s, h, body) = o.post_form("token", auth, &fields).await;
        assert_eq!(
            (s, body["error"].as_str()),
            (status, Some(error)),
            "{what}: {body}"
        );
        assert!(body["error_description"].is_string(), "{what}");
        assert!(body.get("access_token").is_none(), "{what}");
        if status == 401 {
            assert!(
                h["www-authenticate"].to_str().unwrap().starts_with("Basic"),
                "{what}"
            );
        }
    }
    // Not a form; far too large; a Basic header that is not base64.
    let url = format!("{}/token", o.issuer);
    let http = reqwest::Client::new();
    let r = http
        .post(&url)
        .basic_auth("lonesystem", Some(SERVICE_SECRET))
        .header("content-type", "application/json")
        .body(json!({"grant_type": "client_credentials"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let big = "x".repeat(20_000);
    let r = http
        .post(&url)
        .basic_auth("lonesystem", Some(SERVICE_SECRET))
        .form(&[("grant_type", "client_credentials"), ("scope", &big)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["error"], "invalid_request");
    let r = http
        .post(&url)
        .header("authorization", "Basic ***")
        .form(&cc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn another_organisations_tokens_and_forged_tokens_are_inactive() {
    let (o, _) = with_clients().await;
    // Organisation B, with its own client.
    let b_clients = service_clients().replace("lonesystem", "b-lon");
    apply_file(&o.app, &org_file("grannkommun", &b_clients))
        .await
        .unwrap();
    let b = o.issuer.replace(ORG, "grannkommun");
    let r = reqwest::Client::new()
        .post(format!("{b}/token"))
        .basic_auth("b-lon", Some(SERVICE_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b_token: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    let b_token = b_token["access_token"].as_str().unwrap().to_owned();
    // B's client does not exist at A, and A's client not at B.
    let (s, _, _) = o
        .post_form(
            "token",
            Some(("b-lon", SERVICE_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(s, 401);

    let (_, _, mine) = o
        .post_form(
            "token",
            Some(("lonesystem", SERVICE_SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    let mine = mine["access_token"].as_str().unwrap().to_owned();
    let (h, c) = segments(&mine);
    let enc = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let sig = mine.rsplit('.').next().unwrap();
    let mut none = h.clone();
    none["alg"] = json!("none");
    let mut hs = h.clone();
    hs["alg"] = json!("HS256");
    let mut jwk = h.clone();
    jwk["jwk"] = json!({"kty": "oct", "k": "AAAA"});
    let mut escalated = c.clone();
    escalated["scope"] = json!("lon:read lon:write admin");
    let mut flipped = b64(sig);
    flipped[3] ^= 0x40;
    let flipped = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(flipped);
    let forged = [
        ("organisation B's token", b_token.clone()),
        ("alg none", format!("{}.{}.", enc(&none), enc(&c))),
        ("HS256", format!("{}.{}.{sig}", enc(&hs), enc(&c))),
        ("embedded jwk", format!("{}.{}.{sig}", enc(&jwk), enc(&c))),
        (
            "changed claims",
            format!("{}.{}.{sig}", enc(&h), enc(&escalated)),
        ),
        (
            "flipped signature",
            format!("{}.{}.{flipped}", enc(&h), enc(&c)),
        ),
        ("garbage", "not.a.token".into()),
        ("empty segments", "..".into()),
    ];
    for (what, token) in &forged {
        let (s, _, intro) = o
            .post_form(
                "introspect",
                Some(("lonesystem", SERVICE_SECRET)),
                &[("token", token)],
            )
            .await;
        assert_eq!(
            (s, intro.clone()),
            (200, json!({"active": false})),
            "{what}"
        );
    }
    let (_, _, ok) = o
        .post_form(
            "introspect",
            Some(("lonesystem", SERVICE_SECRET)),
            &[("token", &mine)],
        )
        .await;
    assert_eq!(ok["active"], true, "the untouched token is active");
    // At B, A's token is inactive too.
    let r = reqwest::Client::new()
        .post(format!("{b}/introspect"))
        .basic_auth("b-lon", Some(SERVICE_SECRET))
        .form(&[("token", mine.as_str())])
        .send()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v, json!({"active": false}));
}

#[tokio::test]
async fn client_endpoints_refuse_anonymous_callers() {
    let (o, _) = with_clients().await;
    let table = portvakt_server::http::router::route_table();
    let client_routes: Vec<_> = table
        .iter()
        .filter(|r| r.access == portvakt_server::http::router::Access::Client)
        .collect();
    assert!(client_routes.len() >= 2);
    for r in client_routes {
        let path = r.path.replace("{org}", ORG);
        let url = format!("http://{}{path}", o.app.addr);
        let resp = reqwest::Client::new()
            .post(&url)
            .form(&[("token", "x"), ("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 401, "{path}");
        assert!(resp.headers().get("set-cookie").is_none());
        let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        assert_eq!(v["error"], "invalid_client", "{path}");
    }
    for r in table
        .iter()
        .filter(|r| r.access == portvakt_server::http::router::Access::Bearer)
    {
        let url = format!("http://{}{}", o.app.addr, r.path.replace("{org}", ORG));
        let resp = match r.method {
            "GET" => reqwest::Client::new().get(&url).send().await.unwrap(),
            _ => reqwest::Client::new()
                .post(&url)
                .form(&[("x", "y")])
                .send()
                .await
                .unwrap(),
        };
        assert_eq!(resp.status(), 401, "{} {url}", r.method);
        let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        assert_eq!(v["error"], "invalid_token");
    }
}

#[tokio::test]
async fn apply_shows_a_generated_secret_once_keeps_it_and_removes_dropped_clients() {
    let o = spawn_oidc("").await;
    let file = org_file(ORG, &service_clients());
    let first = apply_file(&o.app, &file).await.unwrap();
    let secret = printed_secret(&first, "rapporter");
    assert_eq!(secret.len(), 43);
    assert!(first
        .iter()
        .any(|l| l == "create client exempelkommun/lonesystem"));
    let again = apply_file(&o.app, &file).await.unwrap();
    assert!(
        again.is_empty(),
        "nothing changes and no secret is shown: {again:?}"
    );
    // The first secret still works.
    let ok = |id: &'static str, s: String| {
        let o = &o;
        async move {
            o.post_form(
                "token",
                Some((id, &s)),
                &[("grant_type", "client_credentials")],
            )
            .await
            .0
        }
    };
    o.app.clock.advance(2); // past the issuer cache
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(ok("rapporter", secret.clone()).await, 200);
    // Dropped from the file: removed, and its secret no longer works.
    let only_lon = service_clients();
    let only_lon = &only_lon[..only_lon
        .find("[[organisation.client]]\nclient_id = \"rapporter\"")
        .unwrap()];
    let removed = apply_file(&o.app, &org_file(ORG, only_lon)).await.unwrap();
    assert_eq!(removed, ["remove client exempelkommun/rapporter"]);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(ok("rapporter", secret).await, 401);
    assert_eq!(ok("lonesystem", SERVICE_SECRET.into()).await, 200);
    let _ = sample_org;
}

#[tokio::test]
async fn apply_refuses_unsafe_clients_with_the_line_and_reason() {
    let o = spawn_oidc("").await;
    let bad = r#"
[[organisation.client]]
client_id = "gammal"
name = "Gammal app"
grants = ["implicit", "password"]
redirect_uris = ["http://app.exempelkommun.se/cb", "https://app.exempelkommun.se/cb#x"]
groups = ["ovrig-personal"]

[[organisation.client]]
client_id = "spa"
name = "Webbapp"
kind = "public"
grants = ["authorization_code", "client_credentials"]
redirect_uris = ["https://spa.exempelkommun.se/cb"]
client_secret_hash = "sha256:00"
signing_alg = "HS256"

[[organisation.client]]
client_id = "X"
name = "Fel id"
grants = ["client_credentials"]
"#;
    let err = apply_file(&o.app, &org_file(ORG, bad)).await.unwrap_err();
    for expected in [
        "client[0].grants: not offered: the implicit and password grants are unsafe",
        "client[0].redirect_uris: must be https://",
        "client[0].redirect_uris: must not contain a fragment",
        "client[1].grants: a public client cannot use client_credentials",
        "client[1].client_secret_hash: a public client has no secret",
        "client[1].signing_alg: use \"ES256\" or \"RS256\"",
        "client[1].groups: name the groups",
        "client[2].client_id: 3–64 characters",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    let org = o
        .app
        .store
        .organisation_by_slug(&portvakt_core::domain::Slug::parse(ORG).unwrap())
        .await
        .unwrap()
        .unwrap();
    let ids: Vec<String> = o
        .app
        .store
        .oidc_clients(&org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(
        ids,
        ["exempel-app"],
        "nothing written beyond the demo's sample app"
    );
}
