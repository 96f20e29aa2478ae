//! The breach register (issue 15): one row per organisation's part, its
//! form fields as JSON, numbered per organisation.

use crate::outbox::outbox_insert_many;
use crate::rows::get;
use crate::{affected, db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::breach::{Breach, BreachId, Details, Phase, Reporting};
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::{OrganisationId, UserId};
use portvakt_core::store::{BreachStore, OutboxMessage, StoreResult};
use portvakt_core::StoreError;
use sqlx::any::AnyRow;

const COLS: &str = "id, organisation_id, group_id, number, title, discovered_at, details, created_at, created_by, updated_at";

fn breach(r: &AnyRow) -> StoreResult<Breach> {
    let details: String = get(r, "details")?;
    Ok(Breach {
        id: BreachId::from_raw(get::<String>(r, "id")?),
        organisation_id: OrganisationId::from_raw(get::<String>(r, "organisation_id")?),
        group_id: get(r, "group_id")?,
        number: get(r, "number")?,
        title: get(r, "title")?,
        discovered_at: get(r, "discovered_at")?,
        details: serde_json::from_str::<Details>(&details)
            .map_err(|e| StoreError::Corrupt(format!("breach details: {e}")))?,
        created_at: get(r, "created_at")?,
        created_by: UserId::from_raw(get::<String>(r, "created_by")?),
        updated_at: get(r, "updated_at")?,
    })
}

fn details_json(d: &Details) -> StoreResult<String> {
    serde_json::to_string(d).map_err(|e| StoreError::Backend(format!("breach details: {e}")))
}

#[async_trait]
impl BreachStore for SqlStore {
    async fn create_breaches(&self, parts: &[Breach]) -> StoreResult<Vec<Breach>> {
        // Two breaches recorded at once may reach for the same number; the
        // unique index refuses one transaction, which tries again.
        'attempt: for _ in 0..8 {
            let mut tx = self.pool.begin().await.map_err(db_err)?;
            let mut out = Vec::new();
            for b in parts {
                let inserted = sqlx::query(&format!(
                    "INSERT INTO breaches ({COLS}, reporting) \
                     SELECT $1, $2, $3, COALESCE(MAX(number), 0) + 1, $4, $5, $6, $7, $8, $7, $9 \
                     FROM breaches WHERE organisation_id = $2 RETURNING number"
                ))
                .bind(b.id.as_str())
                .bind(b.organisation_id.as_str())
                .bind(b.group_id.clone())
                .bind(&b.title)
                .bind(b.discovered_at)
                .bind(details_json(&b.details)?)
                .bind(b.created_at)
                .bind(b.created_by.as_str())
                .bind(b.details.reporting.as_str())
                .fetch_one(&mut *tx)
                .await;
                match inserted.map_err(db_err) {
                    Ok(r) => out.push(Breach {
                        number: get(&r, "number")?,
                        updated_at: b.created_at,
                        ..b.clone()
                    }),
                    Err(StoreError::Conflict(_)) => continue 'attempt,
                    Err(e) => return Err(e),
                }
            }
            tx.commit().await.map_err(db_err)?;
            return Ok(out);
        }
        Err(StoreError::Conflict("breach number".into()))
    }

    async fn breach(&self, org: &OrganisationId, id: &BreachId) -> StoreResult<Option<Breach>> {
        sqlx::query(&format!(
            "SELECT {COLS} FROM breaches WHERE organisation_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .as_ref()
        .map(breach)
        .transpose()
    }

    async fn breaches(&self, org: &OrganisationId) -> StoreResult<Vec<Breach>> {
        sqlx::query(&format!(
            "SELECT {COLS} FROM breaches WHERE organisation_id = $1 ORDER BY discovered_at DESC, number DESC"
        ))
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(breach)
        .collect()
    }

    async fn breach_group_size(&self, org: &OrganisationId, group_id: &str) -> StoreResult<u32> {
        // Only asked by a part of the group: an organisation without one
        // learns nothing about the group.
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM breaches WHERE group_id = $2 AND organisation_id <> $1 \
             AND EXISTS (SELECT 1 FROM breaches WHERE group_id = $2 AND organisation_id = $1)",
        )
        .bind(org.as_str())
        .bind(group_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u32::try_from(n).unwrap_or(0))
    }

    async fn update_breach(&self, b: &Breach) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE breaches SET title = $3, discovered_at = $4, details = $5, reporting = $6, updated_at = $7 \
             WHERE organisation_id = $1 AND id = $2",
        )
        .bind(b.organisation_id.as_str())
        .bind(b.id.as_str())
        .bind(&b.title)
        .bind(b.discovered_at)
        .bind(details_json(&b.details)?)
        .bind(b.details.reporting.as_str())
        .bind(b.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(affected(&r) == 1)
    }

    async fn add_breach_phase(
        &self,
        org: &OrganisationId,
        id: &BreachId,
        phase: &Phase,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "INSERT INTO breach_phases (breach_id, organisation_id, at, by_user, text, submitted) \
             SELECT id, organisation_id, $3, $4, $5, $6 FROM breaches WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(phase.at)
        .bind(phase.by.as_str())
        .bind(&phase.text)
        .bind(i64::from(phase.submitted))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(affected(&r) == 1)
    }

    async fn breach_phases(&self, org: &OrganisationId, id: &BreachId) -> StoreResult<Vec<Phase>> {
        sqlx::query(
            "SELECT at, by_user, text, submitted FROM breach_phases \
             WHERE organisation_id = $1 AND breach_id = $2 ORDER BY at, text",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(Phase {
                at: get(r, "at")?,
                by: UserId::from_raw(get::<String>(r, "by_user")?),
                text: get(r, "text")?,
                submitted: get::<i64>(r, "submitted")? != 0,
            })
        })
        .collect()
    }

    async fn dpo_addresses(&self, org: &OrganisationId) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT u.email FROM users u JOIN user_roles r ON r.user_id = u.id AND r.organisation_id = u.organisation_id \
             WHERE u.organisation_id = $1 AND r.role = 'data_protection_officer' AND u.disabled = 0 \
             AND u.lock_reason = '' AND u.email IS NOT NULL ORDER BY u.email",
        )
        .bind(org.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn undecided_breaches(&self) -> StoreResult<Vec<(Breach, Vec<i64>)>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM breaches WHERE reporting = $1 ORDER BY discovered_at"
        ))
        .bind(Reporting::Undecided.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = Vec::new();
        for r in &rows {
            let b = breach(r)?;
            let sent: Vec<i64> =
                sqlx::query_scalar("SELECT hours FROM breach_reminders WHERE breach_id = $1")
                    .bind(b.id.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(db_err)?;
            out.push((b, sent));
        }
        Ok(out)
    }

    async fn send_breach_reminder(
        &self,
        org: &OrganisationId,
        id: &BreachId,
        hours: i64,
        messages: &[OutboxMessage],
        now: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let r = sqlx::query(
            "INSERT INTO breach_reminders (breach_id, hours, sent_at) \
             SELECT id, $3, $4 FROM breaches WHERE organisation_id = $1 AND id = $2 \
             ON CONFLICT DO NOTHING",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .bind(hours)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if affected(&r) != 1 {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        let all: Vec<&OutboxMessage> = messages.iter().collect();
        outbox_insert_many(&mut tx, &all, None).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }
}
