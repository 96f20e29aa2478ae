//! SECURITY.md C1: a signed-in user of one organisation never sees another's data.
use crate::helpers::*;
use portvakt_core::domain::{Slug, Username};
use portvakt_core::store_suite::sample_org;
use portvakt_server::provisioning::apply_run;

#[tokio::test]
async fn servicedesk_of_one_organisation_cannot_reach_another() {
    let app = spawn_app().await;
    let other = sample_org("grannkommun", "CANARY-GRANN");
    apply_run::apply(
        &*app.store,
        &app.hasher,
        std::slice::from_ref(&other),
        START,
        false,
    )
    .await
    .unwrap();
    let oid = app
        .store
        .organisation_by_slug(&Slug::parse("grannkommun").unwrap())
        .await
        .unwrap()
        .unwrap()
        .id;
    let victim = app
        .store
        .user_by_username(&oid, &other.users[0].username)
        .await
        .unwrap()
        .unwrap();

    let desk = app.client();
    desk.sign_in(SARA, SARA_PW).await;
    let token = desk.csrf().await;
    let mut bodies = Vec::new();
    for path in ["/", "/admin/users", "/admin/users?page=1", "/password"] {
        let p = desk.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        bodies.push(p.body);
    }
    let p = desk.get(&format!("/admin/users/{}", victim.id)).await;
    assert_eq!(
        p.status, 404,
        "another organisation's id is simply not found"
    );
    bodies.push(p.body);
    for action in ["unlock", "revoke-sessions"] {
        let p = desk
            .post_raw(
                &format!("/admin/users/{}/{action}", victim.id),
                &[("csrf", &token), ("confirm", "1")],
            )
            .await;
        assert_eq!(p.status, 404, "{action}");
        bodies.push(p.body);
    }
    for b in &bodies {
        assert!(!b.contains("CANARY-GRANN"), "canary leaked");
        assert!(!b.contains("grannkommun"), "other organisation named");
    }
    // The other organisation's user signs in on its own domain and sees only its own services.
    let c = app.client();
    let pw = "ett lösenord för grannkommunens anna";
    let hash = app.hasher.hash(pw).await.unwrap();
    app.store
        .set_password_hash(&oid, &victim.id, &hash, false)
        .await
        .unwrap();
    assert_eq!(c.sign_in(victim.username.as_str(), pw).await.status, 303);
    let portal = c.get("/").await;
    assert!(portal.body.contains("Payslip CANARY-GRANN"));
    assert!(!portal.body.contains("Anmäl vård av sjukt barn"));
    assert_eq!(c.get("/admin/users").await.status, 200, "servicedesk there");
    assert!(!c
        .get("/admin/users")
        .await
        .body
        .contains("anna.andersson@exempelkommun.se"));
}

#[tokio::test]
async fn same_local_name_in_two_organisations_are_two_accounts() {
    let app = spawn_app().await;
    let mut other = sample_org("grannkommun", "CANARY-G2");
    other.users[0].username = Username::parse("anna.andersson@grannkommun.example").unwrap();
    apply_run::apply(&*app.store, &app.hasher, &[other], START, false)
        .await
        .unwrap();
    assert_eq!(
        app.client()
            .sign_in("anna.andersson@grannkommun.example", ANNA_PW)
            .await
            .status,
        401
    );
    assert_eq!(app.client().sign_in(ANNA, ANNA_PW).await.status, 303);
}
