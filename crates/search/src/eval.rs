//! Ranking quality on a test collection: the collection's documents, queries and relevance
//! judgments, read from the BEIR layout (`corpus.jsonl`, `queries.jsonl`, a TSV of qrels) or
//! the SMART layout (`.I`/`.T`/`.W` records, `query doc code` qrels, as in Cranfield), and the
//! measures `consailt search eval` reports: nDCG@10, recall@100 and MRR.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The FTS5 `MATCH` expression of the baseline for `text`: any of its words, each quoted
/// (so that FTS5 reads no syntax in it); `None` when it has no word.
pub fn fts5_any_word(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" OR "))
}

/// A document of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalDoc {
    pub id: String,
    pub title: String,
    pub text: String,
}

/// A query of a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalQuery {
    pub id: String,
    pub text: String,
}

/// Graded relevance: query id, then document id, then gain (positive when relevant).
pub type Qrels = HashMap<String, HashMap<String, f64>>;

/// A test collection, read whole into memory.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    pub docs: Vec<EvalDoc>,
    pub queries: Vec<EvalQuery>,
    pub qrels: Qrels,
}

/// Why a collection could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CollectionError {
    pub path: PathBuf,
    pub reason: String,
}

fn fail(path: &Path, reason: impl Into<String>) -> CollectionError {
    CollectionError { path: path.to_owned(), reason: reason.into() }
}

fn read(path: &Path) -> Result<String, CollectionError> {
    std::fs::read_to_string(path).map_err(|e| fail(path, format!("cannot read: {e}")))
}

/// The two layouts a collection may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Beir,
    Smart,
}

impl Collection {
    /// Reads the collection at `path`: a BEIR directory (holding `corpus.jsonl`), or a SMART
    /// documents file or a directory holding one (`*.all*`, with its queries in `*.qry`).
    /// `queries` replaces the collection's own queries file. Queries without any relevant
    /// document in `qrels` are dropped: no ranking can be scored on them.
    pub fn load(path: &Path, qrels: &Path, queries: Option<&Path>) -> Result<Self, CollectionError> {
        let (layout, docs_file, own_queries) = locate(path)?;
        let queries_file = match queries {
            Some(file) => file.to_owned(),
            None => own_queries.ok_or_else(|| fail(path, "no queries file found; pass --queries"))?,
        };
        let docs = match layout {
            Layout::Beir => parse_beir_corpus(&docs_file, &read(&docs_file)?)?,
            Layout::Smart => parse_smart_docs(&read(&docs_file)?),
        };
        let queries_text = read(&queries_file)?;
        let queries = if queries_text.trim_start().starts_with('{') {
            parse_beir_queries(&queries_file, &queries_text)?
        } else {
            parse_smart_queries(&queries_text)
        };
        let qrels = parse_qrels(qrels, &read(qrels)?)?;
        let queries = queries.into_iter().filter(|q| qrels.get(&q.id).is_some_and(|r| r.values().any(|g| *g > 0.0)));
        let queries: Vec<EvalQuery> = queries.collect();
        if docs.is_empty() {
            return Err(fail(&docs_file, "no documents"));
        }
        if queries.is_empty() {
            return Err(fail(&queries_file, "no query has a relevant document in the qrels"));
        }
        Ok(Self { docs, queries, qrels })
    }
}

/// Finds the layout, the documents file and the collection's own queries file.
fn locate(path: &Path) -> Result<(Layout, PathBuf, Option<PathBuf>), CollectionError> {
    if path.is_file() {
        let queries = path.parent().and_then(|dir| find(dir, |name| name.ends_with(".qry")));
        return Ok((Layout::Smart, path.to_owned(), queries));
    }
    if !path.is_dir() {
        return Err(fail(path, "no such file or directory"));
    }
    let corpus = path.join("corpus.jsonl");
    if corpus.is_file() {
        let queries = path.join("queries.jsonl");
        return Ok((Layout::Beir, corpus, queries.is_file().then_some(queries)));
    }
    let docs = find(path, |name| name.contains(".all")).ok_or_else(|| {
        fail(path, "neither a BEIR collection (corpus.jsonl) nor a SMART one (a documents file named *.all*)")
    })?;
    Ok((Layout::Smart, docs, find(path, |name| name.ends_with(".qry"))))
}

fn find(dir: &Path, matches: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(&matches))
        .collect();
    found.sort();
    found.into_iter().next()
}

fn json_lines<'a>(
    path: &'a Path,
    text: &'a str,
) -> impl Iterator<Item = Result<serde_json::Map<String, serde_json::Value>, CollectionError>> + 'a {
    text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()).map(
        move |(n, line)| match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(object)) => Ok(object),
            Ok(_) => Err(fail(path, format!("line {}: not a JSON object", n + 1))),
            Err(e) => Err(fail(path, format!("line {}: {e}", n + 1))),
        },
    )
}

