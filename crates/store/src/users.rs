use crate::rows::{self, get, USER_COLS};
use crate::{clamp_limit, db_err, SqlStore};
use async_trait::async_trait;
use portvakt_core::domain::{Language, Role, Username};
use portvakt_core::ids::{OrganisationId, UserId};
use portvakt_core::store::{Group, StoreResult, User, UserStore};
use portvakt_core::StoreError;

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
}
