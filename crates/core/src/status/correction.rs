//! Corrections of a published incident's title and affected components.

use super::text::{no_gaps, title, TextField};
use super::{affected, Component, ComponentState, Incident, StatusError};
use crate::domain::Slug;

/// What an editor corrects on a published incident, as typed: its titles
/// and the affected services (component slug, impact name).
#[derive(Debug, Clone, Default)]
pub struct CorrectionDraft {
    pub title: String,
    pub title_en: String,
    pub affected: Vec<(String, String)>,
}

/// A checked correction of an open incident: the new values and what of
/// them differs from before (the history says so to the public).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub title: String,
    pub title_en: String,
    pub affected: Vec<(Slug, ComponentState)>,
    pub title_changed: bool,
    pub affected_changed: bool,
}

/// Checks a correction of `before` against the organisation's components.
///
/// # Errors
/// `AlreadyResolved` (a closed incident's history stays as it was), bad
/// or gapped titles, unknown components or impacts, none chosen, and
/// `Unchanged` when it would change nothing.
pub fn correction(
    components: &[Component],
    before: &Incident,
    draft: &CorrectionDraft,
) -> Result<Correction, StatusError> {
    if before.resolved_at.is_some() {
        return Err(StatusError::AlreadyResolved);
    }
    let (title, title_en) = title(&draft.title, &draft.title_en)?;
    no_gaps(&[(TextField::Title, &title), (TextField::TitleEn, &title_en)])?;
    let affected = affected(components, &draft.affected)?;
    let sorted = |a: &[(Slug, ComponentState)]| {
        let mut v = a.to_vec();
        v.sort_by(|x, y| x.0.as_str().cmp(y.0.as_str()));
        v
    };
    let title_changed = title != before.title || title_en != before.title_en;
    let affected_changed = sorted(&affected) != sorted(&before.affected);
    if !title_changed && !affected_changed {
        return Err(StatusError::Unchanged);
    }
    Ok(Correction {
        title,
        title_en,
        affected,
        title_changed,
        affected_changed,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{comp, inc};
    use super::*;

    #[test]
    fn a_correction_says_what_changed_and_refuses_nothing_changed() {
        use ComponentState::*;
        let cs = [comp("lar"), comp("tel")];
        let before = Incident {
            title: "Avbrott i telefonin".into(),
            ..inc(&[("tel", MajorOutage)], false)
        };
        let typed = |title: &str, affected: &[(&str, &str)]| CorrectionDraft {
            title: title.into(),
            title_en: String::new(),
            affected: affected
                .iter()
                .map(|(c, i)| ((*c).to_owned(), (*i).to_owned()))
                .collect(),
        };
        let same = typed("Avbrott i telefonin", &[("tel", "major_outage")]);
        assert_eq!(
            correction(&cs, &before, &same).unwrap_err(),
            StatusError::Unchanged
        );
        let renamed = typed("Avbrott i lärplattformen", &[("tel", "major_outage")]);
        let c = correction(&cs, &before, &renamed).unwrap();
        assert!(c.title_changed && !c.affected_changed);
        let more = typed(
            "Avbrott i telefonin",
            &[("lar", "degraded"), ("tel", "major_outage")],
        );
        let c = correction(&cs, &before, &more).unwrap();
        assert!(!c.title_changed && c.affected_changed);
        let gapped = typed("Avbrott i …", &[("tel", "major_outage")]);
        assert_eq!(
            correction(&cs, &before, &gapped).unwrap_err(),
            StatusError::Gap(TextField::Title)
        );
        assert_eq!(
            correction(&cs, &before, &typed("Avbrott", &[])).unwrap_err(),
            StatusError::NoComponent
        );
        let closed = inc(&[("tel", MajorOutage)], true);
        assert_eq!(
            correction(&cs, &closed, &typed("Ny", &[("tel", "degraded")])).unwrap_err(),
            StatusError::AlreadyResolved
        );
    }
}
