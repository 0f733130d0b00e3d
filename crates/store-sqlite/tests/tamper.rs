//! Altering, removing or reordering a stored event breaks the hash chain at that event.

use store::chain::verify_chain;
use store::{EventMetadata, EventStore, ExpectedVersion, NewEvent, StreamId};
use store_sqlite::{SqliteConfig, SqliteStore};

async fn store_with_ten_events() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(SqliteConfig::new(dir.path().join("chain.db"))).await.expect("open");
    for n in 0..10 {
        let event = NewEvent { event_type: "audit.test".into(), schema_version: 1, payload: format!("{{\"n\":{n}}}") };
        store
            .append(StreamId::new("audit", "s"), ExpectedVersion::Any, vec![event], EventMetadata::default())
            .await
            .expect("append");
    }
    (store, dir)
}

async fn tamper(dir: &tempfile::TempDir, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.path().join("chain.db").display()))
        .await
        .expect("connect behind the store's back");
    sqlx::query(sql).execute(&mut conn).await.expect("tamper");
    conn.close().await.expect("close");
}

#[tokio::test]
async fn an_altered_payload_breaks_the_chain_at_that_event() {
    let (store, dir) = store_with_ten_events().await;
    assert_eq!(verify_chain(&store).await.expect("verify").first_broken, None);
    tamper(&dir, "UPDATE events SET payload = '{\"n\":42}' WHERE position = 5").await;
    let report = verify_chain(&store).await.expect("verify");
    assert_eq!(report.first_broken.map(|b| b.position), Some(5));
    assert_eq!(report.events_checked, 4);
}

#[tokio::test]
async fn a_removed_event_breaks_the_chain_where_it_was() {
    let (store, dir) = store_with_ten_events().await;
    tamper(&dir, "DELETE FROM events WHERE position = 7").await;
    let broken = verify_chain(&store).await.expect("verify").first_broken.expect("broken");
    assert_eq!(broken.position, 8);
    assert!(broken.reason.contains("missing"), "{}", broken.reason);
}

#[tokio::test]
async fn a_removed_tail_changes_the_head_hash() {
    let (store, dir) = store_with_ten_events().await;
    // Truncating the tail leaves a valid shorter chain; what the log cannot prove on its own,
    // the head hash printed by `audit verify` (kept elsewhere) does.
    let before = verify_chain(&store).await.expect("verify").head;
    tamper(&dir, "DELETE FROM events WHERE position = 10").await;
    let after = verify_chain(&store).await.expect("verify");
    assert_eq!(after.first_broken, None);
    assert_ne!(after.head, before, "the head hash changes when the tail is cut");
}
