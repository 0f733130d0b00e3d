//! `consailt search eval` on a small BEIR-layout collection: the figures as JSON, the
//! rankings as TREC run files, and a clear failure for a collection that is not there.

use std::path::Path;
use std::process::{Command, Output};

fn eval(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_consailt"))
        .args(["search", "eval", "--no-semantic"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run consailt")
}

fn collection(dir: &Path) {
    let corpus = [
        ("d1", "Gene therapy", "Gene therapy for muscular dystrophy restores dystrophin in muscle."),
        ("d2", "Coral reefs", "Ocean warming bleaches coral reefs across the tropics."),
        ("d3", "Vaccines", "Measles vaccination coverage fell during the pandemic."),
    ];
    let lines: Vec<String> = corpus
        .iter()
        .map(|(id, title, text)| serde_json::json!({"_id": id, "title": title, "text": text}).to_string())
        .collect();
    std::fs::write(dir.join("corpus.jsonl"), lines.join("\n")).expect("corpus");
    let queries = [("q1", "Dystrophin gene therapy."), ("q2", "coral bleaching")];
    let lines: Vec<String> =
        queries.iter().map(|(id, text)| serde_json::json!({"_id": id, "text": text}).to_string()).collect();
    std::fs::write(dir.join("queries.jsonl"), lines.join("\n")).expect("queries");
    std::fs::write(dir.join("qrels.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n").expect("qrels");
}

#[test]
fn figures_come_as_json_and_rankings_as_trec_run_files() {
    let dir = tempfile::tempdir().expect("temporary directory");
    collection(dir.path());
    let output = eval(dir.path(), &["--collection", ".", "--qrels", "qrels.tsv", "--json", "--runs", "runs"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    assert_eq!(report["queries"], 2);
    for mode in ["fulltext", "fts5"] {
        assert_eq!(report["modes"][mode]["ndcg@10"], 1.0, "{mode}: {report}");
        assert_eq!(report["modes"][mode]["mrr"], 1.0, "{mode}: {report}");
    }
    assert!(report["modes"]["semantic"].is_null() && report["modes"]["hybrid"].is_null(), "{report}");

    for mode in ["fulltext", "fts5"] {
        let run = std::fs::read_to_string(dir.path().join("runs").join(format!("{mode}.run"))).expect("run file");
        let first: Vec<&str> = run.lines().next().expect("a line").split(' ').collect();
        assert_eq!(first[..4], ["q1", "Q0", "d1", "1"], "{mode}: {run}");
        assert!(first[4].parse::<f32>().expect("a score") > 0.0, "{mode}: {run}");
        assert_eq!(first[5], format!("consailt-{mode}"));
        assert!(run.lines().any(|line| line.starts_with("q2 Q0 d2 1 ")), "{mode}: {run}");
    }
    assert!(!dir.path().join("runs").join("semantic.run").exists(), "no file for a mode that did not run");
}

#[test]
fn a_missing_collection_fails_with_its_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = eval(dir.path(), &["--collection", "nowhere", "--qrels", "qrels.tsv"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nowhere"), "{stderr}");
    assert!(output.stdout.is_empty(), "no figures: {}", String::from_utf8_lossy(&output.stdout));
}
