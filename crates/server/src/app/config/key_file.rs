//! The file holding the key that seals second-factor secrets.

use std::path::Path;

/// Reads a key file: 32 bytes as base64.
///
/// # Errors
/// An unreadable file or anything but 32 bytes of base64, naming the file.
pub fn read_key_file(path: &Path) -> Result<[u8; 32], String> {
    use base64::Engine;
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("secret key file {}: {e}", path.display()))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| format!("secret key file {}: not base64", path.display()))?;
    <[u8; 32]>::try_from(raw.as_slice())
        .map_err(|_| format!("secret key file {}: must hold 32 bytes", path.display()))
}

/// Writes a fresh key file (base64 of 32 random bytes), readable by the
/// owner only; refuses to overwrite one.
///
/// # Errors
/// File-system failures, or the file exists.
pub fn write_key_file(path: &Path) -> std::io::Result<()> {
    use base64::Engine;
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let text = base64::engine::general_purpose::STANDARD.encode(key) + "\n";
    let mut f = std::fs::OpenOptions::new();
    f.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
    std::io::Write::write_all(&mut f.open(path)?, text.as_bytes())
}
