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
use tantivy::postings::TermInfo;
use tantivy::schema::Field;
use tantivy::{Searcher, SegmentOrdinal, Term};
use tantivy_fst::Automaton;

use crate::SearchError;
use crate::scoring::Variant;

/// Variants one word may expand to, per kind (typos, completions).
pub const MAX_VARIANTS: usize = 16;

/// One edit away, a transposition counting as one edit ("form" for "from").
static ONE_TYPO: LazyLock<LevenshteinAutomatonBuilder> = LazyLock::new(|| LevenshteinAutomatonBuilder::new(1, true));

/// The indexed words of `field` one edit away from `word`, not `word` itself, most frequent
/// first.
pub fn typos(searcher: &Searcher, field: Field, word: &str) -> Result<Vec<Variant>, SearchError> {
    let automaton = OneEdit(ONE_TYPO.build_dfa(word));
    let mut tally = Tally::default();
    for (ord, segment) in (0..).zip(searcher.segment_readers()) {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().search(&automaton).into_stream().map_err(read_failed)?;
        while stream.advance() {
            tally.add(stream.key(), ord, stream.value());
        }
    }
    Ok(tally.most_frequent(field, word))
}

/// The indexed words of `field` that begin with `word`, not `word` itself, most frequent first.
pub fn completions(searcher: &Searcher, field: Field, word: &str) -> Result<Vec<Variant>, SearchError> {
    let prefix = word.as_bytes();
    let mut tally = Tally::default();
    for (ord, segment) in (0..).zip(searcher.segment_readers()) {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().range().ge(prefix).into_stream().map_err(read_failed)?;
        while stream.advance() && stream.key().starts_with(prefix) {
            tally.add(stream.key(), ord, stream.value());
        }
    }
    Ok(tally.most_frequent(field, word))
}

/// Dictionary keys met in the walk: document frequency summed over segments, and where each
/// segment keeps the key's postings (scoring reads them without looking the key up again).
#[derive(Default)]
struct Tally(HashMap<Vec<u8>, Seen>);

/// What the walk found of one key.
#[derive(Default)]
struct Seen {
    documents: u64,
    postings: Vec<(SegmentOrdinal, TermInfo)>,
}

impl Tally {
    fn add(&mut self, key: &[u8], segment: SegmentOrdinal, info: &TermInfo) {
        let seen = match self.0.get_mut(key) {
            Some(seen) => seen,
            None => self.0.entry(key.to_vec()).or_default(),
        };
        seen.documents += u64::from(info.doc_freq);
        seen.postings.push((segment, info.clone()));
    }

    /// The [`MAX_VARIANTS`] most frequent keys other than `word`, ties by key, as terms of
    /// `field`.
    fn most_frequent(self, field: Field, word: &str) -> Vec<Variant> {
        let mut keys: Vec<_> = self.0.into_iter().filter(|(key, _)| key != word.as_bytes()).collect();
        keys.sort_unstable_by(|a, b| b.1.documents.cmp(&a.1.documents).then_with(|| a.0.cmp(&b.0)));
        keys.truncate(MAX_VARIANTS);
        keys.into_iter()
            .filter_map(|(key, seen)| {
                let word = std::str::from_utf8(&key).ok()?;
                Some(Variant { term: Term::from_field_text(field, word), postings: seen.postings })
            })
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
