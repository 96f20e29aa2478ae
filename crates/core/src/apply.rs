//! Declarative configuration: the desired state of an organisation, what is
//! stored now, and the plan that turns one into the other. Pure: parsing
//! the file is the server's job, executing the plan the store's.

use crate::auth::totp::TotpSecret;
use crate::domain::{MfaPolicy, Role, Slug, Username, ZoneCidrs};
use crate::ids::{ClientRowId, GroupId, OrganisationId, ServiceId, UserId, ZoneId};
use crate::oidc::client::{generate_secret, hash_secret, ClientKind, OidcClient};
use crate::store::{Group, Organisation, Service, User};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitialPassword {
    /// Set by the administrator; the user must change it at first sign-in.
    Plain(String),
    /// An Argon2 or bcrypt hash migrated from another system.
    Hash(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredUser {
    pub username: Username,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: BTreeSet<Slug>,
    pub roles: BTreeSet<Role>,
    pub disabled: bool,
    /// Used only when the user is created; a later apply never resets a
    /// password the user has chosen.
    pub initial_password: Option<InitialPassword>,
    /// An authenticator secret migrated from the old portal (base32),
    /// registered as a confirmed app when the user is created.
    pub totp_secret: Option<TotpSecret>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredService {
    pub slug: Slug,
    pub name: String,
    pub description: String,
    pub url: String,
    pub category: String,
    pub groups: BTreeSet<Slug>,
    pub icon: String,
    pub access: crate::access::ServiceAccess,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredZone {
    pub slug: Slug,
    pub name: String,
    pub cidrs: ZoneCidrs,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredOrganisation {
    pub slug: Slug,
    pub name: String,
    pub mfa_policy: MfaPolicy,
    pub domains: Vec<String>,
    pub groups: Vec<(Slug, String)>,
    pub zones: Vec<DesiredZone>,
    pub services: Vec<DesiredService>,
    pub users: Vec<DesiredUser>,
    /// Parts of the status page, in display order.
    pub components: Vec<DesiredComponent>,
    /// Told about every incident by e-mail (seed 000: "ett team … ansvariga").
    pub emergency_team: Vec<String>,
    /// People an editor can message when the usual ways are down.
    pub emergency_list: Vec<String>,
    /// Health probes, in file order.
    pub probes: Vec<DesiredProbe>,
    /// "Så når du oss" on the status page (seed 002).
    pub status_contact: String,
    /// Country codes whose numbers may receive SMS codes.
    pub sms_country_codes: Vec<String>,
    /// When a person is e-mailed about their own sign-in.
    pub signin_notices: crate::domain::SigninNotices,
    /// Apps that sign their users in through the organisation's OpenID
    /// provider (the whole set: a client left out of the file is removed).
    pub clients: Vec<DesiredClient>,
    /// How start codes reach people in a crisis rotation (issue 15).
    pub crisis: crate::rotation::CrisisPlan,
    /// Each person's manager, unit and digital-mailbox id, where given.
    pub crisis_contacts: BTreeMap<Username, crate::rotation::CrisisContact>,
}

/// An OpenID client as the organisation file declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredClient {
    pub client_id: String,
    pub name: String,
    pub kind: crate::oidc::client::ClientKind,
    pub redirect_uris: Vec<String>,
    pub grants: BTreeSet<crate::oidc::client::GrantType>,
    pub scopes: BTreeSet<String>,
    pub audience: Option<String>,
    pub signing_alg: crate::oidc::jose::Alg,
    pub first_party: bool,
    pub groups: BTreeSet<Slug>,
    pub access: crate::access::ServiceAccess,
    /// `sha256:…` from the file; without it a confidential client keeps its
    /// stored secret, or gets a generated one printed once.
    pub secret_hash: Option<String>,
}

/// A health probe as the organisation file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredProbe {
    pub slug: Slug,
    pub component: Slug,
    pub spec: crate::probe::ProbeSpec,
}

/// A status-page component as the organisation file describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredComponent {
    pub slug: Slug,
    pub name: String,
    pub group: String,
    pub alternatives: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRecord {
    pub id: String,
    pub slug: Slug,
    pub name: String,
    pub group: String,
    pub alternatives: String,
    pub sort: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneRecord {
    pub id: ZoneId,
    pub slug: Slug,
    pub name: String,
    pub cidrs: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSnapshot {
    pub user: User,
    pub groups: BTreeSet<GroupId>,
    pub roles: BTreeSet<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSnapshot {
    pub service: Service,
    pub groups: BTreeSet<GroupId>,
}

/// What is stored now for one organisation slug (empty if it does not exist).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSnapshot {
    pub organisation: Option<Organisation>,
    pub groups: Vec<Group>,
    pub zones: Vec<ZoneRecord>,
    pub services: Vec<ServiceSnapshot>,
    pub users: Vec<UserSnapshot>,
    pub components: Vec<ComponentRecord>,
    pub emergency_team: Vec<String>,
    pub emergency_list: Vec<String>,
    pub probes: Vec<DesiredProbe>,
    pub clients: Vec<OidcClient>,
    pub crisis: crate::rotation::CrisisPlan,
    pub crisis_contacts: BTreeMap<Username, crate::rotation::CrisisContact>,
}

/// One write. Upserts carry the full row, keyed by id, and always the
/// organisation, so the store never writes across organisations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    PutOrganisation(Organisation),
    PutGroup {
        org: OrganisationId,
        group: Group,
    },
    PutZone {
        org: OrganisationId,
        zone: ZoneRecord,
    },
    PutComponent {
        org: OrganisationId,
        component: ComponentRecord,
    },
    /// The whole team and list, replacing what was stored.
    PutEmergencyContacts {
        org: OrganisationId,
        team: Vec<String>,
        list: Vec<String>,
    },
    /// All the organisation's probes, replacing what was stored.
    PutProbes {
        org: OrganisationId,
        probes: Vec<DesiredProbe>,
    },
    PutService {
        org: OrganisationId,
        service: Service,
        groups: BTreeSet<GroupId>,
    },
    PutUser {
        org: OrganisationId,
        user: User,
        groups: BTreeSet<GroupId>,
        roles: BTreeSet<Role>,
        /// Present only when the user is new.
        new_password: Option<InitialPassword>,
        /// Present only when the user is new.
        new_totp: Option<TotpSecret>,
    },
    PutClient {
        org: OrganisationId,
        client: OidcClient,
        /// A secret generated by this apply, printed once after it is
        /// stored (only its hash is in `client`).
        new_secret: Option<String>,
    },
    /// The crisis settings and every hand-over contact, replacing what was
    /// stored (after the users, so new accounts have their rows).
    PutCrisisPlan {
        org: OrganisationId,
        plan: crate::rotation::CrisisPlan,
        contacts: Vec<(Username, crate::rotation::CrisisContact)>,
    },
    /// Removes a client and revokes the grants people gave it.
    RemoveClient {
        org: OrganisationId,
        id: ClientRowId,
        at: i64,
    },
}

/// A change and a line a person reads in `--dry-run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChange {
    pub description: String,
    pub change: Change,
}

/// Loud warnings about a file that is valid but probably not meant
/// (issue 10: a `0.0.0.0/0` zone makes everyone "inside"), printed by
/// `apply` in dry runs and real runs alike.
#[must_use]
pub fn warnings(orgs: &[DesiredOrganisation]) -> Vec<String> {
    orgs.iter()
        .flat_map(|o| {
            o.zones.iter().filter_map(move |z| {
                let wide = z.cidrs.too_wide();
                (!wide.is_empty()).then(|| {
                    crate::domain::wide_zone_warning(o.slug.as_str(), z.slug.as_str(), &wide)
                })
            })
        })
        .collect()
}

/// Computes the changes that make the store match `desired`. Returns nothing
/// when they already match, which is what makes `apply` idempotent.
#[must_use]
pub fn plan(desired: &DesiredOrganisation, current: &OrgSnapshot, now: i64) -> Vec<PlannedChange> {
    let mut out = Vec::new();
    let slug = &desired.slug;
    let org = Organisation {
        id: current
            .organisation
            .as_ref()
            .map_or_else(OrganisationId::generate, |o| o.id.clone()),
        slug: slug.clone(),
        name: desired.name.clone(),
        domains: desired.domains.clone(),
        mfa_policy: desired.mfa_policy,
        status_contact: desired.status_contact.clone(),
        sms_country_codes: desired.sms_country_codes.clone(),
        signin_notices: desired.signin_notices,
    };
    match &current.organisation {
        None => out.push(put(
            format!("create organisation {slug}"),
            Change::PutOrganisation(org.clone()),
        )),
        Some(o) if *o != org => out.push(put(
            format!("update organisation {slug}"),
            Change::PutOrganisation(org.clone()),
        )),
        Some(_) => {}
    }
    let oid = org.id.clone();

    let mut group_ids: BTreeMap<Slug, GroupId> = current
        .groups
        .iter()
        .map(|g| (g.slug.clone(), g.id.clone()))
        .collect();
    for (gslug, name) in &desired.groups {
        let existing = current.groups.iter().find(|g| &g.slug == gslug);
        let group = Group {
            id: existing.map_or_else(GroupId::generate, |g| g.id.clone()),
            slug: gslug.clone(),
            name: name.clone(),
        };
        group_ids.insert(gslug.clone(), group.id.clone());
        if existing != Some(&group) {
            let verb = if existing.is_some() {
                "update"
            } else {
                "create"
            };
            out.push(put(
                format!("{verb} group {slug}/{gslug}"),
                Change::PutGroup {
                    org: oid.clone(),
                    group,
                },
            ));
        }
    }
    let ids_of = |slugs: &BTreeSet<Slug>| -> BTreeSet<GroupId> {
        slugs
            .iter()
            .filter_map(|s| group_ids.get(s).cloned())
            .collect()
    };

    for z in &desired.zones {
        let existing = current.zones.iter().find(|e| e.slug == z.slug);
        let zone = ZoneRecord {
            id: existing.map_or_else(ZoneId::generate, |e| e.id.clone()),
            slug: z.slug.clone(),
            name: z.name.clone(),
            cidrs: z.cidrs.to_storage(),
        };
        if existing != Some(&zone) {
            let verb = if existing.is_some() {
                "update"
            } else {
                "create"
            };
            out.push(put(
                format!("{verb} zone {slug}/{}", z.slug),
                Change::PutZone {
                    org: oid.clone(),
                    zone,
                },
            ));
        }
    }

    for (i, c) in desired.components.iter().enumerate() {
        let existing = current.components.iter().find(|e| e.slug == c.slug);
        let component = ComponentRecord {
            id: existing.map_or_else(
                || crate::ids::EventId::generate().to_string(),
                |e| e.id.clone(),
            ),
            slug: c.slug.clone(),
            name: c.name.clone(),
            group: c.group.clone(),
            alternatives: c.alternatives.clone(),
            sort: i64::try_from(i).unwrap_or(i64::MAX),
        };
        if existing != Some(&component) {
            let verb = if existing.is_some() {
                "update"
            } else {
                "create"
            };
            out.push(put(
                format!("{verb} status component {slug}/{}", c.slug),
                Change::PutComponent {
                    org: oid.clone(),
                    component,
                },
            ));
        }
    }

    if desired.emergency_team != current.emergency_team
        || desired.emergency_list != current.emergency_list
    {
        out.push(put(
            format!(
                "set emergency contacts {slug}: {} in the team, {} on the list",
                desired.emergency_team.len(),
                desired.emergency_list.len()
            ),
            Change::PutEmergencyContacts {
                org: oid.clone(),
                team: desired.emergency_team.clone(),
                list: desired.emergency_list.clone(),
            },
        ));
    }

    if desired.probes != current.probes {
        out.push(put(
            format!("set health probes {slug}: {}", desired.probes.len()),
            Change::PutProbes {
                org: oid.clone(),
                probes: desired.probes.clone(),
            },
        ));
    }

    for (i, s) in desired.services.iter().enumerate() {
        let existing = current.services.iter().find(|e| e.service.slug == s.slug);
        let service = Service {
            id: existing.map_or_else(ServiceId::generate, |e| e.service.id.clone()),
            slug: s.slug.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
            url: s.url.clone(),
            category: s.category.clone(),
            sort: i64::try_from(i).unwrap_or(i64::MAX),
            icon: s.icon.clone(),
            access: s.access.clone(),
        };
        let groups = ids_of(&s.groups);
        if existing.map(|e| (&e.service, &e.groups)) != Some((&service, &groups)) {
            let verb = if existing.is_some() {
                "update"
            } else {
                "create"
            };
            out.push(put(
                format!("{verb} service {slug}/{}", s.slug),
                Change::PutService {
                    org: oid.clone(),
                    service,
                    groups,
                },
            ));
        }
    }

    let by_name: BTreeMap<&Username, &UserSnapshot> = current
        .users
        .iter()
        .map(|u| (&u.user.username, u))
        .collect();
    for u in &desired.users {
        let existing = by_name.get(&u.username).copied();
        let groups = ids_of(&u.groups);
        let user = match existing {
            Some(e) => User {
                display_name: u.display_name.clone(),
                email: u.email.clone(),
                disabled: u.disabled,
                ..e.user.clone()
            },
            None => User {
                id: UserId::generate(),
                organisation_id: oid.clone(),
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                email: u.email.clone(),
                password_hash: None,
                must_change_password: matches!(u.initial_password, Some(InitialPassword::Plain(_))),
                disabled: u.disabled,
                created_at: now,
                language: None,
                password_expires_at: None,
                lock_reason: String::new(),
                credential_epoch: 0,
            },
        };
        let unchanged =
            existing.is_some_and(|e| e.user == user && e.groups == groups && e.roles == u.roles);
        if !unchanged {
            let verb = if existing.is_some() {
                "update"
            } else {
                "create"
            };
            out.push(put(
                format!("{verb} user {slug}/{}", u.username),
                Change::PutUser {
                    org: oid.clone(),
                    user,
                    groups,
                    roles: u.roles.clone(),
                    new_password: if existing.is_none() {
                        u.initial_password.clone()
                    } else {
                        None
                    },
                    new_totp: if existing.is_none() {
                        u.totp_secret.clone()
                    } else {
                        None
                    },
                },
            ));
        }
    }
    plan_clients(desired, current, &oid, now, &mut out);
    if desired.crisis != current.crisis || desired.crisis_contacts != current.crisis_contacts {
        out.push(put(
            format!(
                "set crisis channels {slug}: {} ({} hand-over contacts)",
                desired
                    .crisis
                    .channels
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                desired.crisis_contacts.len()
            ),
            Change::PutCrisisPlan {
                org: oid.clone(),
                plan: desired.crisis.clone(),
                contacts: desired
                    .crisis_contacts
                    .iter()
                    .map(|(u, c)| (u.clone(), c.clone()))
                    .collect(),
            },
        ));
    }
    out
}

fn plan_clients(
    desired: &DesiredOrganisation,
    current: &OrgSnapshot,
    oid: &OrganisationId,
    now: i64,
    out: &mut Vec<PlannedChange>,
) {
    let slug = &desired.slug;
    for c in &desired.clients {
        let existing = current.clients.iter().find(|e| e.client_id == c.client_id);
        let mut new_secret = None;
        let secret_hash = match (c.kind, &c.secret_hash) {
            (ClientKind::Public, _) => None,
            (ClientKind::Confidential, Some(h)) => Some(h.clone()),
            (ClientKind::Confidential, None) => {
                match existing.and_then(|e| e.secret_hash.clone()) {
                    Some(kept) => Some(kept),
                    None => {
                        let secret = generate_secret();
                        let hash = hash_secret(&secret);
                        new_secret = Some(secret);
                        Some(hash)
                    }
                }
            }
        };
        let client = OidcClient {
            id: existing.map_or_else(ClientRowId::generate, |e| e.id.clone()),
            organisation_id: oid.clone(),
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            kind: c.kind,
            secret_hash,
            redirect_uris: c.redirect_uris.clone(),
            grants: c.grants.clone(),
            scopes: c.scopes.clone(),
            audience: c.audience.clone(),
            signing_alg: c.signing_alg,
            first_party: c.first_party,
            groups: c.groups.clone(),
            access: c.access.clone(),
        };
        if existing == Some(&client) {
            continue;
        }
        let verb = if existing.is_some() {
            "update"
        } else {
            "create"
        };
        let note = if new_secret.is_some() {
            " (its secret is generated and shown once)"
        } else {
            ""
        };
        out.push(put(
            format!("{verb} client {slug}/{}{note}", c.client_id),
            Change::PutClient {
                org: oid.clone(),
                client,
                new_secret,
            },
        ));
    }
    for gone in current
        .clients
        .iter()
        .filter(|e| !desired.clients.iter().any(|c| c.client_id == e.client_id))
    {
        out.push(put(
            format!("remove client {slug}/{}", gone.client_id),
            Change::RemoveClient {
                org: oid.clone(),
                id: gone.id.clone(),
                at: now,
            },
        ));
    }
}

fn put(description: String, change: Change) -> PlannedChange {
    PlannedChange {
        description,
        change,
    }
}

/// What a change freeze refuses among `planned` for the organisation of
/// `current` (issue 15): any added or changed OpenID client; a new
/// account, a change to someone's roles, an account enabled again, a new
/// account's authenticator secret; a changed second-factor policy or
/// domain list, any zone written, any service written (its access rule),
/// the crisis channels or hand-over contacts.
/// Removals and other changes pass. Each with its description.
#[must_use]
pub fn frozen_changes<'a>(
    planned: &'a [PlannedChange],
    current: &OrgSnapshot,
) -> Vec<(crate::freeze::FrozenChange, &'a str)> {
    use crate::freeze::FrozenChange;
    planned
        .iter()
        .filter_map(|p| {
            let refused = match &p.change {
                Change::PutClient { .. } => Some(FrozenChange::Clients),
                Change::PutUser { user, roles, .. } => {
                    let risky = match current.users.iter().find(|u| u.user.id == user.id) {
                        None => true,
                        Some(b) => &b.roles != roles || (b.user.disabled && !user.disabled),
                    };
                    risky.then_some(FrozenChange::Accounts)
                }
                Change::PutOrganisation(o) => match &current.organisation {
                    Some(c) if c.mfa_policy == o.mfa_policy && c.domains == o.domains => None,
                    _ => Some(FrozenChange::SignInRules),
                },
                Change::PutZone { .. } | Change::PutService { .. } => {
                    Some(FrozenChange::SignInRules)
                }
                // Where start codes go: a changed adapter or manager is
                // how an intruder would collect everyone's new codes.
                Change::PutCrisisPlan { .. } => Some(FrozenChange::CodeRoutes),
                _ => None,
            };
            refused.map(|r| (r, p.description.as_str()))
        })
        .collect()
}

#[cfg(test)]
mod freeze_tests {
    use super::*;
    use crate::freeze::FrozenChange;

    /// Review F2: a changed client is refused like a new one, and so are a
    /// weaker second-factor policy, zones and services; a new name is not.
    #[test]
    fn a_freeze_refuses_changed_clients_and_sign_in_rules() {
        let org = Organisation {
            id: OrganisationId::from_raw("org_1"),
            slug: crate::domain::Slug::parse("k").unwrap(),
            name: "K".into(),
            domains: vec!["k.se".into()],
            mfa_policy: crate::domain::MfaPolicy::OutsideInternal,
            status_contact: String::new(),
            sms_country_codes: vec!["46".into()],
            signin_notices: crate::domain::SigninNotices::default(),
        };
        let current = OrgSnapshot {
            organisation: Some(org.clone()),
            ..OrgSnapshot::default()
        };
        let put = |o: Organisation| PlannedChange {
            description: "update organisation k".into(),
            change: Change::PutOrganisation(o),
        };
        let renamed = put(Organisation {
            name: "Ny".into(),
            ..org.clone()
        });
        let weaker = put(Organisation {
            mfa_policy: crate::domain::MfaPolicy::Never,
            ..org.clone()
        });
        let zone = PlannedChange {
            description: "create zone k/all".into(),
            change: Change::PutZone {
                org: org.id.clone(),
                zone: ZoneRecord {
                    id: crate::ids::ZoneId::generate(),
                    slug: crate::domain::Slug::parse("all").unwrap(),
                    name: "All".into(),
                    cidrs: "0.0.0.0/0".into(),
                },
            },
        };
        let routes = PlannedChange {
            description: "set crisis channels k".into(),
            change: Change::PutCrisisPlan {
                org: org.id.clone(),
                plan: crate::rotation::CrisisPlan {
                    mailbox_url: Some("https://elsewhere.example/deliver".into()),
                    ..crate::rotation::CrisisPlan::default()
                },
                contacts: Vec::new(),
            },
        };
        let planned = vec![renamed, weaker, zone, routes];
        let refused = frozen_changes(&planned, &current);
        assert_eq!(
            refused.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            vec![
                FrozenChange::SignInRules,
                FrozenChange::SignInRules,
                FrozenChange::CodeRoutes
            ]
        );
    }
}
