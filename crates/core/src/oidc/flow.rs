//! What happens to an authorization request for a person: sign in first,
//! sign in again, step up, be refused, consent, or get a code. Pure: the
//! server gathers the facts, this decides.

use super::client::OidcClient;
use super::request::AuthRequest;
use crate::access::{decide as access_decide, Denial, LocalTime, Method, Subject};
use crate::clock::UnixTime;
use crate::domain::Slug;
use std::collections::BTreeSet;

/// The person's current sign-in, as far as the decision needs it.
pub struct SignedIn<'a> {
    pub groups: &'a BTreeSet<Slug>,
    pub methods: &'a BTreeSet<Method>,
    /// When the person last proved who they are (the session's start:
    /// step-up and re-authentication start a new one).
    pub auth_time: UnixTime,
    pub zone: Option<&'a Slug>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    SignIn,
    /// `prompt=login`, or `max_age` has passed since the last sign-in.
    Reauthenticate,
    /// The client's rule needs one of these methods, and only that is missing.
    StepUp(BTreeSet<Method>),
    /// The client's rule refuses this person here and now.
    Denied(Vec<Denial>),
    Consent,
    Issue,
}

/// The decision. `stored_at` is when the request was put aside to wait for
/// a sign-in (`None` when it arrived just now), so a sign-in made after it
/// satisfies `prompt=login`.
#[must_use]
pub fn decide(
    client: &OidcClient,
    req: &AuthRequest,
    session: Option<&SignedIn<'_>>,
    stored_at: Option<UnixTime>,
    consented: Option<&str>,
    now: UnixTime,
) -> Next {
    let Some(s) = session else {
        return Next::SignIn;
    };
    let fresh_since_request = stored_at.is_some_and(|t| s.auth_time >= t);
    if req.prompt_login && !fresh_since_request {
        return Next::Reauthenticate;
    }
    if req.max_age.is_some_and(|m| now - s.auth_time > m) {
        return Next::Reauthenticate;
    }
    let rule = client.access.rule(client.groups.clone());
    let subject = Subject {
        groups: s.groups,
        methods: s.methods,
        zone: s.zone,
        at: LocalTime::stockholm(now),
    };
    if let Err(denials) = access_decide(&rule, &subject) {
        return match denials.as_slice() {
            [Denial::Method(needed)] => Next::StepUp(needed.clone()),
            _ => Next::Denied(denials),
        };
    }
    if !client.first_party && (req.prompt_consent || !covers(consented, &req.scope)) {
        return Next::Consent;
    }
    Next::Issue
}

/// Whether an earlier consent covers every scope asked for now.
fn covers(consented: Option<&str>, scope: &[String]) -> bool {
    consented.is_some_and(|c| {
        let given: BTreeSet<&str> = c.split(' ').collect();
        scope.iter().all(|s| given.contains(s.as_str()))
    })
}

