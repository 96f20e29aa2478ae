//! Executing a validated configuration: plan against the store, hash the
//! initial passwords, write everything in one transaction.

use portvakt_core::apply::{plan, Change, DesiredOrganisation, InitialPassword, PlannedChange};
use portvakt_core::auth::password::PasswordHasher;
use portvakt_core::store::Store;

/// Plans every organisation; writes all changes at once unless `dry_run`.
/// Returns the human-readable plan.
///
/// # Errors
/// Store or hashing failures; nothing is written then.
pub async fn apply(
    store: &dyn Store,
    hasher: &PasswordHasher,
    orgs: &[DesiredOrganisation],
    now: i64,
    dry_run: bool,
) -> anyhow::Result<Vec<String>> {
    let mut planned: Vec<PlannedChange> = Vec::new();
    for o in orgs {
        let snapshot = store.snapshot(&o.slug).await?;
        let mine = plan(o, &snapshot, now);
        // A change freeze refuses new apps, role changes and new accounts'
        // factors (issue 15): the whole run stops before anything is
        // written, and says what and why.
        if let Some(org) = &snapshot.organisation {
            if let Some(f) = store.active_freeze(&org.id).await? {
                let refused = portvakt_core::apply::frozen_changes(&mine, &snapshot);
                if !refused.is_empty() {
                    let list = refused
                        .iter()
                        .map(|(_, d)| format!("  - {d}"))
                        .collect::<Vec<_>>()
                        .join("\n");
                    tracing::warn!(organisation = %o.slug, refused = refused.len(), "apply refused: changes frozen");
                    let who = std::env::var("SUDO_USER")
                        .or_else(|_| std::env::var("USER"))
                        .unwrap_or_else(|_| "unknown".into());
                    store
                        .record_admin_event(&portvakt_core::store::AdminEvent {
                            id: portvakt_core::ids::EventId::generate(),
                            organisation_id: org.id.clone(),
                            actor_id: portvakt_core::ids::UserId::from_raw(format!(
                                "cli:{}",
                                who.chars()
                                    .filter(|c| !c.is_control())
                                    .take(64)
                                    .collect::<String>()
                            )),
                            at: now,
                            ip: "cli".into(),
                            user_agent: "portvakt apply".into(),
                            action: "freeze.refused".into(),
                            target: "apply".into(),
                            result: portvakt_core::store::EventResult::Failure,
                            detail: refused
                                .iter()
                                .map(|(c, _)| c.as_str())
                                .collect::<Vec<_>>()
                                .join(","),
                        })
                        .await?;
                    anyhow::bail!(
                        "organisation {} has changes frozen since {} ({}); these changes are refused:\n{list}\n\
                         Lift the freeze first: one org admin proposes at /admin/freeze, another approves \
                         (or run `portvakt freeze lift --org {}`).",
                        o.slug,
                        crate::http::time_fmt::stockholm(f.declared_at),
                        f.reason,
                        o.slug
                    );
                }
            }
        }
        planned.extend(mine);
    }
    let mut descriptions: Vec<String> = planned.iter().map(|p| p.description.clone()).collect();
    if dry_run || planned.is_empty() {
        return Ok(descriptions);
    }
    // Generated client secrets are shown once, after they are stored;
    // only their hashes are kept.
    let secrets: Vec<String> = planned
        .iter()
        .filter_map(|p| match &p.change {
            Change::PutClient {
                client,
                new_secret: Some(secret),
                ..
            } => Some(format!(
                "secret of client {} (shown only now; put it in the app's settings): {secret}",
                client.client_id
            )),
            _ => None,
        })
        .collect();
    let mut changes = Vec::with_capacity(planned.len());
    for p in planned {
        changes.push(match p.change {
            Change::PutUser {
                org,
                user,
                groups,
                roles,
                new_password: Some(InitialPassword::Plain(pw)),
                new_totp,
            } => {
                let hash = hasher.hash(&pw).await?;
                Change::PutUser {
                    org,
                    user,
                    groups,
                    roles,
                    new_password: Some(InitialPassword::Hash(hash)),
                    new_totp,
                }
            }
            other => other,
        });
    }
    store.apply_changes(&changes).await?;
    descriptions.extend(secrets);
    Ok(descriptions)
}
