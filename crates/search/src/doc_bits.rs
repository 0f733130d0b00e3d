//! A set of one segment's documents, one bit each: what a plain query matched, and the
//! documents holding a common facet value. Whole-set operations run a word (64 documents) at
//! a time, so counting the matches, or those that hold a value, is a popcount per word.
//! Comparing a segment's scores with a threshold makes a word from 64 scores at a time, in
//! eight lanes where the processor has AVX2 ([`ScoreMask`]).

use tantivy::DocId;

/// A set of a segment's documents, one bit each.
#[derive(Debug, Clone)]
pub(crate) struct DocBits(Vec<u64>);

impl DocBits {
    /// The empty set of a segment of `max_doc` documents.
    pub fn new(max_doc: DocId) -> Self {
        Self(vec![0; Self::words(max_doc)])
    }

    /// The documents whose score in `scores` (by document) is above zero.
    pub fn scored(scores: &[f32]) -> Self {
        let mask = ScoreMask::new();
        Self(scores.chunks(64).map(|chunk| mask.above(chunk, 0.0)).collect())
    }

    /// Keeps only the documents whose score in `scores` (by document) plus `plus` is at least
    /// `floor`.
    pub fn retain_reaching(&mut self, scores: &[f32], plus: f32, floor: f32) {
        let mask = ScoreMask::new();
        for (word, chunk) in self.0.iter_mut().zip(scores.chunks(64)) {
            if *word != 0 {
                *word &= mask.reaching(chunk, plus, floor);
            }
        }
    }

    /// Calls `visit` with each document, in increasing order, and its score in `scores` (by
    /// document), skipping those scored at most the threshold: `threshold` at first (none:
    /// no document is skipped), then the one `visit` last returned.
    pub fn visit_above(
        &self,
        scores: &[f32],
        mut threshold: Option<f32>,
        mut visit: impl FnMut(DocId, f32) -> Option<f32>,
    ) {
        let mask = ScoreMask::new();
        for ((index, &word), chunk) in (0u32..).zip(&self.0).zip(scores.chunks(64)) {
            let mut rest = match threshold {
                Some(threshold) if word != 0 => word & mask.above(chunk, threshold),
                _ => word,
            };
            while rest != 0 {
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                let score = chunk[bit as usize];
                if threshold.is_none_or(|threshold| score > threshold) {
                    threshold = visit(index * 64 + bit, score);
                }
            }
        }
    }

    /// Adds `doc`, a document of the segment.
    pub fn insert(&mut self, doc: DocId) {
        if let Some(word) = self.0.get_mut(doc as usize / 64) {
            *word |= 1 << (doc % 64);
        }
    }

    pub fn contains(&self, doc: DocId) -> bool {
        self.0.get(doc as usize / 64).is_some_and(|word| word & (1 << (doc % 64)) != 0)
    }

    pub fn union(&mut self, other: &Self) {
        self.0.iter_mut().zip(&other.0).for_each(|(word, other)| *word |= other);
    }

    pub fn intersect(&mut self, other: &Self) {
        self.0.iter_mut().zip(&other.0).for_each(|(word, other)| *word &= other);
    }

    /// Keeps only the documents `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(DocId) -> bool) {
        for (index, word) in (0u32..).zip(self.0.iter_mut()) {
            let mut rest = *word;
            while rest != 0 {
                let bit = rest.trailing_zeros();
                rest &= rest - 1;
                if !keep(index * 64 + bit) {
                    *word &= !(1 << bit);
                }
            }
        }
    }

    /// How many documents the set holds.
    pub fn len(&self) -> usize {
        self.0.iter().map(|word| word.count_ones() as usize).sum()
    }

    /// How many documents this set and `other` both hold.
    pub fn common(&self, other: &Self) -> usize {
        self.0.iter().zip(&other.0).map(|(a, b)| (a & b).count_ones() as usize).sum()
    }

    /// Words of 64 documents a set of a segment of `max_doc` documents spans: the cost of a
    /// whole-set operation.
    pub fn words(max_doc: DocId) -> usize {
        (max_doc as usize).div_ceil(64)
    }

    /// The documents, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = DocId> + '_ {
        (0u32..).zip(&self.0).flat_map(|(index, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    index * 64 + bit
                })
            })
        })
    }
}

