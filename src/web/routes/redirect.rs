//! Where a login may send the browser afterwards: only a path on this site. Anything
//! else (other hosts, schemes, protocol-relative `//host`, backslash tricks that browsers
//! read as `//`, control characters) falls back, so `next` cannot be an open redirect
//! (OWASP Unvalidated Redirects Cheat Sheet).

use rocket::http::uri::Origin;
use rocket::http::RawStr;

pub const DEFAULT_AFTER_LOGIN: &str = "/profile";
const MAX_LEN: usize = 512;

/// `next` if it is a safe local path, else `None`. The checks run on the value as
/// given and once percent-decoded, since some browsers and proxies decode `%5C` (`\`)
/// or `%2F` (`/`) before resolving a `Location`.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?;
    let decoded = RawStr::new(next).percent_decode().ok()?;
    if !(is_local_path(next) && is_local_path(&decoded)) {
        return None;
    }
    let origin = Origin::parse(next).ok()?;
    Some(origin.to_string())
}

fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    let local = chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'));
    local
        && path.len() <= MAX_LEN
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// Where to go after logging in.
pub fn after_login(next: Option<&str>) -> String {
    safe_next(next).unwrap_or_else(|| DEFAULT_AFTER_LOGIN.to_owned())
}
