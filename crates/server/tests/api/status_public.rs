//! Issue 12, the public status page as citizens read it: the site's icon.
use crate::helpers::*;

#[tokio::test]
async fn the_site_has_an_icon_served_publicly_and_cached() {
    let app = spawn_app().await;
    let http = app.client().http;
    let svg = http.get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(svg.status(), 200);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert_eq!(svg.headers()["cache-control"], "public, max-age=86400");
    let csp = svg.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'; script-src 'self'; style-src 'self'"));
    let body = svg.text().await.unwrap();
    assert!(body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(
        !body.contains("style") && !body.contains("script"),
        "nothing the CSP would have to allow"
    );
    let ico = http.get(app.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(ico.status(), 301);
    assert_eq!(ico.headers()["location"], "/favicon.svg");
    assert!(ico.headers()["cache-control"]
        .to_str()
        .unwrap()
        .starts_with("public"));

    // The static copy carries it and names it.
    let (org, _) = app.org_and_user(SARA).await;
    let dir = TempDir::new();
    portvakt_server::status::export::export(&*app.store, &org, &dir.0, START)
        .await
        .unwrap();
    assert!(dir.0.join("favicon.svg").is_file());
    let copy = std::fs::read_to_string(dir.0.join("en/index.html")).unwrap();
    assert!(copy.contains("<link rel=\"icon\" href=\"../favicon.svg\" type=\"image/svg+xml\">"));
}
