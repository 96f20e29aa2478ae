//! Loading an organisation's current state and applying a plan, all in one
//! transaction; and the backend's own consistency check.

use crate::rows::{self, get, SERVICE_COLS, USER_COLS};
use crate::{db_err, Backend, SqlStore};
use async_trait::async_trait;
use portvakt_core::apply::{Change, InitialPassword, OrgSnapshot, ServiceSnapshot, UserSnapshot};
use portvakt_core::domain::{Role, Slug};
use portvakt_core::ids::{FactorId, GroupId};
use portvakt_core::store::{OrgStore, ProbeStore, ProvisioningStore, StoreResult};
use portvakt_core::StoreError;
use sqlx::{Any, Row, Transaction};
use std::collections::{BTreeSet, HashMap};

#[async_trait]
impl ProvisioningStore for SqlStore {
    async fn snapshot(&self, slug: &Slug) -> StoreResult<OrgSnapshot> {
        let row = sqlx::query(
            "SELECT id, slug, name, mfa_policy, status_contact, sms_country_codes, signin_notices FROM organisations WHERE slug = $1",
        )
        .bind(slug.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(OrgSnapshot::default());
        };
        let org = self.org_from_row(&row).await?;
        let oid = org.id.as_str();

        let groups = sqlx::query(
            "SELECT id, slug, name FROM user_groups_def WHERE organisation_id = $1 ORDER BY slug",
        )
        .bind(oid)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::group)
        .collect::<Result<Vec<_>, _>>()?;

