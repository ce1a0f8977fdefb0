//! Logs: security events at one stable target, so they can be alerted on.

use uuid::Uuid;

/// The target of every security event. Alert on it; each carries an `event` field.
pub const SECURITY: &str = "latchkey::security";

/// A security event that an admin command caused (the web handlers log theirs inline).
pub fn security_event(event: &'static str, user_id: Uuid, message: &str) {
    tracing::info!(target: SECURITY, event, user_id = %user_id, "{message}");
}
