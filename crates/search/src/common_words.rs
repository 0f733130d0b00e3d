//! The common words of each large segment, kept as bit sets of the documents holding them. A
//! long query (a pasted claim or question) holds words such as "the", "of" or "cells" whose
//! postings are most of what it reads: over SciFact's claims at 200,000 documents, words held
//! by at least one document in four were 86% of a query's 540,000 postings. Their documents
//! count as matches straight from these sets (a word-wise OR); their scores, small next to
//! the rarer words', are added only to the documents that can still reach the best results
//! ([`crate::scoring`]), which takes a bound on what each word can add to a document: its
//! `peaks`. A segment never changes once written, so this is built once, when the index
//! reader loads the segment (a tantivy [`Warmer`], on the indexer's thread), and dropped with
//! the segment.
#![expect(
    clippy::disallowed_types,
    reason = "the std Mutex guards a map lookup on a blocking search, never held across an await"
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::postings::TermInfo;
use tantivy::query::Bm25Weight;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Score, Searcher, SearcherGeneration, SegmentReader, Term, Warmer};

use crate::SearchError;
use crate::doc_bits::DocBits;
use crate::scoring::for_each_block;

/// Which words of which segments are kept: those of one field held by at least one document in
/// `one_doc_per`, in segments of at least `min_segment_docs` documents (in a smaller one,
/// reading postings costs little anyway).
#[derive(Debug, Clone, Copy)]
pub struct Commonness {
    pub min_segment_docs: u32,
    pub one_doc_per: u32,
}

impl Default for Commonness {
    /// One document in four, in segments of 4,096 documents or more: at 200,000 documents
    /// about 35 words (1 MB of bit sets). `GET /search` at 200,000 documents, long queries,
    /// p50 / p99: one in two 1.30 / 2.31 ms, in three 1.23 / 2.31, in four 1.20 / 2.55, in
    /// eight 1.26 / 4.02, in sixteen 1.49 / 4.07 (a wider bound lets more documents through
    /// to be scored, and more queries score every posting).
    fn default() -> Self {
        Self { min_segment_docs: 4_096, one_doc_per: 4 }
    }
}

/// The common words of the segments that searchers hold.
#[derive(Debug)]
pub struct CommonWords {
    field: Field,
    commonness: Commonness,
    segments: Mutex<HashMap<SegmentId, Arc<SegmentWords>>>,
}

/// One segment's common words, by their bytes in the term dictionary.
#[derive(Debug, Default)]
pub struct SegmentWords(HashMap<Box<[u8]>, CommonWord>);

/// A common word of a segment.
#[derive(Debug)]
pub struct CommonWord {
    /// The documents holding it, deleted ones included.
    pub docs: DocBits,
    /// Its postings' (field length id, frequency) pairs that no other pair beats on both: a
    /// BM25 score grows with the frequency and falls with the length, so the best score any
    /// document can get from the word is one of these pairs'.
    peaks: Vec<(u8, u32)>,
}

impl CommonWords {
    pub fn new(field: Field, commonness: Commonness) -> Self {
        Self { field, commonness, segments: Mutex::default() }
    }

    /// The common words of each of `searcher`'s segments, in its order; none for a segment
    /// too small or not warmed up (its words are then read as any other).
    pub fn of(&self, searcher: &Searcher) -> Vec<Option<Arc<SegmentWords>>> {
        let segments = self.segments.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        searcher.segment_readers().iter().map(|segment| segments.get(&segment.segment_id()).cloned()).collect()
    }

    fn build(&self, segment: &SegmentReader) -> Result<SegmentWords, SearchError> {
        let max_doc = segment.max_doc();
        let inverted = segment.inverted_index(self.field)?;
        let norms = segment.get_fieldnorms_reader(self.field)?;
        let least = max_doc.div_ceil(self.commonness.one_doc_per.max(1));
        let mut common: Vec<(Box<[u8]>, TermInfo)> = Vec::new();
        let mut stream = inverted.terms().stream().map_err(unreadable)?;
        while stream.advance() {
            if stream.value().doc_freq >= least {
                common.push((stream.key().into(), stream.value().clone()));
            }
        }
        let mut words = HashMap::with_capacity(common.len());
        for (key, info) in common {
            let mut docs = DocBits::new(max_doc);
            // The highest frequency met at each field length id.
            let mut highest = [0u32; 256];
            let mut postings =
                inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::WithFreqs).map_err(unreadable)?;
            for_each_block(&mut postings, |block, freqs| {
                for (i, &doc) in block.iter().enumerate() {
                    docs.insert(doc);
                    let length = &mut highest[usize::from(norms.fieldnorm_id(doc))];
                    *length = (*length).max(freqs.get(i).copied().unwrap_or(1));
                }
            });
            let mut peaks = Vec::new();
            let mut beaten_below = 0;
            for (length, &freq) in (0u8..=u8::MAX).zip(&highest) {
                if freq > beaten_below {
                    peaks.push((length, freq));
                    beaten_below = freq;
                }
            }
            words.insert(key, CommonWord { docs, peaks });
        }
        Ok(SegmentWords(words))
    }
}

impl Warmer for CommonWords {
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        let known = self.of(searcher);
        let mut built = Vec::new();
        for (segment, known) in searcher.segment_readers().iter().zip(known) {
            if known.is_none() && segment.max_doc() >= self.commonness.min_segment_docs {
                // Only speed depends on these: a segment whose words cannot be read here is
                // kept with none (not read again at every reload), its searches read every
                // posting, and the reload goes on.
                let words = self.build(segment).unwrap_or_else(|error| {
                    tracing::warn!(%error, segment = %segment.segment_id().short_uuid_string(),
                        "the common words of a search index segment could not be read; its searches read every posting");
                    SegmentWords::default()
                });
                built.push((segment.segment_id(), Arc::new(words)));
            }
        }
        self.segments.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend(built);
        Ok(())
    }

    fn garbage_collect(&self, live: &[&SearcherGeneration]) {
        let mut segments = self.segments.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        segments.retain(|id, _| live.iter().any(|generation| generation.segments().contains_key(id)));
    }
}

impl SegmentWords {
    /// `term` when it is one of the segment's common words (a term of the kept field).
    pub fn get(&self, term: &Term) -> Option<&CommonWord> {
        self.0.get(term.serialized_value_bytes())
    }
}

impl CommonWord {
    /// The most the word can add to a document's score under `weight`.
    pub fn max_score(&self, weight: &Bm25Weight) -> Score {
        self.peaks.iter().map(|&(length, freq)| weight.score(length, freq)).fold(0.0, Score::max)
    }
}

fn unreadable(error: std::io::Error) -> SearchError {
    SearchError::Index(format!("reading the common words failed: {error}"))
}
