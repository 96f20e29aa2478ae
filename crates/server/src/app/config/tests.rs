use super::*;
use secrecy::ExposeSecret;

#[test]
fn env_overrides_and_unknown_keys_are_named() {
    let env = vec![("PORTVAKT_SESSION__IDLE_MINUTES".to_owned(), "30".to_owned())];
    let c = Config::from_toml(
        "database_url = \"sqlite://x.db\"",
        env.into_iter(),
        "t.toml",
    )
    .unwrap();
    assert_eq!(c.session.idle_minutes, 30);
    let err = Config::from_toml(
        "database_url = \"x\"\nbogus = 1",
        std::iter::empty(),
        "t.toml",
    )
    .unwrap_err();
    assert!(err.to_string().contains("bogus"), "{err}");
    let err = Config::from_toml(
        "database_url = \"x\"\nlisten = \"0.0.0.0:8080\"\ndev_mode = true",
        std::iter::empty(),
        "t.toml",
    )
    .unwrap_err();
    assert!(err.to_string().contains("dev_mode"));
}

/// Issue 11: a loaded configuration can be logged or printed in a
/// panic without giving away a password, token or API key.
#[test]
fn secrets_never_print() {
    let text = "database_url = \"postgres://portvakt:db-S3CRET@db/portvakt\"\n\
        [email]\nsmtp_url = \"smtps://mail:smtp-S3CRET@smtp.example:465\"\n\
        [sms]\ngateway_url = \"https://sms.example/send?key=url-S3CRET\"\n\
        auth_header = \"Bearer sms-S3CRET\"\n\
        [status]\npush_url = \"https://dav:dav-S3CRET@www.example/dav\"\n";
    let env = [(
        "PORTVAKT_STATUS__PUSH_AUTH_HEADER".to_owned(),
        "Basic push-S3CRET".to_owned(),
    )];
    let c = Config::from_toml(text, env.into_iter(), "t.toml").unwrap();
    assert_eq!(
        c.status
            .push_auth_header
            .as_ref()
            .map(|h| h.expose_secret()),
        Some("Basic push-S3CRET")
    );
    for shown in [format!("{c:?}"), format!("{c:#?}")] {
        assert!(!shown.contains("S3CRET"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
    }
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_toml(
        &format!("database_url = \"sqlite://x.db\"\n{text}"),
        std::iter::empty(),
        "t.toml",
    )
}

#[test]
fn the_default_language_is_one_of_ours() {
    assert_eq!(load("").unwrap().default_language, Language::Sv);
    assert_eq!(
        load("default_language = \"en\"").unwrap().default_language,
        Language::En
    );
    let err = load("default_language = \"de\"").unwrap_err().to_string();
    assert!(err.contains("default_language"), "{err}");
    assert!(err.contains("`sv` or `en`"), "{err}");
}

#[test]
fn inside_only_is_set_per_kind_and_unknown_kinds_are_named() {
    let c = load("[factors]\nregister_inside_only = true\n[factors.inside_only]\npasskey = false")
        .unwrap();
    assert!(c.factors.inside_only_for(FactorKind::Sms));
    assert!(!c.factors.inside_only_for(FactorKind::Passkey));
    let err = load("[factors.inside_only]\nfax = true").unwrap_err();
    assert!(err.to_string().contains("factors.inside_only.fax"), "{err}");
}

#[test]
fn passkey_origins_must_be_https_and_fit_the_rp_id() {
    let ok =
        "[passkeys]\nrp_id = \"exempelkommun.se\"\norigins = [\"https://portal.exempelkommun.se\"]";
    assert!(load(ok).unwrap().passkeys.is_some());
    let http =
        "[passkeys]\nrp_id = \"exempelkommun.se\"\norigins = [\"http://portal.exempelkommun.se\"]";
    assert!(load(http).unwrap_err().to_string().contains("https"));
    let local = "[passkeys]\nrp_id = \"localhost\"\norigins = [\"http://localhost:8080\"]";
    assert!(load(local).is_ok());
    let other =
        "[passkeys]\nrp_id = \"example.org\"\norigins = [\"https://portal.exempelkommun.se\"]";
    assert!(load(other).unwrap_err().to_string().contains("passkeys"));
}
