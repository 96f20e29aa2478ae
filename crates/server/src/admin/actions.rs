//! The servicedesk's actions on an account: unlock, lock (with a reason),
//! end sessions and app tokens, remove a sign-in method, and reset for
//! oral hand-over. Each that takes something away asks first (a page that
//! says what will happen, with the same form and `confirm=1`). Sent from
//! an intrusion case (`case=…`), the servicedesk goes back to the case.
//! Every action is recorded in the audit log.

use super::users::{render_user, target, HistoryFilter};
use crate::app::state::AppState;
use crate::audit::events as audit;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::stockholm_seconds;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use portvakt_core::domain::Role;
use portvakt_core::ids::FactorId;
use portvakt_core::intrusion::{handover, Case};
use portvakt_core::store::User;
use serde::Deserialize;

/// Admin forms carry the CSRF token and only the fields below: anything
/// else (an `organisation_id`, a `role`) is refused, not ignored
/// (SECURITY.md C3).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionForm {
    #[allow(dead_code)]
    csrf: String,
    /// The intrusion case the action was taken from.
    #[serde(default)]
    case: String,
    /// `1` once the confirmation page was answered.
    #[serde(default)]
    confirm: String,
    /// Why the account is locked.
    #[serde(default)]
    reason: String,
}

impl ActionForm {
    fn confirmed(&self) -> bool {
        self.confirm == "1"
    }
}

/// Whether `admin` may lock, reset or strip the sign-in of `user`: not
/// their own account (another member does that), and only people whose
/// every role the member's roles cover (an org admin covers other org
/// admins and the data protection officer), so a servicedesk member cannot
/// take over an org admin's or a data protection officer's account by
/// resetting its password.
///
/// `hands_over` (the oral reset, removing a factor: what lets someone else
/// sign in as the person): during a change freeze not for an org admin's
/// account, or one org admin could take over the other and lift the freeze
/// alone (four eyes, issue 15).
///
/// `None` when allowed; else the words of the refusal.
pub(crate) async fn may_act_on(
    state: &AppState,
    admin: &CurrentUser,
    user: &User,
    hands_over: bool,
) -> Result<Option<&'static str>, AppError> {
    if user.id == admin.user.id {
        return Ok(Some("admin.confirm.not_allowed_lead"));
    }
    let theirs = state
        .store
        .user_roles(&admin.organisation.id, &user.id)
        .await?;
    // An org admin answers for the organisation's people, other admins
    // and its data protection officer included; only the installation's
    // admins are beyond it.
    let manages = |r: &Role| {
        admin.has_role(*r)
            || (admin.has_role(Role::OrgAdmin)
                && matches!(r, Role::OrgAdmin | Role::DataProtectionOfficer))
    };
    if !theirs.iter().all(manages) {
        return Ok(Some("admin.confirm.not_allowed_lead"));
    }
    if hands_over && admin.freeze.is_some() && theirs.contains(&Role::OrgAdmin) {
        return Ok(Some("admin.confirm.frozen_admin_lead"));
    }
    Ok(None)
}

/// The account `id` of the member's own organisation and the case the
/// form names, when [`may_act_on`] allows the action; otherwise the
/// refusal page to answer with.
async fn checked_target(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    id: &str,
    f: &ActionForm,
    hands_over: bool,
) -> Result<Result<(User, Option<Case>), Response>, AppError> {
    let user = target(state, admin, id).await?;
    let case = from_case(state, admin, f).await?;
    if let Some(lead) = may_act_on(state, admin, &user, hands_over).await? {
        let back = format!("/admin/users/{}", user.id);
        return Ok(Err(not_allowed(t, csrf, admin, &user, f, back, lead).await?));
    }
    Ok(Ok((user, case)))
}

/// The refusal of [`may_act_on`], on the confirmation page (403).
async fn not_allowed(
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    user: &User,
    f: &ActionForm,
    action: String,
    lead: &'static str,
) -> Result<Response, AppError> {
    let mut r = ask(
        t,
        csrf,
        admin,
        user,
        f,
        Ask {
            heading: "admin.confirm.not_allowed_heading",
            lead,
            button: "admin.confirm.cancel",
            action,
            reason_field: false,
            error: Some("admin.confirm.not_allowed"),
        },
    )
    .await?;
    *r.status_mut() = StatusCode::FORBIDDEN;
    Ok(r)
}

/// The case named in the form, of the member's own organisation.
async fn from_case(
    state: &AppState,
    admin: &CurrentUser,
    f: &ActionForm,
) -> Result<Option<Case>, AppError> {
    if f.case.is_empty() {
        return Ok(None);
    }
    crate::admin::intrusion::cases::load(state, admin, &f.case)
        .await
        .map(Some)
}

/// Where the servicedesk lands after an action: the case it came from,
/// or the user page with a notice.
#[allow(clippy::too_many_arguments)]
async fn done(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    user: &User,
    case: Option<&Case>,
    notice: &str,
) -> Result<Response, AppError> {
    if let Some(c) = case {
        let key = notice.rsplit('.').next().unwrap_or_default();
        return Ok(crate::admin::intrusion::cases::back(&c.id, key, "accounts"));
    }
    render_user(
        state,
        t,
        csrf,
        admin,
        user.id.as_str(),
        Some(notice),
        &HistoryFilter::default(),
    )
    .await
}

