//! Crisis rotations (issue 15). Every step moves `rotation_people` rows on
//! from a known state inside the transaction that does the step's work, so
//! a crash between steps leaves each person either untouched or done, and
//! two runners never both act on one person.

use crate::outbox::outbox_insert_many;
use crate::rows::{get, user, USER_COLS};
use crate::{affected, db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::domain::{Language, Slug, Username};
use portvakt_core::ids::{OrganisationId, RotationId, UserId};
use portvakt_core::rotation::{
    decode_route, encode_route, Candidate, ChannelCounts, CrisisContact, CrisisPlan, HandOut,
    Issue, PersonState, Rotation, RotationChannel, RotationPhase, RotationReport, RoutedPerson,
    StartCodeCheck, Stop,
};
use portvakt_core::store::{OutboxMessage, RotationStore, StoreResult};
use portvakt_core::StoreError;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use std::fmt::Write;

/// People inserted per statement when a rotation starts. Statements stay
/// small: binding a statement's numbered parameters costs the square of
/// their number with SQLite (each is found by name in a list), so 300
/// people (900 parameters) cost more than the round trips they saved.
const INSERT_CHUNK: usize = 50;
/// People issued per pair of statements (seven parameters each; see
/// [`INSERT_CHUNK`]).
const ISSUE_CHUNK: usize = 25;
/// The outbox's "given up" mark.
const GIVEN_UP: i64 = i64::MAX;
/// States in which a person holds a code that can still work.
const LIVE: &str = "('sending', 'waiting', 'handed_out')";

const ROTATION_COLS: &str =
    "id, organisation_id, started_by, started_at, group_slug, revoke_passkeys, expires_at, phase, people";

fn rotation_row(r: &AnyRow) -> StoreResult<Rotation> {
    let phase: String = get(r, "phase")?;
    Ok(Rotation {
        id: RotationId::from_raw(get::<String>(r, "id")?),
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        started_by: get::<Option<String>>(r, "started_by")?.map(UserId::from_raw),
        started_at: get(r, "started_at")?,
        group: get::<Option<String>>(r, "group_slug")?.map(Slug::from_stored),
        revoke_passkeys: get::<i64>(r, "revoke_passkeys")? != 0,
        expires_at: get(r, "expires_at")?,
        phase: RotationPhase::parse(&phase)
            .ok_or_else(|| StoreError::Corrupt(format!("rotation phase {phase}")))?,
        people: u32::try_from(get::<i64>(r, "people")?).unwrap_or(u32::MAX),
    })
}

fn aad(rotation: &str, user: &str) -> Vec<u8> {
    format!("portvakt-start-code:{rotation}:{user}").into_bytes()
}

impl SqlStore {
    /// Seals a code; without a configured key it is kept as it is (like
    /// factor secrets in a demo).
    fn seal_code(&self, rotation: &RotationId, user: &UserId, code: &str) -> StoreResult<String> {
        if self.sealer.is_on() {
            self.sealer
                .seal_bytes(&aad(rotation.as_str(), user.as_str()), code.as_bytes())
        } else {
            Ok(code.to_owned())
        }
    }

    fn open_code(&self, rotation: &str, user: &str, stored: &str) -> StoreResult<String> {
        if self.sealer.is_on() || stored.starts_with("sealed:") {
            let b = self.sealer.open_bytes(&aad(rotation, user), stored)?;
            String::from_utf8(b).map_err(|_| StoreError::Corrupt("start code".into()))
        } else {
            Ok(stored.to_owned())
        }
    }

    /// People rows joined with their account, as [`RoutedPerson`]s.
    fn routed(&self, rows: &[AnyRow]) -> StoreResult<Vec<RoutedPerson>> {
        rows.iter()
            .map(|r| {
                let user_id: String = get(r, "user_id")?;
                let rotation_id: String = get(r, "rotation_id")?;
                let code = get::<Option<String>>(r, "code_sealed")?
                    .map(|s| self.open_code(&rotation_id, &user_id, &s))
                    .transpose()?;
                Ok(RoutedPerson {
                    user_id: UserId::from_raw(user_id),
                    username: Username::from_normalised(get(r, "username")?),
                    display_name: get(r, "display_name")?,
                    language: get::<Option<String>>(r, "language")?
                        .as_deref()
                        .and_then(Language::parse),
                    route: decode_route(&get::<String>(r, "route")?),
                    position: usize::try_from(get::<i64>(r, "position")?).unwrap_or(0),
                    code,
                })
            })
            .collect()
    }
}

const PERSON_COLS: &str = "p.rotation_id, p.user_id, p.route, p.position, p.code_sealed, \
     u.username, u.display_name, u.language";

fn count(r: &AnyRow, col: &str) -> StoreResult<u32> {
    Ok(u32::try_from(get::<i64>(r, col)?).unwrap_or(u32::MAX))
}

#[async_trait]
impl RotationStore for SqlStore {
    async fn crisis_plan(&self, org: &OrganisationId) -> StoreResult<CrisisPlan> {
        let Some(r) = sqlx::query(
            "SELECT channels, mailbox_url, mailbox_auth_env, code_hours FROM crisis_plans \
             WHERE organisation_id = $1",
        )
        .bind(org.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        else {
            return Ok(CrisisPlan::default());
        };
        let channels: String = get(&r, "channels")?;
        Ok(CrisisPlan {
            channels: channels
                .split(',')
                .filter(|c| !c.is_empty())
                .map(|c| {
                    RotationChannel::parse(c)
                        .ok_or_else(|| StoreError::Corrupt(format!("crisis channel {c}")))
                })
                .collect::<StoreResult<_>>()?,
            mailbox_url: get(&r, "mailbox_url")?,
            mailbox_auth_env: get(&r, "mailbox_auth_env")?,
            code_hours: u32::try_from(get::<i64>(&r, "code_hours")?).unwrap_or(72),
        })
    }

    async fn org_groups(
        &self,
        org: &OrganisationId,
    ) -> StoreResult<Vec<portvakt_core::store::Group>> {
        sqlx::query(
            "SELECT id, slug, name FROM user_groups_def WHERE organisation_id = $1 ORDER BY name, slug",
        )
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(crate::rows::group)
        .collect()
    }

    async fn rotation_candidates(
        &self,
        org: &OrganisationId,
        group: Option<&Slug>,
    ) -> StoreResult<Vec<Candidate>> {
        let cols: Vec<String> = USER_COLS.split(", ").map(|c| format!("u.{c}")).collect();
        let mut sql = format!(
            "SELECT {}, c.manager, c.unit, c.mailbox_id FROM users u \
             LEFT JOIN crisis_contacts c ON c.organisation_id = u.organisation_id AND c.user_id = u.id \
             WHERE u.organisation_id = $1 AND u.disabled = 0",
            cols.join(", ")
        );
        if group.is_some() {
            sql.push_str(
                " AND u.id IN (SELECT m.user_id FROM group_members m JOIN user_groups_def g \
                 ON g.id = m.group_id WHERE g.organisation_id = $1 AND g.slug = $2)",
            );
        }
        sql.push_str(" ORDER BY u.username");
        let mut q = sqlx::query(&sql).bind(org.as_str());
        if let Some(g) = group {
            q = q.bind(g.as_str());
        }
        let rows = q.fetch_all(&self.pool).await.map_err(db_err)?;
        let factors = sqlx::query(
            "SELECT user_id, kind, destination FROM factors WHERE organisation_id = $1 \
             AND confirmed = 1 AND kind IN ('sms', 'email') AND destination IS NOT NULL \
             ORDER BY created_at, id",
        )
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut sms: HashMap<String, String> = HashMap::new();
        let mut email: HashMap<String, String> = HashMap::new();
        for f in &factors {
            let kind: String = get(f, "kind")?;
            let to = if kind == "sms" { &mut sms } else { &mut email };
            to.entry(get(f, "user_id")?)
                .or_insert(get::<String>(f, "destination")?);
        }
        rows.iter()
            .map(|r| {
                let u = user(r)?;
                Ok(Candidate {
                    sms: sms.get(u.id.as_str()).cloned(),
                    email: email.get(u.id.as_str()).cloned(),
                    contact: CrisisContact {
                        manager: get::<Option<String>>(r, "manager")?
                            .map(Username::from_normalised),
                        unit: get(r, "unit")?,
                        mailbox_id: get(r, "mailbox_id")?,
                    },
                    user: u,
                })
            })
            .collect()
    }

    async fn start_rotation(
        &self,
        rotation: &Rotation,
        people: &[(UserId, Vec<Stop>)],
        now: UnixTime,
    ) -> StoreResult<bool> {
        let org = rotation.organisation_id.as_str();
        let id = rotation.id.as_str();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO rotations ({ROTATION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 'issuing', $8)"
        ))
        .bind(id)
        .bind(org)
        .bind(rotation.started_by.as_ref().map(UserId::as_str))
        .bind(rotation.started_at)
        .bind(rotation.group.as_ref().map(Slug::as_str))
        .bind(i64::from(rotation.revoke_passkeys))
        .bind(rotation.expires_at)
        .bind(i64::try_from(people.len()).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(db_err);
        match inserted {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        // In user-id order, the order codes are issued in: each batch then
        // rewrites a run of neighbouring rows (and index entries) instead of
        // a few rows on every page of the table.
        let mut people: Vec<&(UserId, Vec<Stop>)> = people.iter().collect();
        people.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for chunk in people.chunks(INSERT_CHUNK) {
            let mut sql = String::from(
                "INSERT INTO rotation_people (rotation_id, organisation_id, user_id, route, position, channel, state, expires_at) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let b = 4 + i * 3;
                let _ = write!(
                    sql,
                    "($1, $2, ${b}, ${}, 0, ${}, 'pending', $3)",
                    b + 1,
                    b + 2
                );
            }
            let mut q = sqlx::query(&sql)
                .bind(id)
                .bind(org)
                .bind(rotation.expires_at);
            for (user, route) in chunk {
                let first = route
                    .first()
                    .map_or(RotationChannel::Servicedesk, |s| s.channel);
                q = q
                    .bind(user.as_str())
                    .bind(encode_route(route))
                    .bind(first.as_str());
            }
            q.execute(&mut *tx).await.map_err(db_err)?;
        }
        let people_of = "(SELECT user_id FROM rotation_people WHERE rotation_id = $2)";
        let statements = [
            // Earlier rotations' codes stop working: one valid code each.
            format!(
                "UPDATE rotation_people SET state = 'superseded', code_hash = NULL, code_sealed = NULL \
                 WHERE organisation_id = $1 AND rotation_id <> $2 AND state <> 'superseded' \
                 AND user_id IN {people_of} AND $3 = $3"
            ),
            // The epoch moves on: a session whose sign-in overlapped this
            // transaction is dead too.
            format!(
                "UPDATE users SET password_hash = NULL, must_change_password = 1, password_expires_at = NULL, \
                 credential_epoch = credential_epoch + 1 \
                 WHERE organisation_id = $1 AND id IN {people_of} AND $3 = $3"
            ),
            format!(
                "UPDATE sessions SET revoked_at = $3, end_reason = 'crisis_rotation' \
                 WHERE organisation_id = $1 AND revoked_at IS NULL AND user_id IN {people_of}"
            ),
            format!(
                "UPDATE oidc_refresh_tokens SET used_at = COALESCE(used_at, $3) WHERE organisation_id = $1 \
                 AND grant_id IN (SELECT id FROM oidc_grants WHERE organisation_id = $1 AND user_id IN {people_of})"
            ),
            format!(
                "UPDATE oidc_grants SET revoked_at = $3, revoke_reason = 'crisis_rotation' \
                 WHERE organisation_id = $1 AND revoked_at IS NULL AND user_id IN {people_of}"
            ),
            // A code an app has not redeemed yet would give it fresh tokens.
            format!(
                "UPDATE oidc_codes SET used_at = $3 WHERE organisation_id = $1 AND used_at IS NULL \
                 AND user_id IN {people_of}"
            ),
            // Sign-in and reset codes already sent.
            format!(
                "UPDATE code_challenges SET used_at = $3 WHERE organisation_id = $1 AND used_at IS NULL \
                 AND user_id IN {people_of}"
            ),
        ];
        for s in &statements {
            sqlx::query(s)
                .bind(org)
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        // Disabled accounts get no code, but lose their password too: it
        // must not work again if the account is enabled after the incident.
        let mut disabled = String::from(
            "UPDATE users SET password_hash = NULL, must_change_password = 1, password_expires_at = NULL, \
             credential_epoch = credential_epoch + 1 WHERE organisation_id = $1 AND disabled = 1",
        );
        if rotation.group.is_some() {
            disabled.push_str(
                " AND id IN (SELECT m.user_id FROM group_members m JOIN user_groups_def g \
                 ON g.id = m.group_id WHERE g.organisation_id = $1 AND g.slug = $2)",
            );
        }
        let mut q = sqlx::query(&disabled).bind(org);
        if let Some(g) = &rotation.group {
            q = q.bind(g.as_str());
        }
        q.execute(&mut *tx).await.map_err(db_err)?;
        if rotation.revoke_passkeys {
            sqlx::query(&format!(
                "DELETE FROM factors WHERE organisation_id = $1 AND kind = 'passkey' AND user_id IN {people_of}"
            ))
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn rotation(
        &self,
        org: &OrganisationId,
        id: &RotationId,
    ) -> StoreResult<Option<Rotation>> {
        sqlx::query(&format!(
            "SELECT {ROTATION_COLS} FROM rotations WHERE organisation_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(rotation_row)
        .transpose()
    }

    async fn rotations(&self, org: &OrganisationId, limit: u32) -> StoreResult<Vec<Rotation>> {
        sqlx::query(&format!(
            "SELECT {ROTATION_COLS} FROM rotations WHERE organisation_id = $1 \
             ORDER BY started_at DESC, id DESC LIMIT $2"
        ))
        .bind(org.as_str())
        .bind(i64::from(limit.min(100)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rotation_row)
        .collect()
    }

    async fn open_rotations(&self, now: UnixTime) -> StoreResult<Vec<Rotation>> {
        sqlx::query(&format!(
            "SELECT {ROTATION_COLS} FROM rotations WHERE phase = 'issuing' OR expires_at > $1 \
             ORDER BY started_at"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(rotation_row)
        .collect()
    }

    async fn lease_rotation(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        runner: &str,
        now: UnixTime,
        until: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE rotations SET runner = $3, lease_until = $5 WHERE organisation_id = $1 AND id = $2 \
             AND phase = 'issuing' AND (runner IS NULL OR runner = $3 OR lease_until < $4)",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(runner)
        .bind(now)
        .bind(until)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(affected(&r) == 1)
    }

    async fn pending_people(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        limit: u32,
    ) -> StoreResult<Vec<RoutedPerson>> {
        let rows = sqlx::query(&format!(
            "SELECT {PERSON_COLS} FROM rotation_people p JOIN users u ON u.id = p.user_id \
             WHERE p.rotation_id = $1 AND p.organisation_id = $2 AND p.state = 'pending' \
             ORDER BY p.user_id LIMIT $3"
        ))
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        self.routed(&rows)
    }

    async fn issue_codes(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        issues: &[Issue],
        now: UnixTime,
    ) -> StoreResult<u32> {
        let sealed: Vec<String> = issues
            .iter()
            .map(|i| self.seal_code(id, &i.user_id, &i.code))
            .collect::<StoreResult<_>>()?;
        let batch = format!("rotation:{id}");
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let mut issued = 0;
        // One UPDATE and one INSERT per chunk instead of two statements per
        // person: each statement is a round trip to the database's thread,
        // and those wake-ups cost more than the work.
        for (chunk, sealed) in issues.chunks(ISSUE_CHUNK).zip(sealed.chunks(ISSUE_CHUNK)) {
            let mut sql = String::from("UPDATE rotation_people SET ");
            // Each person's parameters: user, hash, sealed code, position,
            // channel, state, message.
            let per = 7;
            for (col, off) in [
                ("code_hash", 1),
                ("code_sealed", 2),
                ("position", 3),
                ("channel", 4),
                ("state", 5),
                ("outbox_id", 6),
            ] {
                let _ = write!(sql, "{col} = CASE user_id");
                for i in 0..chunk.len() {
                    let b = 4 + i * per;
                    let _ = write!(sql, " WHEN ${b} THEN ${}", b + off);
                }
                sql.push_str(" END, ");
            }
            sql.push_str(
                "issued_at = $3 WHERE rotation_id = $1 AND organisation_id = $2 AND state = 'pending' AND user_id IN (",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let _ = write!(sql, "${}", 4 + i * per);
            }
            sql.push(')');
            let mut q = sqlx::query(&sql)
                .bind(id.as_str())
                .bind(org.as_str())
                .bind(now);
            for (i, sealed) in chunk.iter().zip(sealed) {
                q = q
                    .bind(i.user_id.as_str())
                    .bind(&i.code_hash)
                    .bind(sealed)
                    .bind(i64::try_from(i.position).unwrap_or(0))
                    .bind(i.channel.as_str())
                    .bind(i.state.as_str())
                    .bind(i.message.as_ref().map(|m| m.id.as_str()));
            }
            let updated = affected(&q.execute(&mut *tx).await.map_err(db_err)?);
            issued += u32::try_from(updated).unwrap_or(u32::MAX);
            let mut messages: Vec<&OutboxMessage> =
                chunk.iter().filter_map(|i| i.message.as_ref()).collect();
            if updated == 0 {
                messages.clear();
            } else if updated < chunk.len() as u64 && !messages.is_empty() {
                // Another runner issued some of them first: queue only
                // the messages of those updated here (their rows now
                // point at them). Reading the rows back is for this rare
                // case only; each row read is another round trip.
                let mut sql = String::from(
                    "SELECT outbox_id FROM rotation_people WHERE rotation_id = $1 AND outbox_id IN (",
                );
                for i in 0..messages.len() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    let _ = write!(sql, "${}", i + 2);
                }
                sql.push(')');
                let mut q = sqlx::query(&sql).bind(id.as_str());
                for m in &messages {
                    q = q.bind(m.id.as_str());
                }
                let mine: std::collections::HashSet<String> = q
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_err)?
                    .iter()
                    .map(|r| get::<String>(r, "outbox_id"))
                    .collect::<StoreResult<_>>()?;
                messages.retain(|m| mine.contains(&m.id));
            }
            outbox_insert_many(&mut tx, &messages, Some(&batch)).await?;
        }
        sqlx::query(
            "UPDATE rotations SET phase = 'issued' WHERE id = $1 AND organisation_id = $2 \
             AND phase = 'issuing' AND NOT EXISTS (SELECT 1 FROM rotation_people \
             WHERE rotation_id = $1 AND state = 'pending')",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(issued)
    }

    async fn stalled_people(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        max_attempts: u32,
        limit: u32,
    ) -> StoreResult<Vec<RoutedPerson>> {
        let rows = sqlx::query(&format!(
            "SELECT {PERSON_COLS} FROM outbox o JOIN rotation_people p ON p.outbox_id = o.id \
             JOIN users u ON u.id = p.user_id \
             WHERE o.sent_at IS NULL AND (o.attempts >= $3 OR o.next_attempt_at = $4) \
             AND p.rotation_id = $1 AND p.organisation_id = $2 AND p.state = 'sending' \
             AND p.used_at IS NULL LIMIT $5"
        ))
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(i64::from(max_attempts))
        .bind(GIVEN_UP)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        self.routed(&rows)
    }

    async fn unreached_people(
        &self,
        org: &OrganisationId,
        id: &RotationId,
    ) -> StoreResult<Vec<RoutedPerson>> {
        let rows = sqlx::query(&format!(
            "SELECT {PERSON_COLS} FROM rotation_people p JOIN users u ON u.id = p.user_id \
             LEFT JOIN outbox o ON o.id = p.outbox_id \
             WHERE p.rotation_id = $1 AND p.organisation_id = $2 AND p.used_at IS NULL \
             AND u.password_hash IS NULL \
             AND (p.state = 'waiting' OR (p.state = 'sending' AND o.sent_at IS NULL)) \
             ORDER BY p.user_id"
        ))
        .bind(id.as_str())
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        self.routed(&rows)
    }

    async fn move_person(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        from: usize,
        next: &Issue,
        failed: bool,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let from = i64::try_from(from).unwrap_or(0);
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // The old message, if still unsent, is withdrawn (with the code in
        // its body).
        sqlx::query(
            "DELETE FROM outbox WHERE sent_at IS NULL AND $4 = $4 AND id IN \
             (SELECT outbox_id FROM rotation_people WHERE rotation_id = $1 AND organisation_id = $2 \
              AND user_id = $3 AND outbox_id IS NOT NULL)",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(next.user_id.as_str())
        .bind(GIVEN_UP)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let r = sqlx::query(
            "UPDATE rotation_people SET position = $5, channel = $6, state = $7, outbox_id = $8, \
             failed = CASE WHEN $9 = 1 THEN failed || channel || ',' ELSE failed END, issued_at = $10 \
             WHERE rotation_id = $1 AND organisation_id = $2 AND user_id = $3 AND position = $4 \
             AND state IN ('sending', 'waiting') AND used_at IS NULL",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(next.user_id.as_str())
        .bind(from)
        .bind(i64::try_from(next.position).unwrap_or(0))
        .bind(next.channel.as_str())
        .bind(next.state.as_str())
        .bind(next.message.as_ref().map(|m| m.id.as_str()))
        .bind(i64::from(failed))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if affected(&r) != 1 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        if let Some(m) = &next.message {
            outbox_insert_many(&mut tx, &[m], Some(&format!("rotation:{id}"))).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    async fn rotation_report(
        &self,
        org: &OrganisationId,
        id: &RotationId,
    ) -> StoreResult<RotationReport> {
        let rows = sqlx::query(
            "SELECT p.channel AS channel, COUNT(*) AS current, \
             SUM(CASE WHEN p.state = 'handed_out' OR o.sent_at IS NOT NULL THEN 1 ELSE 0 END) AS delivered, \
             SUM(CASE WHEN p.state = 'sending' AND o.sent_at IS NULL AND o.last_error IS NOT NULL THEN 1 ELSE 0 END) AS failing \
             FROM rotation_people p LEFT JOIN outbox o ON o.id = p.outbox_id \
             WHERE p.rotation_id = $1 AND p.organisation_id = $2 \
             AND p.state NOT IN ('pending', 'superseded') GROUP BY p.channel",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut report = RotationReport::default();
        for ch in RotationChannel::ALL {
            report.channels.push(ChannelCounts {
                channel: Some(ch),
                ..ChannelCounts::default()
            });
        }
        for r in &rows {
            let ch: String = get(r, "channel")?;
            if let Some(c) = report
                .channels
                .iter_mut()
                .find(|c| c.channel.map(RotationChannel::as_str) == Some(ch.as_str()))
            {
                c.current = count(r, "current")?;
                c.delivered = count(r, "delivered")?;
                c.failing = count(r, "failing")?;
            }
        }
        let failed = sqlx::query(
            "SELECT failed FROM rotation_people WHERE rotation_id = $1 AND organisation_id = $2 \
             AND failed <> ''",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        for r in &failed {
            for ch in get::<String>(r, "failed")?.split(',') {
                if let Some(c) = report
                    .channels
                    .iter_mut()
                    .find(|c| c.channel.map(RotationChannel::as_str) == Some(ch))
                {
                    c.failed += 1;
                }
            }
        }
        let totals = sqlx::query(
            "SELECT COUNT(*) AS people, \
             SUM(CASE WHEN p.state = 'pending' THEN 1 ELSE 0 END) AS pending, \
             SUM(CASE WHEN p.used_at IS NOT NULL THEN 1 ELSE 0 END) AS used, \
             SUM(CASE WHEN p.used_at IS NOT NULL AND u.password_hash IS NOT NULL THEN 1 ELSE 0 END) AS password_set \
             FROM rotation_people p JOIN users u ON u.id = p.user_id \
             WHERE p.rotation_id = $1 AND p.organisation_id = $2",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        report.people = count(&totals, "people")?;
        if report.people > 0 {
            report.pending = count(&totals, "pending")?;
            report.used = count(&totals, "used")?;
            report.password_set = count(&totals, "password_set")?;
        }
        Ok(report)
    }

    async fn hand_outs(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        channel: RotationChannel,
        list: Option<&str>,
    ) -> StoreResult<Vec<HandOut>> {
        let rows = sqlx::query(
            "SELECT p.rotation_id, p.user_id, p.route, p.position, p.code_sealed, p.state, p.used_at, \
             u.username, u.display_name FROM rotation_people p JOIN users u ON u.id = p.user_id \
             WHERE p.rotation_id = $1 AND p.organisation_id = $2 AND p.channel = $3 \
             AND p.state IN ('waiting', 'handed_out') ORDER BY u.display_name, u.username",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(channel.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = Vec::new();
        for r in &rows {
            let route = decode_route(&get::<String>(r, "route")?);
            let position = usize::try_from(get::<i64>(r, "position")?).unwrap_or(0);
            let list_name = route
                .get(position)
                .map(|s| s.address.clone())
                .unwrap_or_default();
            if list.is_some_and(|l| l != list_name) {
                continue;
            }
            let user_id: String = get(r, "user_id")?;
            let code = match get::<Option<String>>(r, "code_sealed")? {
                Some(s) => self.open_code(&get::<String>(r, "rotation_id")?, &user_id, &s)?,
                None => String::new(),
            };
            let state: String = get(r, "state")?;
            out.push(HandOut {
                user_id: UserId::from_raw(user_id),
                username: Username::from_normalised(get(r, "username")?),
                display_name: get(r, "display_name")?,
                list: list_name,
                code,
                state: PersonState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("rotation state {state}")))?,
                used: get::<Option<i64>>(r, "used_at")?.is_some(),
            });
        }
        Ok(out)
    }

    async fn person_code(
        &self,
        org: &OrganisationId,
        user: &UserId,
    ) -> StoreResult<Option<(RotationId, String)>> {
        let Some(r) = sqlx::query(
            "SELECT p.rotation_id, p.code_sealed FROM rotation_people p JOIN rotations r ON r.id = p.rotation_id \
             WHERE p.organisation_id = $1 AND p.user_id = $2 AND p.state <> 'superseded' \
             ORDER BY r.started_at DESC LIMIT 1",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let rotation: String = get(&r, "rotation_id")?;
        let code = match get::<Option<String>>(&r, "code_sealed")? {
            Some(s) => self.open_code(&rotation, user.as_str(), &s)?,
            None => String::new(),
        };
        Ok(Some((RotationId::from_raw(rotation), code)))
    }

    async fn mark_handed_out(
        &self,
        org: &OrganisationId,
        id: &RotationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE rotation_people SET state = 'handed_out', handed_out_at = $4 \
             WHERE rotation_id = $1 AND organisation_id = $2 AND user_id = $3 AND state = 'waiting'",
        )
        .bind(id.as_str())
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(affected(&r) == 1)
    }

    async fn forget_expired_codes(&self, now: UnixTime) -> StoreResult<u64> {
        let r = sqlx::query(
            "UPDATE rotation_people SET code_sealed = NULL WHERE code_sealed IS NOT NULL AND expires_at <= $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(affected(&r))
    }

    async fn in_rotation(&self, org: &OrganisationId, user: &UserId) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM rotation_people WHERE organisation_id = $1 AND user_id = $2 \
             AND state <> 'superseded'",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(n > 0)
    }

    async fn check_start_code(
        &self,
        org: &OrganisationId,
        user: &UserId,
        code_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<StartCodeCheck>> {
        let Some(r) = sqlx::query(&format!(
            "SELECT p.expires_at, p.used_at FROM rotation_people p JOIN users u \
             ON u.id = p.user_id AND u.organisation_id = p.organisation_id \
             WHERE p.organisation_id = $1 AND p.user_id = $2 AND p.code_hash = $3 \
             AND p.state IN {LIVE} AND u.password_hash IS NULL"
        ))
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        Ok(Some(if get::<Option<i64>>(&r, "used_at")?.is_some() {
            StartCodeCheck::Used
        } else if get::<i64>(&r, "expires_at")? <= now {
            StartCodeCheck::Expired
        } else {
            StartCodeCheck::Valid
        }))
    }

    async fn use_start_code(
        &self,
        org: &OrganisationId,
        user: &UserId,
        code_hash: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(&format!(
            "UPDATE rotation_people SET used_at = $4, code_sealed = NULL \
             WHERE organisation_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL \
             AND expires_at > $4 AND state IN {LIVE}"
        ))
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(code_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(affected(&r) == 1)
    }
}
