//! Issue 14: the servicedesk's user list is searched and filtered, and says
//! "Låst" with why and until when, as the user page does.
use crate::helpers::*;

#[tokio::test]
async fn the_servicedesk_searches_filters_and_sees_why_an_account_is_locked() {
    let app = spawn_app().await;
    let desk = app.client();
    desk.sign_in(SARA, SARA_PW).await;
    let all = desk.get("/admin/users").await;
    assert_eq!(all.status, 200);
    assert!(all.body.contains(ANNA) && all.body.contains(SARA));

    let p = desk.get("/admin/users?q=ANDERSSON").await;
    assert!(p.body.contains(ANNA), "any case");
    assert!(!p.body.contains(SARA));
    assert!(
        p.body.contains("value=\"ANDERSSON\""),
        "the search stays in the field"
    );
    let p = desk.get("/admin/users?q=ingen-s%C3%A5dan").await;
    assert!(p.body.contains("Ingen användare matchar."));
    assert_eq!(desk.get("/admin/users?only=everything").await.status, 400);

    // Wrong passwords: after five Anna waits (the sixth is refused
    // uncounted), and both pages say so and why.
    for _ in 0..6 {
        app.client()
            .sign_in(ANNA, "fel lösenord helt och hållet")
            .await;
    }
    let locked = desk.get("/admin/users?only=locked").await;
    assert!(locked.body.contains(ANNA), "{}", locked.body);
    assert!(!locked.body.contains(SARA));
    assert!(
        locked
            .body
            .contains("Låst till 13:00:30 (5 misslyckade försök)"),
        "{}",
        locked.body
    );
    let (_, anna) = app.org_and_user(ANNA).await;
    let page = desk.get(&format!("/admin/users/{}", anna.id)).await;
    assert!(
        page.body.contains("5 misslyckade försök"),
        "the same words on the user page"
    );

    let p = desk.get("/admin/users?only=no_factor").await;
    assert!(p.body.contains("utan andra inloggningsmetod"));
    // Paging keeps the search.
    let p = desk.get("/admin/users?q=a&page=0").await;
    assert_eq!(p.status, 200);
}
