//! The index on disk: it keeps its checkpoint across reopening, and one that is deleted or
//! corrupt starts again from position 0 (the indexer then rebuilds it from the log), with the
//! corrupt files kept aside for inspection.

use search::{FullTextIndex, IndexedItem, SearchQuery};

fn item(id: &str, title: &str) -> IndexedItem {
    IndexedItem {
        id: id.to_owned(),
        org: "org_1".to_owned(),
        engagement: None,
        kind: "note".to_owned(),
        status: "draft".to_owned(),
        title: title.to_owned(),
        body: String::new(),
        tags: vec![],
        categories: vec![],
    }
}

fn query(text: &str) -> SearchQuery {
    SearchQuery { text: text.to_owned(), org: "org_1".to_owned(), limit: 10, ..SearchQuery::default() }
}

#[test]
fn the_checkpoint_survives_reopening_and_a_deleted_or_corrupt_index_starts_again() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("fulltext");
    {
        let index = FullTextIndex::open(&path).expect("create");
        assert_eq!(index.checkpoint().expect("checkpoint"), 0);
        index.apply(&[item("itm_1", "Alpha plan"), item("itm_2", "Beta plan")], &[], 7).expect("apply");
        index.apply(&[], &["itm_2".to_owned()], 9).expect("delete");
    }
    {
        let index = FullTextIndex::open(&path).expect("reopen");
        assert_eq!(index.checkpoint().expect("checkpoint"), 9);
        let hits = index.search(&query("plan")).expect("search").hits;
        assert_eq!(hits.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["itm_1"]);
        let elsewhere = SearchQuery { org: "org_2".to_owned(), ..query("plan") };
        assert!(index.search(&elsewhere).expect("search").hits.is_empty(), "another organization sees nothing");
    }

    std::fs::write(path.join("meta.json"), b"{ not json").expect("corrupt");
    {
        let index = FullTextIndex::open(&path).expect("open a corrupt index");
        assert_eq!(index.checkpoint().expect("checkpoint"), 0);
        assert!(index.is_empty());
    }
    let aside: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("fulltext.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "the corrupt index is kept aside: {aside:?}");

    std::fs::remove_dir_all(&path).expect("delete");
    let index = FullTextIndex::open(&path).expect("open a deleted index");
    assert_eq!(index.checkpoint().expect("checkpoint"), 0);

    // An index in use by another writer (a running server) is refused, not moved aside.
    index.apply(&[item("itm_3", "Gamma")], &[], 3).expect("apply");
    let second = FullTextIndex::open(&path);
    assert!(matches!(second, Err(search::SearchError::Locked(_))), "{second:?}");
    assert_eq!(index.checkpoint().expect("checkpoint"), 3, "the index in use is untouched");
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 2, "nothing more was moved aside");
}
