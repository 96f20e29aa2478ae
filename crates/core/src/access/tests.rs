use super::*;

fn slugs(s: &[&str]) -> BTreeSet<Slug> {
    s.iter().map(|x| Slug::parse(x).unwrap()).collect()
}

fn at(weekday: u8, h: u16, m: u16) -> LocalTime {
    LocalTime {
        weekday,
        minute: h * 60 + m,
    }
}

#[test]
fn windows_parse_print_and_contain() {
    let w = Window::parse("Mon-Fri 07:00-18:00").unwrap();
    assert_eq!(w.to_string(), "mon-fri 07:00-18:00");
    assert!(w.contains(at(0, 7, 0)));
    assert!(w.contains(at(4, 17, 59)));
    assert!(!w.contains(at(4, 18, 0)), "the end is exclusive");
    assert!(!w.contains(at(5, 12, 0)), "saturday");
    assert!(!w.contains(at(2, 6, 59)));
    let w = Window::parse("sat,sun 00:00-24:00").unwrap();
    assert_eq!(w.to_string(), "sat,sun 00:00-24:00");
    assert!(w.contains(at(6, 23, 59)));
    assert_eq!(
        Window::parse("mon,wed,fri 08:30-09:00")
            .unwrap()
            .to_string(),
        "mon,wed,fri 08:30-09:00"
    );
    assert_eq!(
        Window::parse("mon-wed,fri 08:00-09:00")
            .unwrap()
            .to_string(),
        "mon-wed,fri 08:00-09:00"
    );
    for bad in [
        "",
        "mon-fri",
        "mon-fri 7-18",
        "fri-mon 07:00-18:00",
        "mån-fre 07:00-18:00",
        "mon-fri 18:00-07:00",
        "mon-fri 07:00-07:00",
        "mon-fri 07:00-24:30",
        "mon-fri 25:00-26:00",
        "mon-fri 07:60-08:00",
    ] {
        assert!(Window::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn stockholm_time_follows_daylight_saving() {
    // 2026-11-23 13:00 Stockholm (UTC+1) is a Monday.
    assert_eq!(LocalTime::stockholm(1_795_435_200), at(0, 13, 0));
    // 2026-07-01 12:00 UTC is 14:00 in Stockholm (UTC+2), a Wednesday.
    assert_eq!(LocalTime::stockholm(1_782_907_200), at(2, 14, 0));
}

#[test]
fn methods_come_from_amr_and_unknown_tokens_count_for_nothing() {
    assert_eq!(
        Method::from_amr("pwd otp"),
        [Method::Password, Method::App].into()
    );
    assert_eq!(Method::from_amr("passkey"), [Method::Passkey].into());
    assert!(Method::from_amr("hwk mfa").is_empty());
    for m in Method::ALL {
        assert_eq!(Method::parse(m.name()), Some(m));
    }
}

/// Every combination of the four conditions, each holding or not: the
/// decision allows exactly when all hold, and names exactly the ones
/// that do not.
#[test]
fn every_combination_of_conditions() {
    let rule = AccessRule {
        groups: slugs(&["larare"]),
        zones: Some(slugs(&["skolnatet"])),
        methods: Some([Method::App, Method::Passkey].into()),
        open: vec![Window::parse("mon-fri 07:00-18:00").unwrap()],
    };
    let skolnatet = Slug::parse("skolnatet").unwrap();
    let adm = Slug::parse("administrativa-natet").unwrap();
    for bits in 0u8..16 {
        let (g, z, m, t) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
        let groups = if g {
            slugs(&["larare", "ovrig"])
        } else {
            slugs(&["ovrig"])
        };
        let methods: BTreeSet<Method> = if m {
            Method::from_amr("pwd otp")
        } else {
            Method::from_amr("pwd sms")
        };
        let who = Subject {
            groups: &groups,
            methods: &methods,
            zone: if z { Some(&skolnatet) } else { Some(&adm) },
            at: if t { at(1, 9, 0) } else { at(1, 19, 0) },
        };
        let got = decide(&rule, &who);
        if g && z && m && t {
            assert_eq!(got, Ok(()));
            continue;
        }
        let denials = got.unwrap_err();
        assert_eq!(denials.contains(&Denial::NotInGroup), !g, "{bits}");
        assert_eq!(
            denials.iter().any(|d| matches!(d, Denial::Zone(_))),
            !z,
            "{bits}"
        );
        assert_eq!(
            denials.iter().any(|d| matches!(d, Denial::Method(_))),
            !m,
            "{bits}"
        );
        assert_eq!(
            denials.iter().any(|d| matches!(d, Denial::Closed(_))),
            !t,
            "{bits}"
        );
    }
}

#[test]
fn fails_closed() {
    let none = BTreeSet::new();
    let groups = slugs(&["larare"]);
    let who = Subject {
        groups: &groups,
        methods: &none,
        zone: None,
        at: at(0, 12, 0),
    };
    // Shared with nobody: closed to everybody.
    assert_eq!(
        decide(&AccessRule::default(), &who),
        Err(vec![Denial::NotInGroup])
    );
    let rule = AccessRule {
        groups: groups.clone(),
        zones: Some(slugs(&["skolnatet"])),
        methods: Some([Method::Password].into()),
        open: vec![],
    };
    // Outside every zone, and a session whose methods are unknown.
    let denials = decide(&rule, &who).unwrap_err();
    assert_eq!(denials.len(), 2);
    // An empty zone list or method list opens for nobody either.
    let rule = AccessRule {
        groups: groups.clone(),
        zones: Some(BTreeSet::new()),
        methods: None,
        open: vec![],
    };
    let skolnatet = Slug::parse("skolnatet").unwrap();
    let who = Subject {
        zone: Some(&skolnatet),
        ..who
    };
    assert!(decide(&rule, &who).is_err());
}

#[test]
fn service_urls_are_absolute_web_addresses_kept_as_typed() {
    for ok in [
        "https://lon.kommun.se/",
        "http://10.1.2.3:8080/x?y=1",
        "https://Lön.kommun.se",
    ] {
        assert!(is_service_url(ok), "{ok}");
    }
    for bad in [
        "https://",
        "ftp://x.se/",
        "javascript:alert(1)",
        "https://a b.se/",
        "//x.se/",
        "https:x",
    ] {
        assert!(!is_service_url(bad), "{bad}");
    }
}
