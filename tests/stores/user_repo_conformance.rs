//! One conformance suite for `UserRepo`, run against SQLite always and PostgreSQL when
//! `DATABASE_URL` is set (each PostgreSQL test in a schema of its own).

use crate::support::stores;

use std::sync::Arc;

use latchkey::users::{
    NameChange, NewUser, PasswordHash, PostgresUserRepo, RepoError, SqliteUserRepo, UserRepo,
};
use tempfile::TempDir;
use time::{Duration, OffsetDateTime};

use crate::support::stores::PgSchema;

/// A repository under test and what keeps its data alive (and cleans it up).
struct Fixture {
    repo: Arc<dyn UserRepo>,
    guard: Guard,
}

enum Guard {
    Sqlite(TempDir),
    Postgres(PgSchema),
}

impl Fixture {
    async fn cleanup(self) {
        match self.guard {
            Guard::Sqlite(_dir) => {}
            Guard::Postgres(schema) => {
                drop(self.repo);
                schema.drop_now().await;
            }
        }
    }
}

async fn sqlite() -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("users.db").display());
    let repo = SqliteUserRepo::connect(&url).await.unwrap();
    Some(Fixture {
        repo: Arc::new(repo),
        guard: Guard::Sqlite(dir),
    })
}

async fn postgres() -> Option<Fixture> {
    let base = stores::database_url()?;
    let schema = PgSchema::create(&base).await;
    let repo = PostgresUserRepo::connect(&schema.url).await.unwrap();
    Some(Fixture {
        repo: Arc::new(repo),
        guard: Guard::Postgres(schema),
    })
}

/// A time with a sub-second part, which every repository must drop.
fn a_time() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_763_900_000).unwrap() + Duration::milliseconds(750)
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.to_owned(),
        password_hash: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        first_name: Some("Ada".into()),
        last_name: None,
    }
}

async fn insert_returns_the_stored_user(repo: &dyn UserRepo) {
    let created = repo
        .insert(new_user("ada@example.com"), a_time())
        .await
        .unwrap();

    assert_eq!(created.email, "ada@example.com");
    assert_eq!(created.auth_epoch, 0);
    assert_eq!(created.created_at.nanosecond(), 0);
    assert_eq!(created.created_at, created.updated_at);
    let fetched = repo.by_id(created.id).await.unwrap().unwrap();
    assert_eq!(fetched.id, created.id);
    assert_eq!(fetched.email, created.email);
    assert_eq!(fetched.first_name.as_deref(), Some("Ada"));
    assert_eq!(fetched.last_name, None);
    assert_eq!(fetched.password_hash, created.password_hash);
    assert_eq!(fetched.auth_epoch, 0);
    assert_eq!(fetched.created_at, created.created_at);
    assert_eq!(fetched.updated_at, created.updated_at);
}

async fn duplicate_email_is_refused_whatever_its_case(repo: &dyn UserRepo) {
    repo.insert(new_user("bob@example.com"), a_time())
        .await
        .unwrap();

    let same = repo.insert(new_user("bob@example.com"), a_time()).await;
    let shouting = repo.insert(new_user("BOB@Example.COM"), a_time()).await;

    assert!(matches!(same, Err(RepoError::EmailTaken)));
    assert!(matches!(shouting, Err(RepoError::EmailTaken)));
    assert_eq!(repo.count().await.unwrap(), 1);
}

async fn lookups_find_by_id_and_email(repo: &dyn UserRepo) {
    let created = repo
        .insert(new_user("cy@example.com"), a_time())
        .await
        .unwrap();

    let by_email = repo.by_email("cy@example.com").await.unwrap().unwrap();

    assert_eq!(by_email.id, created.id);
    assert!(repo.by_email("nobody@example.com").await.unwrap().is_none());
    assert!(repo.by_id(uuid::Uuid::new_v4()).await.unwrap().is_none());
}

