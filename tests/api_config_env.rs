//! The course's environment variables (`AUTH_TYPE`, `SESSION_NAME`, `SESSION_DURATION`)
//! read as they are, and `ROCKET_*` winning over them.
//!
//! figment's `Jail` needs its `test` feature, which this crate does not enable, so these
//! tests set real environment variables. They live in their own test binary (one process)
//! and take a lock, so no other test sees the variables.

use latchkey::config::{AuthType, Settings};
use std::sync::Mutex;

static ENV: Mutex<()> = Mutex::new(());

const VARIABLES: [&str; 6] = [
    "AUTH_TYPE",
    "SESSION_NAME",
    "SESSION_DURATION",
    "ROCKET_AUTH_TYPE",
    "ROCKET_SESSION_NAME",
    "ROCKET_SESSION_DURATION",
];

/// Runs `test` on the settings read with exactly `vars` set among the course and
/// `ROCKET_` variables; every variable it touched is removed again.
fn with_env(vars: &[(&str, &str)], test: impl FnOnce(Settings)) {
    let _guard = ENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for name in VARIABLES {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let settings = latchkey::config::figment().extract::<Settings>();
    for name in VARIABLES.iter().chain(vars.iter().map(|(name, _)| name)) {
        std::env::remove_var(name);
    }
    test(settings.expect("settings extract"));
}

#[test]
fn auth_type_is_read_from_the_course_variable() {
    with_env(&[("AUTH_TYPE", "basic_auth")], |settings| {
        assert_eq!(settings.auth_type, AuthType::BasicAuth);
    });
}

#[test]
fn session_exp_auth_is_read_from_the_course_variable() {
    with_env(&[("AUTH_TYPE", "session_exp_auth")], |settings| {
        assert_eq!(settings.auth_type, AuthType::SessionExpAuth);
    });
}

#[test]
fn an_empty_auth_type_means_no_authentication() {
    with_env(&[("AUTH_TYPE", "")], |settings| {
        assert_eq!(settings.auth_type, AuthType::None);
    });
}

#[test]
fn session_name_is_read_from_the_course_variable() {
    with_env(&[("SESSION_NAME", "_my_session_id")], |settings| {
        assert_eq!(settings.session_name, "_my_session_id");
    });
}

#[test]
fn session_duration_is_read_from_the_course_variable() {
    with_env(&[("SESSION_DURATION", "60")], |settings| {
        assert_eq!(settings.session_duration, Some(60));
    });
}

#[test]
fn a_non_numeric_session_duration_variable_means_none() {
    with_env(&[("SESSION_DURATION", "abc")], |settings| {
        assert_eq!(settings.session_duration, None);
    });
}

#[test]
fn a_zero_session_duration_variable_means_none() {
    with_env(&[("SESSION_DURATION", "0")], |settings| {
        assert_eq!(settings.session_duration, None);
    });
}

#[test]
fn a_negative_session_duration_variable_means_none() {
    with_env(&[("SESSION_DURATION", "-5")], |settings| {
        assert_eq!(settings.session_duration, None);
    });
}

#[test]
fn rocket_auth_type_wins_over_auth_type() {
    with_env(
        &[
            ("AUTH_TYPE", "basic_auth"),
            ("ROCKET_AUTH_TYPE", "session_auth"),
        ],
        |settings| assert_eq!(settings.auth_type, AuthType::SessionAuth),
    );
}

#[test]
fn rocket_session_name_wins_over_session_name() {
    with_env(
        &[
            ("SESSION_NAME", "course_name"),
            ("ROCKET_SESSION_NAME", "latchkey_name"),
        ],
        |settings| assert_eq!(settings.session_name, "latchkey_name"),
    );
}

#[test]
fn rocket_session_duration_wins_over_session_duration() {
    with_env(
        &[
            ("SESSION_DURATION", "60"),
            ("ROCKET_SESSION_DURATION", "120"),
        ],
        |settings| assert_eq!(settings.session_duration, Some(120)),
    );
}

#[test]
fn other_unprefixed_variables_are_not_read() {
    with_env(&[("SESSION_IDLE_TIMEOUT", "7")], |settings| {
        assert_ne!(settings.session_idle_timeout, 7);
    });
}

#[test]
fn without_course_variables_the_defaults_apply() {
    with_env(&[], |settings| {
        assert_eq!(settings.auth_type, AuthType::SessionAuth);
        assert_eq!(settings.session_duration, None);
    });
}
