//! `consailt migrate --from sqlite:PATH --to postgres://...` moves an installation: the log
//! arrives whole and verified, the read models match the source's, passwords come along, a
//! second run has nothing left to do, and a database holding another log is refused.

use std::path::Path;
use std::process::{Command, Output};

use application::Clock;
use domain::role::Role;
use storage::{SqliteConfig, Storage, StorageConfig};
use store::ReadModels;
use store::auth::AuthStore;
use store::read_model::{ItemFilter, PageRequest, SortKey};
use test_support::{TestApp, fresh_schema, history, postgres_config, postgres_url};

fn consailt(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consailt"))
        .args(args)
        .current_dir(dir)
        .env_remove("CONSAILT_DATABASE_URL")
        .env_remove("CONSAILT_CONFIG")
        .output()
        .expect("run consailt")
}

/// `url` with `schema` as the connection's search path (created first).
async fn url_in_schema(url: &str, schema: &str) -> String {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.expect("connect");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&mut conn).await.expect("create schema");
    conn.close().await.expect("close");
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-csearch_path%3D{schema}")
}

async fn content(store: &Storage, org: &str) -> String {
    let page = PageRequest { sort: SortKey::CreatedAt, descending: false, limit: 10_000, after: None };
    let items = store.list_items(org, &ItemFilter::default(), &page).await.expect("items");
    let trash = store.list_items(org, &ItemFilter { trashed: true, ..Default::default() }, &page).await.expect("trash");
    let tags = store.tags(org).await.expect("tags");
    let categories = store.categories(org).await.expect("categories");
    let members = store.members(org).await.expect("members");
    let events = store.org_events(org, 0, 100_000).await.expect("events");
    format!("{items:?}\n{trash:?}\n{tags:?}\n{categories:?}\n{members:?}\n{events:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_moves_to_postgresql_whole_and_verified() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("consailt.db");
    let source_dir = tempfile::tempdir().expect("temporary directory");
    let source = TestApp::open(source_dir, StorageConfig::Sqlite(SqliteConfig::new(&path))).await;
    let tenants = vec![source.member(Role::Owner).await, source.member(Role::Consultant).await];
    let stats = history::run(&source.app, &tenants, 0x5EED, 400).await;
    assert!(stats.accepted > 200, "{stats:?}");
    let user = tenants[0].actor.as_str().to_owned();
    source
        .store
        .set_password_hash(&user, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", source.clock.now())
        .await
        .expect("hash");
    let mut expected = Vec::new();
    for tenant in &tenants {
        expected.push(content(&source.store, tenant.org.as_str()).await);
    }
    source.store.close().await;

    let url = postgres_url();
    let schema = fresh_schema("moved");
    let target_url = url_in_schema(&url, &schema).await;
    let from = format!("sqlite:{}", path.display());
    let moved = consailt(dir.path(), &["migrate", "--from", &from, "--to", &target_url]);
    assert!(moved.status.success(), "{}", String::from_utf8_lossy(&moved.stderr));
    let said = String::from_utf8_lossy(&moved.stdout);
    assert!(said.contains("hash chain verified") && said.contains("1 credentials"), "{said}");

    let again = consailt(dir.path(), &["migrate", "--from", &from, "--to", &target_url]);
    assert!(
        again.status.success(),
        "a second run resumes with nothing to copy: {}",
        String::from_utf8_lossy(&again.stderr)
    );

    let target_dir = tempfile::tempdir().expect("temporary directory");
    let target = TestApp::open(target_dir, StorageConfig::Postgres(postgres_config(&url, &schema))).await;
    for (tenant, expected) in tenants.iter().zip(&expected) {
        assert_eq!(&content(&target.store, tenant.org.as_str()).await, expected, "the read models differ");
    }
    assert!(target.store.password_hash(&user).await.expect("read").is_some(), "the password came along");

    // A database that already holds another installation's log is refused.
    let other = tempfile::tempdir().expect("temporary directory");
    let other_path = other.path().join("other.db");
    let other_app =
        TestApp::open(tempfile::tempdir().expect("dir"), StorageConfig::Sqlite(SqliteConfig::new(&other_path))).await;
    other_app.member(Role::Owner).await;
    other_app.store.close().await;
    let refused =
        consailt(dir.path(), &["migrate", "--from", &format!("sqlite:{}", other_path.display()), "--to", &target_url]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("different event log"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
