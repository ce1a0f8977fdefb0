//! Security events: one type, one call that writes the log line and counts the metric,
//! so no event can reach the log without its metric (or the metric without the event).
//!
//! Each event is logged at the target [`super::SECURITY`] with an `event` field holding
//! its snake_case name, plus who it concerns (`user_id`), where it came from (`via`),
//! who did it (`by`) and how many sessions it ended (`count`) where those apply. Never a
//! password, a session id or a cookie: variants cannot carry them. Each event also adds 1
//! to `latchkey_security_events_total{event="<name>"}`, and the login events to
//! `latchkey_logins_total{outcome=...}`.

use uuid::Uuid;

use crate::metrics;

/// Where an attempt came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The HTML pages.
    Page,
    /// The JSON API's session login, signup or logout.
    Api,
    /// An API request with `Authorization: Basic`.
    BasicAuth,
    /// The JSON API's token login (a bearer token instead of a session).
    Token,
    /// The admin command line.
    Admin,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Api => "api",
            Self::BasicAuth => "basic_auth",
            Self::Token => "token",
            Self::Admin => "admin",
        }
    }
}

/// Who ended a session or changed an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The account's own user.
    User,
    /// An operator, through the admin command line.
    Admin,
    /// Another caller of the course API (`course_mode`).
    ApiCaller,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
            Self::ApiCaller => "api_caller",
        }
    }
}

/// Declares the enum and its list of names together, so the list cannot miss a variant.
macro_rules! security_events {
    ($( $(#[$doc:meta])* $variant:ident { $($field:ident : $ty:ty),* $(,)? } => $name:literal, $level:ident; )*) => {
        /// Everything Latchkey reports at the security target. Call [`SecurityEvent::emit`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum SecurityEvent {
            $( $(#[$doc])* $variant { $($field: $ty),* }, )*
        }

        impl SecurityEvent {
            /// Every event's name, as the `event` field and the metric label carry it.
            pub const ALL_NAMES: &'static [&'static str] = &[$($name),*];

            /// The event's stable snake_case name.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant { .. } => $name, )*
                }
            }

            fn is_warning(&self) -> bool {
                match self {
                    $( Self::$variant { .. } => security_events!(@warn $level), )*
                }
            }
        }
    };
    (@warn warn) => { true };
    (@warn info) => { false };
}

security_events! {
    /// A login started a session (or Basic credentials were accepted).
    LoginSucceeded { user_id: Uuid, via: Via } => "login_succeeded", info;
    /// A wrong email or password. `user_id` when the email names an account.
    LoginFailed { user_id: Option<Uuid>, via: Via } => "login_failed", warn;
    /// A login refused by throttling before the password was checked.
    LoginThrottled { via: Via } => "login_throttled", warn;
    /// A session ended at its user's request.
    Logout { user_id: Uuid, via: Via } => "logout", info;
    /// One session (or, from the admin command line, every session) of a user ended early.
    SessionRevoked { user_id: Uuid, count: u64, by: Actor } => "session_revoked", info;
    /// A user ended every session but the one they are using.
    OtherSessionsRevoked { user_id: Uuid, count: u64 } => "other_sessions_revoked", info;
    /// A login past `max_sessions_per_user` ended the account's least recently used sessions.
    SessionEvicted { user_id: Uuid, count: u64 } => "session_evicted", info;
    /// A password was changed (by its user, who gave the current one) or set by an admin;
    /// every older session ended.
    PasswordChanged { user_id: Uuid, by: Actor } => "password_changed", info;
    /// A password change with a wrong current password.
    PasswordChangeFailed { user_id: Uuid } => "password_change_failed", warn;
    /// A password change refused by throttling before the current password was checked.
    PasswordChangeThrottled { user_id: Uuid } => "password_change_throttled", warn;
    /// A stored hash made with weaker parameters was replaced at login.
    PasswordHashUpgraded { user_id: Uuid } => "password_hash_upgraded", info;
    /// An account was created.
    Signup { user_id: Uuid, via: Via } => "signup", info;
    /// A signup refused by throttling.
    SignupThrottled { via: Via } => "signup_throttled", warn;
    /// An account and all its sessions were deleted.
    UserDeleted { user_id: Uuid, by: Actor } => "user_deleted", info;
    /// A form post without a valid CSRF token (refused with 403).
    CsrfRejected {} => "csrf_rejected", warn;
}

