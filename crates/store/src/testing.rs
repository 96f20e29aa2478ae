//! Helpers for tests that need a throw-away PostgreSQL database.

use crate::db_err;
use portvakt_core::StoreError;
use sqlx::{Connection, Executor, PgConnection};

/// Creates database `name` through the admin URL and returns its URL.
///
/// # Errors
/// When the server cannot be reached or refuses.
pub async fn create_database(admin_url: &str, name: &str) -> Result<String, StoreError> {
    let mut conn = PgConnection::connect(admin_url).await.map_err(db_err)?;
    conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .map_err(db_err)?;
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

/// Drops a database created by [`create_database`].
///
/// # Errors
/// When the server cannot be reached or refuses.
pub async fn drop_database(admin_url: &str, name: &str) -> Result<(), StoreError> {
    let mut conn = PgConnection::connect(admin_url).await.map_err(db_err)?;
    conn.execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Runs SQL on the database behind `url` as someone with direct access
/// would (the audit log's tamper tests): outside every Portvakt check.
/// Returns the rows changed.
///
/// # Errors
/// When the database cannot be reached or the SQL fails.
pub async fn raw_execute(url: &str, sql: &str) -> Result<u64, StoreError> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.map_err(db_err)?;
    let done = conn.execute(sql).await.map_err(db_err)?;
    conn.close().await.map_err(db_err)?;
    Ok(done.rows_affected())
}
