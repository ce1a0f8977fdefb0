//! Where a login may send the browser afterwards: only a path on this site. Anything
//! else (other hosts, schemes, protocol-relative `//host`, backslash tricks that browsers
//! read as `//`, control characters) falls back, so `next` cannot be an open redirect
//! (OWASP Unvalidated Redirects Cheat Sheet).

use rocket::http::uri::Origin;

pub const DEFAULT_AFTER_LOGIN: &str = "/profile";
const MAX_LEN: usize = 512;

/// `next` if it is a safe local path, else `None`.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?;
    let mut chars = next.chars();
    let local = chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'));
    let clean = next.len() <= MAX_LEN
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if !(local && clean) {
        return None;
    }
    let origin = Origin::parse(next).ok()?;
    Some(origin.to_string())
}

/// Where to go after logging in.
pub fn after_login(next: Option<&str>) -> String {
    safe_next(next).unwrap_or_else(|| DEFAULT_AFTER_LOGIN.to_owned())
}