/// The optional fields of a log line.
#[derive(Default)]
struct Fields {
    user_id: Option<Uuid>,
    via: Option<Via>,
    by: Option<Actor>,
    count: Option<u64>,
}

impl SecurityEvent {
    /// Writes the event's log line and counts it, in one call.
    pub fn emit(self) {
        metrics::security_event(self.name());
        match self {
            Self::LoginSucceeded { .. } => metrics::login_succeeded(),
            Self::LoginFailed { .. } => metrics::login_failed(),
            Self::LoginThrottled { .. } => metrics::login_throttled(),
            _ => {}
        }
        let fields = self.fields();
        let event = self.name();
        let user_id = fields.user_id.map(tracing::field::display);
        let via = fields.via.map(Via::as_str);
        let by = fields.by.map(Actor::as_str);
        let count = fields.count;
        let message = self.message();
        if self.is_warning() {
            tracing::warn!(target: super::SECURITY, event, user_id, via, by, count, "{message}");
        } else {
            tracing::info!(target: super::SECURITY, event, user_id, via, by, count, "{message}");
        }
    }

    fn fields(&self) -> Fields {
        match *self {
            Self::LoginSucceeded { user_id, via }
            | Self::Logout { user_id, via }
            | Self::Signup { user_id, via } => Fields {
                user_id: Some(user_id),
                via: Some(via),
                ..Fields::default()
            },
            Self::LoginFailed { user_id, via } => Fields {
                user_id,
                via: Some(via),
                ..Fields::default()
            },
            Self::LoginThrottled { via } | Self::SignupThrottled { via } => Fields {
                via: Some(via),
                ..Fields::default()
            },
            Self::SessionRevoked { user_id, count, by } => Fields {
                user_id: Some(user_id),
                by: Some(by),
                count: Some(count),
                ..Fields::default()
            },
            Self::OtherSessionsRevoked { user_id, count }
            | Self::SessionEvicted { user_id, count } => Fields {
                user_id: Some(user_id),
                count: Some(count),
                ..Fields::default()
            },
            Self::PasswordChanged { user_id, by } | Self::UserDeleted { user_id, by } => Fields {
                user_id: Some(user_id),
                by: Some(by),
                ..Fields::default()
            },
            Self::PasswordChangeFailed { user_id }
            | Self::PasswordChangeThrottled { user_id }
            | Self::PasswordHashUpgraded { user_id } => Fields {
                user_id: Some(user_id),
                ..Fields::default()
            },
            Self::CsrfRejected {} => Fields::default(),
        }
    }

    /// The line's human-readable message.
    fn message(&self) -> &'static str {
        match self {
            Self::LoginSucceeded { .. } => "login succeeded",
            Self::LoginFailed { .. } => "login failed",
            Self::LoginThrottled { .. } => "login throttled",
            Self::Logout { .. } => "logged out",
            Self::SessionRevoked { .. } => "session revoked",
            Self::OtherSessionsRevoked { .. } => "user ended their other sessions",
            Self::SessionEvicted { .. } => {
                "least recently used session ended: too many sessions for one account"
            }
            Self::PasswordChanged { .. } => "password changed; every other session ended",
            Self::PasswordChangeFailed { .. } => "password change refused: wrong current password",
            Self::PasswordChangeThrottled { .. } => "password change throttled",
            Self::PasswordHashUpgraded { .. } => "password hash upgraded",
            Self::Signup { .. } => "account created",
            Self::SignupThrottled { .. } => "signup throttled",
            Self::UserDeleted { .. } => "account deleted with all its sessions",
            Self::CsrfRejected {} => "CSRF token rejected",
        }
    }
}
