//! Issue 15, acceptance 4: the breach register. The 72-hour clock and its
//! reminders to the data protection officer (at 48 and 66 hours, once
//! each, through a real SMTP server) with the injected clock; a breach
//! across two organisations where each DPO sees only their part (404 on
//! the other's); the export carries every Art. 33(3) field; informing the
//! people affected, with a delivery report.
use crate::email::{wait_for, Sink};
use crate::helpers::*;
use portvakt_core::domain::Role;
use std::time::{Duration, Instant};

const ERIK: &str = "erik.larsson@exempelkommun.se";

fn mails(sink: &Sink) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(&sink.dir.0)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".txt"))
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

async fn settle() {
    // The background worker looks once a second.
    tokio::time::sleep(Duration::from_millis(2500)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_keeps_the_clock_reminds_twice_and_exports_every_field() {
    let sink = Sink::start();
    let app = spawn_with(&format!(
        "[email]\nsmtp_url = \"smtp://127.0.0.1:{}\"\nfrom = \"Portvakt <portvakt@exempelkommun.se>\"\n",
        sink.port
    ))
    .await;
    app.reapply_demo(|org| {
        for u in &mut org.users {
            if u.username.as_str().starts_with("erik") {
                u.roles = [Role::DataProtectionOfficer].into();
            }
            // Erik is the one DPO here (the demo's Sara is one too).
            if u.username.as_str().starts_with("sara") {
                u.roles.remove(&Role::DataProtectionOfficer);
            }
        }
    })
    .await;
    // Only the DPO keeps the register.
    let anna = app.client();
    anna.sign_in(ANNA, ANNA_PW).await;
    assert_eq!(anna.get("/dpo/breaches").await.status, 403);

    let erik = app.client();
    assert_eq!(erik.sign_in(ERIK, ERIK_PW).await.status, 303);
    let list = erik.get("/dpo/breaches").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Personuppgiftsincidenter"));
    // Discovered at START (2026-11-23 13:00 Swedish time).
    let bad = erik
        .post_form(
            "/dpo/breaches",
            &[("title", " "), ("discovered", "2026-11-23T13:00")],
        )
        .await;
    assert_eq!(bad.status, 400);
    let r = erik
        .post_form(
            "/dpo/breaches",
            &[
                ("title", "Lärplattformen läckte elevuppgifter"),
                ("discovered", "2026-11-23T13:00"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let path = r.location.unwrap();
    let page = erik.get(&path).await;
    assert!(
        page.body.contains("2026-11-26 13:00"),
        "the IMY deadline shows"
    );
    assert!(page.body.contains("72 timmar"));

    // The clock: nothing before 48 hours, one reminder at 48 and one at
    // 66, never a third.
    app.clock.advance(47 * 3600);
    settle().await;
    assert!(mails(&sink).is_empty());
    app.clock.advance(3600);
    let (to, first) = tokio::task::spawn_blocking({
        let dir = sink.dir.0.clone();
        move || wait_for(&dir, 1)
    })
    .await
    .unwrap();
    assert_eq!(to, ERIK);
    assert!(
        first.contains("24 timmar kvar") && first.contains("24 hours left"),
        "{first}"
    );
    app.clock.advance(18 * 3600);
    let (_, second) = tokio::task::spawn_blocking({
        let dir = sink.dir.0.clone();
        move || wait_for(&dir, 2)
    })
    .await
    .unwrap();
    assert!(second.contains("6 timmar kvar"), "{second}");
    app.clock.advance(4 * 3600);
    settle().await;
    assert_eq!(mails(&sink).len(), 2, "two reminders, once each");

    // Overdue now (70 h + 3 h): the record says so. A decision not to
    // report needs its reason (Art. 33(5)).
    app.clock.advance(3 * 3600);
    let erik = app.client();
    assert_eq!(erik.sign_in(ERIK, ERIK_PW).await.status, 303);
    let page = erik.get(&path).await;
    assert!(page.body.contains("Försenad med"), "{}", page.body);
    let full = |reporting: &'static str, why: &'static str| {
        vec![
            ("title", "Lärplattformen läckte elevuppgifter"),
            ("discovered", "2026-11-23T13:00"),
            ("occurred_from", "2026-11-20T08:00"),
            ("occurred_until", "2026-11-23T18:00"),
            ("how_discovered", "En vårdnadshavare hörde av sig"),
            (
                "description",
                "En användare i en annan kommun publicerade uppgifter",
            ),
            ("confidentiality", "on"),
            ("subject_categories", "Elever, vårdnadshavare, personal"),
            ("subjects_approx", "1 200"),
            (
                "data_categories",
                "Namn, e-post, telefon, klass, profilbild",
            ),
            ("records_approx", "3400"),
            ("consequences", "Risk för nätfiske riktat mot familjer"),
            (
                "measures_taken",
                "Webbplatsen stängd; leverantören har täppt till luckan",
            ),
            ("measures_planned", "Granskning av leverantörens rutiner"),
            (
                "contact",
                "Dataskyddsombudet, dataskyddsombud@exempelkommun.se",
            ),
            ("informed", "planned"),
            ("informed_how", ""),
            ("reporting", reporting),
            (
                "reported_at",
                if reporting == "reported" {
                    "2026-11-26T13:30"
                } else {
                    ""
                },
            ),
            (
                "imy_reference",
                if reporting == "reported" {
                    "IMY-2026-4711"
                } else {
                    ""
                },
            ),
            ("reason_late", why),
            (
                "reason_not_reported",
                if reporting == "not_reported" { why } else { "" },
            ),
            ("cases", ""),
            ("audit_entries", ""),
        ]
    };
    let r = erik.post_form(&path, &full("not_reported", "")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("artikel 33.5"));
    let r = erik.post_form(&path, &full("reported", "")).await;
    assert_eq!(r.status, 400, "a late report says why");
    assert!(
        r.body.contains("skriv skälet till förseningen"),
        "{}",
        r.body
    );
    let r = erik
        .post_form(
            &path,
            &full("reported", "Uppgifterna från leverantören kom sent"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = erik
        .post_form(
            &format!("{path}/phases"),
            &[
                ("text", "Leverantören bekräftar att 3 400 poster berördes"),
                ("submitted", "on"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);

    // The export: every field of Art. 33(3), the phases, the clock.
    let json = erik.get(&format!("{path}/export?format=json")).await;
    assert_eq!(json.status, 200);
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(v["nature"]["confidentiality"], true);
    assert_eq!(
        v["data_subjects"]["categories"],
        "Elever, vårdnadshavare, personal"
    );
    assert_eq!(v["data_subjects"]["approximate_number"], 1200);
    assert_eq!(
        v["personal_data"]["categories"],
        "Namn, e-post, telefon, klass, profilbild"
    );
    assert_eq!(v["personal_data"]["approximate_number_of_records"], 3400);
    assert_eq!(
        v["contact_point"],
        "Dataskyddsombudet, dataskyddsombud@exempelkommun.se"
    );
    assert_eq!(
        v["likely_consequences"],
        "Risk för nätfiske riktat mot familjer"
    );
    assert!(v["measures_taken"].as_str().unwrap().contains("stängd"));
    assert!(v["measures_planned"]
        .as_str()
        .unwrap()
        .contains("Granskning"));
    assert_eq!(v["report_to_imy"]["imy_reference"], "IMY-2026-4711");
    assert_eq!(v["report_to_imy"]["deadline"], "2026-11-26T12:00:00Z");
    assert_eq!(
        v["report_to_imy"]["reason_for_delay"],
        "Uppgifterna från leverantören kom sent"
    );
    assert_eq!(v["occurred_from"], "2026-11-20T07:00:00Z");
    assert_eq!(v["phases"][0]["submitted_to_imy"], true);
    assert_eq!(v["data_subjects_informed"]["state"], "planned");
    let print = erik.get(&format!("{path}/export")).await;
    assert!(
        print.body.contains("Kategorier av registrerade") && print.body.contains("IMY-2026-4711")
    );

    // Informing the people affected: an e-mail to everyone with an
    // address, and its delivery on the record.
    let before = mails(&sink).len();
    let r = erik
        .post_form(
            &format!("{path}/inform"),
            &[
                ("group", ""),
                ("subject_sv", "Dina uppgifter kan ha läckt"),
                (
                    "body_sv",
                    "Hej! Uppgifter i lärplattformen har publicerats.",
                ),
                ("subject_en", "Your data may have leaked"),
                (
                    "body_en",
                    "Hello! Data in the learning platform was published.",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let start = Instant::now();
    while mails(&sink).len() < before + 3 {
        assert!(start.elapsed() < Duration::from_secs(15), "three notices");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let notices: Vec<String> = mails(&sink).into_iter().skip(before).collect();
    assert!(notices
        .iter()
        .all(|m| m.contains("Uppgifter i lärplattformen")
            && m.contains("Data in the learning platform")));
    settle().await;
    let page = erik.get(&path).await;
    assert!(
        page.body.contains("Dina uppgifter kan ha läckt"),
        "the delivery report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_across_organisations_is_one_part_each() {
    let app = spawn_app().await;
    app.reapply_demo(|org| {
        for u in &mut org.users {
            if u.username.as_str().starts_with("erik") {
                u.roles = [Role::DataProtectionOfficer].into();
            }
        }
    })
    .await;
    app.neighbour_org().await;
    let dir = TempDir::new();
    let cfg = app.cli_config(&dir, "");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portvakt"))
        .args([
            "breach",
            "open",
            "--orgs",
            "exempelkommun,grannkommun",
            "--title",
            "Vklass",
            "--discovered",
            "2026-11-23 10:00",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id_of = |slug: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{slug}\t")))
            .and_then(|l| l.split('\t').nth(2))
            .unwrap()
            .to_owned()
    };
    let (ours, theirs) = (id_of("exempelkommun"), id_of("grannkommun"));
    let erik = app.client();
    assert_eq!(erik.sign_in(ERIK, ERIK_PW).await.status, 303);
    let page = erik.get(&format!("/dpo/breaches/{ours}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("ytterligare 1 organisationer"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("CANARY-GRANN") && !page.body.contains("grannkommun"));
    for path in [
        format!("/dpo/breaches/{theirs}"),
        format!("/dpo/breaches/{theirs}/export"),
        format!("/dpo/breaches/{theirs}/export?format=json"),
    ] {
        assert_eq!(erik.get(&path).await.status, 404, "{path}");
    }
    let r = erik
        .post_form(&format!("/dpo/breaches/{theirs}/phases"), &[("text", "x")])
        .await;
    assert_eq!(r.status, 404);
    let json = erik
        .get(&format!("/dpo/breaches/{ours}/export?format=json"))
        .await;
    assert!(!json.body.contains("grannkommun"));
}
