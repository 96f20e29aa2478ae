//! *Byt alla lösenord*: the org admin's pages for a crisis rotation (plan,
//! start, progress and report, sending again), the managers' printable
//! lists and the servicedesk's hand-out list.

use super::rotation::{self as engine, first_channels, Letterhead};
use crate::app::state::AppState;
use crate::audit::events as audit;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::stockholm;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::domain::{Slug, Username};
use portvakt_core::ids::{RotationId, UserId};
use portvakt_core::rotation::{HandOut, PersonState, Rotation, RotationChannel, RotationPhase};
use serde::Deserialize;
use std::collections::BTreeMap;

/// People listed by name in a plan (the counts cover everyone).
const PREVIEW_ROWS: usize = 300;

pub(crate) fn channel_key(c: RotationChannel) -> &'static str {
    match c {
        RotationChannel::Mailbox => "rotation.channel.mailbox",
        RotationChannel::Sms => "rotation.channel.sms",
        RotationChannel::Email => "rotation.channel.email",
        RotationChannel::Manager => "rotation.channel.manager",
        RotationChannel::Servicedesk => "rotation.channel.servicedesk",
    }
}

pub struct Preview {
    /// When the rotation whose codes still work was started, if one does:
    /// starting another voids them.
    replaces: Option<String>,
    group: String,
    revoke_passkeys: bool,
    total: usize,
    by_channel: Vec<(&'static str, u32)>,
    /// (name, username, first channel, the rest of the route)
    people: Vec<(String, String, &'static str, String)>,
    more: usize,
}

pub struct RotationRow {
    id: String,
    started: String,
    group: String,
    people: u32,
    issuing: bool,
}

#[derive(Template)]
#[template(path = "crisis_rotation.html")]
struct CrisisPage {
    p: Page,
    channels: Vec<&'static str>,
    mailbox: bool,
    code_hours: u32,
    groups: Vec<(String, String)>,
    rotations: Vec<RotationRow>,
    preview: Option<Preview>,
    error: Option<&'static str>,
}

async fn render(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    preview: Option<Preview>,
    error: Option<&'static str>,
) -> Result<Html<String>, AppError> {
    let org = &admin.organisation.id;
    let plan = state.store.crisis_plan(org).await?;
    let mut channels: Vec<&'static str> = plan.channels.iter().map(|c| channel_key(*c)).collect();
    if !plan.channels.contains(&RotationChannel::Servicedesk) {
        channels.push(channel_key(RotationChannel::Servicedesk));
    }
    let rotations = state
        .store
        .rotations(org, 20)
        .await?
        .into_iter()
        .map(|r| RotationRow {
            id: r.id.to_string(),
            started: stockholm(r.started_at),
            group: r.group.map(|g| g.to_string()).unwrap_or_default(),
            people: r.people,
            issuing: r.phase == RotationPhase::Issuing,
        })
        .collect();
    let groups = state
        .store
        .org_groups(org)
        .await?
        .into_iter()
        .map(|g| (g.slug.to_string(), g.name))
        .collect();
    Ok(Html(
        CrisisPage {
            p: Page::for_user(t, csrf, "/admin/crisis", admin),
            channels,
            mailbox: plan.mailbox_url.is_some(),
            code_hours: plan.code_hours,
            groups,
            rotations,
            preview,
            error,
        }
        .render()?,
    ))
}

/// The page again with `key` as its error, answered with `status`.
async fn refuse(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    status: StatusCode,
    key: &'static str,
) -> Result<Response, AppError> {
    let page = render(state, t, csrf, admin, None, Some(key)).await?;
    Ok((status, page).into_response())
}

pub async fn crisis_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    admin: CurrentUser,
) -> Result<Html<String>, AppError> {
    render(&state, t, &csrf, &admin, None, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    revoke_passkeys: Option<String>,
    /// Only on the start form: the admin ticked "I understand".
    #[serde(default)]
    confirm: Option<String>,
    /// Only on the start form, when an earlier rotation's codes still
    /// work: the admin ticked that they will stop working.
    #[serde(default)]
    replace: Option<String>,
}

impl PlanForm {
    /// The group asked for; `Err` when it is not a group's name.
    fn group(&self) -> Result<Option<Slug>, ()> {
        let g = self.group.trim();
        if g.is_empty() {
            Ok(None)
        } else {
            Slug::parse(g).map(Some).ok_or(())
        }
    }
}

pub async fn plan_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    admin: CurrentUser,
    ValidForm(f): ValidForm<PlanForm>,
) -> Result<Response, AppError> {
    let Ok(group) = f.group() else {
        return refuse(
            &state,
            t,
            &csrf,
            &admin,
            StatusCode::BAD_REQUEST,
            "rotation.error.group",
        )
        .await;
    };
    let people = engine::plan(
        &*state.store,
        &admin.organisation.id,
        group.as_ref(),
        Some(&admin.user.id),
    )
    .await?;
    if people.is_empty() {
        return refuse(
            &state,
            t,
            &csrf,
            &admin,
            StatusCode::BAD_REQUEST,
            "rotation.error.nobody",
        )
        .await;
    }
    let preview = Preview {
        replaces: live_rotation(&state, &admin)
            .await?
            .map(|r| stockholm(r.started_at)),
        group: group.map(|g| g.to_string()).unwrap_or_default(),
        revoke_passkeys: f.revoke_passkeys.is_some(),
        total: people.len(),
        by_channel: first_channels(&people)
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(c, n)| (channel_key(c), n))
            .collect(),
        people: people
            .iter()
            .take(PREVIEW_ROWS)
            .map(|(c, r)| {
                let first = r
                    .first()
                    .map_or(RotationChannel::Servicedesk, |s| s.channel);
                let rest = r
                    .iter()
                    .skip(1)
                    .map(|s| t.get(channel_key(s.channel)))
                    .collect::<Vec<_>>()
                    .join(" → ");
                (
                    c.user.display_name.clone(),
                    c.user.username.to_string(),
                    channel_key(first),
                    rest,
                )
            })
            .collect(),
        more: people.len().saturating_sub(PREVIEW_ROWS),
    };
    Ok(render(&state, t, &csrf, &admin, Some(preview), None)
        .await?
        .into_response())
}

