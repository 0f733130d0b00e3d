//! A set of one segment's documents, one bit each: what a plain query matched, and the
//! documents holding a common facet value. Whole-set operations run a word (64 documents) at
//! a time, so counting the matches, or those that hold a value, is a popcount per word.

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
        let word =
            |chunk: &[f32]| (0..).zip(chunk).fold(0u64, |word, (bit, &score)| word | u64::from(score > 0.0) << bit);
        Self(scores.chunks(64).map(word).collect())
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
            let mut kept = bits_a.clone();
            kept.retain(|d| d % modulus == 0);
            prop_assert_eq!(kept.iter().collect::<BTreeSet<_>>(), a.iter().copied().filter(|d| d % modulus == 0).collect::<BTreeSet<_>>());
        }
    }
}
