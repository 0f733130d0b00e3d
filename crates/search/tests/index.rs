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

fn hit_ids(index: &FullTextIndex, query: &SearchQuery) -> Vec<String> {
    let mut ids: Vec<String> = index.search(query).expect("search").hits.into_iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

#[test]
fn staged_changes_wait_for_the_next_commit_and_later_ones_replace_them() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = FullTextIndex::open(&dir.path().join("fulltext")).expect("create");
    index.stage(&[item("itm_1", "Alpha plan"), item("itm_2", "Beta plan")], &[]).expect("stage");
    index.stage(&[item("itm_1", "Gamma plan")], &["itm_2".to_owned()]).expect("stage again");
    assert!(hit_ids(&index, &query("plan")).is_empty(), "staged changes are not searchable yet");
    assert_eq!(index.checkpoint().expect("checkpoint"), 0);
    index.apply(&[item("itm_3", "Delta plan")], &[], 5).expect("commit");
    assert_eq!(index.checkpoint().expect("checkpoint"), 5);
    assert_eq!(hit_ids(&index, &query("plan")), ["itm_1", "itm_3"]);
    assert_eq!(hit_ids(&index, &query("gamma")), ["itm_1"]);
    assert!(hit_ids(&index, &query("alpha")).is_empty(), "the staged edit replaced the staged document");
    assert_eq!(index.len(), 2);
}

#[test]
fn punctuation_joins_no_words_and_only_a_sign_before_a_word_is_an_operator() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = FullTextIndex::open(dir.path()).expect("create");
    let items = [
        item("g4", "G quadruplex stability"),
        item("reversed", "Stability of the quadruplex"),
        item("protein", "Protein stability"),
        item("stat3", "STAT3 activation"),
        item("nucleosome", "Nucleosome positioning"),
    ];
    index.apply(&items, &[], 1).expect("apply");

    // A dash between spaces is punctuation, not "exclude quadruplex".
    assert_eq!(hit_ids(&index, &query("G - quadruplex.")), ["g4", "reversed"]);
    // Words joined by punctuation are words, not a phrase demanding "6 stat3" side by side.
    assert_eq!(hit_ids(&index, &query("IL-6/STAT3.")), ["stat3"]);
    // A sign before a number is part of it ("+1 nucleosomes"), not "1 required".
    assert_eq!(hit_ids(&index, &query("+1 nucleosomes.")), ["nucleosome"]);
    // Before a word the signs and quotes keep their meaning.
    assert_eq!(hit_ids(&index, &query("stability -quadruplex")), ["protein"]);
    assert_eq!(hit_ids(&index, &query("\"quadruplex stability\"")), ["g4"]);
    assert_eq!(hit_ids(&index, &query("+quadruplex stability")), ["g4", "reversed"]);
}

#[test]
fn typos_are_tolerated_for_words_the_index_hardly_knows_and_completions_are_bounded() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = FullTextIndex::open(dir.path()).expect("create");
    let mut items: Vec<IndexedItem> = (0..5).map(|n| item(&format!("plant_{n}"), "Power plant")).collect();
    items.push(item("planet", "Small planet"));
    // Twenty words beginning with "zorb", one of them in three documents.
    items.extend((0..20u8).map(|n| item(&format!("zorb_{n:02}"), &format!("zorb{}x", char::from(b'a' + n)))));
    items.extend((0..2).map(|n| item(&format!("zorbax_{n}"), "zorbax")));
    index.apply(&items, &[], 1).expect("apply");

    // "planet" is in one document: its neighbour one edit away counts too.
    let planets = hit_ids(&index, &query("planet "));
    assert_eq!(planets.len(), 6, "{planets:?}");
    // "plant" is in five: taken as meant, it does not pull in "planet".
    assert_eq!(hit_ids(&index, &query("plant ")), (0..5).map(|n| format!("plant_{n}")).collect::<Vec<_>>());

    // A word being typed matches the 16 most frequent words it begins, "zorbax" first.
    let typed = index.search(&SearchQuery { limit: 100, ..query("zorb") }).expect("search").hits;
    assert_eq!(typed.len(), 16 + 2, "{:?}", typed.iter().map(|h| &h.id).collect::<Vec<_>>());
    for id in ["zorb_00", "zorbax_0", "zorbax_1"] {
        assert!(typed.iter().any(|h| h.id == id), "{id} is among the completions");
    }
}

