//! The password policy of NIST SP 800-63B revision 4 (§3.1.1.2), for new passwords only
//! (signup and password change; existing accounts keep logging in with what they have):
//!
//! - at least `password_min_length` characters (default 15, the rev 4 minimum for a
//!   password that is the only factor; never below 8), at most 128 (rev 4 asks that at
//!   least 64 be allowed; the cap keeps a megabyte "password" away from the hasher);
//! - characters are Unicode code points, counted after NFKC normalisation (§3.1.1.2:
//!   "SHOULD apply the Normalization Process for Stabilized Strings using either the
//!   NFKC or NFKD normalization"), and any character is allowed;
//! - no composition rules (no "one digit, one symbol"), no periodic change;
//! - a blocklist: the 100,000 most common leaked passwords (bundled, see
//!   `assets/common-passwords.txt`) and context words (the service's name, the email's
//!   local part), refused with a sentence that says why (§3.1.1.2: "SHALL advise the
//!   subscriber that they need to select a different password ... and why").

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::validate::PASSWORD_MAX_CHARS;

/// The list, compiled in: no file to find or read at run time, and nothing fetched.
const COMMON_PASSWORDS: &str = include_str!("../../assets/common-passwords.txt");

/// The lowest `password_min_length` Latchkey accepts (NIST SP 800-63B rev 4: 8 when the
/// password is used with another factor, which is the floor for any password).
pub const ABSOLUTE_MIN_CHARS: usize = 8;

/// Words that make a password guessable for this service in particular.
const SERVICE_WORDS: [&str; 1] = ["latchkey"];

/// The policy's setting, read from the same configuration as the others.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct PolicySettings {
    /// Fewest characters (code points, after NFKC) a new password may have.
    pub password_min_length: usize,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            password_min_length: 15,
        }
    }
}

/// NFKC: "ﬁ" and "fi", or a full-width and an ASCII "A", are one password. New hashes
/// are made from this form.
pub fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

/// Cheap to clone; the blocklist is shared.
#[derive(Clone)]
pub struct PasswordPolicy {
    min_chars: usize,
    common: Arc<HashSet<&'static str>>,
}

impl std::fmt::Debug for PasswordPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordPolicy")
            .field("min_chars", &self.min_chars)
            .field("blocklist_entries", &self.common.len())
            .finish()
    }
}

impl PasswordPolicy {
    /// Builds the policy. The blocklist set takes some milliseconds to build: call this
    /// at start-up (off the async workers), not per request.
    ///
    /// # Errors
    /// A sentence naming `password_min_length` when it is below 8 or above 128.
    pub fn new(settings: &PolicySettings) -> Result<Self, String> {
        let min = settings.password_min_length;
        if !(ABSOLUTE_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&min) {
            return Err(format!(
                "invalid setting `password_min_length` = {min}: must be between \
                 {ABSOLUTE_MIN_CHARS} (NIST SP 800-63B) and {PASSWORD_MAX_CHARS}"
            ));
        }
        // The file opens with "# " comment lines; some passwords start with '#' too.
        let common = COMMON_PASSWORDS
            .lines()
            .skip_while(|line| line.starts_with("# "))
            .filter(|line| !line.is_empty())
            .collect();
        Ok(Self {
            min_chars: min,
            common: Arc::new(common),
        })
    }

    pub fn min_chars(&self) -> usize {
        self.min_chars
    }

    /// How many passwords the blocklist holds.
    pub fn blocklist_len(&self) -> usize {
        self.common.len()
    }

    /// Checks a new password for the account `email`.
    ///
    /// # Errors
    /// A sentence for the person saying what is wrong and why.
    pub fn check(&self, password: &str, email: &str) -> Result<(), String> {
        let normalized = normalize(password);
        let chars = normalized.chars().count();
        if chars < self.min_chars {
            return Err(format!(
                "Use a password of at least {} characters (you typed {chars}). A few \
                 unrelated words make a long password that is easy to remember.",
                self.min_chars
            ));
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(format!(
                "Use a password of at most {PASSWORD_MAX_CHARS} characters."
            ));
        }
        let lower = normalized.to_lowercase();
        if self.common.contains(lower.as_str()) {
            return Err(
                "That password is on a list of common passwords that attackers \
                        try first. Choose another one."
                    .to_owned(),
            );
        }
        if SERVICE_WORDS.iter().any(|word| lower.contains(word)) {
            return Err("Your password cannot contain the name of this site, \
                        \"latchkey\": attackers try that first."
                .to_owned());
        }
        let local = email
            .trim()
            .to_lowercase()
            .split('@')
            .next()
            .unwrap_or_default()
            .nfkc()
            .collect::<String>();
        if local.chars().count() >= 3 && lower.contains(&local) {
            return Err(
                "Your password cannot contain your email address's name: attackers try \
                 that first."
                    .to_owned(),
            );
        }
        Ok(())
    }
}