fn string_field(object: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<String> {
    match object.get(name)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_beir_corpus(path: &Path, text: &str) -> Result<Vec<EvalDoc>, CollectionError> {
    json_lines(path, text)
        .map(|object| {
            let object = object?;
            let id = string_field(&object, "_id").ok_or_else(|| fail(path, "a document without \"_id\""))?;
            Ok(EvalDoc {
                title: string_field(&object, "title").unwrap_or_default(),
                text: string_field(&object, "text").unwrap_or_default(),
                id,
            })
        })
        .collect()
}

fn parse_beir_queries(path: &Path, text: &str) -> Result<Vec<EvalQuery>, CollectionError> {
    json_lines(path, text)
        .map(|object| {
            let object = object?;
            let id = string_field(&object, "_id").ok_or_else(|| fail(path, "a query without \"_id\""))?;
            Ok(EvalQuery { text: string_field(&object, "text").unwrap_or_default(), id })
        })
        .collect()
}

/// SMART records: `.I id` opens a record, `.X` lines open its fields. Returns each record's id
/// and its fields' text, lines joined by spaces.
fn smart_records(text: &str) -> Vec<(String, HashMap<char, String>)> {
    let mut records: Vec<(String, HashMap<char, String>)> = Vec::new();
    let mut field = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(id) = line.strip_prefix(".I") {
            records.push((id.trim().to_owned(), HashMap::new()));
            field = None;
        } else if line.len() == 2 && line.starts_with('.') {
            field = line.chars().nth(1);
        } else if let (Some(name), Some((_, fields))) = (field, records.last_mut()) {
            let value = fields.entry(name).or_default();
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(line.trim());
        }
    }
    records
}

fn parse_smart_docs(text: &str) -> Vec<EvalDoc> {
    smart_records(text)
        .into_iter()
        .map(|(id, mut fields)| EvalDoc {
            id,
            title: fields.remove(&'T').unwrap_or_default(),
            text: fields.remove(&'W').unwrap_or_default(),
        })
        .collect()
}

/// SMART queries are numbered by their position (1, 2, ...), not by their `.I` labels: the
/// Cranfield qrels refer to them so.
fn parse_smart_queries(text: &str) -> Vec<EvalQuery> {
    smart_records(text)
        .into_iter()
        .enumerate()
        .map(|(n, (_, mut fields))| EvalQuery {
            id: (n + 1).to_string(),
            text: fields.remove(&'W').unwrap_or_default(),
        })
        .collect()
}

/// Qrels as a TSV with a header (BEIR: `query-id corpus-id score`, the score being the gain)
/// or as whitespace-separated `query doc code` lines (SMART, Cranfield's relevance codes: 1
/// best to 4 least, -1 not relevant; the gain is 5 - code).
fn parse_qrels(path: &Path, text: &str) -> Result<Qrels, CollectionError> {
    let mut qrels = Qrels::new();
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r')).enumerate().peekable();
    let beir = lines.peek().is_some_and(|(_, first)| first.contains('\t'));
    for (n, line) in lines {
        let columns: Vec<&str> = line.split_whitespace().collect();
        if columns.is_empty() || (beir && n == 0 && columns[0] == "query-id") {
            continue;
        }
        let [query, doc, grade] = columns[..] else {
            return Err(fail(path, format!("line {}: expected three columns: query, document, relevance", n + 1)));
        };
        let grade: f64 = grade.parse().map_err(|_| fail(path, format!("line {}: relevance {grade:?}", n + 1)))?;
        let gain = match beir {
            true => grade,
            false if (1.0..=4.0).contains(&grade) => 5.0 - grade,
            false => 0.0,
        };
        qrels.entry(query.to_owned()).or_default().insert(doc.to_owned(), gain);
    }
    if qrels.is_empty() {
        return Err(fail(path, "no relevance judgments"));
    }
    Ok(qrels)
}

/// The measures of one ranking against its judgments.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measures {
    /// Normalized discounted cumulative gain of the first ten (linear gains, log2 discount).
    pub ndcg_at_10: f64,
    /// Share of the relevant documents among the first hundred.
    pub recall_at_100: f64,
    /// One over the rank of the first relevant document (0 when none is ranked).
    pub mrr: f64,
}

impl Measures {
    /// Scores `ranking` (document ids, best first) against `judged` (document id to gain).
    pub fn of(ranking: &[String], judged: &HashMap<String, f64>) -> Self {
        let gain = |id: &String| judged.get(id).copied().unwrap_or(0.0).max(0.0);
        let discount = |rank: usize| 1.0 / ((rank + 2) as f64).log2();
        let dcg: f64 = ranking.iter().take(10).enumerate().map(|(rank, id)| gain(id) * discount(rank)).sum();
        let mut ideal: Vec<f64> = judged.values().copied().filter(|g| *g > 0.0).collect();
        ideal.sort_by(|a, b| b.total_cmp(a));
        let idcg: f64 = ideal.iter().take(10).enumerate().map(|(rank, g)| g * discount(rank)).sum();
        let relevant = ideal.len();
        let found = ranking.iter().take(100).filter(|id| gain(id) > 0.0).count();
        let first = ranking.iter().position(|id| gain(id) > 0.0);
        Self {
            ndcg_at_10: if idcg > 0.0 { dcg / idcg } else { 0.0 },
            recall_at_100: if relevant > 0 { found as f64 / relevant as f64 } else { 0.0 },
            mrr: first.map_or(0.0, |rank| 1.0 / (rank + 1) as f64),
        }
    }

