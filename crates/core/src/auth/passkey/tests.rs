use super::*;

#[test]
fn rp_id_must_fit_the_origin() {
    let ok = PasskeyConfig {
        rp_id: "localhost".into(),
        origins: vec![Url::parse("http://localhost:8080").unwrap()],
        rp_name: "Portvakt".into(),
    };
    assert!(Passkeys::new(&ok).is_ok());
    let wrong = PasskeyConfig {
        rp_id: "example.org".into(),
        ..ok.clone()
    };
    assert!(Passkeys::new(&wrong).is_err());
    let none = PasskeyConfig {
        origins: vec![],
        ..ok
    };
    assert!(Passkeys::new(&none).is_err());
}

#[test]
fn labels_are_checked() {
    assert!(valid_label("  Nyckelring ").is_ok_and(|l| l == "Nyckelring"));
    assert!(valid_label("").is_err());
    assert!(valid_label("a\nb").is_err());
    assert!(valid_label(&"x".repeat(61)).is_err());
}

#[test]
fn options_prefer_a_discoverable_credential() {
    let v = serde_json::json!({"publicKey": {"challenge": "abc",
        "authenticatorSelection": {"residentKey": "discouraged", "requireResidentKey": false}}});
    let out: serde_json::Value = serde_json::from_str(&browser_options(&v, true).unwrap()).unwrap();
    assert_eq!(out["authenticatorSelection"]["residentKey"], "preferred");
    assert_eq!(out["challenge"], "abc");
    let v = serde_json::json!({"publicKey": {"challenge": "abc"}, "mediation": "conditional"});
    let out: serde_json::Value =
        serde_json::from_str(&browser_options(&v, false).unwrap()).unwrap();
    assert!(out.get("mediation").is_none());
}
