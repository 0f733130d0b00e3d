//! `consailt events replay` rebuilds read models equal, row for row, to the inline ones.

use domain::role::Role;
use test_support::{TestApp, history};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_rebuilds_identical_read_models_after_a_long_random_history() {
    let test = TestApp::new().await;
    let tenants =
        vec![test.member(Role::Owner).await, test.member(Role::Admin).await, test.member(Role::Consultant).await];
    let stats = history::run(&test.app, &tenants, 0x00C0_FFEE, 3_000).await;
    assert!(stats.accepted > 1_500, "the history should mostly succeed: {stats:?}");
    assert!(stats.refused > 50, "the history should exercise refusals too: {stats:?}");

    // Thirty days on, every trashed item can be purged; then the history goes on.
    test.clock.advance(time::Duration::days(31));
    let mut purged = 0;
    for (t, id) in &stats.items {
        if test.app.purge_item(&tenants[*t], id).await.is_ok() {
            purged += 1;
        }
    }
    assert!(purged > 0, "the history should leave trashed items to purge");
    history::run(&test.app, &tenants, 0x0BAD_CAFE, 500).await;

    let inline = test.store.dump_read_models().await.expect("dump inline");
    let total_rows: usize = inline.iter().map(|(_, rows)| rows.len()).sum();
    assert!(total_rows > 3_000, "the history should fill the tables: {total_rows} rows");
    for (table, rows) in &inline {
        assert!(!rows.is_empty(), "table {table} stayed empty: the history does not cover it");
    }

    let report = test.store.replay().await.expect("replay");
    assert!(report.events > 2_000);
    let replayed = test.store.dump_read_models().await.expect("dump replayed");
    for ((table, before), (_, after)) in inline.iter().zip(&replayed) {
        assert_eq!(before.len(), after.len(), "{table}: row count differs after replay");
        for (a, b) in before.iter().zip(after) {
            assert_eq!(a, b, "{table}: a row differs after replay");
        }
    }
}
