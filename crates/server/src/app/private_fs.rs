//! Outbox folders hold sign-in and reset codes in the clear: folders 0700,
//! files 0600, whatever the umask (issue 10: they were 0755/0644).

use std::io;
use std::path::Path;

/// Creates `dir` (and missing parents) 0700, tightens it if it existed, and
/// tightens files already in it (from before this rule).
///
/// # Errors
/// File-system failures.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        b.mode(0o700);
        b.create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(())
    }
    #[cfg(not(unix))]
    b.create(dir)
}

/// Writes a new file 0600 (replacing a leftover one).
///
/// # Errors
/// File-system failures.
pub async fn write_private(path: &Path, content: &[u8]) -> io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut o = tokio::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut f = o.open(path).await?;
    f.write_all(content).await?;
    f.flush().await
}
