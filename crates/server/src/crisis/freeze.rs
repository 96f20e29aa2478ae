//! The change freeze (issue 15, seed 002): an org admin declares it with a
//! reason; while it lasts every signed-in page shows a banner and the
//! changes of [`FrozenChange`] are refused (423, recorded as
//! `freeze.refused`); lifting takes a proposal by one org admin and an
//! approval by another (or by an installation admin on the command line).

use crate::app::state::AppState;
use crate::audit::events as audit;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang, ValidForm};
use crate::http::i18n::Tr;
use crate::http::page::Page;
use crate::http::time_fmt::stockholm;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use portvakt_core::auth::signin::ClientInfo;
use portvakt_core::freeze::{clean_reason, Freeze, FrozenChange, LiftRefusal};
use portvakt_core::ids::EventId;
use serde::Deserialize;

/// Each organisation's freeze as last read, for at most a second: every
/// signed-in page asks (for the banner and the checks), and a freeze
/// changes rarely. Declaring and lifting here forget the entry at once;
/// another server sees the change within the second.
#[derive(Default)]
pub struct FreezeCache(
    std::sync::Mutex<
        std::collections::HashMap<
            portvakt_core::ids::OrganisationId,
            (std::time::Instant, Option<Freeze>),
        >,
    >,
);

const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(1);

impl FreezeCache {
    /// The organisation's freeze in force, from the cache or the store.
    ///
    /// # Errors
    /// Store failures.
    pub async fn get(
        &self,
        store: &dyn portvakt_core::store::Store,
        org: &portvakt_core::ids::OrganisationId,
    ) -> Result<Option<Freeze>, portvakt_core::StoreError> {
        if let Some((at, f)) = self.lock().get(org) {
            if at.elapsed() < FRESH_FOR {
                return Ok(f.clone());
            }
        }
        let f = store.active_freeze(org).await?;
        let mut map = self.lock();
        // Bounded by the organisations of one installation.
        map.insert(org.clone(), (std::time::Instant::now(), f.clone()));
        Ok(f)
    }

