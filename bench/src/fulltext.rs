//! The full-text index's speed next to SQLite FTS5 in the same process, for
//! bench/fulltext.py (which adds the `tantivy` Python package). Indexes the same documents
//! (BEIR corpus lines) into the product's `FullTextIndex` and into an FTS5 table (Porter
//! tokenizer, in memory, one transaction), then asks each query one at a time on one thread:
//! ranked top-10 ids on both sides (the product's query: stemming, prefix and typo tolerance;
//! FTS5: `bm25()` over any of the words), and the product's whole search page (top 10 with
//! highlighted snippets and facet counts). Prints one JSON object.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use serde_json::{Value, json};

use search::index::FullTextIndex;
use search::{IndexedItem, SearchQuery};

/// The `consailt` binary's allocator, so that its parts are measured as they run there (with
/// glibc's, the embedder ran 36% slower: every large tensor was a fresh mmap to fault in).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "fulltext-bench")]
struct Cli {
    /// Documents, BEIR corpus lines
    #[arg(long)]
    docs: PathBuf,
    /// Queries, one JSON string per line
    #[arg(long)]
    queries: PathBuf,
    /// Skip the FTS5 baseline (minutes over long queries at 200,000 documents): for
    /// iterating on the product's side alone
    #[arg(long)]
    no_baseline: bool,
    /// Documents per index commit while loading (the server commits what 250 ms brought:
    /// about 800 documents while loading through the API)
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let docs = read_docs(&cli.docs)?;
    let queries: Vec<String> =
        read_lines(&cli.queries)?.iter().map(|line| serde_json::from_str(line)).collect::<Result<_, _>>()?;

    let dir = tempfile::tempdir()?;
    let index = FullTextIndex::open(dir.path())?;
    let started = Instant::now();
    for (n, batch) in docs.chunks(cli.batch.max(1)).enumerate() {
        index.apply(batch, &[], n as u64 + 1)?;
    }
    let ours_seconds = started.elapsed().as_secs_f64();
    eprintln!("segments after loading: {}", index.segments());

    let started = Instant::now();
    let fts5 = rusqlite::Connection::open_in_memory()?;
    fts5.execute_batch(
        "CREATE VIRTUAL TABLE docs USING fts5(doc_id UNINDEXED, title, body, tokenize = 'porter unicode61 remove_diacritics 2'); BEGIN;",
    )?;
    {
        let mut insert = fts5.prepare("INSERT INTO docs (doc_id, title, body) VALUES (?, ?, ?)")?;
        for doc in &docs {
            insert.execute((&doc.id, &doc.title, &doc.body))?;
        }
    }
    fts5.execute_batch("COMMIT;")?;
    let fts5_seconds = started.elapsed().as_secs_f64();

    let query_of =
        |text: &str| SearchQuery { text: text.to_owned(), org: "org".to_owned(), limit: 10, ..SearchQuery::default() };
    let ranked = time(&queries, |text| Ok(index.ranked_ids(&query_of(text), 10)?.len()))?;
    let page = time(&queries, |text| Ok(index.search(&query_of(text))?.hits.len()))?;
    let short = typed(&queries);
    let short_ranked = time(&short, |text| Ok(index.ranked_ids(&query_of(text), 10)?.len()))?;
    let short_page = time(&short, |text| Ok(index.search(&query_of(text))?.hits.len()))?;
    let mut consailt = json!({"ranked_top10": ranked, "search_page": page,
                              "short_ranked_top10": short_ranked, "short_search_page": short_page});
    let mut report = json!({"documents": docs.len(), "queries": queries.len()});
    if !cli.no_baseline {
        let mut statement = fts5.prepare("SELECT doc_id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 10")?;
        let baseline = time(&queries, |text| {
            let Some(expression) = search::eval::fts5_any_word(text) else { return Ok(0) };
            let rows = statement.query_map([expression], |row| row.get::<_, String>(0))?;
            Ok(rows.count())
        })?;
        let docs_per_second = |seconds: f64| docs.len() as f64 / seconds;
        consailt["index_seconds"] = json!(ours_seconds);
        consailt["docs_per_second"] = json!(docs_per_second(ours_seconds));
        report["fts5"] = json!({"index_seconds": fts5_seconds, "docs_per_second": docs_per_second(fts5_seconds),
                                "ranked_top10": baseline});
    }
    report["consailt"] = consailt;
    println!("{report}");
    Ok(())
}

/// What a search box sends for each query, as bench/search_http.py cuts them: its first one
/// to three words of at least four letters.
fn typed(queries: &[String]) -> Vec<String> {
    queries
        .iter()
        .enumerate()
        .filter_map(|(i, query)| {
            let words: Vec<&str> = query
                .split(|c: char| !c.is_ascii_alphabetic())
                .filter(|word| word.len() >= 4)
                .take(1 + i % 3)
                .collect();
            (!words.is_empty()).then(|| words.join(" "))
        })
        .collect()
}

/// p50 and p99 of `ask` over every query, in milliseconds, after a warm-up pass.
fn time(
    queries: &[String],
    mut ask: impl FnMut(&str) -> Result<usize, Box<dyn std::error::Error>>,
) -> Result<Value, Box<dyn std::error::Error>> {
    for query in queries.iter().take(100) {
        ask(query)?;
    }
    let mut latencies = Vec::with_capacity(queries.len());
    let mut hits = 0;
    for query in queries {
        let started = Instant::now();
        hits += ask(query)?;
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    Ok(json!({"p50_ms": at(0.5), "p99_ms": at(0.99), "mean_hits": hits as f64 / queries.len() as f64}))
}

fn read_lines(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(std::io::BufReader::new(file).lines().collect::<Result<_, _>>()?)
}

fn read_docs(path: &Path) -> Result<Vec<IndexedItem>, Box<dyn std::error::Error>> {
    read_lines(path)?
        .iter()
        .map(|line| {
            let doc: Value = serde_json::from_str(line)?;
            let field = |name: &str| doc[name].as_str().unwrap_or_default().to_owned();
            Ok(IndexedItem {
                id: field("_id"),
                org: "org".to_owned(),
                engagement: None,
                kind: "note".to_owned(),
                status: "published".to_owned(),
                title: field("title"),
                body: field("text"),
                tags: Vec::new(),
                categories: Vec::new(),
            })
        })
        .collect()
}
