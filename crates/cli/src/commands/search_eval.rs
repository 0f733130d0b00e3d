//! `consailt search eval`: ranking quality on a test collection, next to a baseline measured
//! in the same run. The documents go in as items through the application's write path into a
//! scratch data directory, the index follows the log as in `serve`, and every query is asked
//! as a member of the organization would ask it. The baseline is SQLite FTS5 ranking the same
//! titles and texts with its built-in `bm25()` (Porter stemming, any query word may match).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use application::commands::create_item::{CreateItem, ItemDraft};
use application::commands::create_organization::CreateOrganization;
use application::commands::register_user::RegisterUser;
use application::queries::search_items::SearchItems;
use application::{App, Caller, TenantContext};
use domain::ids::{OrgId, UserId};
use domain::item::{ItemKind, MAX_TITLE_CHARS};
use domain::role::Role;
use search::FullTextIndex;
use search::eval::{Collection, EvalDoc, Measures};
use search::hybrid::Mode;
use search::model::ModelFiles;
use search::semantic::{Semantic, SemanticSearch};
use store::EventStore;
use store_sqlite::{SqliteConfig, SqliteStore};

use crate::Failure;

/// Ranked documents scored per query: recall is measured at 100.
const DEPTH: usize = 100;
/// Items created at once: enough to fill the writer's group commits.
const CONCURRENT_WRITES: usize = 64;

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The collection: a BEIR directory (corpus.jsonl, queries.jsonl), or a SMART documents
    /// file or a directory holding one (*.all*, with its queries in *.qry)
    #[arg(long)]
    collection: PathBuf,
    /// Relevance judgments: a BEIR TSV (query-id, corpus-id, score) or SMART lines
    /// (query, document, relevance code 1 to 4 or -1)
    #[arg(long)]
    qrels: PathBuf,
    /// Take the queries from this file (JSON lines or SMART) instead of the collection's
    #[arg(long)]
    queries: Option<PathBuf>,
    /// Print the figures as one JSON object
    #[arg(long)]
    json: bool,
    /// Measure full text only: no model, no embedding (minutes of CPU for a large collection)
    #[arg(long)]
    no_semantic: bool,
    /// Also write each mode's rankings to DIR/<mode>.run in TREC's run format (query, Q0,
    /// document, rank, score, tag), for fusion experiments and trec_eval
    #[arg(long, value_name = "DIR")]
    runs: Option<PathBuf>,
}

/// One mode's figures, or why it could not run.
enum Outcome {
    Measured(Measures),
    Unavailable(String),
}

pub async fn run(args: EvalArgs) -> Result<(), Failure> {
    let collection = Collection::load(&args.collection, &args.qrels, args.queries.as_deref())?;
    let docs: Vec<EvalDoc> = collection.docs.iter().map(as_item).collect();
    let scratch = tempfile::tempdir().map_err(|e| format!("cannot create a scratch directory: {e}"))?;
    let store = SqliteStore::open(SqliteConfig::new(scratch.path().join("consailt.db"))).await?;
    let index = Arc::new(FullTextIndex::open(&scratch.path().join("search").join("fulltext"))?);
    let semantic = SemanticSearch::starting();
    let app = App::new(store.clone()).with_search(Arc::clone(&index)).with_semantic(Arc::clone(&semantic));
    let runs = args.runs.as_deref();
    let outcome = evaluate(&app, &store, &index, (&semantic, !args.no_semantic), (&collection, &docs), runs).await;
    store.close().await;
    let (modes, timings) = outcome?;
    if args.json {
        let mut figures = serde_json::Map::new();
        for (mode, outcome) in &modes {
            let value = match outcome {
                Outcome::Measured(m) => {
                    serde_json::json!({"ndcg@10": m.ndcg_at_10, "recall@100": m.recall_at_100, "mrr": m.mrr})
                }
                Outcome::Unavailable(_) => serde_json::Value::Null,
            };
            figures.insert((*mode).to_owned(), value);
        }
        let report =
            serde_json::json!({"queries": collection.queries.len(), "documents": docs.len(), "modes": figures});
        println!("{report}");
        return Ok(());
    }
    println!(
        "{} queries over {} documents (written through the application in {:.1} s, indexed in {:.1} s, \
         embedded in {:.1} s)",
        collection.queries.len(),
        docs.len(),
        timings.write_seconds,
        timings.index_seconds,
        timings.embed_seconds,
    );
    println!("{:<10} {:>8} {:>11} {:>8}", "mode", "nDCG@10", "recall@100", "MRR");
    for (mode, outcome) in &modes {
        match outcome {
            Outcome::Measured(m) => {
                println!("{mode:<10} {:>8.4} {:>11.4} {:>8.4}", m.ndcg_at_10, m.recall_at_100, m.mrr);
            }
            Outcome::Unavailable(why) => println!("{mode:<10} not measured: {why}"),
        }
    }
    Ok(())
}