#[derive(Template)]
#[template(path = "admin_confirm.html")]
struct ConfirmPage {
    p: Page,
    heading: String,
    lead: String,
    action: String,
    button: String,
    case: String,
    cancel: String,
    /// Lock: the reason field.
    reason_field: bool,
    reason: String,
    error: Option<&'static str>,
    /// Refused outright: no form, only the way back.
    blocked: bool,
}

struct Ask<'a> {
    heading: &'a str,
    lead: &'a str,
    button: &'a str,
    action: String,
    reason_field: bool,
    error: Option<&'static str>,
}

async fn ask(
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    user: &User,
    f: &ActionForm,
    a: Ask<'_>,
) -> Result<Response, AppError> {
    let cancel = if f.case.is_empty() {
        format!("/admin/users/{}", user.id)
    } else {
        format!("/admin/cases/{}#accounts", f.case)
    };
    let who = format!("{} ({})", user.display_name, user.username);
    let page = ConfirmPage {
        p: Page::for_user(t, csrf, &format!("/admin/users/{}", user.id), admin),
        heading: format!("{}: {who}", t.get(a.heading)),
        lead: t.get(a.lead).to_owned(),
        action: a.action,
        button: t.get(a.button).to_owned(),
        case: f.case.clone(),
        cancel,
        reason_field: a.reason_field,
        reason: f.reason.clone(),
        error: a.error,
        blocked: a.error == Some("admin.confirm.not_allowed"),
    }
    .render()?;
    let status = if a.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, Html(page)).into_response())
}

pub async fn unlock_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<ActionForm>,
) -> Result<Response, AppError> {
    let org = &admin.organisation.id;
    let user = target(&state, &admin, &id).await?;
    let case = from_case(&state, &admin, &f).await?;
    state
        .store
        .unlock_account(org, &user.id, state.clock.now())
        .await?;
    tracing::info!(actor = %admin.user.id, target = %user.id, organisation = %org, "account unlocked");
    audit::record(
        &state,
        &admin,
        &client,
        "user.unlock",
        user.id.as_str(),
        "ok",
    )
    .await;
    done(
        &state,
        t,
        &csrf,
        &admin,
        &user,
        case.as_ref(),
        "admin.users.unlocked",
    )
    .await
}

pub async fn revoke_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<ActionForm>,
) -> Result<Response, AppError> {
    let org = &admin.organisation.id;
    let user = target(&state, &admin, &id).await?;
    let case = from_case(&state, &admin, &f).await?;
    if !f.confirmed() {
        return ask(
            t,
            &csrf,
            &admin,
            &user,
            &f,
            Ask {
                heading: "admin.confirm.revoke_heading",
                lead: "admin.confirm.revoke_lead",
                button: "admin.users.revoke",
                action: format!("/admin/users/{}/revoke-sessions", user.id),
                reason_field: false,
                error: None,
            },
        )
        .await;
    }
    let n = state
        .store
        .revoke_user_sessions(org, &user.id, "servicedesk", state.clock.now())
        .await?;
    tracing::info!(actor = %admin.user.id, target = %user.id, organisation = %org, sessions = n, "sessions revoked");
    audit::record(
        &state,
        &admin,
        &client,
        "user.end_sessions",
        user.id.as_str(),
        &format!("sessions={n}"),
    )
    .await;
    done(
        &state,
        t,
        &csrf,
        &admin,
        &user,
        case.as_ref(),
        "admin.users.revoked",
    )
    .await
}

/// Removes a user's sign-in method (a lost phone, or a number an intruder
/// added); the user adds a new one from the organisation's network. Unlike
/// the user, servicedesk may remove the last one.
pub async fn factor_remove_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    Path((id, factor)): Path<(String, String)>,
    ValidForm(f): ValidForm<ActionForm>,
) -> Result<Response, AppError> {
    let (user, case) = match checked_target(&state, t, &csrf, &admin, &id, &f, true).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal),
    };
    let org = &admin.organisation.id;
    let fid = FactorId::from_raw(factor);
    let factor = state
        .store
        .factors(org, &user.id)
        .await?
        .into_iter()
        .find(|x| x.id == fid)
        .ok_or(AppError::NotFound)?;
    if !f.confirmed() {
        return ask(
            t,
            &csrf,
            &admin,
            &user,
            &f,
            Ask {
                heading: "admin.confirm.factor_heading",
                lead: "admin.confirm.factor_lead",
                button: "admin.user.remove_factor",
                action: format!("/admin/users/{}/factors/{}/remove", user.id, fid),
                reason_field: false,
                error: None,
            },
        )
        .await;
    }
    if !state
        .store
        .remove_factor(org, &user.id, &fid, false)
        .await?
    {
        return Err(AppError::NotFound);
    }
    crate::messaging::notices::factor_removed(&state, &admin.organisation, &user, &factor).await;
    tracing::info!(actor = %admin.user.id, target = %user.id, organisation = %org, factor = %fid, "factor removed by servicedesk");
    audit::record(
        &state,
        &admin,
        &client,
        "user.remove_factor",
        &format!("{}/{}", user.id, fid),
        factor.kind.as_str(),
    )
    .await;
    done(
        &state,
        t,
        &csrf,
        &admin,
        &user,
        case.as_ref(),
        "admin.user.factor_removed",
    )
    .await
}

