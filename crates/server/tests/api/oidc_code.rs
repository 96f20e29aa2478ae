//! Issue 13: the authorization code flow with an independent relying party
//! (the `openidconnect` crate), and everything the flow must refuse
//! (acceptance 1c and 2; RFC 6749, RFC 7636, RFC 9700, OpenID Connect Core).

use crate::helpers::{ANNA, ANNA_PW, ERIK_PW};
use crate::oidc_helpers::*;
use openidconnect::core::{
    CoreClient, CoreIdTokenVerifier, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{json, Value};

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs Anna in and follows `/authorize` to the app's redirect; returns
/// the query the app receives.
async fn authorize(
    o: &OidcApp,
    browser: &crate::helpers::Client,
    url: &str,
) -> std::collections::HashMap<String, String> {
    let r = browser.http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 303, "{url}");
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with(REDIRECT), "sent to the app: {loc}");
    let q = query_of(&loc);
    assert_eq!(q["iss"], o.issuer, "RFC 9207 iss");
    q
}

async fn code_flow_with(client_id: &str, alg: CoreJwsSigningAlgorithm) {
    let o = with_code_clients().await;
    use_real_time(&o);
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(o.issuer.clone()).unwrap(), &http())
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(client_id.into()),
        Some(ClientSecret::new(SERVICE_SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            AuthenticationFlow::<openidconnect::core::CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("groups".into()))
        .set_pkce_challenge(challenge)
        .url();
    let q = authorize(&o, &browser, url.as_str()).await;
    assert_eq!(&q["state"], state.secret());
    let tokens = client
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .expect("the token endpoint answers the code");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier: CoreIdTokenVerifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![alg.clone()]);
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("ID token verifies");
    assert_eq!(claims.issuer().as_str(), o.issuer);
    let (_, anna) = o.app.org_and_user(ANNA).await;
    assert_eq!(claims.subject().as_str(), anna.id.as_str());
    assert_eq!(claims.email().unwrap().as_str(), ANNA);
    assert_eq!(
        claims.name().unwrap().get(None).unwrap().as_str(),
        "Anna Andersson"
    );
    assert!(claims.expiration() <= claims.issue_time() + chrono::TimeDelta::seconds(300));
    assert!(claims.auth_time().is_some());
    let amr: Vec<String> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(amr, ["pwd"]);
    assert_eq!(
        claims.auth_context_ref().unwrap().as_str(),
        "urn:portvakt:acr:pwd"
    );
    let hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&hash));
    // userinfo, by the same client library.
    let info: openidconnect::core::CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http())
        .await
        .expect("userinfo");
    assert_eq!(info.subject().as_str(), anna.id.as_str());
    assert_eq!(info.email().unwrap().as_str(), ANNA);
    // Refresh: a new pair; the old refresh token is then worthless.
    let refresh = tokens.refresh_token().expect("a refresh token").clone();
    let again = client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http())
        .await
        .expect("refresh");
    assert_ne!(again.refresh_token().unwrap().secret(), refresh.secret());
    assert!(client
        .exchange_refresh_token(&refresh)
        .unwrap()
        .request_async(&http())
        .await
        .is_err());
}

#[tokio::test]
async fn code_flow_with_openidconnect_es256() {
    code_flow_with("intranat", CoreJwsSigningAlgorithm::EcdsaP256Sha256).await;
}

#[tokio::test]
async fn code_flow_with_openidconnect_rs256() {
    code_flow_with("rs-app", CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256).await;
}

/// An authorization URL with PKCE (the fixed verifier) unless `extra`
/// brings its own `code_challenge…` parameters.
fn authorize_url(o: &OidcApp, client_id: &str, extra: &[(&str, &str)]) -> String {
    let own_pkce = extra.iter().any(|(k, _)| k.starts_with("code_challenge"));
    let mut q = form_urlencoded::Serializer::new(String::new());
    if !own_pkce {
        q.append_pair("code_challenge", CHALLENGE)
            .append_pair("code_challenge_method", "S256");
    }
    q.append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile")
        .append_pair("state", "st-1")
        .append_pair("nonce", "no-1");
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("{}/authorize?{}", o.issuer, q.finish())
}