#[test]
fn each_organization_finds_only_its_own_items_whether_or_not_it_holds_the_whole_index() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = FullTextIndex::open(dir.path()).expect("create");
    index.apply(&[item("itm_1", "Shared word")], &[], 1).expect("apply");
    assert_eq!(hit_ids(&index, &query("shared")), ["itm_1"], "the only organization of the index");

    let other = IndexedItem { org: "org_2".to_owned(), ..item("itm_2", "Shared word") };
    index.apply(std::slice::from_ref(&other), &[], 2).expect("apply");
    assert_eq!(hit_ids(&index, &query("shared")), ["itm_1"]);
    let theirs = SearchQuery { org: "org_2".to_owned(), ..query("shared") };
    assert_eq!(hit_ids(&index, &theirs), ["itm_2"]);

    // A deleted document stays in its segment until a merge: org_1 still does not hold every
    // document, and org_2 sees nothing of org_1.
    index.apply(&[], &["itm_2".to_owned()], 3).expect("delete");
    assert_eq!(hit_ids(&index, &query("shared")), ["itm_1"]);
    assert!(hit_ids(&index, &theirs).is_empty());
}

#[test]
fn facets_count_every_live_match_across_segments() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = FullTextIndex::open(dir.path()).expect("create");
    let tagged = |id: &str, engagement: Option<&str>, tags: &[&str]| IndexedItem {
        engagement: engagement.map(str::to_owned),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        categories: vec!["cat_1".to_owned()],
        ..item(id, "Quarterly review")
    };
    // Two commits: two segments.
    let first = [
        tagged("itm_1", Some("eng_a"), &["risk", "finance"]),
        tagged("itm_2", Some("eng_a"), &["risk"]),
        tagged("itm_3", None, &[]),
    ];
    index.apply(&first, &[], 1).expect("apply");
    let second = [
        tagged("itm_4", Some("eng_b"), &["risk"]),
        IndexedItem { kind: "document".to_owned(), ..item("itm_5", "Review") },
    ];
    index.apply(&second, &[], 2).expect("apply");
    // A deleted document stays in its segment until a merge; it is not counted.
    index.apply(&[], &["itm_2".to_owned()], 3).expect("delete");

    let facets = index.search(&query("review")).expect("search").facets;
    let counts = |list: &[search::FacetCount]| -> Vec<(String, u64)> {
        list.iter().map(|f| (f.value.clone(), f.count)).collect()
    };
    let pairs = |expected: &[(&str, u64)]| -> Vec<(String, u64)> {
        expected.iter().map(|(value, count)| ((*value).to_owned(), *count)).collect()
    };
    assert_eq!(counts(&facets.tag), pairs(&[("risk", 2), ("finance", 1)]));
    assert_eq!(counts(&facets.engagement), pairs(&[("eng_a", 1), ("eng_b", 1)]));
    assert_eq!(counts(&facets.category), pairs(&[("cat_1", 3)]));
    assert_eq!(counts(&facets.kind), pairs(&[("note", 3), ("document", 1)]));
    assert_eq!(counts(&facets.status), pairs(&[("draft", 4)]));

    // Counts follow the matches, not the index.
    let finance = index.search(&query("quarterly")).expect("search").facets;
    assert_eq!(counts(&finance.kind), pairs(&[("note", 3)]));
}

