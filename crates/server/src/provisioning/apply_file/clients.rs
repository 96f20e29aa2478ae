//! `[[organisation.client]]`: apps that sign their users in through the
//! organisation's OpenID provider, with the services' rule language.

use portvakt_core::apply::DesiredClient;
use portvakt_core::domain::Slug;
use portvakt_core::oidc::client::{
    check_redirect_uri, is_client_id, is_scope_token, is_secret_hash, ClientKind, GrantType,
};
use portvakt_core::oidc::jose::Alg;
use std::collections::BTreeSet;

use super::access::{rule_access, RuleFields};
use super::raw::RawClient;
use super::{Checker, S};

/// Resolves group slugs against the file's groups, reporting unknown ones.
pub(super) type GroupRefs<'a> = dyn FnMut(&mut Checker, &[S<String>], &str) -> BTreeSet<Slug> + 'a;

pub(super) fn clients(
    c: &mut Checker,
    raw: &[RawClient],
    f: &str,
    group_refs: &mut GroupRefs<'_>,
    zone_slugs: &BTreeSet<Slug>,
) -> Vec<DesiredClient> {
    let mut out: Vec<DesiredClient> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let cf = format!("{f}.client[{i}]");
        if let Some(client) = client(c, r, &cf, group_refs, zone_slugs) {
            if out.iter().any(|o| o.client_id == client.client_id) {
                c.err(
                    &r.client_id,
                    &format!("{cf}.client_id"),
                    "client listed twice",
                );
            } else {
                out.push(client);
            }
        }
    }
    out
}

fn client(
    c: &mut Checker,
    r: &RawClient,
    cf: &str,
    group_refs: &mut GroupRefs<'_>,
    zone_slugs: &BTreeSet<Slug>,
) -> Option<DesiredClient> {
    let client_id = r.client_id.get_ref().trim().to_owned();
    let id_ok = is_client_id(&client_id);
    if !id_ok {
        c.err(
            &r.client_id,
            &format!("{cf}.client_id"),
            "3–64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit",
        );
    }
    let name = c.text(&r.name, &format!("{cf}.name"));
    let kind = match &r.kind {
        None => ClientKind::Confidential,
        Some(k) => ClientKind::parse(k.get_ref()).unwrap_or_else(|| {
            c.err(
                k,
                &format!("{cf}.kind"),
                "use \"confidential\" or \"public\"",
            );
            ClientKind::Confidential
        }),
    };
    let grants = grants(c, r, cf);
    if kind == ClientKind::Public && grants.contains(&GrantType::ClientCredentials) {
        c.err(
            &r.client_id,
            &format!("{cf}.grants"),
            "a public client cannot use client_credentials (it has no secret)",
        );
    }
    if grants.contains(&GrantType::RefreshToken) && !grants.contains(&GrantType::AuthorizationCode)
    {
        c.err(
            &r.client_id,
            &format!("{cf}.grants"),
            "refresh_token needs authorization_code",
        );
    }
    let mut redirect_uris: Vec<String> = Vec::new();
    for u in &r.redirect_uris {
        match check_redirect_uri(u.get_ref()) {
            Err(e) => c.err(u, &format!("{cf}.redirect_uris"), e),
            Ok(()) if redirect_uris.contains(u.get_ref()) => {
                c.err(u, &format!("{cf}.redirect_uris"), "listed twice");
            }
            Ok(()) => redirect_uris.push(u.get_ref().clone()),
        }
    }
    let signs_in = grants.contains(&GrantType::AuthorizationCode);
    if signs_in && r.redirect_uris.is_empty() {
        c.err(
            &r.client_id,
            &format!("{cf}.redirect_uris"),
            "authorization_code needs at least one redirect URI",
        );
    }
    let scopes = match &r.scopes {
        None => ["openid", "profile", "email"].map(str::to_owned).into(),
        Some(list) => {
            let mut set = BTreeSet::new();
            for s in list {
                if is_scope_token(s.get_ref()) {
                    set.insert(s.get_ref().clone());
                } else {
                    c.err(
                        s,
                        &format!("{cf}.scopes"),
                        "1–64 characters of a-z, 0-9, ':', '.', '_', '/' and '-'",
                    );
                }
            }
            set
        }
    };
    let audience = r.audience.as_ref().map(|a| {
        let v = a.get_ref().trim().to_owned();
        if v.is_empty()
            || v.len() > 200
            || v.chars().any(|ch| ch.is_whitespace() || ch.is_control())
        {
            c.err(
                a,
                &format!("{cf}.audience"),
                "1–200 characters without spaces (a URL or a name)",
            );
        }
        v
    });
    let signing_alg = match &r.signing_alg {
        None => Alg::Es256,
        Some(a) => Alg::parse(a.get_ref()).unwrap_or_else(|| {
            c.err(
                a,
                &format!("{cf}.signing_alg"),
                "use \"ES256\" or \"RS256\"",
            );
            Alg::Es256
        }),
    };
    let secret_hash = r.client_secret_hash.as_ref().map(|h| {
        if kind == ClientKind::Public {
            c.err(h, &format!("{cf}.client_secret_hash"), "a public client has no secret");
        } else if !is_secret_hash(h.get_ref()) {
            c.err(
                h,
                &format!("{cf}.client_secret_hash"),
                "not a secret hash; `portvakt oidc hash-secret` prints one (sha256:…), or leave it out to have a secret generated",
            );
        }
        h.get_ref().clone()
    });
    let groups = group_refs(c, &r.groups, &format!("{cf}.groups"));
    if signs_in && r.groups.is_empty() {
        c.err(
            &r.client_id,
            &format!("{cf}.groups"),
            "name the groups whose members may sign in to this app (as for services)",
        );
    }
    let rule = RuleFields {
        anchor: &r.client_id,
        zones: r.zones.as_ref(),
        methods: r.methods.as_ref(),
        open: &r.open,
    };
    let access = rule_access(c, &rule, cf, zone_slugs);
    id_ok.then_some(DesiredClient {
        client_id,
        name,
        kind,
        redirect_uris,
        grants,
        scopes,
        audience,
        signing_alg,
        first_party: r.first_party,
        groups,
        access,
        secret_hash: secret_hash.filter(|_| kind == ClientKind::Confidential),
    })
}

fn grants(c: &mut Checker, r: &RawClient, cf: &str) -> BTreeSet<GrantType> {
    let Some(list) = &r.grants else {
        return [GrantType::AuthorizationCode, GrantType::RefreshToken].into();
    };
    let mut set = BTreeSet::new();
    for g in list {
        match (GrantType::parse(g.get_ref()), g.get_ref().as_str()) {
            (Some(grant), _) => {
                set.insert(grant);
            }
            (None, "implicit" | "password") => c.err(
                g,
                &format!("{cf}.grants"),
                "not offered: the implicit and password grants are unsafe (OAuth 2.0 security BCP); use authorization_code",
            ),
            (None, _) => c.err(
                g,
                &format!("{cf}.grants"),
                "use authorization_code, refresh_token or client_credentials",
            ),
        }
    }
    if list.is_empty() {
        c.err(
            &r.client_id,
            &format!("{cf}.grants"),
            "name at least one grant",
        );
    }
    set
}
