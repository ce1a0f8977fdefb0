//! The data files hold emails, password hashes, session records, throttle counters and
//! the key that encrypts cookies, so only the account Latchkey runs as may read them:
//! folders Latchkey creates are 0700, and every file it keeps is 0600 (CIS benchmarks and
//! systemd's `StateDirectoryMode=0700` do the same for service state).
//!
//! Files are made private *before* SQLite opens them: SQLite creates a new database
//! 0644 (less the umask) and gives its `-wal` and `-shm` files the database file's mode,
//! so a database file that already exists with 0600 keeps all three private from the first
//! byte. A file that exists with a looser mode (written by an older version, or copied in)
//! is tightened to 0600: it is Latchkey's own file.
//!
//! A folder that already exists is left as it is, with a warning when other users may
//! enter it: the operator may have chosen it on purpose (a shared volume, or a folder that
//! also holds other things), and with every file in it 0600 a looser folder shows only
//! the files' names.

use std::fs;
use std::io;
use std::path::Path;

/// Mode of a folder Latchkey creates: only its owner may list or enter it.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file Latchkey keeps: only its owner may read or write it.
pub const FILE_MODE: u32 = 0o600;

/// The companions SQLite keeps next to a database file.
const SQLITE_SUFFIXES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Creates `dir` and any missing parents with mode 0700. An existing folder is left as
/// it is; when group or others may use it, a warning (once per folder) says so.
///
/// # Errors
/// When a folder cannot be created or its mode cannot be read.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    match fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => {
            warn_if_open(dir, &metadata);
            Ok(())
        }
        _ => {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
            builder.create(dir)
        }
    }
}

/// Makes `path` a private file: created empty with 0600 when missing, tightened to 0600
/// when it exists with a looser mode.
///
/// # Errors
/// When the file cannot be created or its mode cannot be changed.
pub fn make_private(path: &Path) -> io::Result<()> {
    if path.exists() {
        return tighten(path);
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options.open(path).map(drop)?;
    // Created by another process between the two checks: still ours to tighten.
    tighten(path)
}

/// Prepares a SQLite database file: its folder (see [`create_dir`]), any `-wal`, `-shm`
/// or `-journal` file left from an earlier run tightened, and the database file itself
/// private, so the files SQLite creates next to it inherit 0600.
///
/// # Errors
/// When the folder or a file cannot be created or tightened.
pub fn prepare_sqlite_file(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    for suffix in SQLITE_SUFFIXES {
        let mut companion = path.as_os_str().to_owned();
        companion.push(suffix);
        // Absent, or deleted meanwhile by another connection closing the database: fine.
        match tighten(Path::new(&companion)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    make_private(path)
}

#[cfg(unix)]
fn tighten(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn warn_if_open(dir: &Path, metadata: &fs::Metadata) {
    use std::collections::HashSet;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    use std::sync::{Mutex, OnceLock};
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return;
    }
    static WARNED: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    let warned = WARNED.get_or_init(Default::default);
    let first_time = warned
        .lock()
        .map(|mut seen| seen.insert(dir.to_owned()))
        .unwrap_or(true);
    if first_time {
        tracing::warn!(
            "the data folder {} has mode {mode:o}: other local users can see the names of \
             Latchkey's files (the files themselves are 0600). `chmod 700 {}` unless the \
             folder is shared on purpose",
            dir.display(),
            dir.display(),
        );
    }
}

#[cfg(not(unix))]
fn warn_if_open(_dir: &Path, _metadata: &fs::Metadata) {}
