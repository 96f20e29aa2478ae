//! Audit entries in words: people by username, actions by name, Stockholm
//! time with seconds; for the audit log's page and the servicedesk's view
//! of an account.

use crate::app::state::AppState;
use crate::http::error::AppError;
use crate::http::i18n::Tr;
use crate::http::time_fmt::stockholm_seconds;
use portvakt_core::audit::AuditEntry;
use portvakt_core::ids::{OrganisationId, UserId};
use portvakt_core::store::EventResult;
use std::collections::HashMap;

pub(crate) struct Row {
    pub seq: i64,
    pub when: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub place: String,
    pub result: String,
}

/// Entries in words: people by username, actions by name.
pub(crate) async fn audit_rows(
    state: &AppState,
    t: Tr,
    org: &OrganisationId,
    entries: &[AuditEntry],
) -> Result<Vec<Row>, AppError> {
    let mut names: HashMap<String, String> = HashMap::new();
    for e in entries {
        let target_user = e.event.target.split('/').next().unwrap_or_default();
        for id in [e.event.actor_id.as_str(), target_user] {
            if id.starts_with("usr_") && !names.contains_key(id) {
                let name = state
                    .store
                    .user(org, &UserId::from_raw(id))
                    .await?
                    .map_or_else(|| id.to_owned(), |u| u.username.to_string());
                names.insert(id.to_owned(), name);
            }
        }
    }
    let name = |id: &str| {
        names.get(id).cloned().unwrap_or_else(|| {
            // The command line: `cli:<operating-system account>`.
            id.strip_prefix("cli:").map_or_else(
                || id.to_owned(),
                |who| format!("{} ({who})", t.get("audit.cli")),
            )
        })
    };
    Ok(entries
        .iter()
        .map(|e| {
            let ev = &e.event;
            let action = t
                .find(&format!("audit.action.{}", ev.action))
                .map_or_else(|| ev.action.clone(), str::to_owned);
            let target = match ev.target.split_once('/') {
                Some((user, rest)) if user.starts_with("usr_") => {
                    format!("{} ({rest})", name(user))
                }
                _ => name(&ev.target),
            };
            let result = t.get(if ev.result == EventResult::Success {
                "admin.user.success"
            } else {
                "admin.user.failure"
            });
            Row {
                seq: e.seq,
                when: stockholm_seconds(ev.at),
                actor: name(ev.actor_id.as_str()),
                action,
                target,
                place: ev.ip.clone(),
                result: format!("{result} ({})", ev.detail),
            }
        })
        .collect())
}
