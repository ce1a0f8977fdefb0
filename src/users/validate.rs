//! Input rules for accounts, shared by the pages and the API.

/// The outer bounds any password must be within (NIST SP 800-63B: never fewer than 8
/// characters, no composition rules). The upper bound keeps a megabyte "password" from
/// ever reaching the hasher. New passwords must also pass the configured
/// [`super::policy::PasswordPolicy`] (15 characters by default).
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;
/// RFC 5321 path limit.
const EMAIL_MAX_LEN: usize = 254;

/// Trims and lowercases an email and checks its shape (`local@domain.tld`). Stored emails
/// are normalised this way, so lookups are case-insensitive.
///
/// # Errors
/// A sentence for the person who typed it.
pub fn normalize_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("Enter your email address.");
    }
    if email.len() > EMAIL_MAX_LEN {
        return Err("That email address is too long.");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("Enter an email address like name@example.com.");
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(email)
    } else {
        Err("Enter an email address like name@example.com.")
    }
}

/// # Errors
/// A sentence saying which bound the password misses.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        Err("Use a password of at least 8 characters.")
    } else if chars > PASSWORD_MAX_CHARS {
        Err("Use a password of at most 128 characters.")
    } else {
        Ok(())
    }
}

/// Optional name fields: trimmed, empty means absent, bounded in length.
///
/// # Errors
/// When the name is unreasonably long or has control characters.
pub fn optional_name(raw: Option<&str>) -> Result<Option<String>, &'static str> {
    let Some(name) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > 100 {
        return Err("Names can be at most 100 characters.");
    }
    if name.chars().any(char::is_control) {
        return Err("Names cannot contain control characters.");
    }
    Ok(Some(name.to_owned()))
}
