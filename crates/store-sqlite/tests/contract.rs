//! The event store contract, run against SQLite in a fresh temporary directory per test.

use store_sqlite::{SqliteConfig, SqliteStore};

async fn open_store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(SqliteConfig::new(dir.path().join("consailt.db"))).await.expect("open store");
    (store, dir)
}

store::event_store_contract!(open_store);