struct Timings {
    write_seconds: f64,
    index_seconds: f64,
    embed_seconds: f64,
}

async fn evaluate(
    app: &App<SqliteStore>,
    store: &SqliteStore,
    index: &Arc<FullTextIndex>,
    (semantic, embedding): (&Arc<SemanticSearch>, bool),
    (collection, docs): (&Collection, &[EvalDoc]),
    runs: Option<&Path>,
) -> Result<(Vec<(&'static str, Outcome)>, Timings), Failure> {
    if let Some(dir) = runs {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let ctx = owner(app).await?;
    let started = Instant::now();
    let doc_of_item = write(app, &ctx, docs).await?;
    let write_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    search::indexer::catch_up(store, index, |_| {}).await?;
    let index_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    match embedding {
        false => semantic.set_off("not asked for (--no-semantic)".to_owned()),
        true => match embed(store, docs.len()).await {
            Ok(loaded) => semantic.set_ready(loaded),
            Err(error) => semantic.set_off(error.message),
        },
    }
    let embed_seconds = started.elapsed().as_secs_f64();

    let mut modes = Vec::with_capacity(4);
    for (name, mode) in [("fulltext", Mode::Fulltext), ("semantic", Mode::Semantic), ("hybrid", Mode::Hybrid)] {
        if let (Mode::Semantic | Mode::Hybrid, Err(why)) = (mode, semantic.get()) {
            modes.push((name, Outcome::Unavailable(why)));
            continue;
        }
        let mut measured = Vec::with_capacity(collection.queries.len());
        let mut run = RunFile::new(runs, name);
        for query in &collection.queries {
            let input = SearchItems { text: query.text.clone(), mode, limit: DEPTH, ..SearchItems::default() };
            let outcome = app.search_items(&ctx, input).await.map_err(|e| format!("query {}: {e}", query.id))?;
            let ranking: Vec<(String, f32)> = outcome
                .page
                .hits
                .iter()
                .filter_map(|hit| doc_of_item.get(&hit.id).map(|doc| (doc.clone(), hit.score)))
                .collect();
            run.add(&query.id, &ranking);
            measured.push(Measures::of(&ids(ranking), &collection.qrels[&query.id]));
        }
        run.write()?;
        modes.push((name, Outcome::Measured(Measures::mean(&measured))));
    }

    let baseline = Fts5::build(docs)?;
    let mut fts5 = Vec::with_capacity(collection.queries.len());
    let mut run = RunFile::new(runs, "fts5");
    for query in &collection.queries {
        let ranking = baseline.search(&query.text, DEPTH)?;
        run.add(&query.id, &ranking);
        fts5.push(Measures::of(&ids(ranking), &collection.qrels[&query.id]));
    }
    run.write()?;
    modes.push(("fts5", Outcome::Measured(Measures::mean(&fts5))));
    Ok((modes, Timings { write_seconds, index_seconds, embed_seconds }))
}

/// Loads the model (fetching it when missing) and embeds every item, with progress on the
/// terminal.
async fn embed(store: &SqliteStore, documents: usize) -> Result<Arc<Semantic>, Failure> {
    let dir = ModelFiles::default_dir();
    let files = tokio::task::spawn_blocking(move || ModelFiles::ensure(&dir))
        .await
        .map_err(|e| format!("the model setup failed: {e}"))??;
    let loaded = Arc::new(Semantic::load(store, &files).await?);
    let head = store.head_position().await?.max(1);
    let started = Instant::now();
    let mut stderr = std::io::stderr();
    search::semantic::catch_up(store, &loaded, |position| {
        let elapsed = started.elapsed().as_secs_f64();
        let done = position as f64 / head as f64;
        let _ = write!(
            stderr,
            "\rembedding {documents} documents: {:.0}%, about {:.0} s left   ",
            done * 100.0,
            elapsed / done - elapsed
        );
        let _ = stderr.flush();
    })
    .await?;
    let _ = writeln!(stderr);
    Ok(loaded)
}

/// A document as an item can hold it: a title on one line of at most [`MAX_TITLE_CHARS`]
/// (the text's opening words when the document has none). Both rankers see these.
fn as_item(doc: &EvalDoc) -> EvalDoc {
    let line = |text: &str| {
        text.split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut title = line(&doc.title);
    if title.is_empty() {
        title = line(&doc.text).split(' ').take(12).collect::<Vec<_>>().join(" ");
    }
    if title.is_empty() {
        title = format!("Document {}", doc.id);
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        title = title.chars().take(MAX_TITLE_CHARS).collect::<String>().trim_end().to_owned();
    }
    EvalDoc { id: doc.id.clone(), title, text: doc.text.clone() }
}

/// A user owning a new organization, acting as its owner.
async fn owner(app: &App<SqliteStore>) -> Result<TenantContext, Failure> {
    let caller = Caller::default();
    let user = app
        .register_user(&caller, RegisterUser { email: "eval@example.com".into(), display_name: "Evaluation".into() })
        .await?;
    let org = app
        .create_organization(&caller, CreateOrganization { name: "Evaluation".into(), owner: user.id.clone() })
        .await?;
    Ok(TenantContext {
        org: OrgId::parse(&org.id)?,
        actor: UserId::parse(&user.id)?,
        role: Role::Owner,
        request_id: None,
    })
}

/// Creates every document as a note; returns the document id of each item id.
async fn write(
    app: &App<SqliteStore>,
    ctx: &TenantContext,
    docs: &[EvalDoc],
) -> Result<HashMap<String, String>, Failure> {
    let mut writers = tokio::task::JoinSet::new();
    for share in docs.chunks(docs.len().div_ceil(CONCURRENT_WRITES).max(1)) {
        let (app, ctx, share) = (app.clone(), ctx.clone(), share.to_vec());
        writers.spawn(async move {
            let mut created = Vec::with_capacity(share.len());
            for doc in share {
                let draft = ItemDraft { title: doc.title, body: doc.text, ..ItemDraft::default() };
                let input = CreateItem { kind: ItemKind::Note, engagement: None, draft, supersedes: None };
                let item = app.create_item(&ctx, input).await.map_err(|e| format!("document {}: {e}", doc.id))?;
                created.push((item.id, doc.id));
            }
            Ok::<_, String>(created)
        });
    }
    let mut doc_of_item = HashMap::with_capacity(docs.len());
    while let Some(joined) = writers.join_next().await {
        doc_of_item.extend(joined.map_err(|e| format!("a writer task failed: {e}"))??);
    }
    Ok(doc_of_item)
}

/// The baseline: an in-memory FTS5 table of the same titles and texts.
struct Fts5 {
    conn: rusqlite::Connection,
}

impl Fts5 {
    fn build(docs: &[EvalDoc]) -> Result<Self, Failure> {
        let conn = rusqlite::Connection::open_in_memory()?;
        conn.execute_batch(
            "CREATE VIRTUAL TABLE docs USING fts5(doc_id UNINDEXED, title, body, tokenize = 'porter unicode61 remove_diacritics 2');
             BEGIN;",
        )?;
        {
            let mut insert = conn.prepare("INSERT INTO docs (doc_id, title, body) VALUES (?, ?, ?)")?;
            for doc in docs {
                insert.execute((&doc.id, &doc.title, &doc.text))?;
            }
        }
        conn.execute_batch("COMMIT;")?;
        Ok(Self { conn })
    }

    /// The best `depth` documents by `bm25()` for any of the query's words, with their
    /// scores (higher is better: `bm25()` is negated).
    fn search(&self, text: &str, depth: usize) -> Result<Vec<(String, f32)>, Failure> {
        let Some(expression) = search::eval::fts5_any_word(text) else { return Ok(Vec::new()) };
        let mut statement = self.conn.prepare_cached(
            "SELECT doc_id, -bm25(docs) AS score FROM docs WHERE docs MATCH ? ORDER BY score DESC LIMIT ?",
        )?;
        let rows = statement.query_map((expression, depth as i64), |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, f64>(1)? as f32))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The document ids of a ranking, best first.
fn ids(ranking: Vec<(String, f32)>) -> Vec<String> {
    ranking.into_iter().map(|(id, _)| id).collect()
}

/// One mode's rankings in TREC's run format, written when `--runs` asks for them.
struct RunFile {
    path: Option<PathBuf>,
    tag: &'static str,
    lines: String,
}

impl RunFile {
    fn new(dir: Option<&Path>, mode: &'static str) -> Self {
        Self { path: dir.map(|dir| dir.join(format!("{mode}.run"))), tag: mode, lines: String::new() }
    }

    fn add(&mut self, query: &str, ranking: &[(String, f32)]) {
        if self.path.is_none() {
            return;
        }
        for (rank, (doc, score)) in ranking.iter().enumerate() {
            let line = format!("{query} Q0 {doc} {} {score} consailt-{}\n", rank + 1, self.tag);
            self.lines.push_str(&line);
        }
    }

    fn write(self) -> Result<(), Failure> {
        let Some(path) = self.path else { return Ok(()) };
        std::fs::write(&path, self.lines).map_err(|e| format!("cannot write {}: {e}", path.display()).into())
    }
}