    /// Forgets the organisation's entry (after declaring or lifting).
    pub fn forget(&self, org: &portvakt_core::ids::OrganisationId) {
        self.lock().remove(org);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<
            portvakt_core::ids::OrganisationId,
            (std::time::Instant, Option<Freeze>),
        >,
    > {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Refuses `change` while the person's organisation is frozen, and
/// records the refusal.
///
/// # Errors
/// [`AppError::Frozen`] during a freeze.
pub(crate) async fn check(
    state: &AppState,
    user: &CurrentUser,
    client: &ClientInfo,
    change: FrozenChange,
) -> Result<(), AppError> {
    let Some(f) = &user.freeze else {
        return Ok(());
    };
    audit::record(
        state,
        user,
        client,
        "freeze.refused",
        user.user.id.as_str(),
        change.as_str(),
    )
    .await;
    Err(frozen(f))
}

/// [`check`] for registering a second factor.
///
/// # Errors
/// [`AppError::Frozen`] during a freeze.
pub(crate) async fn check_add_factor(
    state: &AppState,
    user: &CurrentUser,
    client: &ClientInfo,
) -> Result<(), AppError> {
    check(state, user, client, FrozenChange::AddFactor).await
}

/// The refusal for someone not signed in (a reset): the freeze's reason
/// and time are the organisation's own business, not the internet's.
pub(crate) fn frozen_anonymous() -> AppError {
    AppError::Frozen {
        reason: String::new(),
        since: String::new(),
    }
}

/// The refusal for a freeze.
pub(crate) fn frozen(f: &Freeze) -> AppError {
    AppError::Frozen {
        reason: f.reason.clone(),
        since: stockholm(f.declared_at),
    }
}

#[derive(Template)]
#[template(path = "admin_freeze.html")]
struct FreezePage {
    p: Page,
    /// (since, by, reason)
    current: Option<(String, String, String)>,
    /// Who proposed lifting it and when; whether it was the viewer.
    proposed: Option<(String, String, bool)>,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct FreezeQuery {
    done: Option<String>,
}

async fn render(
    state: &AppState,
    t: Tr,
    csrf: &CsrfToken,
    admin: &CurrentUser,
    notice: Option<&'static str>,
    error: Option<&'static str>,
) -> Result<Html<String>, AppError> {
    let org = &admin.organisation.id;
    let f = state.store.active_freeze(org).await?;
    let name = |id: &portvakt_core::ids::UserId| {
        let id = id.clone();
        async move {
            state
                .store
                .user(org, &id)
                .await
                .map(|u| u.map_or_else(|| id.to_string(), |u| u.username.to_string()))
        }
    };
    let (current, proposed) = match &f {
        None => (None, None),
        Some(f) => (
            Some((
                stockholm(f.declared_at),
                name(&f.declared_by).await?,
                f.reason.clone(),
            )),
            match &f.lift_proposed {
                None => None,
                Some((by, at)) => Some((name(by).await?, stockholm(*at), by == &admin.user.id)),
            },
        ),
    };
    Ok(Html(
        FreezePage {
            p: Page::for_user(t, csrf, "/admin/freeze", admin),
            current,
            proposed,
            notice,
            error,
        }
        .render()?,
    ))
}

pub async fn freeze_get(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    admin: CurrentUser,
    Query(q): Query<FreezeQuery>,
) -> Result<Html<String>, AppError> {
    let notice = match q.done.as_deref() {
        Some("declared") => Some("freeze.done_declared"),
        Some("proposed") => Some("freeze.done_proposed"),
        Some("lifted") => Some("freeze.done_lifted"),
        _ => None,
    };
    render(&state, t, &csrf, &admin, notice, None).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclareForm {
    #[allow(dead_code)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

pub async fn declare_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    ValidForm(f): ValidForm<DeclareForm>,
) -> Result<Response, AppError> {
    let Some(reason) = clean_reason(&f.reason) else {
        let page = render(&state, t, &csrf, &admin, None, Some("freeze.reason_needed")).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    let freeze = Freeze {
        id: EventId::generate(),
        organisation_id: admin.organisation.id.clone(),
        reason,
        declared_at: state.clock.now(),
        declared_by: admin.user.id.clone(),
        lift_proposed: None,
    };
    if !state.store.declare_freeze(&freeze).await? {
        let page = render(&state, t, &csrf, &admin, None, Some("freeze.already")).await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    state.freezes.forget(&admin.organisation.id);
    audit::record(
        &state,
        &admin,
        &client,
        "freeze.declare",
        freeze.id.as_str(),
        &freeze.reason,
    )
    .await;
    Ok(Redirect::to("/admin/freeze?done=declared").into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}

pub async fn propose_lift_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let org = &admin.organisation.id;
    let Some(f) = state.store.active_freeze(org).await? else {
        return Ok(Redirect::to("/admin/freeze").into_response());
    };
    if !state
        .store
        .propose_lift(org, &f.id, &admin.user.id, state.clock.now())
        .await?
    {
        let page = render(
            &state,
            t,
            &csrf,
            &admin,
            None,
            Some("freeze.already_proposed"),
        )
        .await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    audit::record(
        &state,
        &admin,
        &client,
        "freeze.propose_lift",
        f.id.as_str(),
        "ok",
    )
    .await;
    Ok(Redirect::to("/admin/freeze?done=proposed").into_response())
}

pub async fn lift_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    admin: CurrentUser,
    ValidForm(_): ValidForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let org = &admin.organisation.id;
    let Some(f) = state.store.active_freeze(org).await? else {
        return Ok(Redirect::to("/admin/freeze").into_response());
    };
    let refusal = match f.may_lift(Some(&admin.user.id)) {
        Err(LiftRefusal::NotProposed) => Some("freeze.not_proposed"),
        Err(LiftRefusal::SamePerson) => Some("freeze.same_person"),
        Ok(()) => None,
    };
    if let Some(key) = refusal {
        audit::record(
            &state,
            &admin,
            &client,
            "freeze.lift",
            f.id.as_str(),
            "refused",
        )
        .await;
        let page = render(&state, t, &csrf, &admin, None, Some(key)).await?;
        return Ok((StatusCode::FORBIDDEN, page).into_response());
    }
    if !state
        .store
        .lift_freeze(org, &f.id, Some(&admin.user.id), state.clock.now())
        .await?
    {
        let page = render(&state, t, &csrf, &admin, None, Some("freeze.same_person")).await?;
        return Ok((StatusCode::FORBIDDEN, page).into_response());
    }
    state.freezes.forget(org);
    audit::record(&state, &admin, &client, "freeze.lift", f.id.as_str(), "ok").await;
    Ok(Redirect::to("/admin/freeze?done=lifted").into_response())
}