pub async fn start_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    ValidForm(f): ValidForm<PlanForm>,
) -> Result<Response, AppError> {
    let Ok(group) = f.group() else {
        return refuse(
            &state,
            t,
            &csrf,
            &admin,
            StatusCode::BAD_REQUEST,
            "rotation.error.group",
        )
        .await;
    };
    if f.confirm.as_deref() != Some("yes") {
        return refuse(
            &state,
            t,
            &csrf,
            &admin,
            StatusCode::BAD_REQUEST,
            "rotation.error.confirm",
        )
        .await;
    }
    let now = state.clock.now();
    if live_rotation(&state, &admin).await?.is_some() && f.replace.as_deref() != Some("yes") {
        return refuse(
            &state,
            t,
            &csrf,
            &admin,
            StatusCode::CONFLICT,
            "rotation.error.replace",
        )
        .await;
    }
    let Some(rotation) = engine::start(
        &*state.store,
        &admin.organisation,
        group.clone(),
        f.revoke_passkeys.is_some(),
        Some(admin.user.id.clone()),
        now,
    )
    .await?
    else {
        return refuse(
            &state,
            t,
            &csrf,
            &admin,
            StatusCode::CONFLICT,
            "rotation.error.running",
        )
        .await;
    };
    // The one who starts it keeps this session to follow the work (and
    // changes their own password); their other sessions and app grants
    // end like everyone's, in case one is an intruder's.
    state
        .store
        .revoke_other_sessions(
            &admin.organisation.id,
            &admin.user.id,
            &admin.session.token_hash,
            false,
            now,
        )
        .await?;
    if rotation.people == 0 {
        // Recorded (nothing ended); said plainly.
        return refuse(
            &state,
            t,
            &csrf,
            &admin,
            StatusCode::BAD_REQUEST,
            "rotation.error.nobody",
        )
        .await;
    }
    audit::record(
        &state,
        &admin,
        &client,
        "rotation.start",
        rotation.id.as_str(),
        &format!(
            "people={} group={} passkeys={}",
            rotation.people,
            group.map(|g| g.to_string()).unwrap_or_else(|| "*".into()),
            if rotation.revoke_passkeys {
                "revoked"
            } else {
                "kept"
            }
        ),
    )
    .await;
    Ok(Redirect::to(&format!("/admin/crisis/{}", rotation.id)).into_response())
}

