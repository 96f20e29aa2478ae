//! Intrusion cases (issue 14). Each change to a case's contents checks in
//! its own statement that the case is open and belongs to the
//! organisation, so there is no read-then-write window.

use crate::rows::get;
use crate::{clamp_limit, db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::ids::{EventId, OrganisationId, UserId};
use portvakt_core::intrusion::{
    Case, CaseId, CaseSource, CaseSummary, Closed, EvidenceRecord, NewCase, Note, Outcome, StepDone,
};
use portvakt_core::store::{IntrusionStore, StoreResult};
use portvakt_core::StoreError;
use sqlx::any::AnyRow;

/// `AND` clause: the case `$2` of organisation `$1` is open.
const OPEN: &str = "EXISTS (SELECT 1 FROM intrusion_cases c WHERE c.id = $2 \
                    AND c.organisation_id = $1 AND c.closed_at IS NULL)";

const EVIDENCE_COLS: &str = "id, file_name, media_type, size, sha256, uploaded_by, uploaded_at";

fn source(r: &AnyRow) -> StoreResult<CaseSource> {
    let s: String = get(r, "source")?;
    CaseSource::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("case source {s}")))
}

fn evidence_from_row(r: &AnyRow) -> StoreResult<EvidenceRecord> {
    Ok(EvidenceRecord {
        id: EventId::from_raw(get::<String>(r, "id")?),
        file_name: get(r, "file_name")?,
        media_type: get(r, "media_type")?,
        size: u64::try_from(get::<i64>(r, "size")?).unwrap_or_default(),
        sha256: get(r, "sha256")?,
        uploaded_by: UserId::from_raw(get::<String>(r, "uploaded_by")?),
        uploaded_at: get(r, "uploaded_at")?,
    })
}

impl SqlStore {
    async fn case_accounts(&self, case: &CaseId) -> StoreResult<Vec<UserId>> {
        sqlx::query(
            "SELECT user_id FROM intrusion_case_accounts WHERE case_id = $1 ORDER BY added_at, user_id",
        )
        .bind(case.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| Ok(UserId::from_raw(get::<String>(r, "user_id")?)))
        .collect()
    }

    async fn summaries(&self, rows: Vec<AnyRow>) -> StoreResult<Vec<CaseSummary>> {
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = CaseId::from_raw(get::<String>(r, "id")?);
            out.push(CaseSummary {
                accounts: self.case_accounts(&id).await?,
                id,
                number: get(r, "number")?,
                title: get(r, "title")?,
                opened_at: get(r, "opened_at")?,
                source: source(r)?,
                closed_at: get(r, "closed_at")?,
            });
        }
        Ok(out)
    }
}

const SUMMARY_COLS: &str = "id, number, title, opened_at, source, closed_at";