/// Indexing is background work: the writer's thread and every thread tantivy starts from it
/// (indexing workers, segment updater, merges) run at a lower CPU priority than the caller.
#[cfg(target_os = "linux")]
#[test]
fn the_index_writes_at_a_lower_cpu_priority_than_its_callers() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = FullTextIndex::open(&dir.path().join("fulltext")).expect("create");
    index.apply(&[item("itm_1", "Alpha plan")], &[], 1).expect("apply");

    // The nice value is the 19th field of /proc/.../stat, the 17th after the name's ")".
    let nice = |stat: &str| -> i32 {
        let after_name = &stat[stat.rfind(')').expect("stat has a name") + 1..];
        after_name.split_whitespace().nth(16).and_then(|n| n.parse().ok()).expect("stat has a nice value")
    };
    let caller = nice(&std::fs::read_to_string("/proc/thread-self/stat").expect("own stat"));
    let mut background: Vec<(String, i32)> = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").expect("threads") {
        let path = task.expect("thread").path();
        let (Ok(name), Ok(stat)) =
            (std::fs::read_to_string(path.join("comm")), std::fs::read_to_string(path.join("stat")))
        else {
            continue; // a thread that ended meanwhile
        };
        background.push((name.trim().to_owned(), nice(&stat)));
    }
    for prefix in ["consailt-index", "thrd-tantivy-in", "segment_updater", "merge_thread_"] {
        let threads: Vec<&(String, i32)> = background.iter().filter(|(name, _)| name.starts_with(prefix)).collect();
        assert!(!threads.is_empty(), "no {prefix} thread among {background:?}");
        assert!(
            threads.iter().all(|(_, n)| *n > caller),
            "{prefix} threads at the caller's priority ({caller}): {threads:?}"
        );
    }
}

/// Segments of 4,096 documents or more keep their common words as bit sets and score them
/// only where a document can still rank (`search::common_words`): a long plain query must rank,
/// count and facet as the same words through the query parser, which reads every posting.
#[test]
fn long_queries_over_common_words_rank_as_through_the_query_parser() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = FullTextIndex::open(&dir.path().join("fulltext")).expect("create");
    let items: Vec<IndexedItem> = (0..10_000)
        .map(|i| {
            // Word counts and lengths vary, so that the rarer words' scores are spread finely
            // and what the common words add reorders the documents.
            let mut words = vec!["study"; i % 3 + 1];
            for (word, every, most) in
                [("cells", 2, 9), ("protein", 3, 5), ("receptor", 7, 4), ("tissue", 11, 3), ("zebrafish", 97, 2)]
            {
                if i % every == 0 {
                    words.extend(std::iter::repeat_n(word, 1 + (i / every) % most));
                }
            }
            words.extend(std::iter::repeat_n("filler", i % 23));
            IndexedItem { kind: ["note", "document"][i % 2].to_owned(), ..item(&format!("itm_{i}"), &words.join(" ")) }
        })
        .collect();
    index.apply(&items, &[], 1).expect("apply");
    let deleted: Vec<String> = (0..10_000).step_by(13).map(|i| format!("itm_{i}")).collect();
    index.apply(&[], &deleted, 2).expect("delete");

    let queries = [
        "study cells protein tissue receptor zebrafish signalling in adult kidney",
        "study cells protein receptor signalling in adult kidney tissue of mice",
        "study cells protein tissue signalling in the adult kidney of zebrafish",
    ];
    for (words, offset) in queries.iter().flat_map(|words| (0..60).step_by(7).chain([995]).map(move |o| (words, o))) {
        let plain = index.search(&SearchQuery { offset, limit: 50, ..query(words) }).expect("plain");
        // `OR` is query syntax: the same words through tantivy's parser and collectors.
        let parsed =
            index.search(&SearchQuery { offset, limit: 50, ..query(&words.replace(' ', " OR ")) }).expect("parsed");
        assert_eq!(plain.total, 10_000 - deleted.len() as u64);
        assert_eq!(plain.total, parsed.total);
        assert_eq!(plain.facets, parsed.facets);
        assert_eq!(plain.hits.len(), parsed.hits.len());
        for (ours, theirs) in plain.hits.iter().zip(&parsed.hits) {
            // Sums taken in another order differ in their last bits, which may swap two
            // documents of equal score; any other difference is a wrong ranking.
            let close = (ours.score - theirs.score).abs() <= 1e-5 * theirs.score;
            assert!(
                close,
                "{words}, offset {offset}: {} {} against {} {}",
                ours.id, ours.score, theirs.id, theirs.score
            );
        }
    }
}