/// `amr` values for tokens (RFC 8176 where it has one) and the `acr`.
#[must_use]
pub fn amr_and_acr(methods: &BTreeSet<Method>) -> (Vec<String>, String) {
    let mut amr: Vec<String> = methods
        .iter()
        .map(|m| match m {
            Method::Password => "pwd",
            Method::App => "otp",
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Passkey => "hwk",
        })
        .map(str::to_owned)
        .collect();
    if methods.len() >= 2 {
        amr.push("mfa".into());
    }
    let acr = if methods.contains(&Method::Passkey) {
        "urn:portvakt:acr:phr"
    } else if methods.len() >= 2 {
        "urn:portvakt:acr:mfa"
    } else {
        "urn:portvakt:acr:pwd"
    };
    (amr, acr.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{ServiceAccess, Window};
    use crate::ids::{ClientRowId, OrganisationId};
    use crate::oidc::client::{ClientKind, GrantType};
    use crate::oidc::jose::Alg;

    fn slug(s: &str) -> Slug {
        Slug::parse(s).unwrap()
    }

    fn client(first_party: bool, access: ServiceAccess) -> OidcClient {
        OidcClient {
            id: ClientRowId::generate(),
            organisation_id: OrganisationId::generate(),
            client_id: "app".into(),
            name: "App".into(),
            kind: ClientKind::Confidential,
            secret_hash: None,
            redirect_uris: vec![],
            grants: [GrantType::AuthorizationCode].into(),
            scopes: BTreeSet::new(),
            audience: None,
            signing_alg: Alg::Es256,
            first_party,
            groups: [slug("staff")].into(),
            access,
        }
    }

    fn request() -> AuthRequest {
        AuthRequest {
            client_id: "app".into(),
            redirect_uri: "https://app/cb".into(),
            scope: vec!["email".into(), "openid".into()],
            state: None,
            nonce: None,
            code_challenge: None,
            prompt_none: false,
            prompt_login: false,
            prompt_consent: false,
            max_age: None,
            login_hint: None,
            ui_locale: None,
        }
    }

    // 2026-11-23 13:00 Stockholm, a Monday.
    const NOW: i64 = 1_795_435_200;

    #[test]
    fn the_steps_in_order() {
        let staff: BTreeSet<Slug> = [slug("staff")].into();
        let other: BTreeSet<Slug> = [slug("other")].into();
        let pwd: BTreeSet<Method> = [Method::Password].into();
        let app: BTreeSet<Method> = [Method::Password, Method::App].into();
        let signed = |groups, methods, auth_time| SignedIn {
            groups,
            methods,
            auth_time,
            zone: None,
        };
        let c = client(true, ServiceAccess::default());
        let r = request();
        assert_eq!(decide(&c, &r, None, None, None, NOW), Next::SignIn);
        let s = signed(&staff, &pwd, NOW - 100);
        assert_eq!(decide(&c, &r, Some(&s), None, None, NOW), Next::Issue);
        // prompt=login: again, unless the sign-in came after the request.
        let login = AuthRequest {
            prompt_login: true,
            ..request()
        };
        assert_eq!(
            decide(&c, &login, Some(&s), None, None, NOW),
            Next::Reauthenticate
        );
        assert_eq!(
            decide(&c, &login, Some(&s), Some(NOW - 200), None, NOW),
            Next::Issue
        );
        assert_eq!(
            decide(&c, &login, Some(&s), Some(NOW - 50), None, NOW),
            Next::Reauthenticate
        );
        // max_age.
        let aged = AuthRequest {
            max_age: Some(60),
            ..request()
        };
        assert_eq!(
            decide(&c, &aged, Some(&s), None, None, NOW),
            Next::Reauthenticate
        );
        let aged = AuthRequest {
            max_age: Some(10_000),
            ..request()
        };
        assert_eq!(decide(&c, &aged, Some(&s), None, None, NOW), Next::Issue);
        // The rule: group, then method (step-up), then hours.
        let o = signed(&other, &pwd, NOW);
        assert!(matches!(
            decide(&c, &r, Some(&o), None, None, NOW),
            Next::Denied(_)
        ));
        let strong = client(
            true,
            ServiceAccess {
                methods: Some([Method::App, Method::Passkey].into()),
                ..Default::default()
            },
        );
        assert_eq!(
            decide(&strong, &r, Some(&s), None, None, NOW),
            Next::StepUp([Method::App, Method::Passkey].into())
        );
        let a = signed(&staff, &app, NOW);
        assert_eq!(decide(&strong, &r, Some(&a), None, None, NOW), Next::Issue);
        let night = client(
            true,
            ServiceAccess {
                open: vec![Window::parse("mon-fri 20:00-22:00").unwrap()],
                ..Default::default()
            },
        );
        assert!(matches!(
            decide(&night, &r, Some(&s), None, None, NOW),
            Next::Denied(_)
        ));
        // Consent for apps that are not the organisation's own.
        let third = client(false, ServiceAccess::default());
        assert_eq!(decide(&third, &r, Some(&s), None, None, NOW), Next::Consent);
        assert_eq!(
            decide(&third, &r, Some(&s), None, Some("openid"), NOW),
            Next::Consent
        );
        assert_eq!(
            decide(
                &third,
                &r,
                Some(&s),
                None,
                Some("email openid profile"),
                NOW
            ),
            Next::Issue
        );
        let again = AuthRequest {
            prompt_consent: true,
            ..request()
        };
        assert_eq!(
            decide(&third, &again, Some(&s), None, Some("email openid"), NOW),
            Next::Consent
        );
    }

    #[test]
    fn amr_and_acr_values() {
        assert_eq!(
            amr_and_acr(&[Method::Password].into()),
            (vec!["pwd".into()], "urn:portvakt:acr:pwd".into())
        );
        let (amr, acr) = amr_and_acr(&[Method::Password, Method::App].into());
        assert_eq!(amr, ["pwd", "otp", "mfa"]);
        assert_eq!(acr, "urn:portvakt:acr:mfa");
        assert_eq!(
            amr_and_acr(&[Method::Passkey].into()).1,
            "urn:portvakt:acr:phr"
        );
    }
}
