//! Hybrid ranking: the full-text and the semantic rankings fused by their scores. Each
//! list's scores are scaled to 0..1 between its [`DEPTH`]th and its best (BM25 is unbounded,
//! cosine is not, and neither is comparable across queries), and an item's fused score is
//! the weighted sum of its two scaled scores, so an item both rankings find high rises
//! above one only a single ranking finds. It replaced reciprocal rank fusion (Cormack et
//! al., 2009), which discards how far apart the scores are: nDCG@10 on SciFact's training
//! queries went from 0.7252 to 0.7409. See bench/README.md ("Search quality") for the
//! methods compared.

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
/// The full-text score's weight in a fused score; the semantic score weighs the rest. The
/// best on SciFact's training queries in steps of 0.025 (0.5 to 0.625 within 0.004 of it).
pub const FULLTEXT_WEIGHT: f32 = 0.575;

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

/// The fused ranking of a full-text ranking (ids and BM25 scores, best first) and a
/// semantic one.
pub fn fuse(fulltext: Vec<(String, f32)>, semantic: Vec<VectorHit>) -> Vec<Candidate> {
    let mut fused: HashMap<String, Candidate> = HashMap::with_capacity(fulltext.len() + semantic.len());
    let scale = Scale::of(fulltext.iter().map(|(_, score)| *score));
    for (id, score) in fulltext {
        let candidate = fused.entry(id.clone()).or_insert_with(|| Candidate {
            id,
            score: 0.0,
            signals: Signals::default(),
            passage: None,
        });
        candidate.score += FULLTEXT_WEIGHT * scale.apply(score);
        candidate.signals.fulltext = true;
    }
    let scale = Scale::of(semantic.iter().map(|hit| hit.score));
    for hit in semantic {
        let candidate = fused.entry(hit.id.clone()).or_insert_with(|| Candidate {
            id: hit.id,
            score: 0.0,
            signals: Signals::default(),
            passage: None,
        });
        candidate.score += (1.0 - FULLTEXT_WEIGHT) * scale.apply(hit.score);
        candidate.signals.semantic = true;
        candidate.passage = Some(hit.passage);
    }
    let mut ranked: Vec<Candidate> = fused.into_values().collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    ranked
}

/// A ranking's scores mapped to 0 (its [`DEPTH`]th, or its last when shorter) to 1 (its
/// best). Anchored at the [`DEPTH`]th rather than the last, the scale of a longer list (a
/// page beyond the first hundred) is the same, and so is the order of the items before it:
/// pages stay consistent. Items past the [`DEPTH`]th fall below 0.
#[derive(Debug, Clone, Copy)]
struct Scale {
    low: f32,
    range: f32,
}

impl Scale {
    /// The scale of a ranking's scores, best first.
    fn of(scores: impl Iterator<Item = f32>) -> Self {
        let (mut best, mut low) = (f32::NEG_INFINITY, f32::INFINITY);
        for score in scores.take(DEPTH) {
            best = best.max(score);
            low = low.min(score);
        }
        Self { low, range: best - low }
    }

    /// `score` on the scale; 1 when the ranking's scores are all alike.
    fn apply(self, score: f32) -> f32 {
        if self.range > 0.0 { (score - self.low) / self.range } else { 1.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str, score: f32) -> VectorHit {
        VectorHit { id: id.to_owned(), score, passage: Passage { start: 0, end: 1 } }
    }

    fn ids(fused: &[Candidate]) -> Vec<&str> {
        fused.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn an_item_both_rankings_find_rises_above_the_top_of_one() {
        let fulltext = vec![("a".to_owned(), 9.0), ("b".to_owned(), 8.5), ("x".to_owned(), 1.0)];
        let fused = fuse(fulltext, vec![hit("c", 0.6), hit("b", 0.58), hit("y", 0.2)]);
        assert_eq!(ids(&fused), ["b", "a", "c", "x", "y"]);
        assert_eq!(fused[0].signals, Signals { fulltext: true, semantic: true });
        assert_eq!(fused[1].signals, Signals { fulltext: true, semantic: false });
        assert_eq!(fused[1].passage, None);
        assert!(fused[2].passage.is_some());
    }

    #[test]
    fn scores_count_by_how_far_apart_they_are_not_only_by_rank() {
        // "b" is second in both rankings but far behind each leader: rank fusion put it first
        // (1/62 twice against 1/61 once); by scores it stays below both leaders.
        let fulltext = vec![("a".to_owned(), 20.0), ("b".to_owned(), 2.0), ("x".to_owned(), 1.0)];
        let fused = fuse(fulltext, vec![hit("c", 0.6), hit("b", 0.3), hit("y", 0.2)]);
        assert_eq!(ids(&fused), ["a", "c", "b", "x", "y"]);
        let expected_b = FULLTEXT_WEIGHT / 19.0 + (1.0 - FULLTEXT_WEIGHT) * 0.25;
        assert!((fused[2].score - expected_b).abs() < 1e-6, "{fused:?}");
    }

    #[test]
    fn longer_lists_leave_the_scores_of_the_first_hundred_as_they_were() {
        let fulltext: Vec<(String, f32)> = (0..150).map(|n| (format!("f{n:03}"), 30.0 - n as f32 * 0.1)).collect();
        let semantic: Vec<VectorHit> = (0..150).map(|n| hit(&format!("s{n:03}"), 0.9 - n as f32 * 0.003)).collect();
        let first_page = fuse(fulltext[..DEPTH].to_vec(), semantic[..DEPTH].to_vec());
        let deeper = fuse(fulltext, semantic);
        let score_of: HashMap<&str, f32> = deeper.iter().map(|c| (c.id.as_str(), c.score)).collect();
        for candidate in &first_page {
            assert_eq!(score_of[candidate.id.as_str()], candidate.score, "{}", candidate.id);
        }
        assert_eq!(ids(&deeper)[..first_page.len()], ids(&first_page)[..]);
    }

    #[test]
    fn ties_break_by_id_so_pages_are_stable() {
        let fused = fuse(Vec::new(), vec![hit("z", 0.5), hit("y", 0.5)]);
        assert_eq!(fused[0].score, fused[1].score);
        assert_eq!(ids(&fused), ["y", "z"]);
    }

    #[test]
    fn one_empty_ranking_leaves_the_other_in_order() {
        let fused = fuse(Vec::new(), vec![hit("p", 0.7), hit("q", 0.3)]);
        assert_eq!(ids(&fused), ["p", "q"]);
        let fused = fuse(vec![("r".to_owned(), 3.0), ("s".to_owned(), 1.0)], Vec::new());
        assert_eq!(ids(&fused), ["r", "s"]);
        assert_eq!(semantic(vec![hit("p", 0.7)])[0].signals, Signals { fulltext: false, semantic: true });
    }
}