/// The organisation's newest rotation, if its codes still work.
async fn live_rotation(
    state: &AppState,
    admin: &CurrentUser,
) -> Result<Option<Rotation>, AppError> {
    let now = state.clock.now();
    Ok(state
        .store
        .rotations(&admin.organisation.id, 1)
        .await?
        .into_iter()
        .next()
        .filter(|r| r.expires_at > now))
}

/// The rotation of the signed-in admin's organisation, or 404 (another
/// organisation's id is not found, never forbidden: seed 001).
async fn own_rotation(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<Rotation, AppError> {
    state
        .store
        .rotation(&user.organisation.id, &RotationId::from_raw(id))
        .await?
        .ok_or(AppError::NotFound)
}

pub struct ReportRow {
    label: &'static str,
    current: u32,
    delivered: u32,
    failing: u32,
    failed: u32,
    automatic: bool,
}

#[derive(Template)]
#[template(path = "crisis_rotation_status.html")]
struct StatusPage {
    p: Page,
    id: String,
    started: String,
    expires: String,
    group: String,
    issuing: bool,
    people: u32,
    issued: u32,
    rows: Vec<ReportRow>,
    used: u32,
    password_set: u32,
    unreached: u32,
    /// (list key, label, people)
    lists: Vec<(String, String, usize)>,
    desk: usize,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct StatusQuery {
    resent: Option<u32>,
}

/// A manager's or unit's list, as people read it.
async fn list_label(state: &AppState, t: Tr, user: &CurrentUser, key: &str) -> String {
    if let Some(m) = key.strip_prefix("manager:") {
        let name = match Username::parse(m) {
            Ok(u) => state
                .store
                .user_by_username(&user.organisation.id, &u)
                .await
                .ok()
                .flatten()
                .map(|u| format!("{} ({})", u.display_name, u.username)),
            Err(_) => None,
        };
        format!(
            "{} {}",
            t.get("rotation.list.manager"),
            name.unwrap_or_else(|| m.to_owned())
        )
    } else if let Some(u) = key.strip_prefix("unit:") {
        format!("{} {u}", t.get("rotation.list.unit"))
    } else {
        t.get("rotation.channel.servicedesk").to_owned()
    }
}

pub async fn status_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    admin: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<StatusQuery>,
) -> Result<Response, AppError> {
    let r = own_rotation(&state, &admin, &id).await?;
    let org = &admin.organisation.id;
    let report = state.store.rotation_report(org, &r.id).await?;
    let rows = RotationChannel::ALL
        .into_iter()
        .map(|ch| {
            let c = report.counts(ch);
            ReportRow {
                label: channel_key(ch),
                current: c.current,
                delivered: c.delivered,
                failing: c.failing,
                failed: c.failed,
                automatic: ch.is_automatic(),
            }
        })
        .filter(|row| row.current > 0 || row.failed > 0)
        .collect();
    let mut lists: BTreeMap<String, usize> = BTreeMap::new();
    for h in state
        .store
        .hand_outs(org, &r.id, RotationChannel::Manager, None)
        .await?
    {
        *lists.entry(h.list).or_default() += 1;
    }
    let mut labelled = Vec::new();
    for (key, n) in lists {
        let label = list_label(&state, t, &admin, &key).await;
        labelled.push((key, label, n));
    }
    let desk = state
        .store
        .hand_outs(org, &r.id, RotationChannel::Servicedesk, None)
        .await?
        .len();
    let issuing = r.phase == RotationPhase::Issuing;
    let page = StatusPage {
        p: Page::for_user(t, &csrf, &format!("/admin/crisis/{}", r.id), &admin),
        id: r.id.to_string(),
        started: stockholm(r.started_at),
        expires: stockholm(r.expires_at),
        group: r.group.map(|g| g.to_string()).unwrap_or_default(),
        issuing,
        people: report.people,
        issued: report.people - report.pending,
        rows,
        used: report.used,
        password_set: report.password_set,
        unreached: report.unreached(),
        lists: labelled,
        desk,
        notice: q
            .resent
            .map(|n| t.get("rotation.resent").replace("{n}", &n.to_string())),
    }
    .render()?;
    let mut resp = Html(page).into_response();
    if issuing {
        // Follows the work without script: the page reloads itself.
        resp.headers_mut()
            .insert(header::REFRESH, HeaderValue::from_static("2"));
    }
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}

pub async fn resend_post(
    State(state): State<AppState>,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let r = own_rotation(&state, &admin, &id).await?;
    let portal = engine::portal_address(&state.config);
    let head = Letterhead {
        organisation: &admin.organisation,
        portal: portal.as_deref(),
        expires_at: r.expires_at,
    };
    let n = engine::resend(&*state.store, &r, &head, state.clock.now()).await?;
    audit::record(
        &state,
        &admin,
        &client,
        "rotation.resend",
        r.id.as_str(),
        &n.to_string(),
    )
    .await;
    Ok(Redirect::to(&format!("/admin/crisis/{}?resent={n}", r.id)).into_response())
}

/// The hand-outs whose codes `viewer` may see: people they may act on
/// (the servicedesk's rule of `admin::actions::may_act_on`: nobody their
/// own, no one above them, and during a freeze no org admin). Also how
/// many were withheld.
async fn visible_to(
    state: &AppState,
    viewer: &CurrentUser,
    hand_outs: Vec<HandOut>,
) -> Result<(Vec<HandOut>, usize), AppError> {
    let org = &viewer.organisation.id;
    let mut shown = Vec::new();
    let mut withheld = 0;
    for h in hand_outs {
        let Some(user) = state.store.user(org, &h.user_id).await? else {
            continue;
        };
        if crate::admin::actions::may_act_on(state, viewer, &user, true)
            .await?
            .is_none()
        {
            shown.push(h);
        } else {
            withheld += 1;
        }
    }
    Ok((shown, withheld))
}

pub struct PrintEntry {
    name: String,
    username: String,
    code: String,
    list: String,
}

#[derive(Template)]
#[template(path = "crisis_print.html")]
struct PrintPage {
    t: Tr,
    lang: &'static str,
    organisation: String,
    portal: String,
    expires: String,
    entries: Vec<PrintEntry>,
    /// Codes this admin may not hand out (another admin's, during a freeze).
    withheld: usize,
}

#[derive(Deserialize, Default)]
pub struct PrintQuery {
    list: Option<String>,
}

/// A manager's (or unit's) list, one person per page to cut or seal; every
/// list when none is named. Codes already used are left out.
pub async fn print_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<PrintQuery>,
) -> Result<Response, AppError> {
    let r = own_rotation(&state, &admin, &id).await?;
    let hand_outs = state
        .store
        .hand_outs(
            &admin.organisation.id,
            &r.id,
            RotationChannel::Manager,
            q.list.as_deref(),
        )
        .await?;
    let live = hand_outs
        .into_iter()
        .filter(|h| !h.used && !h.code.is_empty())
        .collect();
    let (hand_outs, withheld) = visible_to(&state, &admin, live).await?;
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut entries = Vec::new();
    for h in hand_outs {
        if !labels.contains_key(&h.list) {
            let l = list_label(&state, t, &admin, &h.list).await;
            labels.insert(h.list.clone(), l);
        }
        entries.push(PrintEntry {
            list: labels.get(&h.list).cloned().unwrap_or_default(),
            name: h.display_name,
            username: h.username.to_string(),
            code: h.code,
        });
    }
    // Whoever printed which codes is on the record.
    audit::record(
        &state,
        &admin,
        &client,
        "rotation.print",
        r.id.as_str(),
        &format!(
            "{} {} withheld={withheld}",
            q.list.as_deref().unwrap_or("*"),
            entries.len()
        ),
    )
    .await;
    let doc = PrintPage {
        t,
        lang: t.lang.as_str(),
        organisation: admin.organisation.name.clone(),
        portal: engine::portal_address(&state.config)
            .unwrap_or_else(|| t.get("rotation.msg.portal_unknown").to_owned()),
        expires: stockholm(r.expires_at),
        entries,
        withheld,
    }
    .render()?;
    let mut resp = Html(doc).into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; frame-ancestors 'none'"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub struct DeskRow {
    user_id: String,
    name: String,
    username: String,
    code: String,
    handed_out: bool,
    used: bool,
}

