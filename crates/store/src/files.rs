//! The SQLite database holds password hashes, sealed second-factor secrets
//! and session hashes: its file, `-wal` and `-shm` must be readable by the
//! service account only (issue 10: they were created 0644 under the usual
//! umask). SQLite gives the `-wal`/`-shm` files the database file's mode, so
//! creating the database 0600 covers new installations; files from before
//! are tightened at every start.

use std::io;
use std::path::{Path, PathBuf};

/// Owner read/write only, whatever the umask.
pub const PRIVATE_FILE: u32 = 0o600;

/// The database file a `sqlite:` URL names; `None` for in-memory databases.
#[must_use]
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|q| q == "mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Creates the database file 0600 if it does not exist yet, before SQLite
/// would create it with the umask's mode.
///
/// # Errors
/// File-system failures other than "already exists".
pub fn create_private(path: &Path) -> io::Result<()> {
    let mut f = std::fs::OpenOptions::new();
    f.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut f, PRIVATE_FILE);
    match f.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sets 0600 on the database and its `-wal`, `-shm` and `-journal` files
/// where they exist.
///
/// # Errors
/// File-system failures (a file that does not exist is skipped).
pub fn restrict(path: &Path) -> io::Result<()> {
    let name = path.as_os_str();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = name.to_owned();
        p.push(suffix);
        restrict_file(Path::new(&p))?;
    }
    Ok(())
}

#[cfg(unix)]
fn restrict_file(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o777 != PRIVATE_FILE => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_FILE))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn restrict_file(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/p/p.db"),
            Some("/var/lib/p/p.db".into())
        );
        assert_eq!(sqlite_path("sqlite://p.db?mode=rwc"), Some("p.db".into()));
        assert_eq!(sqlite_path("sqlite:p.db"), Some("p.db".into()));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite://x?mode=memory&cache=shared"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }
}
