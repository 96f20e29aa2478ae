use super::*;
use portvakt_core::access::Method;

#[test]
fn errors_name_line_and_field() {
    let src = r#"
[[organisation]]
slug = "kommun"
name = "Kommun"

[[organisation.group]]
slug = "staff"
name = "Staff"

[[organisation.user]]
username = "a@kommun.se"
name = "A"
groups = ["nope"]
"#;
    let err = parse("c.toml", src, 15).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("c.toml:13: organisation[0].user[0].groups: unknown group 'nope'"),
        "{text}"
    );
}

#[test]
fn mfa_policy_and_totp_secrets_are_checked() {
    let src = "[[organisation]]\nslug = \"k\"\nname = \"K\"\nmfa = \"sometimes\"\n[[organisation.user]]\nusername = \"a@k.se\"\nname = \"A\"\ntotp_secret = \"not base32!\"\n";
    let text = parse("c.toml", src, 15).unwrap_err().to_string();
    assert!(text.contains("c.toml:4: organisation[0].mfa"), "{text}");
    assert!(
        text.contains("c.toml:8: organisation[0].user[0].totp_secret"),
        "{text}"
    );
}

#[test]
fn unknown_keys_and_duplicate_users_are_refused() {
    let src = "[[organisation]]\nslug = \"k\"\nname = \"K\"\nbogus = 1\n";
    let text = parse("c.toml", src, 15).unwrap_err().to_string();
    assert!(
        text.contains("c.toml:4") && text.contains("bogus"),
        "{text}"
    );

    let src = "[[organisation]]\nslug = \"k\"\nname = \"K\"\n[[organisation.user]]\nusername = \"Anna@k.se\"\nname = \"A\"\n[[organisation.user]]\nusername = \"anna@K.SE\"\nname = \"B\"\n";
    let text = parse("c.toml", src, 15).unwrap_err().to_string();
    assert!(
        text.contains("c.toml:8") && text.contains("same user as on line 5"),
        "{text}"
    );
}

#[test]
fn service_rules_are_parsed_and_checked() {
    let src = r#"
[[organisation]]
slug = "kommun"
name = "Kommun"

[[organisation.zone]]
slug = "skolnatet"
name = "Skolnätet"
cidrs = ["10.20.0.0/16"]

[[organisation.service]]
slug = "lon"
name = "Lön"
url = "https://lon.kommun.se/"
zones = ["skolnatet"]
methods = ["app", "passkey"]
open = ["Mon-Fri 07:00-18:00"]
host = "Lon.Kommun.se"
icon = "money"
"#;
    let orgs = parse("c.toml", src, 15).unwrap();
    let a = &orgs[0].services[0].access;
    assert_eq!(a.zones.as_ref().map(BTreeSet::len), Some(1));
    assert_eq!(
        a.methods,
        Some([Method::App, Method::Passkey].into_iter().collect())
    );
    assert_eq!(a.open[0].to_string(), "mon-fri 07:00-18:00");
    assert_eq!(a.host.as_deref(), Some("lon.kommun.se"));
    assert_eq!(orgs[0].services[0].icon, "money");

    let bad = src
        .replace("[\"skolnatet\"]\nmethods", "[\"nope\"]\nmethods")
        .replace("\"app\", \"passkey\"", "\"app\", \"fax\"")
        .replace("Mon-Fri 07:00-18:00", "mån-fre 7-18")
        .replace("Lon.Kommun.se", "https://lon.kommun.se/")
        .replace("\"money\"", "\"fax\"");
    let text = parse("c.toml", &bad, 15).unwrap_err().to_string();
    for field in [
        "zones: unknown zone 'nope'",
        "methods: unknown method",
        ".open:",
        ".host:",
        ".icon: unknown icon",
    ] {
        assert!(text.contains(field), "{field} in {text}");
    }
    let empty = src.replace("[\"skolnatet\"]\nmethods", "[]\nmethods");
    let text = parse("c.toml", &empty, 15).unwrap_err().to_string();
    assert!(
        text.contains("would close the service everywhere"),
        "{text}"
    );
}

#[test]
fn sign_in_notices_are_words_the_server_knows() {
    let src = "[[organisation]]\nslug = \"k\"\nname = \"K\"\nnotify_signins = [\"outside\", \"new_device\"]\n";
    let orgs = parse("c.toml", src, 15).unwrap();
    assert!(orgs[0].signin_notices.outside && orgs[0].signin_notices.new_device);
    let src = "[[organisation]]\nslug = \"k\"\nname = \"K\"\n";
    assert!(
        !parse("c.toml", src, 15).unwrap()[0].signin_notices.any(),
        "off unless asked"
    );
    let src = "[[organisation]]\nslug = \"k\"\nname = \"K\"\nnotify_signins = [\"always\"]\n";
    let text = parse("c.toml", src, 15).unwrap_err().to_string();
    assert!(
        text.contains("c.toml:4: organisation[0].notify_signins"),
        "{text}"
    );
}
