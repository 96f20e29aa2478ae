//! Correcting a published incident's title or affected services. The
//! correction is never silent: it is added to the incident's history as an
//! update saying what changed, so citizens, the feed and the team see that
//! the page was corrected and from what.

use super::editor_page::{error_key, refused, Form, Typed};
use crate::app::state::AppState;
use crate::audit::events as admin_events;
use crate::http::error::AppError;
use crate::http::extract::{Client, CsrfToken, CurrentUser, PageLang};
use crate::http::i18n::{Lang, Tr};
use crate::status::view::affected_text;
use axum::extract::{Path, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use portvakt_core::status::{
    correction, Component, Correction, CorrectionDraft, Incident, IncidentUpdate, StatusError,
};

/// What the history says about a correction, in one language: one
/// sentence per thing changed.
fn note_in(t: Tr, before: &Incident, fix: &Correction, components: &[Component]) -> String {
    let pick = |sv: &str, en: &str| if en.is_empty() { sv } else { en }.to_owned();
    let (from, to) = if t.lang == Lang::En {
        (
            pick(&before.title, &before.title_en),
            pick(&fix.title, &fix.title_en),
        )
    } else {
        (before.title.clone(), fix.title.clone())
    };
    // Only the other language's title changed: say that one, so the
    // change is never left out of the note.
    let (from, to) = if from == to && fix.title_changed {
        (
            pick(&before.title, &before.title_en),
            pick(&fix.title, &fix.title_en),
        )
    } else {
        (from, to)
    };
    let mut lines = Vec::new();
    if from != to {
        lines.push(
            t.get("status.correction.title")
                .replace("{from}", &from)
                .replace("{to}", &to),
        );
    }
    if fix.affected_changed {
        lines.push(
            t.get("status.correction.affected")
                .replace("{from}", &affected_text(t, &before.affected, components))
                .replace("{to}", &affected_text(t, &fix.affected, components)),
        );
    }
    lines.join("\n")
}

/// The update recording `fix`, in the incident's current phase.
fn note(before: &Incident, fix: &Correction, components: &[Component], now: i64) -> IncidentUpdate {
    IncidentUpdate {
        at: now,
        phase: before.phase,
        body: note_in(Tr::new(Lang::Sv), before, fix, components),
        body_en: note_in(Tr::new(Lang::En), before, fix, components),
    }
}

/// The form as sent: the titles and one `impact_<component>` per component.
fn parse(raw: &[u8]) -> CorrectionDraft {
    let mut draft = CorrectionDraft::default();
    for (k, v) in form_urlencoded::parse(raw) {
        let v = v.into_owned();
        match k.as_ref() {
            "title" => draft.title = v,
            "title_en" => draft.title_en = v,
            k if k.starts_with("impact_") && !v.is_empty() => {
                draft.affected.push((k["impact_".len()..].to_owned(), v));
            }
            _ => {}
        }
    }
    draft
}

pub async fn correct_post(
    State(state): State<AppState>,
    PageLang(t): PageLang,
    csrf: CsrfToken,
    Client(client): Client,
    user: CurrentUser,
    Path(id): Path<String>,
    RawForm(raw): RawForm,
) -> Result<Response, AppError> {
    let org = &user.organisation;
    let draft = parse(&raw);
    let components = state.store.status_components(&org.id).await?;
    // Another organisation's incident id looks exactly like no incident.
    let Some(before) = state
        .store
        .incidents(&org.id, 0, 1000)
        .await?
        .into_iter()
        .find(|i| i.id == id)
    else {
        return Err(AppError::NotFound);
    };
    let fix = match correction(&components, &before, &draft) {
        Ok(fix) => fix,
        Err(StatusError::AlreadyResolved) => return Err(AppError::NotFound),
        Err(e) => {
            let typed = Typed {
                form: Form::Correct(id),
                title: draft.title,
                title_en: draft.title_en,
                affected: draft.affected,
                ..Typed::default()
            }
            .at(&e);
            return refused(&state, t, &csrf, &user, &typed, error_key(&e)).await;
        }
    };
    let update = note(&before, &fix, &components, state.clock.now());
    if !state
        .store
        .correct_incident(&org.id, &id, &fix, &update)
        .await?
    {
        return Err(AppError::NotFound);
    }
    let after = Incident {
        title: fix.title.clone(),
        title_en: fix.title_en.clone(),
        affected: fix.affected.clone(),
        ..before
    };
    // The record first: the correction is stored, and a failure to queue
    // the team's mail must not leave it out of the audit trail.
    let what = match (fix.title_changed, fix.affected_changed) {
        (true, true) => "title,affected",
        (true, false) => "title",
        _ => "affected",
    };
    admin_events::record(&state, &user, &client, "incident.correct", &id, what).await;
    crate::status::export::publish(&state, org.clone());
    crate::status::notify::notify_team(
        &*state.store,
        org,
        state.config.public_url(),
        &after,
        &update,
        state.clock.now(),
    )
    .await?;
    Ok(Redirect::to("/admin/status?done=corrected").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use portvakt_core::domain::Slug;
    use portvakt_core::ids::OrganisationId;
    use portvakt_core::status::{ComponentState, Phase};

    fn comp(slug: &str, name: &str) -> Component {
        Component {
            organisation_id: OrganisationId::from_raw("org_1"),
            slug: Slug::parse(slug).unwrap(),
            name: name.into(),
            group: String::new(),
            alternatives: String::new(),
            sort: 0,
        }
    }

    #[test]
    fn the_note_says_what_changed_from_what_in_both_languages() {
        let cs = [comp("tel", "Telefoni"), comp("lar", "Lärplattform")];
        let before = Incident {
            id: "inc_1".into(),
            organisation_id: OrganisationId::from_raw("org_1"),
            title: "Avbrott i telefonin".into(),
            title_en: String::new(),
            maintenance: false,
            draft: false,
            phase: Phase::Identified,
            affected: vec![(Slug::parse("tel").unwrap(), ComponentState::MajorOutage)],
            created_at: 0,
            resolved_at: None,
            updates: Vec::new(),
        };
        let fix = Correction {
            title: "Avbrott i lärplattformen".into(),
            title_en: "Learning platform down".into(),
            affected: vec![(Slug::parse("lar").unwrap(), ComponentState::PartialOutage)],
            title_changed: true,
            affected_changed: true,
        };
        let u = note(&before, &fix, &cs, 99);
        assert_eq!(u.phase, Phase::Identified, "the phase stays");
        assert_eq!(
            u.body,
            "Rubriken ändrad till ”Avbrott i lärplattformen”.\n\
             Berörda tjänster ändrade från Telefoni (Större avbrott) till Lärplattform (Delvis avbrott)."
        );
        assert_eq!(
            u.body_en,
            "Title changed to “Learning platform down”.\n\
             Affected services changed from Telefoni (Major outage) to Lärplattform (Partial outage)."
        );
    }
}