async fn token_call(o: &OidcApp, client: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let (s, _, b) = o
        .post_form("token", Some((client, SERVICE_SECRET)), fields)
        .await;
    (s, b)
}

async fn code_for(o: &OidcApp, browser: &crate::helpers::Client, client: &str) -> String {
    authorize(o, browser, &authorize_url(o, client, &[])).await["code"].clone()
}

async fn redeem(o: &OidcApp, client: &str, code: &str) -> (u16, Value) {
    token_call(
        o,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

async fn userinfo_status(o: &OidcApp, at: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/userinfo", o.issuer))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_a_page_and_never_a_redirect() {
    let o = with_code_clients().await;
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    for url in [
        authorize_url(&o, "intranat", &[]).replace("127.0.0.1%2Fcb", "127.0.0.1%2Fevil"),
        authorize_url(&o, "intranat", &[])
            .replace("http%3A%2F%2F127.0.0.1", "https%3A%2F%2Fevil.example"),
        authorize_url(&o, "okand", &[]),
        format!("{}/authorize?response_type=code&scope=openid", o.issuer),
        authorize_url(
            &o,
            "intranat",
            &[("redirect_uri", "https://evil.example/cb")],
        ),
    ] {
        let r = browser.http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 400, "{url}");
        assert!(r.headers().get("location").is_none(), "{url}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Inloggningen till appen kan inte fortsätta"),
            "{url}"
        );
        assert!(!body.contains("evil.example/cb\""), "{url}");
    }
}

#[tokio::test]
async fn pkce_is_required_for_every_client_and_plain_is_refused() {
    let o = with_code_clients().await;
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    let native = |extra: &[(&str, &str)]| {
        authorize_url(&o, "mobilapp", extra).replace("127.0.0.1%2Fcb", "127.0.0.1%2Fnative")
    };
    for (what, url) in [
        // (An empty parameter counts as absent.)
        ("no PKCE", native(&[("code_challenge_method", "")])),
        (
            "no PKCE, confidential client",
            authorize_url(&o, "intranat", &[("code_challenge_method", "")]),
        ),
        (
            "plain",
            native(&[
                ("code_challenge", &"a".repeat(43)),
                ("code_challenge_method", "plain"),
            ]),
        ),
    ] {
        let r = browser.http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 303, "{what}");
        let q = query_of(r.headers()["location"].to_str().unwrap());
        assert_eq!(q["error"], "invalid_request", "{what}");
        assert_eq!(q["state"], "st-1", "{what}");
        assert!(!q.contains_key("code"), "{what}");
    }
    // With S256: a public client redeems with the verifier and no secret;
    // a wrong verifier burns the code.
    let verifier = "v".repeat(50);
    let challenge = {
        use sha2::Digest;
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            sha2::Sha256::digest(verifier.as_bytes()),
        )
    };
    let url = native(&[
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let r = browser.http.get(&url).send().await.unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with("http://127.0.0.1/native?"), "{loc}");
    let code = query_of(&loc)["code"].clone();
    let public = |code: String, v: String| {
        let o = &o;
        async move {
            let (s, _, b) = o
                .post_form(
                    "token",
                    None,
                    &[
                        ("grant_type", "authorization_code"),
                        ("client_id", "mobilapp"),
                        ("code", &code),
                        ("redirect_uri", "http://127.0.0.1/native"),
                        ("code_verifier", &v),
                    ],
                )
                .await;
            (s, b)
        }
    };
    let (s, b) = public(code.clone(), "w".repeat(50)).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    let (s, _) = public(code, verifier.clone()).await;
    assert_eq!(s, 400, "a wrong verifier burnt the code");
    let r = browser.http.get(&url).send().await.unwrap();
    let code = query_of(r.headers()["location"].to_str().unwrap())["code"].clone();
    let (s, b) = public(code, verifier).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["id_token"].is_string());
}

