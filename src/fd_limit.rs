//! The open-file limit. Every connection holds a file descriptor until it closes, and
//! Rocket 0.5 never times out a connection that has not sent a complete request (see
//! `docs/deployment.md`), so the usual soft limit of 1,024 (what service managers and
//! shells hand out by default) lets a thousand idle or half-open connections stop the
//! server from accepting any more. The hard limit is what the administrator allows;
//! raising the soft limit to it is what nginx's `worker_rlimit_nofile` and systemd's
//! advice for servers (`LimitNOFILE=`, soft raised by the program) amount to.

/// The soft open-file limit before and after [`raise_to_hard_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    pub before: u64,
    pub now: u64,
}

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit.
///
/// # Errors
/// When the limit cannot be read or set (the OS error).
#[cfg(unix)]
// `rlim_t` is u64 on Linux but not on every Unix.
#[allow(clippy::unnecessary_cast)]
pub fn raise_to_hard_limit() -> std::io::Result<OpenFiles> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let before = limit.rlim_cur as u64;
    if limit.rlim_cur == limit.rlim_max {
        return Ok(OpenFiles {
            before,
            now: before,
        });
    }
    let raised = libc::rlimit {
        rlim_cur: limit.rlim_max,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit only reads the struct we pass.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(OpenFiles {
        before,
        now: raised.rlim_cur as u64,
    })
}

#[cfg(not(unix))]
pub fn raise_to_hard_limit() -> std::io::Result<OpenFiles> {
    Err(std::io::Error::other("not supported on this platform"))
}

/// Raises the limit and says so in the log: the figure an operator needs when connections
/// start failing with "Too many open files".
pub fn raise_and_log() {
    match raise_to_hard_limit() {
        Ok(OpenFiles { before, now }) if now > before => {
            tracing::info!("open-file limit: {now} (raised from {before} to the hard limit)")
        }
        Ok(OpenFiles { now, .. }) => tracing::info!("open-file limit: {now} (the hard limit)"),
        Err(error) => tracing::warn!("cannot raise the open-file limit: {error}"),
    }
}
