use super::*;
use crate::ids::{ClientRowId, OrganisationId};
use crate::oidc::client::ClientKind;
use crate::oidc::jose::Alg;
use std::collections::BTreeSet;

fn client(kind: ClientKind) -> OidcClient {
    OidcClient {
        id: ClientRowId::generate(),
        organisation_id: OrganisationId::generate(),
        client_id: "app".into(),
        name: "App".into(),
        kind,
        secret_hash: None,
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "http://127.0.0.1/native".into(),
        ],
        grants: [GrantType::AuthorizationCode].into(),
        scopes: ["openid", "profile", "email"].map(str::to_owned).into(),
        audience: None,
        signing_alg: Alg::Es256,
        first_party: true,
        groups: BTreeSet::new(),
        access: crate::access::ServiceAccess::default(),
    }
}

const CHALLENGE: &str = "8ZD05L8yRMnCvdz3mVPYHYKdP--Fn7rmqF9uhvJ_6-w";

fn base() -> Vec<(String, String)> {
    [
        ("client_id", "app"),
        ("redirect_uri", "https://app.example/cb"),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "s1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

fn with(mut p: Vec<(String, String)>, k: &str, v: &str) -> Vec<(String, String)> {
    p.retain(|(n, _)| n != k);
    p.push((k.to_owned(), v.to_owned()));
    p
}

fn run(c: &OidcClient, p: &[(String, String)]) -> Result<AuthRequest, Refusal> {
    parse(p, |id| (id == c.client_id).then_some(c))
}

fn app_error(r: Result<AuthRequest, Refusal>) -> &'static str {
    match r {
        Err(Refusal::ToApp(e)) => {
            assert_eq!(e.redirect_uri, "https://app.example/cb");
            e.error
        }
        other => panic!("expected an error for the app, got {other:?}"),
    }
}

#[test]
fn a_good_request_keeps_what_was_asked_for_and_allowed() {
    let c = client(ClientKind::Confidential);
    let p = with(
        with(base(), "scope", "openid email phone address profile"),
        "nonce",
        "n-1",
    );
    let r = run(&c, &with(p, "ui_locales", "en-GB sv")).unwrap();
    assert_eq!(r.scope, ["email", "openid", "profile"]);
    assert_eq!(r.nonce.as_deref(), Some("n-1"));
    assert_eq!(r.state.as_deref(), Some("s1"));
    assert_eq!(r.ui_locale.as_deref(), Some("en"));
    assert_eq!(r.code_challenge.as_deref(), Some(CHALLENGE));
    // Unknown parameters (display, claims_locales, acr_values…) are ignored.
    let p = with(with(base(), "display", "popup"), "acr_values", "x");
    assert!(run(&c, &with(p, "whatever", "1")).is_ok());
}

#[test]
fn until_the_redirect_uri_is_trusted_nothing_is_sent_to_it() {
    let c = client(ClientKind::Confidential);
    let page = |r| match r {
        Err(Refusal::Page(e)) => e,
        other => panic!("expected a page, got {other:?}"),
    };
    let mut no_client = base();
    no_client.retain(|(k, _)| k != "client_id");
    assert_eq!(page(run(&c, &no_client)), PageError::MissingClient);
    assert_eq!(
        page(run(&c, &with(base(), "client_id", "other"))),
        PageError::UnknownClient
    );
    for bad in [
        "https://evil.example/cb",
        "https://app.example/cb/",
        "https://app.example/cb?x=1",
        "https://APP.example/cb",
        "http://app.example/cb",
        "https://app.example/c",
    ] {
        assert_eq!(
            page(run(&c, &with(base(), "redirect_uri", bad))),
            PageError::RedirectUri,
            "{bad}"
        );
    }
    let mut twice = base();
    twice.push(("redirect_uri".into(), "https://evil.example/cb".into()));
    assert_eq!(page(run(&c, &twice)), PageError::RedirectUri);
    let mut no_redirect = base();
    no_redirect.retain(|(k, _)| k != "redirect_uri");
    assert_eq!(page(run(&c, &no_redirect)), PageError::RedirectUri);
    let mut service = client(ClientKind::Confidential);
    service.grants = [GrantType::ClientCredentials].into();
    assert_eq!(page(run(&service, &base())), PageError::NotForSignIn);
}

#[test]
fn loopback_redirects_may_use_any_port() {
    let c = client(ClientKind::Confidential);
    for ok in ["http://127.0.0.1/native", "http://127.0.0.1:51234/native"] {
        assert!(run(&c, &with(base(), "redirect_uri", ok)).is_ok(), "{ok}");
    }
    for bad in [
        "http://127.0.0.1:51234/other",
        "http://localhost:51234/native",
        "http://127.0.0.2/native",
    ] {
        assert!(
            matches!(
                run(&c, &with(base(), "redirect_uri", bad)),
                Err(Refusal::Page(_))
            ),
            "{bad}"
        );
    }
}

#[test]
fn after_that_errors_go_to_the_app() {
    let c = client(ClientKind::Confidential);
    let mut no_type = base();
    no_type.retain(|(k, _)| k != "response_type");
    assert_eq!(app_error(run(&c, &no_type)), "invalid_request");
    assert_eq!(
        app_error(run(&c, &with(base(), "response_type", "token"))),
        "unsupported_response_type"
    );
    assert_eq!(
        app_error(run(&c, &with(base(), "response_type", "code id_token"))),
        "unsupported_response_type"
    );
    assert_eq!(
        app_error(run(&c, &with(base(), "scope", "profile"))),
        "invalid_scope"
    );
    assert_eq!(
        app_error(run(&c, &with(base(), "request", "eyJ"))),
        "request_not_supported"
    );
    assert_eq!(
        app_error(run(&c, &with(base(), "request_uri", "https://x"))),
        "request_uri_not_supported"
    );
    assert_eq!(
        app_error(run(&c, &with(base(), "prompt", "none login"))),
        "invalid_request"
    );
    assert_eq!(
        app_error(run(&c, &with(base(), "max_age", "-1"))),
        "invalid_request"
    );
    assert_eq!(
        app_error(run(&c, &with(base(), "nonce", &"n".repeat(600)))),
        "invalid_request"
    );
    assert_eq!(
        app_error(run(&c, &with(base(), "response_mode", "fragment"))),
        "invalid_request"
    );
    let mut dup = base();
    dup.push(("scope".into(), "openid".into()));
    assert_eq!(app_error(run(&c, &dup)), "invalid_request");
}

#[test]
fn pkce_is_s256_only_and_required_for_every_client() {
    let without = |mut p: Vec<(String, String)>| {
        p.retain(|(k, _)| !k.starts_with("code_challenge"));
        p
    };
    for kind in [ClientKind::Public, ClientKind::Confidential] {
        assert_eq!(
            app_error(run(&client(kind), &without(base()))),
            "invalid_request",
            "{kind:?}"
        );
    }
    let public = client(ClientKind::Public);
    let p = with(without(base()), "code_challenge", CHALLENGE);
    assert_eq!(
        app_error(run(
            &public,
            &with(p.clone(), "code_challenge_method", "plain")
        )),
        "invalid_request"
    );
    assert_eq!(
        app_error(run(&public, &p)),
        "invalid_request",
        "the default method is plain"
    );
    let short = with(
        with(without(base()), "code_challenge", "short"),
        "code_challenge_method",
        "S256",
    );
    assert_eq!(app_error(run(&public, &short)), "invalid_request");
    let r = run(&public, &with(p, "code_challenge_method", "S256")).unwrap();
    assert_eq!(r.code_challenge.as_deref(), Some(CHALLENGE));
    // The challenge is base64url(SHA-256(verifier)).
    assert!(pkce_matches(
        CHALLENGE,
        "dBjftJeZ4CVP-mA92FGQlmqGZjjqu_GHQd1LiWuhdfD"
    ));
    assert!(!pkce_matches(
        CHALLENGE,
        "dBjftJeZ4CVP-mA92FGQlmqGZjjqu_GHQd1LiWuhdfE"
    ));
    assert!(!pkce_matches(CHALLENGE, CHALLENGE));
    // RFC 7636 Appendix B (SECURITY.md D2).
    assert!(pkce_matches(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    ));
}