#[derive(Template)]
#[template(path = "crisis_desk.html")]
struct DeskPage {
    p: Page,
    id: String,
    q: String,
    rows: Vec<DeskRow>,
    total: usize,
    /// The person searched for is someone this member may not hand a code.
    withheld: bool,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct DeskQuery {
    #[serde(default)]
    q: String,
    done: Option<String>,
}

fn desk_row(h: HandOut) -> DeskRow {
    DeskRow {
        user_id: h.user_id.to_string(),
        name: h.display_name,
        username: h.username.to_string(),
        code: h.code,
        handed_out: h.state == PersonState::HandedOut,
        used: h.used,
    }
}

/// The servicedesk's list: people whose code is handed out in person.
/// A code shows only for one whole username, so a shoulder sees one at a
/// time and nobody can list them; each code shown is an audit entry, and
/// codes of people the member may not act on are not shown.
pub async fn desk_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<DeskQuery>,
) -> Result<Response, AppError> {
    let r = own_rotation(&state, &user, &id).await?;
    let all = state
        .store
        .hand_outs(
            &user.organisation.id,
            &r.id,
            RotationChannel::Servicedesk,
            None,
        )
        .await?;
    let total = all.len();
    let wanted = Username::parse(q.q.trim()).ok();
    let found: Vec<HandOut> = all
        .into_iter()
        .filter(|h| Some(&h.username) == wanted.as_ref())
        .collect();
    let (shown, withheld) = visible_to(&state, &user, found).await?;
    for h in shown.iter().filter(|h| !h.used) {
        audit::record(
            &state,
            &user,
            &client,
            "rotation.code_shown",
            h.user_id.as_str(),
            r.id.as_str(),
        )
        .await;
    }
    let rows = shown.into_iter().map(desk_row).collect();
    let notice = q
        .done
        .is_some()
        .then(|| t.get("rotation.desk.done").to_owned());
    let page = DeskPage {
        p: Page::for_user(t, &csrf, &format!("/admin/crisis/{}/desk", r.id), &user),
        id: r.id.to_string(),
        q: q.q.trim().to_owned(),
        rows,
        total,
        withheld: withheld > 0,
        notice,
    }
    .render()?;
    let mut resp = Html(page).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandedOutForm {
    #[allow(dead_code)]
    csrf: String,
    user: String,
}

pub async fn handed_out_post(
    State(state): State<AppState>,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<HandedOutForm>,
) -> Result<Response, AppError> {
    let r = own_rotation(&state, &user, &id).await?;
    let person = UserId::from_raw(f.user);
    let Some(p) = state.store.user(&user.organisation.id, &person).await? else {
        return Err(AppError::NotFound);
    };
    if crate::admin::actions::may_act_on(&state, &user, &p, true)
        .await?
        .is_some()
    {
        return Err(AppError::NotFound);
    }
    if !state
        .store
        .mark_handed_out(&user.organisation.id, &r.id, &person, state.clock.now())
        .await?
    {
        return Err(AppError::NotFound);
    }
    audit::record(
        &state,
        &user,
        &client,
        "rotation.handed_out",
        person.as_str(),
        r.id.as_str(),
    )
    .await;
    Ok(Redirect::to(&format!("/admin/crisis/{}/desk?done=1", r.id)).into_response())
}
