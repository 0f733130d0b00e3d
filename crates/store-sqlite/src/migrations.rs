//! The embedded schema migrations. Released migrations are never edited: sqlx records each
//! one's checksum and refuses a database whose history differs.

use std::borrow::Cow;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

/// Every migration this binary knows, in order.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "event log", include_str!("../migrations/0001_event_log.sql")),
    (2, "read models", include_str!("../migrations/0002_read_models.sql")),
    (3, "security state and list indexes", include_str!("../migrations/0003_security.sql")),
    (
        4,
        "item counts",
        concat!(
            include_str!("../migrations/0004_item_counts.sql"),
            include_str!("../migrations/item_counts_triggers.sql")
        ),
    ),
    (5, "search history", include_str!("../migrations/0005_search_history.sql")),
    (6, "item embeddings", include_str!("../migrations/0006_item_embeddings.sql")),
    (7, "ai ledger", include_str!("../migrations/0007_ai_ledger.sql")),
    (8, "ai transcripts", include_str!("../migrations/0008_ai_transcripts.sql")),
    (
        9,
        "rendered item list entries",
        concat!(
            include_str!("../migrations/0009_item_list_entries.sql"),
            include_str!("../migrations/item_counts_triggers.sql")
        ),
    ),
    (10, "item list entries in the list index", include_str!("../migrations/0010_item_list_entries_in_index.sql")),
];

/// The triggers that keep `item_counts` exact; replay drops them for its bulk load and creates
/// them again once it has counted the items in one statement.
pub(crate) const ITEM_COUNT_TRIGGERS: &str = include_str!("../migrations/item_counts_triggers.sql");

/// The newest schema version this binary knows.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _, _)| *version)
}

#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> futures_core::future::BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// The migrator over the embedded migrations.
pub(crate) async fn migrator() -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded).await
}