    /// The mean of each measure over `all`.
    pub fn mean(all: &[Measures]) -> Self {
        let n = all.len().max(1) as f64;
        Self {
            ndcg_at_10: all.iter().map(|m| m.ndcg_at_10).sum::<f64>() / n,
            recall_at_100: all.iter().map(|m| m.recall_at_100).sum::<f64>() / n,
            mrr: all.iter().map(|m| m.mrr).sum::<f64>() / n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, f64)]) -> HashMap<String, f64> {
        pairs.iter().map(|(id, g)| ((*id).to_owned(), *g)).collect()
    }

    fn ranking(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_perfect_ranking_scores_one_and_a_useless_one_zero() {
        let qrels = judged(&[("a", 3.0), ("b", 1.0), ("x", 0.0)]);
        let perfect = Measures::of(&ranking(&["a", "b", "x"]), &qrels);
        assert_eq!(perfect, Measures { ndcg_at_10: 1.0, recall_at_100: 1.0, mrr: 1.0 });
        assert_eq!(Measures::of(&ranking(&["x", "y"]), &qrels), Measures::default());
    }

    #[test]
    fn measures_follow_their_textbook_definitions() {
        let qrels = judged(&[("a", 1.0), ("b", 1.0)]);
        let m = Measures::of(&ranking(&["x", "a", "y"]), &qrels);
        // DCG = 1/log2(3); IDCG = 1 + 1/log2(3).
        let expected = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((m.ndcg_at_10 - expected).abs() < 1e-12);
        assert_eq!(m.recall_at_100, 0.5);
        assert_eq!(m.mrr, 0.5);
        // A relevant document past the tenth place counts for recall, not for nDCG@10.
        let late: Vec<String> = (0..20).map(|n| if n == 15 { "a".to_owned() } else { format!("x{n}") }).collect();
        let m = Measures::of(&late, &qrels);
        assert_eq!((m.ndcg_at_10, m.recall_at_100, m.mrr), (0.0, 0.5, 1.0 / 16.0));
    }

    #[test]
    fn smart_records_join_lines_and_number_queries_by_position() {
        let docs = parse_smart_docs(
            ".I 1\r\n.T\r\nwing in a\r\nslipstream .\r\n.A\r\nsomeone\r\n.W\r\nthe body\r\n.I 2\r\n.W\r\nsecond\r\n",
        );
        assert_eq!(
            docs[0],
            EvalDoc { id: "1".into(), title: "wing in a slipstream .".into(), text: "the body".into() }
        );
        assert_eq!(docs[1].text, "second");
        let queries = parse_smart_queries(".I 001\n.W\nfirst query\n.I 004\n.W\nsecond\nquery .\n");
        assert_eq!(queries[1], EvalQuery { id: "2".into(), text: "second query .".into() });
    }

    #[test]
    fn qrels_read_both_layouts_with_their_gains() {
        let beir = parse_qrels(Path::new("q.tsv"), "query-id\tcorpus-id\tscore\n0\t31715818\t1\n").expect("beir");
        assert_eq!(beir["0"]["31715818"], 1.0);
        let smart = parse_qrels(Path::new("cranqrel"), "1 184 2\r\n1 29 -1\r\n").expect("smart");
        assert_eq!((smart["1"]["184"], smart["1"]["29"]), (3.0, 0.0));
        assert!(parse_qrels(Path::new("bad"), "1 2\n").is_err());
        assert!(parse_qrels(Path::new("bad"), "1 2 high\n").is_err());
    }

    #[test]
    fn the_shared_collections_load() {
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
        if !data.is_dir() {
            return; // the evaluation data lives beside the repository, not in it
        }
        let scifact =
            Collection::load(&data.join("scifact"), &data.join("scifact/qrels/train.tsv"), None).expect("scifact");
        assert_eq!(scifact.docs.len(), 5_183);
        assert_eq!(scifact.queries.len(), 809);
        let cranfield =
            Collection::load(&data.join("cranfield"), &data.join("cranfield/cranqrel"), None).expect("cran");
        assert_eq!(cranfield.docs.len(), 1_400);
        assert!(cranfield.queries.len() >= 220, "queries with a relevant document: {}", cranfield.queries.len());
        // Two of Cranfield's abstracts (471 and 995) are empty in the collection itself.
        let empty: Vec<&str> = cranfield.docs.iter().filter(|d| d.text.is_empty()).map(|d| d.id.as_str()).collect();
        assert_eq!(empty, ["471", "995"]);
    }
}
