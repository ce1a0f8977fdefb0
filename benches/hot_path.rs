//! Micro-benchmarks of what every authenticated request pays, step by step:
//! cookie decrypt (the cookie crate's private jar, as Rocket's `get_private` does it, and
//! the server's `CookieOpener`), id hash, store lookup, user lookup, the profile page's context and its
//! template render, the session guard's total (decrypt + parse + hash + lookup + user),
//! and whole requests through Rocket (fairings included) beside a bare Rocket route.
//!
//! `cargo bench --bench hot_path` (add `-- --quick` for a fast pass).

use std::hint::black_box;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use latchkey::auth::{Auth, Registration};
use latchkey::clock::SystemClock;
use latchkey::config::Settings;
use latchkey::sessions::cookie::CookieOpener;
use latchkey::sessions::{MemoryStore, SessionId, SessionStore, Sessions};
use latchkey::users::{CachedUserRepo, NewUser, PasswordHash, SqliteUserRepo, User, UserRepo};
use latchkey::web::guards::CurrentUser;
use latchkey::web::routes::pages::profile_context;
use rocket::http::private::cookie::{Cookie, CookieJar, Key};
use rocket::tokio::runtime::Runtime;
use rocket_dyn_templates::tera::{Context, Tera};
use time::OffsetDateTime;

const COOKIE: &str = "latchkey_session";
/// A throwaway 64-byte key, in the form `secret_key` takes.
const SECRET_KEY: &str =
    "ZavEzHWh8hSJnV0LOQ8LH0wp5lR35VUq2bs+aN+qDw3gFjy04meu4Rl/Xw2rvA5VqGQOaXbarVJUlWJOR4bK7g==";
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

struct Fixture {
    runtime: Runtime,
    key: Key,
    opener: CookieOpener,
    /// The session cookie as the browser sends it back (encrypted).
    sealed: String,
    id: SessionId,
    sessions: Sessions,
    store: Arc<MemoryStore>,
    sqlite: Arc<SqliteUserRepo>,
    cached: CachedUserRepo,
    user: User,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let runtime = Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let settings = Settings::default();
    let store = Arc::new(MemoryStore::new());
    let shared: Arc<dyn SessionStore> = store.clone();
    let sessions = Sessions::new(shared, Arc::new(SystemClock), &settings);
    let (sqlite, user, id) = runtime.block_on(async {
        let sqlite = Arc::new(SqliteUserRepo::connect(&url).await.expect("sqlite"));
        let new_user = NewUser {
            email: "bench@example.com".into(),
            password_hash: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            first_name: Some("Bench".into()),
            last_name: Some("Mark".into()),
        };
        let user = sqlite
            .insert(new_user, OffsetDateTime::now_utc())
            .await
            .expect("insert");
        let (id, _) = sessions
            .start(user.id, user.auth_epoch, Some(USER_AGENT), None)
            .await
            .expect("session");
        (sqlite, user, id)
    });
    let figment = rocket::Config::figment().merge(("secret_key", SECRET_KEY));
    let opener = CookieOpener::from_figment(&figment);
    // 64 bytes are the key itself, as Rocket takes them.
    let key = Key::from(&STANDARD.decode(SECRET_KEY).expect("base64 key"));
    let mut jar = CookieJar::new();
    jar.private_mut(&key).add(Cookie::new(COOKIE, id.expose()));
    let sealed = jar.delta().next().expect("cookie").value().to_owned();
    let inner: Arc<dyn UserRepo> = sqlite.clone();
    Fixture {
        runtime,
        key,
        opener,
        sealed,
        id,
        sessions,
        store,
        sqlite,
        cached: CachedUserRepo::new(inner, Arc::new(latchkey::clock::SystemClock)),
        user,
        _dir: dir,
    }
}

fn decrypt(key: &Key, sealed: &str) -> Option<SessionId> {
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(COOKIE, sealed.to_owned()));
    let cookie = jar.private(key).get(COOKIE)?;
    SessionId::parse(cookie.value())
}

fn templates() -> Tera {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
    let read =
        |name: &str| std::fs::read_to_string(format!("{dir}/{name}.html.tera")).expect("template");
    let mut tera = Tera::default();
    tera.add_raw_templates(vec![("base", read("base")), ("profile", read("profile"))])
        .expect("templates parse");
    tera.autoescape_on(vec![""]);
    tera
}

