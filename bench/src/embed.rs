//! The embedder's speed, for bench/embeddings.py, which runs the same texts through a numpy
//! and an ONNX Runtime forward pass. Reads texts (one JSON string per line), embeds them all
//! in one call as the product's embedder does (length-sorted, dynamically padded batches),
//! times single short queries, writes the vectors (little-endian f32, row after row) and
//! prints one JSON object.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde_json::json;

use search::embedding::Embedder;
use search::model::ModelFiles;

/// The `consailt` binary's allocator, so that its parts are measured as they run there (with
/// glibc's, the embedder ran 36% slower: every large tensor was a fresh mmap to fault in).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "embed-bench")]
struct Cli {
    /// Texts, one JSON string per line
    #[arg(long)]
    texts: PathBuf,
    /// Where to write the vectors
    #[arg(long)]
    vectors: PathBuf,
    /// Short queries embedded one at a time for the latency figure
    #[arg(long, default_value_t = 200)]
    queries: usize,
}

#[expect(unsafe_code, reason = "fix_thread_count sets an environment variable")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // SAFETY: the first thing the process does; no other thread exists yet. The product's
    // binary does the same.
    unsafe { search::embedding::fix_thread_count() };
    let cli = Cli::parse();
    let files = ModelFiles::ensure(&ModelFiles::default_dir())?;
    let embedder = Embedder::load(&files)?;
    let texts: Vec<String> = std::io::BufReader::new(std::fs::File::open(&cli.texts)?)
        .lines()
        .map(|line| Ok(serde_json::from_str(&line?)?))
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokens: usize = refs.iter().map(|text| embedder.tokens(text)).sum();
    embedder.embed(&refs[..refs.len().min(16)])?; // warm-up
    let started = Instant::now();
    let vectors = embedder.embed(&refs)?;
    let seconds = started.elapsed().as_secs_f64();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&cli.vectors)?);
    for vector in &vectors {
        for value in vector {
            out.write_all(&value.to_le_bytes())?;
        }
    }
    out.flush()?;
    let short = ["risk register for the migration", "who owns the budget?", "data retention policy", "kickoff"];
    let mut latencies = Vec::with_capacity(cli.queries);
    for i in 0..cli.queries {
        let begun = Instant::now();
        embedder.embed(&[short[i % short.len()]])?;
        latencies.push(begun.elapsed().as_secs_f64() * 1e3);
    }
    latencies.sort_by(f64::total_cmp);
    // `null` when no query was timed (`--queries 0`).
    let at = |q: f64| latencies.get((latencies.len().saturating_sub(1) as f64 * q) as usize).copied();
    println!(
        "{}",
        json!({"engine": "candle fp32", "texts": texts.len(), "tokens": tokens, "seconds": seconds,
               "tokens_per_second": tokens as f64 / seconds, "query_p50_ms": at(0.5), "query_p99_ms": at(0.99)})
    );
    Ok(())
}
