//! The event store contract, run against PostgreSQL, each test in a schema of its own, in the
//! database named by `CONSAILT_TEST_DATABASE_URL` (default: the local server's `postgres`
//! database, trust authentication, as on the CI machine).

use store_postgres::{PostgresConfig, PostgresStore};

async fn open_store() -> (PostgresStore, ()) {
    let url = std::env::var("CONSAILT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let mut config = PostgresConfig::new(url);
    config.schema = Some(format!("contract_{}", ulid::Ulid::new().to_string().to_lowercase()));
    (PostgresStore::open(config).await.expect("open store"), ())
}

store::event_store_contract!(open_store);
