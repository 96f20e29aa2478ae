use crate::rows::{self, get, USER_COLS};
use crate::{clamp_limit, db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::clock::UnixTime;
use portvakt_core::domain::{Language, Role, Username};
use portvakt_core::ids::{OrganisationId, UserId};
use portvakt_core::store::{
    Group, StoreResult, User, UserFilter, UserListing, UserSearch, UserStore,
};
use portvakt_core::StoreError;

/// `LIKE` patterns for a search: the text lowercased (`!` escapes `%`,
/// `_` and itself), and its digits as a number (a leading 0 read as +46),
/// empty when there are fewer than three.
fn patterns(query: &str) -> (String, String) {
    let q = query.trim();
    if q.is_empty() {
        return (String::new(), String::new());
    }
    let escaped: String = q
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '!' => vec!['!', c],
            c => vec![c],
        })
        .collect();
    let mut digits: String = q.chars().filter(char::is_ascii_digit).collect();
    if let Some(rest) = digits.strip_prefix('0') {
        digits = format!("46{rest}");
    }
    let digits = if digits.len() >= 3 {
        format!("%{digits}%")
    } else {
        String::new()
    };
    (format!("%{escaped}%"), digits)
}

/// Fills `search_text` for users written before it existed (migration
/// 0025); run by the start that applies the migration.
pub(crate) async fn fill_search_text(store: &SqlStore) -> StoreResult<()> {
    let rows = sqlx::query("SELECT id, username, display_name, email FROM users")
        .fetch_all(&store.pool)
        .await
        .map_err(db_err)?;
    let mut tx = store.pool.begin().await.map_err(db_err)?;
    for r in &rows {
        let text = portvakt_core::store::search_text(
            &get::<String>(r, "username")?,
            &get::<String>(r, "display_name")?,
            get::<Option<String>>(r, "email")?.as_deref(),
        );
        sqlx::query("UPDATE users SET search_text = $1 WHERE id = $2")
            .bind(text)
            .bind(get::<String>(r, "id")?)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

#[async_trait]
impl UserStore for SqlStore {
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

    async fn search_users(
        &self,
        org: &OrganisationId,
        search: &UserSearch,
        now: UnixTime,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<UserListing>> {
        let (text, digits) = patterns(&search.text);
        let only = |f: UserFilter| i64::from(search.only == Some(f));
        let cols = USER_COLS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        // Every filter is one bound flag or pattern, so the statement text
        // never changes (prepared once) and user input is never SQL.
        let sql = format!(
            "SELECT {cols}, COALESCE(t.locked_until, 0) AS locked_until, \
             COALESCE(t.failures, 0) AS failures, \
             (SELECT COUNT(*) FROM factors f WHERE f.organisation_id = u.organisation_id \
                     AND f.user_id = u.id AND f.confirmed = 1) AS factors \
             FROM users u LEFT JOIN login_throttle t \
               ON t.organisation_id = u.organisation_id AND t.username = u.username \
             WHERE u.organisation_id = $1 \
             AND ($2 = '' OR u.search_text LIKE $2 ESCAPE '!' \
                  OR EXISTS (SELECT 1 FROM factors f WHERE f.organisation_id = u.organisation_id \
                     AND f.user_id = u.id AND f.kind IN ('email', 'sms') \
                     AND (lower(f.destination) LIKE $2 ESCAPE '!' \
                          OR ($3 <> '' AND replace(f.destination, '+', '') LIKE $3 ESCAPE '!')))) \
             AND ($4 = 0 OR COALESCE(t.locked_until, 0) > $5 OR u.lock_reason <> '') \
             AND ($6 = 0 OR u.disabled = 1) \
             AND ($7 = 0 OR NOT EXISTS (SELECT 1 FROM factors f WHERE f.organisation_id = u.organisation_id \
                     AND f.user_id = u.id AND f.confirmed = 1)) \
             ORDER BY u.username LIMIT $8 OFFSET $9"
        );
        sqlx::query(&sql)
            .bind(org.as_str())
            .bind(text)
            .bind(digits)
            .bind(only(UserFilter::Locked))
            .bind(now)
            .bind(only(UserFilter::Disabled))
            .bind(only(UserFilter::NoSecondFactor))
            .bind(clamp_limit(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| {
                Ok(UserListing {
                    user: rows::user(r)?,
                    locked_until: get(r, "locked_until")?,
                    failures: u32::try_from(get::<i64>(r, "failures")?).unwrap_or(u32::MAX),
                    has_second_factor: get::<i64>(r, "factors")? > 0,
                })
            })
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
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2, \
             password_expires_at = CASE WHEN $2 = 1 THEN password_expires_at ELSE NULL END \
             WHERE organisation_id = $3 AND id = $4",
        )
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

    async fn set_user_language(
        &self,
        org: &OrganisationId,
        user: &UserId,
        language: Option<Language>,
    ) -> StoreResult<bool> {
        let r =
            sqlx::query("UPDATE users SET language = $1 WHERE organisation_id = $2 AND id = $3")
                .bind(language.map(|l| l.as_str().to_owned()))
                .bind(org.as_str())
                .bind(user.as_str())
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn rehash_password(
        &self,
        org: &OrganisationId,
        user: &UserId,
        old: &str,
        new: &str,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE users SET password_hash = $4 WHERE organisation_id = $1 AND id = $2 AND password_hash = $3",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(old)
        .bind(new)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(crate::affected(&r) == 1)
    }

    async fn set_temporary_password(
        &self,
        org: &OrganisationId,
        user: &UserId,
        hash: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 1, password_expires_at = $2 \
             WHERE organisation_id = $3 AND id = $4",
        )
        .bind(hash)
        .bind(expires_at)
        .bind(org.as_str())
        .bind(user.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn lock_account(
        &self,
        org: &OrganisationId,
        user: &UserId,
        reason: &str,
        now: UnixTime,
    ) -> StoreResult<Option<u64>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let Some(row) = sqlx::query(
            "UPDATE users SET lock_reason = $1 WHERE organisation_id = $2 AND id = $3 RETURNING username",
        )
        .bind(reason)
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let username: String = get(&row, "username")?;
        sqlx::query(
            "INSERT INTO login_throttle (organisation_id, username, failures, last_failure_at, locked_until) \
             VALUES ($1, $2, 0, $3, $4) \
             ON CONFLICT (organisation_id, username) DO UPDATE SET locked_until = $4",
        )
        .bind(org.as_str())
        .bind(&username)
        .bind(now)
        .bind(portvakt_core::auth::lockout::HARD_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let ended =
            crate::sessions::revoke_user_sessions_in(&mut tx, org, user, "servicedesk", now)
                .await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(ended))
    }

    async fn unlock_account(
        &self,
        org: &OrganisationId,
        user: &UserId,
        now: UnixTime,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let row = sqlx::query(
            "UPDATE users SET lock_reason = '' WHERE organisation_id = $1 AND id = $2 RETURNING username",
        )
        .bind(org.as_str())
        .bind(user.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(row) = row {
            sqlx::query("DELETE FROM login_throttle WHERE organisation_id = $1 AND username = $2")
                .bind(org.as_str())
                .bind(get::<String>(&row, "username")?)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            sqlx::query(
                "DELETE FROM code_challenges WHERE organisation_id = $1 AND user_id = $2 \
                 AND (used_at IS NOT NULL OR expires_at <= $3)",
            )
            .bind(org.as_str())
            .bind(user.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }
}
