//! The list entries a store keeps rendered (`list_item_entries`) are byte for byte the JSON of
//! the summaries `list_items` returns, page for page, over a random history: every sort, both
//! directions, the trash, filters, and titles that need escaping.

use application::commands::create_item::{CreateItem, ItemDraft};
use domain::item::ItemKind;
use domain::role::Role;
use store::ReadModels;
use store::read_model::{ItemFilter, PageRequest, SortKey};
use test_support::{TestApp, history};
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rendered_list_entries_are_the_json_of_the_summaries() {
    let test = TestApp::new().await;
    let tenants = vec![test.member(Role::Owner).await, test.member(Role::Consultant).await];
    // Timestamps with six digits of a second, with trailing zeros to drop, and with none.
    for (seed, step) in [(0x11, 123_456), (0x22, 376_544), (0x33, 500_000)] {
        test.clock.advance(Duration::microseconds(step));
        history::run(&test.app, &tenants, seed, 300).await;
    }
    let titles = ["Quote \" and backslash \\", "Ünïcödé — “typographic” 🚀", "</script><b>&amp;", "'single' / slash"];
    for title in titles {
        test.clock.advance(Duration::microseconds(70));
        let draft = ItemDraft {
            title: title.to_owned(),
            body: String::new(),
            categories: Vec::new(),
            tags: vec!["ünïcödé".to_owned(), "quote\"d".to_owned()],
            metadata: None,
        };
        let item = CreateItem { kind: ItemKind::Note, engagement: None, draft, supersedes: None };
        test.app.create_item(&tenants[0], item).await.expect("create an item");
    }

    let mut compared = 0;
    for tenant in &tenants {
        let org = tenant.org.as_str();
        let filters = [
            ItemFilter::default(),
            ItemFilter { trashed: true, ..Default::default() },
            ItemFilter { tag: Some("risk".to_owned()), ..Default::default() },
            ItemFilter { status: Some("draft".to_owned()), kind: Some("note".to_owned()), ..Default::default() },
        ];
        for filter in &filters {
            for sort in [SortKey::UpdatedAt, SortKey::CreatedAt, SortKey::Title] {
                for descending in [false, true] {
                    let mut page = PageRequest { sort, descending, limit: 7, after: None };
                    loop {
                        let summaries = test.store.list_items(org, filter, &page).await.expect("list items");
                        let entries = test.store.list_item_entries(org, filter, &page).await.expect("list entries");
                        assert_eq!(entries.total, summaries.total, "{filter:?} {sort:?}");
                        assert_eq!(entries.next, summaries.next, "{filter:?} {sort:?}");
                        assert_eq!(entries.rows.len(), summaries.rows.len());
                        for (entry, summary) in entries.rows.iter().zip(&summaries.rows) {
                            let expected = serde_json::to_string(summary).expect("serialize a summary");
                            assert_eq!(entry.as_str(), expected, "{filter:?} {sort:?}");
                            compared += 1;
                        }
                        let Some(next) = summaries.next else { break };
                        page.after = Some(next);
                    }
                }
            }
        }
    }
    assert!(compared > 1_000, "the history should give many entries to compare: {compared}");
}
