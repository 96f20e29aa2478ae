//! Issue 13 acceptance 1b: authlib (PyPI), a client we did not write, as a
//! confidential client with `client_secret_basic` (and `_post`), verifying
//! tokens with joserfc against the published JWK Set.

use crate::helpers::{ANNA, ANNA_PW};
use crate::oidc_helpers::*;
use serde_json::Value;

/// Runs the script off the runtime's thread: the server under test answers
/// it on the same runtime.
async fn authlib(args: &[&str]) -> Value {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || run_authlib(&args))
        .await
        .unwrap()
}

fn run_authlib(args: &[String]) -> Value {
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/oidc/authlib_client.py"
        ))
        .args(args)
        .output()
        .expect("python3 with authlib and joserfc (scripts/test installs them)");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|_| {
        panic!(
            "authlib_client.py printed no JSON:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test]
async fn authlib_discovers_and_gets_a_client_credentials_token() {
    let o = with_code_clients().await;
    use_real_time(&o);
    let d = authlib(&["discover", "--issuer", &o.issuer]).await;
    assert_eq!(d["ok"], true, "{d}");
    for auth in ["basic", "post"] {
        let r = authlib(&[
            "client_credentials",
            "--issuer",
            &o.issuer,
            "--client-id",
            "lonesystem",
            "--client-secret",
            SERVICE_SECRET,
            "--auth",
            auth,
            "--scope",
            "lon:read",
        ])
        .await;
        assert_eq!(r["ok"], true, "{auth}: {r}");
        assert_eq!(r["header"]["typ"], "at+jwt");
        assert_eq!(r["introspection"]["active"], true, "{r}");
    }
    let wrong = authlib(&[
        "client_credentials",
        "--issuer",
        &o.issuer,
        "--client-id",
        "lonesystem",
        "--client-secret",
        "fel",
    ])
    .await;
    assert_eq!(wrong["status"], 401, "{wrong}");
}

#[tokio::test]
async fn authlib_code_flow_with_client_secret_basic() {
    let o = with_code_clients().await;
    use_real_time(&o);
    let browser = o.app.client();
    browser.sign_in(ANNA, ANNA_PW).await;
    for (client, auth) in [("intranat", "basic"), ("rs-app", "post")] {
        let start = authlib(&[
            "authorize-url",
            "--issuer",
            &o.issuer,
            "--client-id",
            client,
            "--redirect-uri",
            REDIRECT,
            "--scope",
            "openid profile email",
            "--nonce",
            "n-authlib",
        ])
        .await;
        let url = start["url"].as_str().unwrap();
        let r = browser.http.get(url).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let q = query_of(r.headers()["location"].to_str().unwrap());
        assert_eq!(q["state"], start["state"].as_str().unwrap());
        let done = authlib(&[
            "code",
            "--issuer",
            &o.issuer,
            "--client-id",
            client,
            "--client-secret",
            SERVICE_SECRET,
            "--auth",
            auth,
            "--redirect-uri",
            REDIRECT,
            // `--x=value`: a random code or verifier may start with "-",
            // which argparse would read as an option.
            &format!("--code={}", q["code"]),
            &format!(
                "--code-verifier={}",
                start["code_verifier"].as_str().unwrap()
            ),
            "--nonce",
            "n-authlib",
        ])
        .await;
        assert_eq!(done["ok"], true, "{client}: {done}");
        let text = done.to_string();
        assert!(
            text.contains("invalid_grant"),
            "the old refresh token is refused: {text}"
        );
        assert!(
            text.contains(ANNA),
            "userinfo and ID token name Anna: {text}"
        );
    }
}