#[tokio::test]
async fn a_code_works_once_within_60_seconds_for_its_own_client_only() {
    let o = with_code_clients().await;
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    // Reused: refused, and the tokens of the first use are revoked.
    let code = code_for(&o, &browser, "intranat").await;
    let (s, first) = redeem(&o, "intranat", &code).await;
    assert_eq!(s, 200, "{first}");
    let at = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&o, at).await, 200);
    let (s, again) = redeem(&o, "intranat", &code).await;
    assert_eq!((s, again["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(userinfo_status(&o, at).await, 401, "first tokens revoked");
    let (s, b) = token_call(
        &o,
        "intranat",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    let (_, _, intro) = o
        .post_form(
            "introspect",
            Some(("intranat", SERVICE_SECRET)),
            &[("token", at)],
        )
        .await;
    assert_eq!(intro, json!({"active": false}));
    // Older than 60 s.
    let code = code_for(&o, &browser, "intranat").await;
    o.app.clock.advance(61);
    let (s, b) = redeem(&o, "intranat", &code).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    // Shown by another client of the same organisation: refused, and burnt.
    let code = code_for(&o, &browser, "intranat").await;
    let (s, b) = redeem(&o, "rs-app", &code).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    let (s, _) = redeem(&o, "intranat", &code).await;
    assert_eq!(s, 400);
    // A wrong redirect_uri at the token endpoint.
    let code = code_for(&o, &browser, "intranat").await;
    let (s, _) = token_call(
        &o,
        "intranat",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1/other"),
        ],
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn fifty_parallel_redemptions_have_one_winner() {
    let o = with_code_clients().await;
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    let code = code_for(&o, &browser, "intranat").await;
    let o = std::sync::Arc::new(o);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (o, code) = (o.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            redeem(&o, "intranat", &code).await.0
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            400 => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_the_grant() {
    let o = with_code_clients().await;
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    let code = code_for(&o, &browser, "intranat").await;
    let (_, first) = redeem(&o, "intranat", &code).await;
    let r0 = first["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |rt: String| {
        let o = &o;
        async move {
            token_call(
                o,
                "intranat",
                &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
            )
            .await
        }
    };
    let (s, second) = refresh(r0.clone()).await;
    assert_eq!(s, 200, "{second}");
    let r1 = second["refresh_token"].as_str().unwrap().to_owned();
    let at1 = second["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo_status(&o, &at1).await, 200);
    // Another client cannot use it.
    let (s, _) = token_call(
        &o,
        "rs-app",
        &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
    )
    .await;
    assert_eq!(s, 400);
    // The old one again: the grant ends, with every token of it.
    let (s, b) = refresh(r0).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(userinfo_status(&o, &at1).await, 401);
    let (s, _) = refresh(r1).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn rules_prompt_none_and_consent() {
    let o = with_code_clients().await;
    // prompt=none without a session: login_required, sent to the app.
    let anon = o.app.client();
    let r = anon
        .http
        .get(authorize_url(&o, "intranat", &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(
        (q["error"].as_str(), q["state"].as_str()),
        ("login_required", "st-1")
    );
    // Without prompt=none: to the sign-in page, then back to the app.
    let r = anon
        .http
        .get(authorize_url(&o, "intranat", &[]))
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        loc.starts_with("/login?rd=/oidc/exempelkommun/continue/"),
        "{loc}"
    );
    // An app's login_hint is filled in on the sign-in page (and escaped).
    let r = anon
        .http
        .get(authorize_url(
            &o,
            "intranat",
            &[("login_hint", "anna\"><b>x")],
        ))
        .send()
        .await
        .unwrap();
    let with_hint = r.headers()["location"].to_str().unwrap().to_owned();
    let page = anon.get(&with_hint).await;
    assert!(
        page.body.contains("value=\"anna&#34;&#62;&#60;b&#62;x\""),
        "{}",
        page.body
    );
    anon.get(&loc).await;
    let signed = anon.sign_in(ANNA, ANNA_PW).await;
    let back = signed.location.unwrap();
    assert!(back.starts_with("/oidc/exempelkommun/continue/"), "{back}");
    // After the sign-in form, the way back is a page that goes on at once.
    let page = anon.get(&back).await;
    assert_eq!(page.status, 200);
    let q = query_of(&return_page_target(&page.body));
    assert!(q.contains_key("code"));
    // Answered once: the same waiting request gives no second code.
    let replay = anon.get(&back).await;
    assert_eq!(replay.status, 400);
    assert!(replay.body.contains("har gått ut"), "{}", replay.body);
    assert_eq!(
        q.get("state").map(String::as_str),
        Some("st-1"),
        "{}",
        page.body
    );
    // A group rule: Anna is not a teacher.
    let r = anon
        .http
        .get(authorize_url(&o, "lararappen", &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        query_of(r.headers()["location"].to_str().unwrap())["error"],
        "access_denied"
    );
    let r = anon
        .http
        .get(authorize_url(&o, "lararappen", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Du kan inte logga in i appen just nu"),
        "{page}"
    );
    assert!(page.contains("error=access_denied"));
    // A method rule with no factor to step up with: said so, no dead end.
    let r = anon
        .http
        .get(authorize_url(&o, "stark", &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        query_of(r.headers()["location"].to_str().unwrap())["error"],
        "interaction_required"
    );
    let r = anon
        .http
        .get(authorize_url(&o, "stark", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Lägg till en andra inloggningsmetod"));
    // Consent for an app that is not the organisation's own.
    let r = anon
        .http
        .get(authorize_url(&o, "extern", &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        query_of(r.headers()["location"].to_str().unwrap())["error"],
        "consent_required"
    );
    let page = anon
        .get(&authorize_url(&o, "extern", &[]).replace(&anon.base, ""))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("ditt namn och användarnamn"),
        "{}",
        page.body
    );
    // The app may ask for English (ui_locales) when the person chose nothing.
    let english = anon
        .get(&authorize_url(&o, "extern", &[("ui_locales", "en-GB sv")]).replace(&anon.base, ""))
        .await;
    assert!(
        english.body.contains("your name and user name"),
        "{}",
        english.body
    );
    assert!(english.body.contains("lang=\"en\""));
    let request = page.body.split("name=\"request\" value=\"").nth(1).unwrap()[..43].to_owned();
    let csrf = crate::helpers::csrf_from(&page.body);
    let r = anon
        .post_raw(
            "/oidc/exempelkommun/consent",
            &[
                ("csrf", &csrf),
                ("request", &request),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(query_of(&return_page_target(&r.body)).contains_key("code"));
    // Remembered: no page the next time.
    let r = anon
        .http
        .get(authorize_url(&o, "extern", &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    assert!(query_of(r.headers()["location"].to_str().unwrap()).contains_key("code"));
    // Erik, a teacher, may use the teachers' app.
    let erik = o.app.client();
    erik.sign_in("erik.larsson@exempelkommun.se", ERIK_PW).await;
    let r = erik
        .http
        .get(authorize_url(&o, "lararappen", &[]))
        .send()
        .await
        .unwrap();
    assert!(query_of(r.headers()["location"].to_str().unwrap()).contains_key("code"));
}

#[tokio::test]
async fn forged_tokens_are_refused_at_userinfo() {
    let o = with_code_clients().await;
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    let code = code_for(&o, &browser, "intranat").await;
    let (_, t) = redeem(&o, "intranat", &code).await;
    let at = t["access_token"].as_str().unwrap();
    let id = t["id_token"].as_str().unwrap();
    let (h, c, _) = {
        let mut p = at.split('.');
        (
            p.next().unwrap().to_owned(),
            p.next().unwrap().to_owned(),
            p.next().unwrap().to_owned(),
        )
    };
    let none = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        br#"{"alg":"none","typ":"at+jwt"}"#,
    );
    let (_, cc) = token_call(&o, "lonesystem", &[("grant_type", "client_credentials")]).await;
    for (what, token) in [
        ("alg none", format!("{none}.{c}.")),
        (
            "signature of another token",
            format!("{h}.{c}.{}", id.rsplit('.').next().unwrap()),
        ),
        ("an ID token", id.to_owned()),
        (
            "a service's token",
            cc["access_token"].as_str().unwrap().to_owned(),
        ),
        ("garbage", "x".into()),
    ] {
        assert_eq!(userinfo_status(&o, &token).await, 401, "{what}");
    }
    assert_eq!(userinfo_status(&o, at).await, 200);
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", o.issuer))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    // POST with the token in the header, and in the body (RFC 6750 §2.1, §2.2).
    let r = reqwest::Client::new()
        .post(format!("{}/userinfo", o.issuer))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = reqwest::Client::new()
        .post(format!("{}/userinfo", o.issuer))
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Revocation by the app (RFC 7009) ends the grant.
    let (s, _, _) = o
        .post_form(
            "revoke",
            Some(("intranat", SERVICE_SECRET)),
            &[("token", t["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(userinfo_status(&o, at).await, 401);
}

#[tokio::test]
async fn the_authorization_request_may_come_by_form_post() {
    let o = with_code_clients().await;
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    let url = authorize_url(&o, "intranat", &[]);
    let (endpoint, query) = url.split_once('?').unwrap();
    // From the app's page: another origin, no CSRF token of ours.
    let r = browser
        .http
        .post(endpoint)
        .header("origin", "https://intranat.exempelkommun.se")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert!(q.contains_key("code"), "{q:?}");
    assert_eq!(q["state"], "st-1");
    // Only the authorization endpoint is spared the CSRF check.
    let r = browser
        .http
        .post(format!("{}/consent", o.issuer))
        .header("origin", "https://intranat.exempelkommun.se")
        .header("sec-fetch-site", "cross-site")
        .form(&[("request", "x"), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn prompt_login_and_max_age_ask_for_the_password_again() {
    let o = with_code_clients().await;
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    for extra in [[("prompt", "login")], [("max_age", "0")]] {
        o.app.clock.advance(5);
        let r = browser
            .http
            .get(authorize_url(&o, "intranat", &extra))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            loc.starts_with("/reauth?next=%2Foidc%2Fexempelkommun%2Fcontinue%2F"),
            "{loc}"
        );
        let next = query_of(&loc)["next"].clone();
        let page = browser.get(&loc).await;
        let csrf = crate::helpers::csrf_from(&page.body);
        o.app.clock.advance(5);
        let done = browser
            .post_raw(
                "/reauth",
                &[("csrf", &csrf), ("next", &next), ("password", ANNA_PW)],
            )
            .await;
        assert_eq!(done.location.as_deref(), Some(next.as_str()));
        let back = browser.get(&next).await;
        let q = query_of(&return_page_target(&back.body));
        let (s, t) = redeem(&o, "intranat", &q["code"]).await;
        assert_eq!(s, 200);
        let claims: Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                t["id_token"].as_str().unwrap().split('.').nth(1).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            claims["auth_time"],
            portvakt_core::Clock::now(&o.app.clock),
            "a fresh sign-in"
        );
    }
}

#[tokio::test]
async fn a_step_up_for_an_app_starts_only_from_the_persons_own_form() {
    let o = with_code_clients().await;
    crate::mfa::enrol(&o.app).await;
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    // A GET (which any site can make the browser do) only shows a page.
    let r = browser
        .http
        .get(authorize_url(&o, "stark", &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        !r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("portvakt=")),
        "the session is left as it is"
    );
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Appen kräver en starkare inloggning"),
        "{page}"
    );
    assert!(
        page.contains("error=access_denied"),
        "a way back to the app"
    );
    let request = page.split("name=\"request\" value=\"").nth(1).unwrap()[..43].to_owned();
    // From another site the form is refused (CSRF).
    let cross = browser
        .http
        .post(format!("{}/step-up", o.issuer))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("request", request.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    // The person's own press starts the portal's step-up.
    let csrf = crate::helpers::csrf_from(&page);
    let r = browser
        .post_raw(
            "/oidc/exempelkommun/step-up",
            &[("csrf", &csrf), ("request", &request)],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/login/factor"));
    assert!(r.set_cookies.iter().any(|c| c.starts_with("portvakt=")));
}
