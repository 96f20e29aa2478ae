//! `[organisation.crisis]` and each user's `manager`, `unit` and
//! `mailbox_id`: where start codes go in a crisis rotation (issue 15).

use portvakt_core::apply::DesiredUser;
use portvakt_core::domain::Username;
use portvakt_core::rotation::{
    CrisisContact, CrisisPlan, RotationChannel, DEFAULT_CODE_HOURS, MAILBOX_ENV_PREFIX,
    MAX_CODE_HOURS,
};
use std::collections::BTreeMap;

use super::raw::*;
use super::{Checker, S};

pub(super) fn plan(c: &mut Checker, raw: Option<&S<RawCrisis>>, f: &str) -> CrisisPlan {
    let Some(raw) = raw else {
        return CrisisPlan::default();
    };
    let r = raw.get_ref();
    let f = format!("{f}.crisis");
    let mut plan = CrisisPlan::default();
    if let Some(list) = &r.channels {
        plan.channels.clear();
        for ch in list {
            match RotationChannel::parse(ch.get_ref().trim()) {
                Some(v) if !plan.channels.contains(&v) => plan.channels.push(v),
                Some(_) => c.err(ch, &format!("{f}.channels"), "listed twice"),
                None => c.err(
                    ch,
                    &format!("{f}.channels"),
                    "use \"mailbox\", \"sms\", \"email\", \"manager\" or \"servicedesk\"",
                ),
            }
        }
    }
    if let Some(u) = &r.mailbox_url {
        let v = u.get_ref().trim();
        match portvakt_core::auth::passkey::Url::parse(v) {
            Ok(url) if url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url)) => {
                plan.mailbox_url = Some(v.to_owned());
            }
            _ => c.err(
                u,
                &format!("{f}.mailbox_url"),
                "an https:// address (http:// only to this machine): start codes travel through it",
            ),
        }
    }
    if plan.channels.contains(&RotationChannel::Mailbox) && plan.mailbox_url.is_none() {
        if let Some(list) = &r.channels {
            if let Some(first) = list.first() {
                c.err(
                    first,
                    &format!("{f}.channels"),
                    "\"mailbox\" needs mailbox_url",
                );
            }
        }
    }
    if let Some(e) = &r.mailbox_auth_env {
        let v = e.get_ref().trim();
        // Only variables meant for it: the file must not be able to send
        // the server's database URL or mail password to an adapter.
        if !v.starts_with(MAILBOX_ENV_PREFIX)
            || v.len() > 100
            || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            c.err(
                e,
                &format!("{f}.mailbox_auth_env"),
                format!("the name of an environment variable starting with {MAILBOX_ENV_PREFIX} (A-Z, 0-9, _)"),
            );
        } else {
            plan.mailbox_auth_env = Some(v.to_owned());
        }
    }
    plan.code_hours = match &r.start_code_hours {
        None => DEFAULT_CODE_HOURS,
        Some(h) if (1..=MAX_CODE_HOURS).contains(h.get_ref()) => *h.get_ref(),
        Some(h) => {
            c.err(
                h,
                &format!("{f}.start_code_hours"),
                format!("between 1 and {MAX_CODE_HOURS}"),
            );
            DEFAULT_CODE_HOURS
        }
    };
    plan
}

fn is_loopback(url: &portvakt_core::auth::passkey::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// Each user's hand-over contact. A manager must be a user of the same
/// file (a typo would otherwise put codes on a list nobody collects).
pub(super) fn contacts(
    c: &mut Checker,
    raw: &[RawUser],
    f: &str,
    users: &[DesiredUser],
) -> BTreeMap<Username, CrisisContact> {
    let mut out = BTreeMap::new();
    for (i, u) in raw.iter().enumerate() {
        let uf = format!("{f}.user[{i}]");
        let Ok(username) = Username::parse(u.username.get_ref()) else {
            continue;
        };
        let manager = u
            .manager
            .as_ref()
            .and_then(|m| match Username::parse(m.get_ref()) {
                Ok(n) if n == username => {
                    c.err(
                        m,
                        &format!("{uf}.manager"),
                        "a person cannot be their own manager",
                    );
                    None
                }
                Ok(n) if users.iter().any(|d| d.username == n) => Some(n),
                _ => {
                    c.err(
                        m,
                        &format!("{uf}.manager"),
                        "not the username of a user in this organisation's file",
                    );
                    None
                }
            });
        let mut short = |v: &Option<S<String>>, field: &str| {
            v.as_ref().and_then(|s| {
                let t = s.get_ref().trim();
                if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) {
                    c.err(
                        s,
                        &format!("{uf}.{field}"),
                        "1 to 200 characters, no control characters",
                    );
                    None
                } else {
                    Some(t.to_owned())
                }
            })
        };
        let unit = short(&u.unit, "unit");
        let mailbox_id = short(&u.mailbox_id, "mailbox_id");
        let contact = CrisisContact {
            manager,
            unit,
            mailbox_id,
        };
        if contact != CrisisContact::default() {
            out.insert(username, contact);
        }
    }
    out
}
