use crate::rows::{self, get, SERVICE_COLS, SESSION_COLS, USER_COLS};
use crate::{affected, db_err, Backend, SqlStore};
use async_trait::async_trait;
use portvakt_core::apply::ZoneRecord;
use portvakt_core::apply::{Change, OrgSnapshot};
use portvakt_core::auth::lockout::{LockoutPolicy, ThrottleState};
use portvakt_core::clock::UnixTime;
use portvakt_core::domain::{MfaPolicy, Role, Slug, Username};
use portvakt_core::ids::{FactorId, OrganisationId, UserId};
use portvakt_core::store::{
    AdminEvent, Ceremony, CodeChallenge, CodeCheck, CodeLimit, Factor, Group, NewSession,
    Organisation, OutboxMessage, Service, SessionRecord, SignInEvent, Store, StoreResult, User,
};
use portvakt_core::StoreError;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::{BTreeSet, HashMap};

impl SqlStore {
    pub(crate) async fn org_from_row(&self, row: &AnyRow) -> StoreResult<Organisation> {
        let id: String = get(row, "id")?;
        let domains = sqlx::query(
            "SELECT domain FROM organisation_domains WHERE organisation_id = $1 ORDER BY domain",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get::<String>(r, "domain"))
        .collect::<Result<Vec<_>, _>>()?;
        Ok(Organisation {
            id: OrganisationId::from_raw(id),
            slug: Slug::from_stored(get(row, "slug")?),
            name: get(row, "name")?,
            domains,
            mfa_policy: MfaPolicy::parse(&get::<String>(row, "mfa_policy")?)
                .ok_or_else(|| StoreError::Corrupt("unknown mfa_policy".into()))?,
            status_contact: get(row, "status_contact")?,
            sms_country_codes: get::<String>(row, "sms_country_codes")?
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    async fn one_org(&self, sql: &str, arg: &str) -> StoreResult<Option<Organisation>> {
        let row = sqlx::query(sql)
            .bind(arg)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match row {
            Some(r) => Ok(Some(self.org_from_row(&r).await?)),
            None => Ok(None),
        }
    }
}

fn clamp_limit(limit: u32) -> i64 {
    i64::from(limit.min(100))
}

#[async_trait]
impl Store for SqlStore {
    async fn organisation(&self, id: &OrganisationId) -> StoreResult<Option<Organisation>> {
        self.one_org(
            "SELECT id, slug, name, mfa_policy, status_contact, sms_country_codes FROM organisations WHERE id = $1",
            id.as_str(),
        )
        .await
    }

    async fn organisation_by_slug(&self, slug: &Slug) -> StoreResult<Option<Organisation>> {
        self.one_org(
            "SELECT id, slug, name, mfa_policy, status_contact, sms_country_codes FROM organisations WHERE slug = $1",
            slug.as_str(),
        )
        .await
    }

    async fn organisation_by_domain(&self, domain: &str) -> StoreResult<Option<Organisation>> {
        self.one_org(
            "SELECT o.id, o.slug, o.name, o.mfa_policy, o.status_contact, o.sms_country_codes FROM organisations o \
             JOIN organisation_domains d ON d.organisation_id = o.id WHERE d.domain = $1",
            domain,
        )
        .await
    }

    async fn list_organisations(&self) -> StoreResult<Vec<Organisation>> {
        let rows = sqlx::query(
            "SELECT id, slug, name, mfa_policy, status_contact, sms_country_codes FROM organisations ORDER BY slug",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.org_from_row(r).await?);
        }
        Ok(out)
    }

    async fn user(&self, org: &OrganisationId, id: &UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE organisation_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn user_by_username(
        &self,
        org: &OrganisationId,
        username: &Username,
    ) -> StoreResult<Option<User>> {
        let sql =
            format!("SELECT {USER_COLS} FROM users WHERE organisation_id = $1 AND username = $2");
        let row = sqlx::query(&sql)
            .bind(org.as_str())
            .bind(username.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::user).transpose()
    }

    async fn list_users(
        &self,
        org: &OrganisationId,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLS} FROM users WHERE organisation_id = $1 ORDER BY username LIMIT $2 OFFSET $3"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(clamp_limit(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::user)
            .collect()
    }

    async fn user_groups(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Group>> {
        sqlx::query(
            "SELECT g.id, g.slug, g.name FROM user_groups_def g \
             JOIN group_members m ON m.group_id = g.id AND m.organisation_id = g.organisation_id \
             WHERE m.organisation_id = $1 AND m.user_id = $2 ORDER BY g.name",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::group)
        .collect()
    }

    async fn user_roles(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Role>> {
        let rows = sqlx::query(
            "SELECT role FROM user_roles WHERE organisation_id = $1 AND user_id = $2 ORDER BY role",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let s: String = get(r, "role")?;
                Role::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("unknown role {s}")))
            })
            .collect()
    }

    async fn set_password_hash(
        &self,
        org: &OrganisationId,
        user: &UserId,
        hash: &str,
        must_change: bool,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE organisation_id = $3 AND id = $4")
            .bind(hash)
            .bind(i64::from(must_change))
            .bind(org.as_str())
            .bind(user.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn bcrypt_prefixes(&self) -> StoreResult<Vec<String>> {
        sqlx::query(
            "SELECT DISTINCT substr(password_hash, 1, 7) AS p FROM users WHERE password_hash LIKE '$2%'",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get(r, "p"))
        .collect()
    }

    async fn throttle_state(
        &self,
        org: &OrganisationId,
        username: &Username,
    ) -> StoreResult<ThrottleState> {
        let row = sqlx::query("SELECT failures, locked_until FROM login_throttle WHERE organisation_id = $1 AND username = $2")
            .bind(org.as_str())
            .bind(username.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        match row {
            None => Ok(ThrottleState::default()),
            Some(r) => Ok(ThrottleState {
                failures: u32::try_from(get::<i64>(&r, "failures")?).unwrap_or(u32::MAX),
                locked_until: get(&r, "locked_until")?,
            }),
        }
    }

    async fn record_failure(
        &self,
        org: &OrganisationId,
        username: &Username,
        now: UnixTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<ThrottleState> {
        self.record_failure_impl(org, username, now, policy).await
    }

    async fn begin_try(
        &self,
        org: &OrganisationId,
        username: &Username,
        now: UnixTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<Result<ThrottleState, ThrottleState>> {
        self.begin_try_impl(org, username, now, policy).await
    }

    async fn forgive_try(
        &self,
        org: &OrganisationId,
        username: &Username,
        now: UnixTime,
        policy: &LockoutPolicy,
    ) -> StoreResult<()> {
        self.forgive_try_impl(org, username, now, policy).await
    }

    async fn clear_failures(&self, org: &OrganisationId, username: &Username) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_throttle WHERE organisation_id = $1 AND username = $2")
            .bind(org.as_str())
            .bind(username.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn create_session(&self, s: &NewSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, organisation_id, user_id, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent, amr, pending_mfa, mfa_tries) \
             VALUES ($1, $2, $3, $4, $4, $5, NULL, $6, $7, $8, $9, 0)",
        )
        .bind(&s.token_hash)
        .bind(s.organisation_id.as_str())
        .bind(s.user_id.as_str())
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .bind(&s.amr)
        .bind(i64::from(s.pending_mfa))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE token_hash = $1");
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(rows::session).transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL AND last_seen_at < $1")
            .bind(now)
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_session(&self, token_hash: &str, now: UnixTime) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<u64> {
        let r = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE organisation_id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(org.as_str())
        .bind(user.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(affected(&r))
    }

    async fn list_user_sessions(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<Vec<SessionRecord>> {
        let sql = format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE organisation_id = $1 AND user_id = $2 \
             AND revoked_at IS NULL AND expires_at > $3 ORDER BY created_at DESC LIMIT 100"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::session)
            .collect()
    }

    async fn count_mfa_try(&self, token_hash: &str) -> StoreResult<u32> {
        self.count_mfa_try_impl(token_hash).await
    }

    async fn zones(&self, org: &OrganisationId) -> StoreResult<Vec<ZoneRecord>> {
        self.zones_impl(org).await
    }

    async fn factors(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<Factor>> {
        self.factors_impl(org, user).await
    }

    async fn add_factor(&self, factor: &Factor) -> StoreResult<()> {
        self.add_factor_impl(factor).await
    }

    async fn confirm_factor(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        label: &str,
        step: i64,
    ) -> StoreResult<bool> {
        self.confirm_factor_impl(org, user, id, label, step).await
    }

    async fn remove_factor(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        keep_one: bool,
    ) -> StoreResult<bool> {
        self.remove_factor_impl(org, user, id, keep_one).await
    }

    async fn consume_totp_step(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        step: i64,
        now: UnixTime,
    ) -> StoreResult<bool> {
        self.consume_totp_step_impl(org, user, id, step, now).await
    }

    async fn factor_by_credential(&self, credential_id: &str) -> StoreResult<Option<Factor>> {
        self.factor_by_credential_impl(credential_id).await
    }

    async fn update_factor_secret(
        &self,
        org: &OrganisationId,
        user: &UserId,
        id: &FactorId,
        secret: &str,
        now: UnixTime,
    ) -> StoreResult<()> {
        self.update_factor_secret_impl(org, user, id, secret, now)
            .await
    }

    async fn create_ceremony(&self, c: &Ceremony) -> StoreResult<()> {
        self.create_ceremony_impl(c).await
    }

    async fn take_ceremony(
        &self,
        id: &str,
        purpose: &str,
        now: UnixTime,
    ) -> StoreResult<Option<Ceremony>> {
        self.take_ceremony_impl(id, purpose, now).await
    }

    async fn create_challenge(&self, c: &CodeChallenge) -> StoreResult<()> {
        self.create_challenge_impl(c).await
    }

    async fn latest_challenge_at(
        &self,
        session_hash: &str,
        purpose: &str,
    ) -> StoreResult<Option<UnixTime>> {
        self.latest_challenge_at_impl(session_hash, purpose).await
    }

    async fn use_challenge(
        &self,
        session_hash: &str,
        purpose: &str,
        code: &str,
        now: UnixTime,
        max_tries: u32,
    ) -> StoreResult<CodeCheck> {
        self.use_challenge_impl(session_hash, purpose, code, now, max_tries)
            .await
    }

    async fn check_challenge(
        &self,
        session_hash: &str,
        purpose: &str,
        code: &str,
        now: UnixTime,
        max_tries: u32,
    ) -> StoreResult<CodeCheck> {
        self.check_challenge_impl(session_hash, purpose, code, now, max_tries)
            .await
    }

    async fn create_challenge_within(
        &self,
        c: &CodeChallenge,
        limits: &[CodeLimit],
    ) -> StoreResult<Option<UnixTime>> {
        self.create_challenge_within_impl(c, limits).await
    }

    async fn redeem_challenge(&self, id: &str, now: UnixTime) -> StoreResult<bool> {
        self.redeem_challenge_impl(id, now).await
    }

    async fn count_challenges(
        &self,
        org: &OrganisationId,
        user: &UserId,
        purpose: &str,
        since: UnixTime,
    ) -> StoreResult<u32> {
        self.count_challenges_impl(org, user, purpose, since).await
    }

    async fn challenge_owner(
        &self,
        session_hash: &str,
        purpose: &str,
        now: UnixTime,
    ) -> StoreResult<Option<(OrganisationId, UserId)>> {
        self.challenge_owner_impl(session_hash, purpose, now).await
    }

    async fn void_challenges(
        &self,
        session_hash: &str,
        purpose: &str,
        now: UnixTime,
    ) -> StoreResult<()> {
        self.void_challenges_impl(session_hash, purpose, now).await
    }

    async fn enqueue_message(&self, m: &OutboxMessage) -> StoreResult<()> {
        self.enqueue_message_impl(m).await
    }

    async fn due_messages(&self, now: UnixTime, limit: u32) -> StoreResult<Vec<OutboxMessage>> {
        self.due_messages_impl(now, limit).await
    }

    async fn mark_sent(&self, id: &str, now: UnixTime) -> StoreResult<()> {
        self.mark_sent_impl(id, now).await
    }

    async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: UnixTime,
    ) -> StoreResult<()> {
        self.mark_failed_impl(id, error, next_attempt_at).await
    }

    async fn record_admin_event(&self, e: &AdminEvent) -> StoreResult<()> {
        self.record_admin_event_impl(e).await
    }

    async fn admin_events(&self, org: &OrganisationId, limit: u32) -> StoreResult<Vec<AdminEvent>> {
        self.admin_events_impl(org, clamp_limit(limit)).await
    }

    async fn record_signin_event(&self, e: &SignInEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signin_events (id, organisation_id, user_id, at, ip, user_agent, method, result, reason, zone) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id.as_str())
        .bind(e.organisation_id.as_ref().map(|o| o.as_str().to_owned()))
        .bind(e.user_id.as_ref().map(|u| u.as_str().to_owned()))
        .bind(e.at)
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(&e.method)
        .bind(e.result.as_str())
        .bind(&e.reason)
        .bind(&e.zone)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn signin_events_for_user(
        &self,
        org: &OrganisationId,
        user: &UserId,
        limit: u32,
    ) -> StoreResult<Vec<SignInEvent>> {
        sqlx::query(
            "SELECT id, organisation_id, user_id, at, ip, user_agent, method, result, reason, zone FROM signin_events \
             WHERE organisation_id = $1 AND user_id = $2 ORDER BY at DESC, id LIMIT $3",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rows::event)
        .collect()
    }

    async fn services_with_groups(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<(Service, BTreeSet<Slug>)>> {
        let mut groups: HashMap<String, BTreeSet<Slug>> = HashMap::new();
        for r in sqlx::query(
            "SELECT sg.service_id, g.slug FROM service_groups sg \
             JOIN user_groups_def g ON g.id = sg.group_id AND g.organisation_id = sg.organisation_id \
             WHERE sg.organisation_id = $1",
        )
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        {
            groups
                .entry(get(&r, "service_id")?)
                .or_default()
                .insert(Slug::from_stored(get(&r, "slug")?));
        }
        let sql = format!(
            "SELECT {SERVICE_COLS} FROM services s WHERE s.organisation_id = $1 ORDER BY s.sort, s.slug"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                let s = rows::service(r)?;
                let g = groups.remove(s.id.as_str()).unwrap_or_default();
                Ok((s, g))
            })
            .collect()
    }

    async fn set_user_language(
        &self,
        org: &OrganisationId,
        user: &UserId,
        language: Option<&str>,
    ) -> StoreResult<bool> {
        let r =
            sqlx::query("UPDATE users SET language = $1 WHERE organisation_id = $2 AND id = $3")
                .bind(language.map(str::to_owned))
                .bind(org.as_str())
                .bind(user.as_str())
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn status_components(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<portvakt_core::status::Component>> {
        self.status_components_impl(org).await
    }

    async fn incidents(
        &self,
        org: &OrganisationId,
        since: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<portvakt_core::status::Incident>> {
        self.incidents_impl(
            org,
            crate::status::Which::Window {
                since,
                limit,
                drafts: false,
            },
        )
        .await
    }

    async fn draft_incidents(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<portvakt_core::status::Incident>> {
        self.incidents_impl(
            org,
            crate::status::Which::Window {
                since: UnixTime::MAX,
                limit: 100,
                drafts: true,
            },
        )
        .await
    }

    async fn incidents_shown(
        &self,
        org: &OrganisationId,
        since: UnixTime,
        resolved: u32,
    ) -> StoreResult<Vec<portvakt_core::status::Incident>> {
        self.incidents_impl(
            org,
            crate::status::Which::Shown {
                since,
                resolved: resolved.min(1000),
            },
        )
        .await
    }

    async fn publish_draft(
        &self,
        org: &OrganisationId,
        incident: &str,
        title: (&str, &str),
        body: (&str, &str),
    ) -> StoreResult<bool> {
        self.publish_draft_impl(org, incident, title, body).await
    }

    async fn withdraw_draft(
        &self,
        org: &OrganisationId,
        incident: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        self.withdraw_draft_impl(org, incident, now).await
    }

    async fn probes(
        &self,
        org: Option<&OrganisationId>,
    ) -> StoreResult<Vec<portvakt_core::probe::Probe>> {
        self.probes_impl(org).await
    }

    async fn probe_states(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<portvakt_core::probe::ProbeState>> {
        self.probe_states_impl(org).await
    }

    async fn probe_overview(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<portvakt_core::probe::ProbeOverview> {
        self.probe_overview_impl(org).await
    }

    async fn put_probe_states(
        &self,
        states: &[portvakt_core::probe::ProbeState],
    ) -> StoreResult<()> {
        self.put_probe_states_impl(states).await
    }

    async fn add_probe_figures(
        &self,
        figures: &[(OrganisationId, portvakt_core::probe::DayFigure)],
    ) -> StoreResult<()> {
        self.add_probe_figures_impl(figures).await
    }

    async fn probe_days(
        &self,
        org: &OrganisationId,
        since_day: &str,
    ) -> StoreResult<Vec<portvakt_core::probe::DayFigure>> {
        self.probe_days_impl(org, since_day).await
    }

    async fn prune_probe_days(&self, before_day: &str) -> StoreResult<u64> {
        self.prune_probe_days_impl(before_day).await
    }

    async fn create_incident(&self, incident: &portvakt_core::status::Incident) -> StoreResult<()> {
        self.create_incident_impl(incident).await
    }

    async fn add_incident_update(
        &self,
        org: &OrganisationId,
        incident: &str,
        update: &portvakt_core::status::IncidentUpdate,
    ) -> StoreResult<bool> {
        self.add_incident_update_impl(org, incident, update).await
    }

    async fn emergency_contacts(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<(Vec<String>, Vec<String>)> {
        self.emergency_contacts_impl(org).await
    }

    async fn enqueue_batch(
        &self,
        batch: &str,
        messages: &[portvakt_core::store::OutboxMessage],
    ) -> StoreResult<()> {
        self.enqueue_batch_impl(batch, messages).await
    }

    async fn batch_reports(
        &self,
        org: &OrganisationId,
        limit: u32,
    ) -> StoreResult<Vec<portvakt_core::store::BatchReport>> {
        self.batch_reports_impl(org, limit).await
    }

    async fn proxied_hosts(&self) -> StoreResult<Vec<String>> {
        sqlx::query(
            "SELECT DISTINCT host FROM services WHERE upstream IS NOT NULL AND host IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| get(r, "host"))
        .collect()
    }

    async fn services_for_user(
        &self,
        org: &OrganisationId,
        user: &UserId,
    ) -> StoreResult<Vec<Service>> {
        let sql = format!(
            "SELECT DISTINCT {SERVICE_COLS} FROM services s \
             JOIN service_groups sg ON sg.service_id = s.id AND sg.organisation_id = s.organisation_id \
             JOIN group_members m ON m.group_id = sg.group_id AND m.organisation_id = s.organisation_id \
             WHERE s.organisation_id = $1 AND m.user_id = $2 ORDER BY s.sort, s.slug"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(user.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(rows::service)
            .collect()
    }

    async fn snapshot(&self, slug: &Slug) -> StoreResult<OrgSnapshot> {
        self.load_snapshot(slug).await
    }

    async fn apply_changes(&self, changes: &[Change]) -> StoreResult<()> {
        self.apply_all(changes).await
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
