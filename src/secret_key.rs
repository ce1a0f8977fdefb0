//! Zero-setup secret key. Private cookies are encrypted with Rocket's `secret_key`; when
//! none is configured, Latchkey generates one on first start and keeps it in the data
//! directory (mode 0600, in a folder created 0700), so sessions survive a restart.
//! Configure `secret_key` (or `ROCKET_SECRET_KEY`) yourself when running several
//! instances: they must share it.

use std::fs;
use std::io::Write;
use std::path::Path;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use rocket::config::SecretKey;
use rocket::figment::Figment;

const FILE_NAME: &str = "secret_key";

/// Managed state saying the key came from (or was just written to) the data directory.
pub struct Generated(pub String);

impl std::fmt::Display for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Returns a figment with a secret key added, or `None` when one is configured already.
///
/// # Errors
/// A message naming the file when it cannot be read or written.
pub fn ensure(figment: &Figment, data_dir: &Path) -> Result<Option<Figment>, String> {
    let configured = figment
        .extract_inner::<SecretKey>("secret_key")
        .is_ok_and(|key| !key.is_zero());
    if configured {
        return Ok(None);
    }
    let key = read_or_generate(&data_dir.join(FILE_NAME), "secret key", "secret_key")?;
    Ok(Some(figment.clone().merge(("secret_key", key))))
}

/// The key kept in `path`, or a new one generated into it (mode 0600) on first start, so
/// what it protects survives a restart. Also keeps the token signing key (`tokens`).
///
/// # Errors
/// A message naming the file when it cannot be read or written.
pub(crate) fn read_or_generate(path: &Path, what: &str, setting: &str) -> Result<String, String> {
    match fs::read_to_string(path) {
        Ok(text) => {
            // A key file written by hand or by an older version may be readable by others.
            crate::private_files::make_private(path)
                .map_err(|e| format!("cannot make {} private: {e}", path.display()))?;
            Ok(text.trim().to_owned())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = generate();
            write_private(path, &key)
                .map_err(|e| format!("cannot write the {what} to {}: {e}", path.display()))?;
            eprintln!(
                "Latchkey: no `{setting}` configured; generated one in {} (keep it private)",
                path.display()
            );
            Ok(key)
        }
        Err(error) => Err(format!(
            "cannot read the {what} from {}: {error}",
            path.display()
        )),
    }
}

/// 64 random bytes from the OS CSPRNG, base64: what `secret_key` expects. Also printed by
/// `latchkey secret generate` for operators who configure the key themselves.
pub(crate) fn generate() -> String {
    let mut bytes = [0u8; 64];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn write_private(path: &Path, key: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::private_files::create_dir(dir)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(key.as_bytes())?;
    file.sync_all()
}