async fn list_and_count_see_every_user(repo: &dyn UserRepo) {
    assert_eq!(repo.count().await.unwrap(), 0);
    assert!(repo.list().await.unwrap().is_empty());
    repo.insert(new_user("b@example.com"), a_time())
        .await
        .unwrap();
    repo.insert(new_user("a@example.com"), a_time() + Duration::seconds(1))
        .await
        .unwrap();

    let emails: Vec<String> = repo
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();

    assert_eq!(emails, ["b@example.com", "a@example.com"]);
    assert_eq!(repo.count().await.unwrap(), 2);
}

async fn update_names_changes_only_what_is_given(repo: &dyn UserRepo) {
    let created = repo
        .insert(new_user("dee@example.com"), a_time())
        .await
        .unwrap();
    let later = a_time() + Duration::seconds(90);

    let updated = repo
        .update_names(
            created.id,
            NameChange {
                first_name: None,
                last_name: Some(Some("Lovelace".into())),
            },
            later,
        )
        .await
        .unwrap()
        .unwrap();

    assert_eq!(updated.first_name.as_deref(), Some("Ada"));
    assert_eq!(updated.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(updated.updated_at, later.replace_nanosecond(0).unwrap());
    assert_eq!(updated.created_at, created.created_at);
    let cleared = repo
        .update_names(
            created.id,
            NameChange {
                first_name: Some(None),
                last_name: None,
            },
            later,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.first_name, None);
    assert_eq!(cleared.last_name.as_deref(), Some("Lovelace"));
    let stored = repo.by_id(created.id).await.unwrap().unwrap();
    assert_eq!(stored.first_name, None);
    assert_eq!(stored.last_name.as_deref(), Some("Lovelace"));
    let missing = repo
        .update_names(uuid::Uuid::new_v4(), NameChange::default(), later)
        .await
        .unwrap();
    assert!(missing.is_none());
}

async fn delete_removes_the_user(repo: &dyn UserRepo) {
    let created = repo
        .insert(new_user("eve@example.com"), a_time())
        .await
        .unwrap();

    assert!(repo.delete(created.id).await.unwrap());
    assert!(!repo.delete(created.id).await.unwrap());

    assert!(repo.by_id(created.id).await.unwrap().is_none());
    assert_eq!(repo.count().await.unwrap(), 0);
    // The email is free again.
    repo.insert(new_user("eve@example.com"), a_time())
        .await
        .unwrap();
}

async fn set_password_replaces_the_hash_and_bumps_the_epoch(repo: &dyn UserRepo) {
    let created = repo
        .insert(new_user("kim@example.com"), a_time())
        .await
        .unwrap();
    let later = a_time() + Duration::minutes(5);

    let updated = repo
        .set_password(created.id, PasswordHash("$argon2id$new".into()), later)
        .await
        .unwrap()
        .expect("the user exists");

    assert_eq!(updated.password_hash, PasswordHash("$argon2id$new".into()));
    assert_eq!(updated.auth_epoch, created.auth_epoch + 1);
    let stored = repo.by_id(created.id).await.unwrap().unwrap();
    assert_eq!(stored.auth_epoch, created.auth_epoch + 1);
    assert_eq!(stored.password_hash, PasswordHash("$argon2id$new".into()));
    let missing = repo
        .set_password(uuid::Uuid::new_v4(), PasswordHash("x".into()), later)
        .await
        .unwrap();
    assert!(missing.is_none());
}

async fn upgrade_password_hash_keeps_the_epoch_and_needs_the_old_hash(repo: &dyn UserRepo) {
    let created = repo
        .insert(new_user("lee@example.com"), a_time())
        .await
        .unwrap();
    let old = created.password_hash.clone();
    let stronger = PasswordHash("$argon2id$stronger".into());

    assert!(repo
        .upgrade_password_hash(created.id, &old, stronger.clone())
        .await
        .unwrap());

    let stored = repo.by_id(created.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash, stronger);
    assert_eq!(
        stored.auth_epoch, created.auth_epoch,
        "sessions must survive"
    );
    // A stale upgrade (the password changed meanwhile) changes nothing.
    assert!(!repo
        .upgrade_password_hash(created.id, &old, PasswordHash("$argon2id$stale".into()))
        .await
        .unwrap());
    assert_eq!(
        repo.by_id(created.id).await.unwrap().unwrap().password_hash,
        stronger
    );
    assert!(!repo
        .upgrade_password_hash(uuid::Uuid::new_v4(), &old, stronger)
        .await
        .unwrap());
}

/// The stamp the user cache trusts: every change or deletion moves it, a new user or a
/// write that touched no row does not.
async fn the_change_stamp_moves_on_every_change_and_deletion(repo: &dyn UserRepo) {
    let start = repo.change_stamp().await.unwrap();
    let user = repo
        .insert(new_user("stamp@example.com"), a_time())
        .await
        .unwrap();
    assert_eq!(repo.change_stamp().await.unwrap(), start, "a signup");

    let mut last = start;
    let mut assert_moved = |now: i64, what: &str| {
        assert_ne!(now, last, "{what} must move the stamp");
        last = now;
    };
    let rename = NameChange {
        first_name: Some(Some("Grace".into())),
        last_name: None,
    };
    repo.update_names(user.id, rename, a_time()).await.unwrap();
    assert_moved(repo.change_stamp().await.unwrap(), "a rename");
    let hash = PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$bmV3".into());
    repo.set_password(user.id, hash.clone(), a_time())
        .await
        .unwrap();
    assert_moved(repo.change_stamp().await.unwrap(), "a password change");
    let stronger = PasswordHash("$argon2id$v=19$m=47104,t=1,p=1$c2FsdA$bmV3".into());
    repo.upgrade_password_hash(user.id, &hash, stronger)
        .await
        .unwrap();
    assert_moved(repo.change_stamp().await.unwrap(), "a hash upgrade");
    repo.delete(user.id).await.unwrap();
    assert_moved(repo.change_stamp().await.unwrap(), "a deletion");

    assert!(!repo.delete(user.id).await.unwrap());
    assert_eq!(
        repo.change_stamp().await.unwrap(),
        last,
        "deleting nobody changes nothing"
    );
}

macro_rules! conformance {
    ($backend:ident: $($check:ident),* $(,)?) => {
        mod $backend {
            $(
                #[rocket::async_test]
                async fn $check() {
                    let Some(fixture) = super::$backend().await else {
                        return;
                    };
                    super::$check(fixture.repo.as_ref()).await;
                    fixture.cleanup().await;
                }
            )*
        }
    };
}

macro_rules! all_checks {
    ($backend:ident) => {
        conformance!($backend:
            insert_returns_the_stored_user,
            duplicate_email_is_refused_whatever_its_case,
            lookups_find_by_id_and_email,
            list_and_count_see_every_user,
            update_names_changes_only_what_is_given,
            delete_removes_the_user,
            set_password_replaces_the_hash_and_bumps_the_epoch,
            upgrade_password_hash_keeps_the_epoch_and_needs_the_old_hash,
            the_change_stamp_moves_on_every_change_and_deletion,
        );
    };
}

all_checks!(sqlite);
all_checks!(postgres);

/// A database that a newer release has migrated further still opens: the migrations only
/// add, so an older instance keeps working during a rolling upgrade or after a rollback.
#[rocket::async_test]
async fn a_database_migrated_by_a_newer_release_still_opens() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("users.db").display());
    let repo = SqliteUserRepo::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99999, 'from a newer release', TRUE, X'00', 0)",
    )
    .execute(repo.pool())
    .await
    .unwrap();
    drop(repo);
    let reopened = SqliteUserRepo::connect(&url).await;
    assert!(reopened.is_ok(), "{:?}", reopened.err());
}
