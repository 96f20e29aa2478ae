//! Issue 10: the database, its WAL and the outboxes hold hashes, sealed
//! secrets and codes; only the service account may read them.
use crate::helpers::*;
use portvakt_core::ids::OrganisationId;
use portvakt_core::store::{Channel, OutboxMessage};
use portvakt_server::messaging::senders::Senders;
use secrecy::ExposeSecret;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn world_readable(p: &Path) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test]
async fn database_and_its_wal_are_created_owner_only() {
    let app = spawn_app().await;
    let db = Path::new(
        app.config
            .database_url
            .expose_secret()
            .trim_start_matches("sqlite://"),
    )
    .to_owned();
    for suffix in ["", "-wal", "-shm"] {
        let p = Path::new(&format!("{}{suffix}", db.display())).to_owned();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

#[tokio::test]
async fn database_files_from_before_are_made_owner_only_at_start_up() {
    let dir = TempDir::new();
    let db = dir.0.join("old.db");
    let url = format!("sqlite://{}", db.display());
    drop(portvakt_store::SqlStore::connect(&url).await.unwrap());
    for suffix in ["", "-wal", "-shm"] {
        let p = Path::new(&format!("{}{suffix}", db.display())).to_owned();
        if p.exists() {
            world_readable(&p);
        }
    }
    let _app = spawn_on(&url, "", dir).await;
    for suffix in ["", "-wal", "-shm"] {
        let p = Path::new(&format!("{}{suffix}", db.display())).to_owned();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
}

#[tokio::test]
async fn outbox_folders_are_owner_only_and_messages_0600() {
    let dir = TempDir::new();
    let (mail, sms) = (dir.0.join("out/mail"), dir.0.join("out/sms"));
    std::fs::create_dir_all(&mail).unwrap();
    world_readable(&mail);
    let old = mail.join("old.eml");
    std::fs::write(&old, "a code from before").unwrap();
    world_readable(&old);
    let config = test_config(
        "sqlite::memory:",
        &format!(
            "[email]\noutbox_dir = \"{}\"\n[sms]\noutbox_dir = \"{}\"\n",
            mail.display(),
            sms.display()
        ),
    );
    let senders = Senders::from_config(&config.email, &config.sms).unwrap();
    assert_eq!(mode(&mail), 0o700);
    assert_eq!(mode(&sms), 0o700);
    assert_eq!(mode(&old), 0o600, "files from before are tightened");
    let msg = |channel: Channel, recipient: &str| OutboxMessage {
        id: format!("msg{}", channel.as_str()),
        organisation_id: OrganisationId::from_raw("org_x"),
        channel,
        recipient: recipient.into(),
        subject: "Kod".into(),
        body: "123456".into(),
        created_at: 0,
        attempts: 0,
    };
    let email = senders.email.as_ref().unwrap();
    email
        .send(&msg(Channel::Email, "anna@exempelkommun.se"))
        .await
        .unwrap();
    let sms_sender = senders.sms.as_ref().unwrap();
    sms_sender
        .send(&msg(Channel::Sms, "46701234567"))
        .await
        .unwrap();
    assert_eq!(mode(&mail.join("msgemail.eml")), 0o600);
    assert_eq!(mode(&sms.join("msgsms.sms.txt")), 0o600);
}
