use thiserror::Error;

/// Errors a storage backend reports. Backends map their driver errors into
/// these so that services never see SQL details.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A uniqueness rule was violated (the constraint or column is named).
    #[error("conflict on {0}")]
    Conflict(String),
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Backend(String),
    /// A row violated an invariant the domain relies on.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}
