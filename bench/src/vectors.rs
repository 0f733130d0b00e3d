//! The vector index's speed and recall, for bench/vectors.py, which runs the same vectors and
//! queries through Chroma and faiss. Reads passage and query vectors (little-endian f32 rows of
//! 384) and the exact top 10 of each query (computed by the script), builds the product's
//! `VectorIndex` with one item per passage (item `i` in engagement `e{i % 10}`, and in the
//! tagged 1% when `i % 100 == 7`), then times single-threaded queries: unfiltered, filtered by
//! engagement (10% of the items) and filtered to the tagged items (1%). Prints one JSON object.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use serde_json::{Value, json};

use search::embedding::DIMENSIONS;
use search::vectors::{MIN_SIMILARITY, VectorIndex, VectorQuery};
use store::embeddings::{ItemEmbedding, PassageVector};

/// The `consailt` binary's allocator, so that its parts are measured as they run there (with
/// glibc's, the embedder ran 36% slower: every large tensor was a fresh mmap to fault in).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "vector-bench")]
struct Cli {
    /// Passage vectors
    #[arg(long)]
    vectors: PathBuf,
    /// Query vectors
    #[arg(long)]
    queries: PathBuf,
    /// The exact top 10 of each query: JSON `{"unfiltered": [[[row, similarity], ...], ...], "engagement": ..., "tag": ...}`
    #[arg(long)]
    truth: PathBuf,
}

const ENGAGEMENTS: usize = 10;
const FILTER_ENGAGEMENT: &str = "e3";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let vectors = read_rows(&cli.vectors)?;
    let queries = read_rows(&cli.queries)?;
    let truth: Value = serde_json::from_slice(&std::fs::read(&cli.truth)?)?;

    let embeddings: Vec<ItemEmbedding> = vectors
        .iter()
        .enumerate()
        .map(|(i, vector)| ItemEmbedding {
            item_id: i.to_string(),
            org_id: "org".to_owned(),
            engagement_id: Some(format!("e{}", i % ENGAGEMENTS)),
            content_hash: String::new(),
            passages: vec![PassageVector { start: 0, end: 1, vector: vector.clone() }],
        })
        .collect();
    let started = Instant::now();
    let index = VectorIndex::from_embeddings(embeddings);
    let build_seconds = started.elapsed().as_secs_f64();
    let tagged: HashSet<String> = (0..vectors.len()).filter(|i| i % 100 == 7).map(|i| i.to_string()).collect();

    let unfiltered = measure(&queries, &truth["unfiltered"], |vector| index.search(&base(vector)));
    let by_engagement = measure(&queries, &truth["engagement"], |vector| {
        index.search(&VectorQuery { engagement: Some(FILTER_ENGAGEMENT), ..base(vector) })
    });
    let by_tag =
        measure(&queries, &truth["tag"], |vector| index.search(&VectorQuery { items: Some(&tagged), ..base(vector) }));
    println!(
        "{}",
        json!({"engine": "consailt (usearch HNSW, exact scan of small filtered sets)", "passages": vectors.len(),
               "in_graph": index.passages_in_graphs(), "queries": queries.len(), "build_seconds": build_seconds,
               "unfiltered": unfiltered, "engagement": by_engagement, "tag": by_tag})
    );
    Ok(())
}

/// Latency percentiles and recall@10 of `search` over every query, against `truth` (the exact
/// top 10 of each, as `[row, similarity]`; rows below the index's similarity floor are not
/// expected).
fn measure(queries: &[Vec<f32>], truth: &Value, search: impl Fn(&[f32]) -> Vec<search::vectors::VectorHit>) -> Value {
    for query in queries.iter().take(50) {
        search(query); // warm-up
    }
    let mut latencies = Vec::with_capacity(queries.len());
    let (mut found, mut wanted) = (0usize, 0usize);
    for (i, query) in queries.iter().enumerate() {
        let started = Instant::now();
        let hits = search(query);
        latencies.push(started.elapsed().as_secs_f64() * 1e3);
        let expected: HashSet<String> = truth[i]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|pair| pair[1].as_f64().unwrap_or(0.0) >= f64::from(MIN_SIMILARITY))
            .filter_map(|pair| pair[0].as_u64().map(|row| row.to_string()))
            .collect();
        wanted += expected.len();
        found += hits.iter().filter(|hit| expected.contains(&hit.id)).count();
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    json!({"p50_ms": at(0.5), "p99_ms": at(0.99), "recall_at_10": found as f64 / wanted.max(1) as f64})
}

/// An unfiltered top-10 query of the one organization.
fn base(vector: &[f32]) -> VectorQuery<'_> {
    VectorQuery { org: "org", vector, engagements_visible: None, engagement: None, items: None, limit: 10 }
}

fn read_rows(path: &Path) -> Result<Vec<Vec<f32>>, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() % (DIMENSIONS * 4) != 0 {
        return Err(format!("{}: not rows of {DIMENSIONS} f32", path.display()).into());
    }
    Ok(bytes
        .chunks_exact(DIMENSIONS * 4)
        .map(|row| row.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        .collect())
}
