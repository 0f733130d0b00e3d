//! Trash, restore and purge through the application, with the clock driven by the test.

use application::AppError;
use application::commands::create_item::{CreateItem, ItemDraft};
use domain::DomainError;
use domain::item::ItemKind;
use domain::role::Role;
use test_support::TestApp;

#[tokio::test]
async fn a_trashed_item_is_purged_only_after_thirty_days() {
    let test = TestApp::new().await;
    let ctx = test.member(Role::Consultant).await;
    let draft = ItemDraft { title: "Interview notes".into(), tags: vec!["hr".into()], ..ItemDraft::default() };
    let item = test
        .app
        .create_item(&ctx, CreateItem { kind: ItemKind::Note, engagement: None, draft, supersedes: None })
        .await
        .expect("create");

    test.app.trash_item(&ctx, &item.id, None).await.expect("trash");
    assert!(test.app.get_item(&ctx, &item.id).await.expect("still readable").trashed_at.is_some());
    assert!(test.app.list_tags(&ctx).await.expect("tags").is_empty(), "trashed items do not count towards tags");

    test.app.restore_item(&ctx, &item.id).await.expect("restore");
    assert_eq!(test.app.list_tags(&ctx).await.expect("tags").len(), 1);
    test.app.trash_item(&ctx, &item.id, None).await.expect("trash again");

    test.clock.advance(time::Duration::days(29));
    let early = test.app.purge_item(&ctx, &item.id).await;
    assert!(matches!(early, Err(AppError::Domain(DomainError::RuleViolation(_)))), "{early:?}");

    test.clock.advance(time::Duration::days(1));
    test.app.purge_item(&ctx, &item.id).await.expect("purge after 30 days");
    assert!(matches!(test.app.get_item(&ctx, &item.id).await, Err(AppError::NotFound(_))));
    assert!(matches!(test.app.list_item_versions(&ctx, &item.id).await, Err(AppError::NotFound(_))));
}