/// Compares up to 64 scores with a threshold at once into a word of bits, bit `i` for score
/// `i`: in eight lanes and one mask instruction per eight scores where the processor has AVX2
/// (x86-64-v3), one score at a time elsewhere. A page's ranking takes a few such passes over
/// every document of the index (200,000 at 200,000 documents), which one at a time cost a
/// fifth of a long query's time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoreMask {
    #[cfg(target_arch = "x86_64")]
    simd: Option<pulp::x86::V3>,
}

impl ScoreMask {
    /// The widest comparison this processor offers.
    pub fn new() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            simd: pulp::x86::V3::try_new(),
        }
    }

    /// One score at a time, whatever the processor: the reference the lanes agree with.
    #[cfg(test)]
    fn scalar() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            simd: None,
        }
    }

    /// Bits of the `scores` (at most 64) above `threshold`.
    pub fn above(self, scores: &[f32], threshold: f32) -> u64 {
        self.select(scores, 0.0, Comparison::Above(threshold))
    }

    /// Bits of the `scores` (at most 64) that plus `plus` are at least `floor`.
    pub fn reaching(self, scores: &[f32], plus: f32, floor: f32) -> u64 {
        self.select(scores, plus, Comparison::AtLeast(floor))
    }

    /// Bits of the `scores` (at most 64) whose sum with `plus` passes `comparison`. Adding
    /// zero leaves a score as it is, so `above` is the same operation.
    fn select(self, scores: &[f32], plus: f32, comparison: Comparison) -> u64 {
        debug_assert!(scores.len() <= 64);
        #[cfg(target_arch = "x86_64")]
        if let Some(simd) = self.simd {
            return simd.vectorize(
                #[inline(always)]
                || {
                    use pulp::Simd;
                    let plus_lanes = simd.splat_f32x8(plus);
                    let threshold = simd.splat_f32x8(comparison.threshold());
                    let mut eights = scores.chunks_exact(8);
                    let mut word = 0u64;
                    for (shift, eight) in (0..).step_by(8).zip(&mut eights) {
                        let Ok(eight) = <[f32; 8]>::try_from(eight) else { continue };
                        let sums = simd.add_f32s(pulp::cast(eight), plus_lanes);
                        let passed = match comparison {
                            Comparison::Above(_) => simd.cmp_gt_f32x8(sums, threshold),
                            Comparison::AtLeast(_) => simd.cmp_ge_f32x8(sums, threshold),
                        };
                        let bits = simd.avx._mm256_movemask_ps(pulp::cast(passed));
                        word |= u64::from(bits as u8) << shift;
                    }
                    match eights.remainder() {
                        [] => word,
                        rest => word | comparison.one_at_a_time(rest, plus) << (scores.len() - rest.len()),
                    }
                },
            );
        }
        comparison.one_at_a_time(scores, plus)
    }
}

/// How a sum is compared with a threshold.
#[derive(Debug, Clone, Copy)]
enum Comparison {
    Above(f32),
    AtLeast(f32),
}

impl Comparison {
    fn threshold(self) -> f32 {
        match self {
            Self::Above(threshold) | Self::AtLeast(threshold) => threshold,
        }
    }