#[async_trait]
impl IntrusionStore for SqlStore {
    async fn open_case(&self, c: &NewCase) -> StoreResult<i64> {
        // Two cases opened at once may reach for the same number; the
        // unique index refuses one, which tries again.
        for _ in 0..8 {
            let mut tx = self.pool.begin().await.map_err(db_err)?;
            let inserted = sqlx::query(
                "INSERT INTO intrusion_cases (id, organisation_id, number, title, opened_at, opened_by, source, reported_event) \
                 SELECT $1, $2, COALESCE(MAX(number), 0) + 1, $3, $4, $5, $6, $7 \
                 FROM intrusion_cases WHERE organisation_id = $2 \
                 RETURNING number",
            )
            .bind(c.id.as_str())
            .bind(c.organisation_id.as_str())
            .bind(&c.title)
            .bind(c.opened_at)
            .bind(c.opened_by.as_str())
            .bind(c.source.as_str())
            .bind(c.reported_event.as_ref().map_or("", |e| e.as_str()))
            .fetch_one(&mut *tx)
            .await;
            let number: i64 = match inserted.map_err(db_err) {
                Ok(r) => get(&r, "number")?,
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            };
            for u in &c.accounts {
                sqlx::query(
                    "INSERT INTO intrusion_case_accounts (case_id, organisation_id, user_id, added_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(c.id.as_str())
                .bind(c.organisation_id.as_str())
                .bind(u.as_str())
                .bind(c.opened_at)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
            return Ok(number);
        }
        Err(StoreError::Conflict("intrusion case number".into()))
    }

    async fn case(&self, org: &OrganisationId, id: &CaseId) -> StoreResult<Option<Case>> {
        let Some(r) = sqlx::query(
            "SELECT id, organisation_id, number, title, opened_at, opened_by, source, reported_event, \
                    closed_at, closed_by, outcome, outcome_note \
             FROM intrusion_cases WHERE organisation_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let closed = match get::<Option<i64>>(&r, "closed_at")? {
            None => None,
            Some(at) => {
                let o: String = get(&r, "outcome")?;
                Some(Closed {
                    at,
                    by: UserId::from_raw(
                        get::<Option<String>>(&r, "closed_by")?.unwrap_or_default(),
                    ),
                    outcome: Outcome::parse(&o)
                        .ok_or_else(|| StoreError::Corrupt(format!("case outcome {o}")))?,
                    note: get(&r, "outcome_note")?,
                })
            }
        };
        let reported: String = get(&r, "reported_event")?;
        Ok(Some(Case {
            id: id.clone(),
            organisation_id: org.clone(),
            number: get(&r, "number")?,
            title: get(&r, "title")?,
            opened_at: get(&r, "opened_at")?,
            opened_by: UserId::from_raw(get::<String>(&r, "opened_by")?),
            source: source(&r)?,
            reported_event: (!reported.is_empty()).then(|| EventId::from_raw(reported)),
            closed,
            accounts: self.case_accounts(id).await?,
        }))
    }

    async fn list_cases(&self, org: &OrganisationId, limit: u32) -> StoreResult<Vec<CaseSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLS} FROM intrusion_cases WHERE organisation_id = $1 \
             ORDER BY CASE WHEN closed_at IS NULL THEN 0 ELSE 1 END, number DESC LIMIT $2"
        ))
        .bind(org.as_str())
        .bind(clamp_limit(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        self.summaries(rows).await
    }

    async fn cases_of(&self, org: &OrganisationId, user: &UserId) -> StoreResult<Vec<CaseSummary>> {
        let rows = sqlx::query(&format!(
            "SELECT {SUMMARY_COLS} FROM intrusion_cases WHERE organisation_id = $1 AND id IN \
             (SELECT case_id FROM intrusion_case_accounts WHERE organisation_id = $1 AND user_id = $2) \
             ORDER BY number DESC LIMIT 50"
        ))
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        self.summaries(rows).await
    }

    async fn open_case_of(
        &self,
        org: &OrganisationId,
        user: &UserId,
    ) -> StoreResult<Option<CaseId>> {
        Ok(sqlx::query(
            "SELECT id FROM intrusion_cases WHERE organisation_id = $1 AND closed_at IS NULL AND id IN \
             (SELECT case_id FROM intrusion_case_accounts WHERE organisation_id = $1 AND user_id = $2) \
             ORDER BY number DESC LIMIT 1",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|r| get::<String>(&r, "id").map(CaseId::from_raw))
        .transpose()?)
    }

    async fn add_case_account(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(&format!(
            "INSERT INTO intrusion_case_accounts (case_id, organisation_id, user_id, added_at) \
             SELECT $2, $1, $3, $4 WHERE {OPEN} \
             AND EXISTS (SELECT 1 FROM users u WHERE u.organisation_id = $1 AND u.id = $3) \
             ON CONFLICT DO NOTHING"
        ))
        .bind(org.as_str())
        .bind(case.as_str())
        .bind(user.as_str())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn add_note(&self, org: &OrganisationId, case: &CaseId, n: &Note) -> StoreResult<bool> {
        let r = sqlx::query(&format!(
            "INSERT INTO intrusion_case_notes (id, case_id, organisation_id, at, written_at, author_id, body) \
             SELECT $3, $2, $1, $4, $5, $6, $7 WHERE {OPEN}"
        ))
        .bind(org.as_str())
        .bind(case.as_str())
        .bind(n.id.as_str())
        .bind(n.at)
        .bind(n.written_at)
        .bind(n.author.as_str())
        .bind(&n.body)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn notes(&self, org: &OrganisationId, case: &CaseId) -> StoreResult<Vec<Note>> {
        sqlx::query(
            "SELECT id, at, written_at, author_id, body FROM intrusion_case_notes \
             WHERE organisation_id = $1 AND case_id = $2 ORDER BY at DESC, written_at DESC LIMIT 1000",
        )
        .bind(org.as_str())
        .bind(case.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(Note {
                id: EventId::from_raw(get::<String>(r, "id")?),
                at: get(r, "at")?,
                written_at: get(r, "written_at")?,
                author: UserId::from_raw(get::<String>(r, "author_id")?),
                body: get(r, "body")?,
            })
        })
        .collect()
    }

    async fn set_step(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        step: &str,
        done: Option<(&UserId, UnixTime)>,
    ) -> StoreResult<bool> {
        let r = match done {
            Some((by, at)) => sqlx::query(&format!(
                "INSERT INTO intrusion_case_steps (case_id, organisation_id, step, done_at, done_by) \
                 SELECT $2, $1, $3, $4, $5 WHERE {OPEN} ON CONFLICT DO NOTHING"
            ))
            .bind(org.as_str())
            .bind(case.as_str())
            .bind(step)
            .bind(at)
            .bind(by.as_str())
            .execute(&self.pool)
            .await,
            None => sqlx::query(&format!(
                "DELETE FROM intrusion_case_steps WHERE organisation_id = $1 AND case_id = $2 \
                 AND step = $3 AND {OPEN}"
            ))
            .bind(org.as_str())
            .bind(case.as_str())
            .bind(step)
            .execute(&self.pool)
            .await,
        }
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn steps(&self, org: &OrganisationId, case: &CaseId) -> StoreResult<Vec<StepDone>> {
        sqlx::query(
            "SELECT step, done_at, done_by FROM intrusion_case_steps \
             WHERE organisation_id = $1 AND case_id = $2",
        )
        .bind(org.as_str())
        .bind(case.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| {
            Ok(StepDone {
                step: get(r, "step")?,
                at: get(r, "done_at")?,
                by: UserId::from_raw(get::<String>(r, "done_by")?),
            })
        })
        .collect()
    }

    async fn add_evidence(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        e: &EvidenceRecord,
        content: &[u8],
        max_files: u32,
    ) -> StoreResult<bool> {
        let r = sqlx::query(&format!(
            "INSERT INTO intrusion_case_evidence \
             (id, case_id, organisation_id, file_name, media_type, size, sha256, uploaded_by, uploaded_at, content) \
             SELECT $3, $2, $1, $4, $5, $6, $7, $8, $9, $10 WHERE {OPEN} \
             AND (SELECT COUNT(*) FROM intrusion_case_evidence x \
                  WHERE x.organisation_id = $1 AND x.case_id = $2) < $11"
        ))
        .bind(org.as_str())
        .bind(case.as_str())
        .bind(e.id.as_str())
        .bind(&e.file_name)
        .bind(&e.media_type)
        .bind(i64::try_from(e.size).unwrap_or(i64::MAX))
        .bind(&e.sha256)
        .bind(e.uploaded_by.as_str())
        .bind(e.uploaded_at)
        .bind(content)
        .bind(i64::from(max_files))
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn evidence(
        &self,
        org: &OrganisationId,
        case: &CaseId,
    ) -> StoreResult<Vec<EvidenceRecord>> {
        sqlx::query(&format!(
            "SELECT {EVIDENCE_COLS} FROM intrusion_case_evidence \
             WHERE organisation_id = $1 AND case_id = $2 ORDER BY uploaded_at, id"
        ))
        .bind(org.as_str())
        .bind(case.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(evidence_from_row)
        .collect()
    }

    async fn evidence_content(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        id: &EventId,
    ) -> StoreResult<Option<(EvidenceRecord, Vec<u8>)>> {
        sqlx::query(&format!(
            "SELECT {EVIDENCE_COLS}, content FROM intrusion_case_evidence \
             WHERE organisation_id = $1 AND case_id = $2 AND id = $3"
        ))
        .bind(org.as_str())
        .bind(case.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|r| Ok((evidence_from_row(&r)?, get::<Vec<u8>>(&r, "content")?)))
        .transpose()
    }

    async fn close_case(
        &self,
        org: &OrganisationId,
        case: &CaseId,
        by: &UserId,
        outcome: Outcome,
        note: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE intrusion_cases SET closed_at = $3, closed_by = $4, outcome = $5, outcome_note = $6 \
             WHERE organisation_id = $1 AND id = $2 AND closed_at IS NULL",
        )
        .bind(org.as_str())
        .bind(case.as_str())
        .bind(now)
        .bind(by.as_str())
        .bind(outcome.as_str())
        .bind(note)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn reopen_case(&self, org: &OrganisationId, case: &CaseId) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE intrusion_cases SET closed_at = NULL, closed_by = NULL, outcome = '', outcome_note = '' \
             WHERE organisation_id = $1 AND id = $2 AND closed_at IS NOT NULL",
        )
        .bind(org.as_str())
        .bind(case.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }
}