fn hot_path(c: &mut Criterion) {
    let f = fixture();
    let rt = &f.runtime;
    let mut group = c.benchmark_group("hot_path");

    group.bench_function("cookie_decrypt", |b| {
        b.iter(|| decrypt(&f.key, black_box(&f.sealed)).expect("valid cookie"))
    });
    group.bench_function("cookie_open", |b| {
        b.iter(|| {
            f.opener
                .open(COOKIE, black_box(&f.sealed))
                .expect("valid cookie")
        })
    });
    group.bench_function("id_hash", |b| b.iter(|| black_box(&f.id).key()));
    group.bench_function("store_get", |b| {
        let key = f.id.key();
        b.iter(|| rt.block_on(f.store.get(black_box(&key))).expect("store"))
    });
    group.bench_function("sessions_resolve", |b| {
        b.iter(|| {
            rt.block_on(f.sessions.resolve(black_box(&f.id)))
                .expect("store")
        })
    });
    group.bench_function("user_by_id_sqlite", |b| {
        b.iter(|| {
            rt.block_on(f.sqlite.by_id(black_box(f.user.id)))
                .expect("sqlite")
        })
    });
    group.bench_function("user_by_id_cached", |b| {
        b.iter(|| {
            rt.block_on(f.cached.by_id_shared(black_box(f.user.id)))
                .expect("cache")
        })
    });

    let tera = templates();
    let session = rt
        .block_on(f.sessions.resolve(&f.id))
        .expect("store")
        .expect("live session");
    let current = CurrentUser {
        user: std::sync::Arc::new(f.user.clone()),
        session,
        id: f.id,
    };
    // What `GET /profile` hands Tera: its borrowed, preformatted context as a Tera context.
    group.bench_function("profile_context", |b| {
        b.iter(|| {
            Context::from_serialize(profile_context(black_box(&current), None)).expect("object")
        })
    });
    group.bench_function("template_render_profile", |b| {
        let context = Context::from_serialize(profile_context(&current, None)).expect("object");
        b.iter(|| tera.render("profile", black_box(&context)).expect("render"))
    });

    // What the `CurrentUser` guard does for every request, with the user cache in place.
    group.bench_function("guard_total", |b| {
        b.iter(|| {
            rt.block_on(async {
                let id = decrypt(&f.key, black_box(&f.sealed)).expect("valid cookie");
                let record = f.sessions.resolve(&id).await.expect("store").expect("live");
                let user = f.cached.by_id_shared(record.user_id).await.expect("cache");
                assert!(user.is_some_and(|u| u.auth_epoch == record.auth_epoch));
            })
        })
    });
    group.finish();
}

/// Whole requests through Rocket's local client (no network): the server's own cost of
/// each page, fairings and all.
fn requests(c: &mut Criterion) {
    use rocket::figment::providers::Serialized;
    use rocket::http::ContentType;
    use rocket::local::asynchronous::Client;

    let runtime = Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let figment = latchkey::config::figment()
        .merge(Serialized::global("data_dir", dir.path()))
        .merge(Serialized::global("log_level", "off"))
        .merge(Serialized::global(
            "secret_key",
            "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRg==",
        ));
    let bare_figment = figment.clone();
    let client = runtime.block_on(async {
        let client = Client::tracked(latchkey::build(figment, Arc::new(SystemClock)))
            .await
            .expect("app");
        let auth = client.rocket().state::<Auth>().expect("auth state");
        let registration = Registration {
            email: "bench@example.com",
            password: "correct horse battery 1234",
            first_name: Some("Bench"),
            last_name: None,
        };
        auth.register(registration).await.expect("user");
        let status = client
            .post("/api/v1/auth_session/login")
            .header(ContentType::Form)
            .body("email=bench%40example.com&password=correct+horse+battery+1234")
            .dispatch()
            .await
            .status();
        assert_eq!(status.code, 200);
        client
    });
    // The same Rocket settings, one route, no fairings: what `/health` costs without
    // Latchkey's fairings (request id, request log, metrics, exchange log, headers).
    let bare = runtime.block_on(async {
        #[rocket::get("/health")]
        fn health() -> &'static str {
            "ok"
        }
        Client::tracked(rocket::custom(bare_figment).mount("/", rocket::routes![health]))
            .await
            .expect("bare rocket")
    });
    let mut group = c.benchmark_group("request");
    group.bench_function("bare_rocket_health", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = bare.get("/health").dispatch().await;
                assert_eq!(response.status().code, 200);
                response.into_bytes().await
            })
        })
    });
    for path in ["/health", "/api/v1/users/me", "/profile", "/session"] {
        group.bench_function(path, |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let response = client.get(path).dispatch().await;
                    assert_eq!(response.status().code, 200);
                    response.into_bytes().await
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, hot_path, requests);
criterion_main!(benches);
