//! Row → domain conversions. A row that breaks an invariant is reported as
//! corrupt rather than silently skipped.

use portvakt_core::access::{Method, ServiceAccess, Window};
use portvakt_core::domain::{Language, Slug, Username};
use portvakt_core::ids::{GroupId, OrganisationId, ServiceId, UserId};
use portvakt_core::store::{
    Amr, EventResult, Group, Service, SessionRecord, SignInEvent, SignInMethod, User,
};
use portvakt_core::StoreError;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeSet;

/// `$first, $first+1, …` — `n` numbered parameters, for a row of a
/// multi-row statement.
pub(crate) fn params(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn get<'r, T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>>(
    row: &'r AnyRow,
    col: &str,
) -> Result<T, StoreError> {
    row.try_get(col)
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) const USER_COLS: &str = "id, organisation_id, username, display_name, email, password_hash, must_change_password, disabled, created_at, language, password_expires_at, lock_reason, credential_epoch";

pub(crate) fn user(row: &AnyRow) -> Result<User, StoreError> {
    let language = get::<Option<String>>(row, "language")?
        .map(|l| {
            Language::parse(&l).ok_or_else(|| StoreError::Corrupt(format!("user language {l}")))
        })
        .transpose()?;
    Ok(User {
        id: UserId::from_raw(get::<String>(row, "id")?),
        organisation_id: OrganisationId::from_raw(get::<String>(row, "organisation_id")?),
        username: Username::from_normalised(get(row, "username")?),
        display_name: get(row, "display_name")?,
        email: get(row, "email")?,
        password_hash: get(row, "password_hash")?,
        must_change_password: get::<i64>(row, "must_change_password")? != 0,
        disabled: get::<i64>(row, "disabled")? != 0,
        created_at: get(row, "created_at")?,
        language,
        password_expires_at: get(row, "password_expires_at")?,
        lock_reason: get(row, "lock_reason")?,
        credential_epoch: get(row, "credential_epoch")?,
    })
}

pub(crate) fn group(row: &AnyRow) -> Result<Group, StoreError> {
    Ok(Group {
        id: GroupId::from_raw(get::<String>(row, "id")?),
        slug: Slug::from_stored(get(row, "slug")?),
        name: get(row, "name")?,
    })
}

pub(crate) const SERVICE_COLS: &str =
    "s.id, s.slug, s.name, s.description, s.url, s.category, s.sort, s.zones, s.methods, s.open_hours, s.host, s.upstream, s.icon";

/// Slugs, methods and windows are stored as text lists; a stored value
/// that no longer parses is corrupt (never silently dropped: dropping a
/// zone or method would widen a rule).
fn access(row: &AnyRow) -> Result<ServiceAccess, StoreError> {
    Ok(ServiceAccess {
        host: get(row, "host")?,
        upstream: get(row, "upstream")?,
        ..rule_access(row)?
    })
}

/// The zones, methods and opening hours of a rule (services, clients).
pub(crate) fn rule_access(row: &AnyRow) -> Result<ServiceAccess, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("access rule {what}"));
    let zones = get::<Option<String>>(row, "zones")?
        .map(|z| {
            z.split(',')
                .filter(|s| !s.is_empty())
                .map(|s| Slug::parse(s).ok_or_else(|| corrupt("zones")))
                .collect::<Result<BTreeSet<_>, _>>()
        })
        .transpose()?;
    let methods = get::<Option<String>>(row, "methods")?
        .map(|m| {
            m.split(',')
                .filter(|s| !s.is_empty())
                .map(|s| Method::parse(s).ok_or_else(|| corrupt("methods")))
                .collect::<Result<BTreeSet<_>, _>>()
        })
        .transpose()?;
    let open = get::<String>(row, "open_hours")?
        .split(';')
        .filter(|s| !s.is_empty())
        .map(|w| Window::parse(w).map_err(|_| corrupt("open_hours")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ServiceAccess {
        zones,
        methods,
        open,
        host: None,
        upstream: None,
    })
}

/// The stored forms of [`ServiceAccess`]: (zones, methods, open_hours).
pub(crate) fn access_columns(a: &ServiceAccess) -> (Option<String>, Option<String>, String) {
    (
        a.zones
            .as_ref()
            .map(|z| z.iter().map(Slug::as_str).collect::<Vec<_>>().join(",")),
        a.methods
            .as_ref()
            .map(|m| m.iter().map(|m| m.name()).collect::<Vec<_>>().join(",")),
        a.open
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(";"),
    )
}

pub(crate) fn service(row: &AnyRow) -> Result<Service, StoreError> {
    Ok(Service {
        id: ServiceId::from_raw(get::<String>(row, "id")?),
        slug: Slug::from_stored(get(row, "slug")?),
        name: get(row, "name")?,
        description: get(row, "description")?,
        url: get(row, "url")?,
        category: get(row, "category")?,
        sort: get(row, "sort")?,
        icon: get(row, "icon")?,
        access: access(row)?,
    })
}

pub(crate) const SESSION_COLS: &str = "token_hash, organisation_id, user_id, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent, amr, pending_mfa, mfa_tries, end_reason, credential_epoch, start_code";

pub(crate) fn session(row: &AnyRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        token_hash: get(row, "token_hash")?,
        organisation_id: OrganisationId::from_raw(get::<String>(row, "organisation_id")?),
        user_id: UserId::from_raw(get::<String>(row, "user_id")?),
        created_at: get(row, "created_at")?,
        last_seen_at: get(row, "last_seen_at")?,
        expires_at: get(row, "expires_at")?,
        revoked_at: get(row, "revoked_at")?,
        ip: get(row, "ip")?,
        user_agent: get(row, "user_agent")?,
        amr: Amr::from_stored(&get::<String>(row, "amr")?),
        pending_mfa: get::<i64>(row, "pending_mfa")? != 0,
        mfa_tries: u32::try_from(get::<i64>(row, "mfa_tries")?).unwrap_or(u32::MAX),
        end_reason: get(row, "end_reason")?,
        credential_epoch: get(row, "credential_epoch")?,
        start_code: get(row, "start_code")?,
    })
}

/// A sign-in or admin event's result.
pub(crate) fn event_result(row: &AnyRow) -> Result<EventResult, StoreError> {
    let stored: String = get(row, "result")?;
    EventResult::parse(&stored).ok_or_else(|| StoreError::Corrupt(format!("event result {stored}")))
}

pub(crate) fn event(row: &AnyRow) -> Result<SignInEvent, StoreError> {
    let method: String = get(row, "method")?;
    Ok(SignInEvent {
        id: portvakt_core::ids::EventId::from_raw(get::<String>(row, "id")?),
        organisation_id: get::<Option<String>>(row, "organisation_id")?
            .map(OrganisationId::from_raw),
        user_id: get::<Option<String>>(row, "user_id")?.map(UserId::from_raw),
        at: get(row, "at")?,
        ip: get(row, "ip")?,
        user_agent: get(row, "user_agent")?,
        method: SignInMethod::parse(&method)
            .ok_or_else(|| StoreError::Corrupt(format!("sign-in event method {method}")))?,
        result: event_result(row)?,
        reason: get(row, "reason")?,
        zone: get(row, "zone")?,
    })
}
