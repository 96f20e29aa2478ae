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