    /// The bits of `scores` (at most 64) whose sum with `plus` passes, one score at a time.
    fn one_at_a_time(self, scores: &[f32], plus: f32) -> u64 {
        let passes = |sum: f32| match self {
            Self::Above(threshold) => sum > threshold,
            Self::AtLeast(threshold) => sum >= threshold,
        };
        (0..).zip(scores).fold(0u64, |word, (bit, &score)| word | u64::from(passes(score + plus)) << bit)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn of(max_doc: DocId, docs: &BTreeSet<DocId>) -> DocBits {
        let mut bits = DocBits::new(max_doc);
        docs.iter().for_each(|&doc| bits.insert(doc));
        bits
    }

    proptest! {
        /// Every operation agrees with the same operation on an ordered set.
        #[test]
        fn behaves_as_a_set(
            max_doc in 1u32..300,
            a in prop::collection::btree_set(0u32..300, 0..120),
            b in prop::collection::btree_set(0u32..300, 0..120),
            modulus in 1u32..5,
        ) {
            let a: BTreeSet<DocId> = a.into_iter().filter(|&d| d < max_doc).collect();
            let b: BTreeSet<DocId> = b.into_iter().filter(|&d| d < max_doc).collect();
            let (bits_a, bits_b) = (of(max_doc, &a), of(max_doc, &b));
            prop_assert_eq!(bits_a.iter().collect::<Vec<_>>(), a.iter().copied().collect::<Vec<_>>());
            prop_assert_eq!(bits_a.len(), a.len());
            prop_assert_eq!(bits_a.common(&bits_b), a.intersection(&b).count());
            prop_assert!((0..max_doc).all(|d| bits_a.contains(d) == a.contains(&d)));
            let mut union = bits_a.clone();
            union.union(&bits_b);
            prop_assert_eq!(union.iter().collect::<BTreeSet<_>>(), a.union(&b).copied().collect::<BTreeSet<_>>());
            let mut both = bits_a.clone();
            both.intersect(&bits_b);
            prop_assert_eq!(both.iter().collect::<BTreeSet<_>>(), a.intersection(&b).copied().collect::<BTreeSet<_>>());
            let scores: Vec<f32> = (0..max_doc).map(|d| if a.contains(&d) { 0.5 } else { 0.0 }).collect();
            prop_assert_eq!(DocBits::scored(&scores).iter().collect::<Vec<_>>(), a.iter().copied().collect::<Vec<_>>());
            let mut reaching = bits_a.clone();
            reaching.retain_reaching(&scores, 0.25, 0.75 + f32::EPSILON);
            prop_assert_eq!(reaching.iter().count(), 0);
            reaching = bits_a.clone();
            reaching.retain_reaching(&scores, 0.25, 0.75);
            prop_assert_eq!(reaching.iter().collect::<Vec<_>>(), a.iter().copied().collect::<Vec<_>>());
            let mut kept = bits_a.clone();
            kept.retain(|d| d % modulus == 0);
            prop_assert_eq!(kept.iter().collect::<BTreeSet<_>>(), a.iter().copied().filter(|d| d % modulus == 0).collect::<BTreeSet<_>>());
        }

        /// Scores compared in lanes give the bits compared one at a time give, at every length
        /// of a word's scores, for sums just below, at and above the threshold.
        #[test]
        fn lanes_compare_as_one_score_at_a_time(
            scores in prop::collection::vec(prop_oneof![Just(0.0f32), Just(1.0), 0.0f32..4.0], 0..=64),
            plus in prop_oneof![Just(0.0f32), 0.0f32..2.0],
            threshold in prop_oneof![Just(0.0f32), Just(1.0), 0.0f32..4.0],
        ) {
            let (lanes, scalar) = (ScoreMask::new(), ScoreMask::scalar());
            prop_assert_eq!(lanes.above(&scores, threshold), scalar.above(&scores, threshold));
            prop_assert_eq!(lanes.reaching(&scores, plus, threshold), scalar.reaching(&scores, plus, threshold));
            let expected = (0..).zip(&scores).fold(0u64, |w, (bit, &s)| w | u64::from(s + plus >= threshold) << bit);
            prop_assert_eq!(scalar.reaching(&scores, plus, threshold), expected);
        }

        /// Visiting above a threshold that rises as it goes skips exactly the documents at or
        /// below the threshold of their moment.
        #[test]
        fn visits_above_a_rising_threshold(
            scores in prop::collection::vec(prop_oneof![Just(0.0f32), 0.0f32..4.0], 1..400),
            start in prop::option::of(0.0f32..2.0),
            rise in 0.0f32..0.05,
        ) {
            let max_doc = scores.len() as DocId;
            let bits = DocBits::scored(&scores);
            let mut visited = Vec::new();
            let mut threshold = start;
            bits.visit_above(&scores, start, |doc, score| {
                visited.push((doc, score));
                threshold = Some(threshold.unwrap_or(0.0) + rise);
                threshold
            });
            let mut expected = Vec::new();
            let mut at = start;
            for doc in (0..max_doc).filter(|&d| scores[d as usize] > 0.0) {
                if at.is_none_or(|t| scores[doc as usize] > t) {
                    expected.push((doc, scores[doc as usize]));
                    at = Some(at.unwrap_or(0.0) + rise);
                }
            }
            prop_assert_eq!(visited, expected);
        }
    }
}
