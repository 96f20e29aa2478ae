//! A case's timeline: the accounts' sign-ins and attempts (zone, IP,
//! device), what was done to or by them (the audit log: factor and
//! contact changes, passwords, sessions and app tokens, the servicedesk's
//! actions) and the case's notes, newest first. Each source is read only
//! as far as one page needs, however long the accounts' histories are.

use crate::app::state::AppState;
use crate::http::device;
use crate::http::error::AppError;
use crate::http::event_words::{event_row, zone_names};
use crate::http::i18n::Tr;
use crate::http::time_fmt::stockholm_seconds;
use portvakt_core::domain::ZoneCidrs;
use portvakt_core::ids::{EventId, UserId};
use portvakt_core::intrusion::Case;
use portvakt_core::store::{EventResult, User};
use std::collections::HashMap;
use std::net::IpAddr;

pub(crate) struct Line {
    pub at: i64,
    pub when: String,
    /// `signin`, `action` or `note`.
    pub kind: &'static str,
    pub account: String,
    pub what: String,
    pub place: String,
    pub ip: String,
    /// The address is one of the organisation's own (a zone): shared by
    /// many, so it says little about who.
    pub shared: bool,
    pub device: String,
    pub failed: bool,
    /// The sign-in the person reported as not theirs.
    pub reported: bool,
    /// A note written later than the time it tells of: when it was written.
    pub written: Option<String>,
}

pub(crate) struct Timeline {
    pub lines: Vec<Line>,
    /// Where the next (older) page starts, when there is one.
    pub older: Option<i64>,
}

/// The organisation's zones, to name an address that lies in one.
struct Zones(Vec<(String, ZoneCidrs)>);

impl Zones {
    async fn load(state: &AppState, case: &Case) -> Result<Self, AppError> {
        Ok(Self(
            state
                .store
                .zones(&case.organisation_id)
                .await?
                .into_iter()
                .filter_map(|z| {
                    let ranges: Vec<&str> = z.cidrs.split(',').collect();
                    ZoneCidrs::parse(&ranges).ok().map(|c| (z.name, c))
                })
                .collect(),
        ))
    }

    fn of(&self, ip: &str) -> Option<&str> {
        let ip: IpAddr = ip.parse().ok()?;
        self.0
            .iter()
            .find(|(_, c)| c.contains(ip))
            .map(|(n, _)| n.as_str())
    }
}

/// One page of the timeline, older than `before` (Unix time) when paging.
pub(crate) async fn build(
    state: &AppState,
    t: Tr,
    case: &Case,
    people: &HashMap<UserId, User>,
    before: Option<i64>,
    limit: u32,
) -> Result<Timeline, AppError> {
    let org = &case.organisation_id;
    let zone_words = zone_names(state, org).await?;
    let zones = Zones::load(state, case).await?;
    let name = |id: &UserId| {
        people
            .get(id)
            .map_or_else(|| id.to_string(), |u| u.username.to_string())
    };
    let cutoff = before.unwrap_or(i64::MAX);
    let mut lines: Vec<Line> = Vec::new();
    // A source that filled its page may hold more below its last row; the
    // page must stop there, or it would skip that source's next rows.
    let mut floor = i64::MIN;
    for account in &case.accounts {
        let signins = state
            .store
            .signin_history(
                org,
                account,
                0,
                before.map(|b| (b, EventId::from_raw(""))),
                limit,
            )
            .await?;
        if signins.len() == limit as usize {
            floor = floor.max(signins.last().map_or(i64::MIN, |e| e.at));
        }
        for e in &signins {
            let row = event_row(t, &zone_words, e);
            lines.push(Line {
                at: e.at,
                when: row.when,
                kind: "signin",
                account: name(account),
                what: format!("{}: {}", row.method, row.outcome),
                place: row.place,
                ip: e.ip.clone(),
                shared: !e.zone.is_empty(),
                device: row.device,
                failed: e.result != EventResult::Success,
                reported: case.reported_event.as_ref() == Some(&e.id),
                written: None,
            });
        }
        let actions = state
            .store
            .account_actions(org, account, cutoff, limit)
            .await?;
        if actions.len() == limit as usize {
            floor = floor.max(actions.last().map_or(i64::MIN, |e| e.at));
        }
        for a in &actions {
            let action = t
                .find(&format!("audit.action.{}", a.action))
                .map_or_else(|| a.action.clone(), str::to_owned);
            let by = if &a.actor_id == account {
                t.get("case.by_the_person").to_owned()
            } else {
                format!("{} {}", t.get("case.by"), name(&a.actor_id))
            };
            let zone = zones.of(&a.ip);
            lines.push(Line {
                at: a.at,
                when: stockholm_seconds(a.at),
                kind: "action",
                account: name(account),
                what: format!("{action} ({by})"),
                place: zone.map_or_else(
                    || t.get("history.outside").to_owned(),
                    |z| format!("{} {z}", t.get("history.inside")),
                ),
                ip: a.ip.clone(),
                shared: zone.is_some(),
                device: device::in_words(t, &a.user_agent),
                failed: a.result != EventResult::Success,
                reported: false,
                written: None,
            });
        }
    }
    for n in state.store.notes(org, &case.id).await? {
        if n.at >= cutoff {
            continue;
        }
        lines.push(Line {
            at: n.at,
            when: stockholm_seconds(n.at),
            kind: "note",
            account: name(&n.author),
            what: n.body,
            place: String::new(),
            ip: String::new(),
            shared: false,
            device: String::new(),
            failed: false,
            reported: false,
            written: (n.written_at - n.at > 60).then(|| stockholm_seconds(n.written_at)),
        });
    }
    lines.sort_by_key(|l| std::cmp::Reverse(l.at));
    // The next page reads strictly before its cursor. A page keeps only
    // what is complete: above the floor of a source that filled its page,
    // and within `limit`; the cursor is then one second above the first
    // time left out, so nothing is skipped. Only when more than a page
    // shares one second is the rest of that second left out.
    let mut older = None;
    let mut cut = |lines: &mut Vec<Line>, edge: i64, fallback: usize| {
        let above = lines.iter().take_while(|l| l.at > edge).count();
        if above > 0 {
            lines.truncate(above);
            older = Some(edge + 1);
        } else {
            lines.truncate(fallback);
            older = Some(edge);
        }
    };
    if floor > i64::MIN {
        let n = lines.len();
        cut(&mut lines, floor, n);
    }
    let limit = limit as usize;
    if lines.len() > limit {
        let edge = lines[limit - 1].at;
        cut(&mut lines, edge, limit);
    }
    Ok(Timeline { lines, older })
}
