//! Loose matching's variants of a query word: the indexed words one typo away from it, and
//! those it is the beginning of. Tantivy's own fuzzy and prefix queries read the postings of
//! every variant, the word itself included, into a bit set per segment: at 200,000 documents
//! that cost 2.8 ms of a 3.5 ms query of one to three words (bench/fulltext.sh). Here each
//! word expands to at most [`MAX_VARIANTS`] others, the most frequent, as Elasticsearch's
//! `max_expansions` bounds its fuzzy and prefix queries; the word itself is left to the exact
//! clause, which scores it.

use std::collections::HashMap;
use std::sync::LazyLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::schema::Field;
use tantivy::{Searcher, Term};
use tantivy_fst::Automaton;

use crate::SearchError;

/// Variants one word may expand to, per kind (typos, completions).
pub const MAX_VARIANTS: usize = 16;

/// One edit away, a transposition counting as one edit ("form" for "from").
static ONE_TYPO: LazyLock<LevenshteinAutomatonBuilder> = LazyLock::new(|| LevenshteinAutomatonBuilder::new(1, true));

/// The indexed words of `field` one edit away from `word`, not `word` itself, most frequent
/// first.
pub fn typos(searcher: &Searcher, field: Field, word: &str) -> Result<Vec<Term>, SearchError> {
    let automaton = OneEdit(ONE_TYPO.build_dfa(word));
    let mut tally = Tally::default();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().search(&automaton).into_stream().map_err(read_failed)?;
        while stream.advance() {
            tally.add(stream.key(), stream.value().doc_freq);
        }
    }
    Ok(tally.most_frequent(field, word))
}

/// The indexed words of `field` that begin with `word`, not `word` itself, most frequent first.
pub fn completions(searcher: &Searcher, field: Field, word: &str) -> Result<Vec<Term>, SearchError> {
    let prefix = word.as_bytes();
    let mut tally = Tally::default();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().range().ge(prefix).into_stream().map_err(read_failed)?;
        while stream.advance() && stream.key().starts_with(prefix) {
            tally.add(stream.key(), stream.value().doc_freq);
        }
    }
    Ok(tally.most_frequent(field, word))
}

/// Document frequencies of dictionary keys, summed over segments.
#[derive(Default)]
struct Tally(HashMap<Vec<u8>, u64>);

impl Tally {
    fn add(&mut self, key: &[u8], doc_freq: u32) {
        match self.0.get_mut(key) {
            Some(count) => *count += u64::from(doc_freq),
            None => {
                self.0.insert(key.to_vec(), u64::from(doc_freq));
            }
        }
    }

    /// The [`MAX_VARIANTS`] most frequent keys other than `word`, ties by key, as terms of
    /// `field`.
    fn most_frequent(self, field: Field, word: &str) -> Vec<Term> {
        let mut keys: Vec<(Vec<u8>, u64)> = self.0.into_iter().filter(|(key, _)| key != word.as_bytes()).collect();
        keys.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        keys.truncate(MAX_VARIANTS);
        keys.into_iter()
            .filter_map(|(key, _)| std::str::from_utf8(&key).ok().map(|word| Term::from_field_text(field, word)))
            .collect()
    }
}

fn read_failed(error: std::io::Error) -> SearchError {
    SearchError::Index(format!("reading the term dictionary failed: {error}"))
}

/// A Levenshtein automaton over the term dictionary's bytes.
struct OneEdit(DFA);

impl Automaton for OneEdit {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}