        let zones = self.zones(&org.id).await?;
        let (emergency_team, emergency_list) = self.emergency_contacts(&org.id).await?;
        let components = sqlx::query(
            "SELECT id, slug, name, grp, alternatives, sort FROM status_components WHERE organisation_id = $1 ORDER BY sort",
        )
        .bind(oid)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(portvakt_core::apply::ComponentRecord {
                id: get(r, "id")?,
                slug: Slug::from_stored(get(r, "slug")?),
                name: get(r, "name")?,
                group: get(r, "grp")?,
                alternatives: get(r, "alternatives")?,
                sort: get(r, "sort")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;

        let mut service_groups: HashMap<String, BTreeSet<GroupId>> = HashMap::new();
        for r in sqlx::query(
            "SELECT service_id, group_id FROM service_groups WHERE organisation_id = $1",
        )
        .bind(oid)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        {
            service_groups
                .entry(get(&r, "service_id")?)
                .or_default()
                .insert(GroupId::from_raw(get::<String>(&r, "group_id")?));
        }
        let sql = format!(
            "SELECT {SERVICE_COLS} FROM services s WHERE s.organisation_id = $1 ORDER BY s.sort"
        );
        let services = sqlx::query(&sql)
            .bind(oid)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                let service = rows::service(r)?;
                let groups = service_groups
                    .remove(service.id.as_str())
                    .unwrap_or_default();
                Ok(ServiceSnapshot { service, groups })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let mut members: HashMap<String, BTreeSet<GroupId>> = HashMap::new();
        for r in
            sqlx::query("SELECT user_id, group_id FROM group_members WHERE organisation_id = $1")
                .bind(oid)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?
        {
            members
                .entry(get(&r, "user_id")?)
                .or_default()
                .insert(GroupId::from_raw(get::<String>(&r, "group_id")?));
        }
        let mut roles: HashMap<String, BTreeSet<Role>> = HashMap::new();
        for r in sqlx::query("SELECT user_id, role FROM user_roles WHERE organisation_id = $1")
            .bind(oid)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
        {
            let role: String = get(&r, "role")?;
            let role = Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?;
            roles.entry(get(&r, "user_id")?).or_default().insert(role);
        }
        let sql = format!("SELECT {USER_COLS} FROM users WHERE organisation_id = $1");
        let users = sqlx::query(&sql)
            .bind(oid)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                let user = rows::user(r)?;
                let id = user.id.as_str().to_owned();
                Ok(UserSnapshot {
                    groups: members.remove(&id).unwrap_or_default(),
                    roles: roles.remove(&id).unwrap_or_default(),
                    user,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;

        let probes = self.probes(Some(&org.id)).await?;
        let clients = crate::oidc_clients::clients_in(&self.pool, &org.id).await?;
        let crisis = portvakt_core::store::RotationStore::crisis_plan(self, &org.id).await?;
        let crisis_contacts = sqlx::query(
            "SELECT u.username, c.manager, c.unit, c.mailbox_id FROM crisis_contacts c \
             JOIN users u ON u.id = c.user_id AND u.organisation_id = c.organisation_id \
             WHERE c.organisation_id = $1",
        )
        .bind(oid)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok((
                portvakt_core::domain::Username::from_normalised(get(r, "username")?),
                portvakt_core::rotation::CrisisContact {
                    manager: get::<Option<String>>(r, "manager")?
                        .map(portvakt_core::domain::Username::from_normalised),
                    unit: get(r, "unit")?,
                    mailbox_id: get(r, "mailbox_id")?,
                },
            ))
        })
        .collect::<Result<_, StoreError>>()?;
        Ok(OrgSnapshot {
            organisation: Some(org),
            groups,
            zones,
            services,
            users,
            components,
            emergency_team,
            emergency_list,
            probes: probes
                .into_iter()
                .map(|p| portvakt_core::apply::DesiredProbe {
                    slug: p.slug,
                    component: p.component,
                    spec: p.spec,
                })
                .collect(),
            clients,
            crisis,
            crisis_contacts,
        })
    }

    async fn apply_changes(&self, changes: &[Change]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for c in changes {
            apply_one(&mut tx, &self.sealer, c).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn integrity_check(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => {
                let rows = sqlx::query("PRAGMA integrity_check")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
                let msgs: Vec<String> = rows
                    .iter()
                    .filter_map(|r| r.try_get::<String, _>(0).ok())
                    .collect();
                if msgs == ["ok"] {
                    Ok(())
                } else {
                    Err(StoreError::Corrupt(msgs.join("; ")))
                }
            }
            Backend::Postgres => {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }
        }
    }
}

async fn exec<'q>(
    tx: &mut Transaction<'static, Any>,
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
) -> StoreResult<()> {
    q.execute(&mut **tx).await.map_err(db_err).map(|_| ())
}

async fn apply_one(
    tx: &mut Transaction<'static, Any>,
    sealer: &crate::Sealer,
    change: &Change,
) -> StoreResult<()> {
    match change {
        Change::PutOrganisation(o) => {
            exec(
                tx,
                sqlx::query(
                    "INSERT INTO organisations (id, slug, name, mfa_policy, status_contact, sms_country_codes, signin_notices) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET slug = $2, name = $3, mfa_policy = $4, status_contact = $5, sms_country_codes = $6, signin_notices = $7",
                )
                .bind(o.id.as_str())
                .bind(o.slug.as_str())
                .bind(&o.name)
                .bind(o.mfa_policy.as_str())
                .bind(&o.status_contact)
                .bind(o.sms_country_codes.join(","))
                .bind(o.signin_notices.to_storage()),
            )
            .await?;
            exec(
                tx,
                sqlx::query("DELETE FROM organisation_domains WHERE organisation_id = $1")
                    .bind(o.id.as_str()),
            )
            .await?;
            for d in &o.domains {
                exec(tx, sqlx::query("INSERT INTO organisation_domains (domain, organisation_id) VALUES ($1, $2)")
                    .bind(d).bind(o.id.as_str())).await?;
            }
        }
        Change::PutGroup { org, group } => {
            exec(tx, sqlx::query(
                "INSERT INTO user_groups_def (id, organisation_id, slug, name) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET name = $4 WHERE user_groups_def.organisation_id = $2",
            ).bind(group.id.as_str()).bind(org.as_str()).bind(group.slug.as_str()).bind(&group.name)).await?;
        }
        Change::PutEmergencyContacts { org, team, list } => {
            exec(
                tx,
                sqlx::query("DELETE FROM emergency_contacts WHERE organisation_id = $1")
                    .bind(org.as_str()),
            )
            .await?;
            for (kind, addresses) in [("team", team), ("list", list)] {
                for (i, a) in addresses.iter().enumerate() {
                    exec(tx, sqlx::query(
                        "INSERT INTO emergency_contacts (organisation_id, kind, address, sort) VALUES ($1, $2, $3, $4)",
                    ).bind(org.as_str()).bind(kind).bind(a).bind(i64::try_from(i).unwrap_or(i64::MAX))).await?;
                }
            }
        }
        Change::PutClient { org, client, .. } => {
            crate::oidc_clients::put(tx, org, client).await?;
        }
        Change::RemoveClient { org, id, at } => {
            crate::oidc_clients::remove(tx, org, id, *at).await?;
        }
        Change::PutCrisisPlan {
            org,
            plan,
            contacts,
        } => {
            let channels: Vec<&str> = plan.channels.iter().map(|c| c.as_str()).collect();
            exec(tx, sqlx::query(
                "INSERT INTO crisis_plans (organisation_id, channels, mailbox_url, mailbox_auth_env, code_hours) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organisation_id) DO UPDATE SET \
                 channels = $2, mailbox_url = $3, mailbox_auth_env = $4, code_hours = $5",
            ).bind(org.as_str()).bind(channels.join(",")).bind(plan.mailbox_url.clone())
                .bind(plan.mailbox_auth_env.clone()).bind(i64::from(plan.code_hours))).await?;
            exec(
                tx,
                sqlx::query("DELETE FROM crisis_contacts WHERE organisation_id = $1")
                    .bind(org.as_str()),
            )
            .await?;
            for (username, c) in contacts {
                exec(tx, sqlx::query(
                    "INSERT INTO crisis_contacts (organisation_id, user_id, manager, unit, mailbox_id) \
                     SELECT $1, id, $3, $4, $5 FROM users WHERE organisation_id = $1 AND username = $2",
                ).bind(org.as_str()).bind(username.as_str()).bind(c.manager.as_ref().map(|m| m.as_str().to_owned()))
                    .bind(c.unit.clone()).bind(c.mailbox_id.clone())).await?;
            }
        }
        Change::PutProbes { org, probes } => {
            exec(
                tx,
                sqlx::query("DELETE FROM status_probes WHERE organisation_id = $1")
                    .bind(org.as_str()),
            )
            .await?;
            for (i, p) in probes.iter().enumerate() {
                let spec = serde_json::to_string(&p.spec)
                    .map_err(|e| StoreError::Backend(format!("probe spec: {e}")))?;
                exec(tx, sqlx::query(
                    "INSERT INTO status_probes (organisation_id, slug, component, spec, sort) VALUES ($1, $2, $3, $4, $5)",
                ).bind(org.as_str()).bind(p.slug.as_str()).bind(p.component.as_str()).bind(spec)
                    .bind(i64::try_from(i).unwrap_or(i64::MAX))).await?;
            }
            // A removed probe, or one now watching another component, must
            // not hold a component down.
            exec(
                tx,
                sqlx::query(
                    "DELETE FROM probe_states WHERE organisation_id = $1 AND NOT EXISTS \
                     (SELECT 1 FROM status_probes p WHERE p.organisation_id = probe_states.organisation_id \
                     AND p.slug = probe_states.probe AND p.component = probe_states.component)",
                )
                .bind(org.as_str()),
            )
            .await?;
        }
        Change::PutComponent { org, component: c } => {
            exec(tx, sqlx::query(
                "INSERT INTO status_components (id, organisation_id, slug, name, grp, alternatives, sort) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET name = $4, grp = $5, alternatives = $6, sort = $7 WHERE status_components.organisation_id = $2",
            ).bind(&c.id).bind(org.as_str()).bind(c.slug.as_str()).bind(&c.name).bind(&c.group).bind(&c.alternatives).bind(c.sort)).await?;
        }
        Change::PutZone { org, zone } => {
            exec(tx, sqlx::query(
                "INSERT INTO zones (id, organisation_id, slug, name, cidrs) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET name = $4, cidrs = $5 WHERE zones.organisation_id = $2",
            ).bind(zone.id.as_str()).bind(org.as_str()).bind(zone.slug.as_str()).bind(&zone.name).bind(&zone.cidrs)).await?;
        }
        Change::PutService {
            org,
            service: s,
            groups,
        } => {
            let (zones, methods, open) = rows::access_columns(&s.access);
            exec(tx, sqlx::query(
                "INSERT INTO services (id, organisation_id, slug, name, description, url, category, sort, zones, methods, open_hours, host, upstream, icon) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                 ON CONFLICT (id) DO UPDATE SET name = $4, description = $5, url = $6, category = $7, sort = $8, \
                 zones = $9, methods = $10, open_hours = $11, host = $12, upstream = $13, icon = $14 \
                 WHERE services.organisation_id = $2",
            ).bind(s.id.as_str()).bind(org.as_str()).bind(s.slug.as_str()).bind(&s.name).bind(&s.description)
                .bind(&s.url).bind(&s.category).bind(s.sort).bind(zones).bind(methods).bind(open)
                .bind(s.access.host.clone()).bind(s.access.upstream.clone()).bind(&s.icon)).await?;
            exec(
                tx,
                sqlx::query(
                    "DELETE FROM service_groups WHERE organisation_id = $1 AND service_id = $2",
                )
                .bind(org.as_str())
                .bind(s.id.as_str()),
            )
            .await?;
            for g in groups {
                exec(tx, sqlx::query("INSERT INTO service_groups (organisation_id, service_id, group_id) VALUES ($1, $2, $3)")
                    .bind(org.as_str()).bind(s.id.as_str()).bind(g.as_str())).await?;
            }
        }
        Change::PutUser {
            org,
            user: u,
            groups,
            roles,
            new_password,
            new_totp,
        } => {
            let hash = match new_password {
                None => None,
                Some(InitialPassword::Hash(h)) => Some(h.clone()),
                Some(InitialPassword::Plain(_)) => {
                    return Err(StoreError::Corrupt(
                        "a plain password reached the store".into(),
                    ));
                }
            };
            // The password is written only when the row is new: a repeated
            // apply must never undo a password the user chose.
            exec(tx, sqlx::query(
                "INSERT INTO users (id, organisation_id, username, display_name, email, password_hash, must_change_password, disabled, created_at, search_text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (id) DO UPDATE SET display_name = $4, email = $5, disabled = $8, search_text = $10 WHERE users.organisation_id = $2",
            ).bind(u.id.as_str()).bind(org.as_str()).bind(u.username.as_str()).bind(&u.display_name).bind(u.email.clone())
                .bind(hash).bind(i64::from(u.must_change_password)).bind(i64::from(u.disabled)).bind(u.created_at)
                .bind(portvakt_core::store::search_text(u.username.as_str(), &u.display_name, u.email.as_deref()))).await?;
            exec(
                tx,
                sqlx::query(
                    "DELETE FROM group_members WHERE organisation_id = $1 AND user_id = $2",
                )
                .bind(org.as_str())
                .bind(u.id.as_str()),
            )
            .await?;
            for g in groups {
                exec(tx, sqlx::query("INSERT INTO group_members (organisation_id, group_id, user_id) VALUES ($1, $2, $3)")
                    .bind(org.as_str()).bind(g.as_str()).bind(u.id.as_str())).await?;
            }
            exec(
                tx,
                sqlx::query("DELETE FROM user_roles WHERE organisation_id = $1 AND user_id = $2")
                    .bind(org.as_str())
                    .bind(u.id.as_str()),
            )
            .await?;
            for r in roles {
                exec(tx, sqlx::query("INSERT INTO user_roles (organisation_id, user_id, role) VALUES ($1, $2, $3)")
                    .bind(org.as_str()).bind(u.id.as_str()).bind(r.as_str())).await?;
            }
            if let Some(secret) = new_totp {
                exec(tx, sqlx::query(
                    "INSERT INTO factors (id, organisation_id, user_id, kind, label, secret, last_step, confirmed, created_at, last_used_at) \
                     VALUES ($1, $2, $3, 'totp', 'Autentiseringsapp (importerad)', $4, 0, 1, $5, NULL)",
                ).bind(FactorId::generate().as_str().to_owned()).bind(org.as_str()).bind(u.id.as_str()).bind(sealer.seal(&u.id, secret.base32())?).bind(u.created_at)).await?;
            }
            if u.disabled {
                exec(tx, sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE organisation_id = $2 AND user_id = $3 AND revoked_at IS NULL")
                    .bind(u.created_at.max(0)).bind(org.as_str()).bind(u.id.as_str())).await?;
            }
        }
    }
    Ok(())
}
