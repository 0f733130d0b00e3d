//! Hybrid ranking: the full-text and the semantic rankings fused by reciprocal rank fusion
//! (Cormack et al., 2009). Each list contributes `1 / (K + rank)` per item, so neither list's
//! score scale matters (BM25 is unbounded, cosine is not) and an item both find rises above
//! items only one finds. See bench/README.md for what was measured against what.

use std::collections::HashMap;

use crate::Signals;
use crate::passages::Passage;
use crate::vectors::VectorHit;

/// How to rank.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// BM25 over title and body, with typo tolerance and prefix matching.
    Fulltext,
    /// Nearest passages by meaning.
    Semantic,
    /// Both, fused.
    #[default]
    Hybrid,
}

/// Items each ranking contributes to a fusion (and the least a semantic ranking looks at):
/// deeper lists barely move the top of a fused ranking and cost a snippet lookup each.
pub const DEPTH: usize = 100;
/// The fusion's constant: the usual 60 damps the difference between the first ranks.
pub const RRF_K: f32 = 60.0;

/// An item ranked by a semantic or fused ranking, before its page is built.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: String,
    pub score: f32,
    pub signals: Signals,
    /// The best passage by meaning, shown when the words did not match.
    pub passage: Option<Passage>,
}

/// A semantic ranking as candidates.
pub fn semantic(hits: Vec<VectorHit>) -> Vec<Candidate> {
    hits.into_iter()
        .map(|hit| Candidate {
            id: hit.id,
            score: hit.score,
            signals: Signals { fulltext: false, semantic: true },
            passage: Some(hit.passage),
        })
        .collect()
}

/// The fused ranking of a full-text ranking (ids, best first) and a semantic one.
pub fn fuse(fulltext: Vec<(String, f32)>, semantic: Vec<VectorHit>) -> Vec<Candidate> {
    let mut fused: HashMap<String, Candidate> = HashMap::with_capacity(fulltext.len() + semantic.len());
    for (rank, (id, _)) in fulltext.into_iter().enumerate() {
        let candidate = fused.entry(id.clone()).or_insert_with(|| Candidate {
            id,
            score: 0.0,
            signals: Signals::default(),
            passage: None,
        });
        candidate.score += contribution(rank);
        candidate.signals.fulltext = true;
    }
    for (rank, hit) in semantic.into_iter().enumerate() {
        let candidate = fused.entry(hit.id.clone()).or_insert_with(|| Candidate {
            id: hit.id,
            score: 0.0,
            signals: Signals::default(),
            passage: None,
        });
        candidate.score += contribution(rank);
        candidate.signals.semantic = true;
        candidate.passage = Some(hit.passage);
    }
    let mut ranked: Vec<Candidate> = fused.into_values().collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    ranked
}

fn contribution(rank: usize) -> f32 {
    1.0 / (RRF_K + rank as f32 + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str) -> VectorHit {
        VectorHit { id: id.to_owned(), score: 0.5, passage: Passage { start: 0, end: 1 } }
    }

    #[test]
    fn an_item_both_rankings_find_rises_above_the_top_of_one() {
        let fulltext = vec![("a".to_owned(), 9.0), ("b".to_owned(), 5.0)];
        let fused = fuse(fulltext, vec![hit("c"), hit("b")]);
        let ids: Vec<&str> = fused.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c"]);
        assert_eq!(fused[0].signals, Signals { fulltext: true, semantic: true });
        assert_eq!(fused[1].signals, Signals { fulltext: true, semantic: false });
        assert_eq!(fused[1].passage, None);
        assert!(fused[2].passage.is_some());
    }

    #[test]
    fn ties_break_by_id_so_pages_are_stable() {
        let fused = fuse(vec![("z".to_owned(), 1.0)], vec![hit("y")]);
        assert_eq!(fused[0].score, fused[1].score);
        assert_eq!(fused[0].id, "y");
    }

    #[test]
    fn one_empty_ranking_leaves_the_other_in_order() {
        let fused = fuse(Vec::new(), vec![hit("p"), hit("q")]);
        assert_eq!(fused.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["p", "q"]);
        assert_eq!(semantic(vec![hit("p")])[0].signals, Signals { fulltext: false, semantic: true });
    }
}