/// The most characters a lock's reason keeps.
const MAX_REASON: usize = 200;

/// Locks the account until "Lås upp", with a reason everyone at the
/// servicedesk sees, and ends its sessions and app tokens (an intruder
/// signed in now must not stay).
pub async fn lock_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<ActionForm>,
) -> Result<Response, AppError> {
    let org = &admin.organisation.id;
    let (user, case) = match checked_target(&state, t, &csrf, &admin, &id, &f, false).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal),
    };
    let reason = portvakt_core::intrusion::clean_title(&f.reason)
        .map(|r| r.chars().take(MAX_REASON).collect::<String>());
    let ask_lock = |error| Ask {
        heading: "admin.confirm.lock_heading",
        lead: "admin.confirm.lock_lead",
        button: "admin.user.lock",
        action: format!("/admin/users/{}/lock", user.id),
        reason_field: true,
        error,
    };
    if !f.confirmed() {
        return ask(t, &csrf, &admin, &user, &f, ask_lock(None)).await;
    }
    let Some(reason) = reason else {
        return ask(
            t,
            &csrf,
            &admin,
            &user,
            &f,
            ask_lock(Some("admin.confirm.reason_needed")),
        )
        .await;
    };
    let now = state.clock.now();
    let n = state
        .store
        .lock_account(org, &user.id, &reason, now)
        .await?
        .ok_or(AppError::NotFound)?;
    crate::signin::notice::forget_devices(&state, &user, None).await;
    tracing::info!(actor = %admin.user.id, target = %user.id, organisation = %org, sessions = n, "account locked");
    audit::record(
        &state,
        &admin,
        &client,
        "user.lock",
        user.id.as_str(),
        &format!("sessions={n} reason={reason}"),
    )
    .await;
    done(
        &state,
        t,
        &csrf,
        &admin,
        &user,
        case.as_ref(),
        "admin.user.locked",
    )
    .await
}

#[derive(Template)]
#[template(path = "admin_handover.html")]
struct HandoverPage {
    p: Page,
    who: String,
    password: String,
    spoken: String,
    until: String,
    locked: bool,
    back: String,
}

/// Reset for oral hand-over (seed 000): a new password shown once to the
/// servicedesk, to be read aloud; it works for a day, must be changed at
/// first sign-in, and the second factor is still asked for outside the
/// zones. Nothing is sent to the account's e-mail or phone, which may be
/// in the intruder's hands. Every session and app token ends.
pub async fn oral_reset_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    Path(id): Path<String>,
    ValidForm(f): ValidForm<ActionForm>,
) -> Result<Response, AppError> {
    let org = &admin.organisation.id;
    let (user, case) = match checked_target(&state, t, &csrf, &admin, &id, &f, true).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal),
    };
    if !f.confirmed() {
        return ask(
            t,
            &csrf,
            &admin,
            &user,
            &f,
            Ask {
                heading: "admin.confirm.handover_heading",
                lead: "admin.confirm.handover_lead",
                button: "admin.user.oral_reset",
                action: format!("/admin/users/{}/oral-reset", user.id),
                reason_field: false,
                error: None,
            },
        )
        .await;
    }
    let password = handover::generate();
    let hash = state
        .auth
        .hasher
        .hash(&password)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let now = state.clock.now();
    let until = now + handover::VALID_SECS;
    if !state
        .store
        .set_temporary_password(org, &user.id, &hash, until)
        .await?
    {
        return Err(AppError::NotFound);
    }
    let n = state
        .store
        .revoke_user_sessions(org, &user.id, "reset", now)
        .await?;
    crate::signin::notice::forget_devices(&state, &user, None).await;
    tracing::info!(actor = %admin.user.id, target = %user.id, organisation = %org, sessions = n, "password reset for oral hand-over");
    audit::record(
        &state,
        &admin,
        &client,
        "user.oral_reset",
        user.id.as_str(),
        &format!("sessions={n}"),
    )
    .await;
    let locked = state
        .store
        .throttle_state(org, &user.username)
        .await?
        .locked_until
        > now;
    let back = case.as_ref().map_or_else(
        || format!("/admin/users/{}", user.id),
        |c| format!("/admin/cases/{}?done=handover#accounts", c.id),
    );
    let page = HandoverPage {
        p: Page::for_user(t, &csrf, &format!("/admin/users/{}", user.id), &admin),
        who: format!("{} ({})", user.display_name, user.username),
        spoken: password.replace('-', " · "),
        password,
        until: stockholm_seconds(until),
        locked,
        back,
    }
    .render()?;
    Ok(Html(page).into_response())
}
