//! Shared by the benchmark examples: realistic session records, and reading the
//! process's memory figures from `/proc`.

use std::sync::Arc;

use latchkey::sessions::{SessionId, SessionKey, SessionRecord};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// User agents as browsers send them (~110-150 bytes); real traffic repeats a handful.
const USER_AGENTS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
];

/// Sessions per user in generated data (people use a few devices).
const SESSIONS_PER_USER: usize = 4;

/// `count` fresh sessions as the login path would make them: random ids (stored under
/// their SHA-256 key), one of a few user agents, a few sessions per user. Each user agent
/// is a separate allocation per session, as if each came from its own request: interning
/// them is the store's job.
pub fn sessions(count: usize) -> impl Iterator<Item = (SessionKey, SessionRecord)> {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 is valid");
    let mut user = Uuid::new_v4();
    (0..count).map(move |n| {
        if n % SESSIONS_PER_USER == 0 {
            user = Uuid::new_v4();
        }
        let record = SessionRecord {
            user_id: user,
            created_at: now,
            last_seen: now,
            idle_deadline: now + Duration::minutes(30),
            absolute_deadline: now + Duration::hours(12),
            user_agent: Some(Arc::from(USER_AGENTS[n % USER_AGENTS.len()].to_owned())),
            auth_epoch: 0,
            persistent: true,
        };
        (SessionId::generate().key(), record)
    })
}

/// A `kB` line of `/proc/self/status` (`VmRSS`, `VmHWM`), in bytes.
pub fn proc_status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}
