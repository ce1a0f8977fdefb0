//! Property-based tests (proptest) of every parser Latchkey writes itself: session ids
//! from cookies, settings, `next` paths, form validation, the basic-auth header, the
//! password policy and proxy ranges. Each must never panic on any input, and what it
//! accepts must keep its promise. Case counts stay modest so `cargo test` stays quick.

use base64::Engine;
use latchkey::config::Settings;
use latchkey::sessions::SessionId;
use latchkey::throttle::{IpNet, ThrottleSettings};
use latchkey::users::policy::{PasswordPolicy, PolicySettings};
use latchkey::users::validate::{check_password, normalize_email, optional_name};
use latchkey::web::routes::api::parse_basic;
use latchkey::web::routes::safe_next;
use proptest::prelude::*;
use rocket::figment::providers::Serialized;
use rocket::figment::Figment;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON-ish value a configuration key could hold.
fn any_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        ".{0,20}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("redis")),
        Just(serde_json::Value::from("session_db_auth")),
        Just(serde_json::Value::from("-1")),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop::collection::vec(inner, 0..4).prop_map(serde_json::Value::from)
    })
}

const KEYS: &[&str] = &[
    "session_store",
    "auth_type",
    "session_name",
    "session_idle_timeout",
    "session_absolute_timeout",
    "session_duration",
    "session_touch_interval",
    "session_sweep_interval",
    "argon2_memory_kib",
    "argon2_iterations",
    "argon2_parallelism",
    "hash_concurrency",
    "cookie_secure",
    "password_min_length",
    "login_failures_per_account_address",
    "login_failure_window",
    "login_max_lockout",
    "login_failures_per_address",
    "trusted_proxies",
    "signups_per_address",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn session_id_parse_accepts_only_canonical_ids(text in ".{0,40}|[0-9a-f]{32}") {
        if let Some(id) = SessionId::parse(&text) {
            prop_assert_eq!(id.expose(), text);
        }
    }

    #[test]
    fn generated_session_ids_round_trip(_n in 0u8..8) {
        let id = SessionId::generate();
        prop_assert!(SessionId::parse(&id.expose()).is_some());
    }

    #[test]
    fn settings_from_any_values_never_panic(
        pairs in prop::collection::vec((prop::sample::select(KEYS), any_value()), 0..6)
    ) {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        for (key, value) in &pairs {
            figment = figment.merge(Serialized::global(key, value));
        }
        if let Ok(settings) = figment.extract::<Settings>() {
            let _ = settings.validate();
            let _ = settings.idle_timeout();
            let _ = settings.absolute_timeout();
            let _ = settings.store_kind();
        }
        if let Ok(limits) = figment.extract::<ThrottleSettings>() {
            let _ = limits.validate();
        }
        if let Ok(policy) = figment.extract::<PolicySettings>() {
            if let Ok(policy) = PasswordPolicy::new(&policy) {
                prop_assert!(policy.min_chars() >= 8);
            }
        }
    }

    #[test]
    fn safe_next_yields_only_local_paths(
        next in prop_oneof![
            ".{0,40}",
            "/[a-z/\\\\%0-9.:@?#]{0,30}",
            "(https?:)?//[a-z.]{1,10}/?.{0,10}",
            "/%2[fF]/?[a-z]{0,8}",
        ]
    ) {
        if let Some(path) = safe_next(Some(&next)) {
            prop_assert!(path.starts_with('/'), "{}", path);
            prop_assert!(!path.starts_with("//"), "{}", path);
            prop_assert!(!path.contains('\\'), "{}", path);
            prop_assert!(!path.chars().any(|c| c.is_control() || c.is_whitespace()));
            let decoded = rocket::http::RawStr::new(&path).percent_decode_lossy();
            prop_assert!(!decoded.starts_with("//") && !decoded.starts_with("/\\"), "{}", path);
        }
    }

    #[test]
    fn normalize_email_output_is_normal_and_stable(raw in ".{0,80}|[ A-Za-z0-9._-]{1,20}@[A-Za-z0-9.-]{1,20}") {
        if let Ok(email) = normalize_email(&raw) {
            prop_assert_eq!(email.trim(), email.as_str());
            prop_assert_eq!(email.to_lowercase(), email.clone());
            prop_assert_eq!(email.matches('@').count(), 1);
            prop_assert!(email.len() <= 254);
            prop_assert_eq!(normalize_email(&email), Ok(email.clone()));
        }
    }

    #[test]
    fn check_password_is_exactly_the_length_bounds(password in ".{0,140}") {
        let chars = password.chars().count();
        prop_assert_eq!(check_password(&password).is_ok(), (8..=128).contains(&chars));
    }

    #[test]
    fn optional_name_output_is_clean(raw in prop::option::of(".{0,120}")) {
        if let Ok(Some(name)) = optional_name(raw.as_deref()) {
            prop_assert!(!name.is_empty());
            prop_assert_eq!(name.trim(), name.as_str());
            prop_assert!(name.chars().count() <= 100);
            prop_assert!(!name.chars().any(char::is_control));
        }
    }

    #[test]
    fn parse_basic_never_panics(header in ".{0,60}|[Bb][Aa][Ss][Ii][Cc] [A-Za-z0-9+/=]{0,40}") {
        let _ = parse_basic(&header);
    }

    #[test]
    fn parse_basic_round_trips(email in "[^:]{0,20}", password in ".{0,30}", spaces in " {1,3}") {
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(format!("{email}:{password}"));
        let parsed = parse_basic(&format!("Basic{spaces}{encoded}"));
        prop_assert_eq!(parsed, Some((email, password)));
    }

    #[test]
    fn the_password_policy_never_panics(password in "\\PC{0,140}", email in ".{0,30}") {
        let policy = policy();
        if policy.check(&password, &email).is_ok() {
            let chars = latchkey::users::policy::normalize(&password).chars().count();
            prop_assert!((15..=128).contains(&chars));
        }
    }

    #[test]
    fn proxy_ranges_never_panic(text in ".{0,45}|[0-9.]{1,15}/[0-9]{1,3}|[0-9a-f:]{2,39}/[0-9]{1,3}") {
        if let Some(net) = IpNet::parse(&text) {
            let _ = net.contains("127.0.0.1".parse().unwrap());
            let _ = net.contains("::1".parse().unwrap());
        }
    }
}

fn policy() -> &'static PasswordPolicy {
    static POLICY: std::sync::OnceLock<PasswordPolicy> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| PasswordPolicy::new(&PolicySettings::default()).unwrap())
}
