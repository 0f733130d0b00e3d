//! Snippets: the fragment of a text (title or body) that holds the most of a query's words,
//! weighted, with those words marked. Fragments are cut and chosen as tantivy's
//! `SnippetGenerator` cuts and chooses them (a property test holds the two together), but
//! not every word is stemmed and looked up: Porter2 rewrites only the end of a word, so a
//! word can stem to a weighted stem only when it begins as that stem does
//! ([`crate::stemming::beginning`]), and most words of a text do not. Stemming each word
//! through the thread's stem memory (a table of its whole vocabulary, a cache miss per
//! lookup) was a tenth of a long query's time at 200,000 documents.
//!
//! Texts are split into words by one pass over their bytes ([`Words`]), the same words as the
//! index's tokenizer and length filter make; an ASCII word (most of them) is compared with the
//! query's stems ignoring case, and only one that may match is lowercased and stemmed. Other
//! words go through the analyzer's own lowercasing and accent folding. Tantivy's token stream
//! copied, lowercased and checked every word, about 180 instructions each.

use std::ops::Range;

use rustc_hash::FxHashMap;
use tantivy::tokenizer::TextAnalyzer;

use crate::index::LONGEST_WORD;
use crate::stemming::{beginning, with_stem};

/// Finds and marks a query's words in texts of one field.
pub(crate) struct Highlighter {
    /// What each stem weighs in choosing a fragment.
    weights: FxHashMap<String, f32>,
    /// How the words stemming to a weighted stem begin, one entry per distinct beginning,
    /// in order.
    beginnings: Vec<String>,
    /// By a word's first byte, the range of `beginnings` that start with that byte.
    by_first_byte: Box<[(u32, u32); 256]>,
    /// The words of a text, as the index's analyzer makes them before it stems them: for the
    /// words not in ASCII.
    analyzer: TextAnalyzer,
    /// Longest fragment, in bytes of text.
    max_chars: usize,
}

/// The fragment of a text chosen for a snippet, and the byte ranges (within the fragment) of
/// the words marked in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snippet<'a> {
    pub fragment: &'a str,
    pub marked: Vec<Range<usize>>,
}

/// A fragment being read: its bytes in the text, its weight and its marked words (in the text).
struct Fragment {
    start: usize,
    stop: usize,
    score: f32,
    marked: Vec<Range<usize>>,
}

impl Fragment {
    fn at(start: usize) -> Self {
        Self { start, stop: start, score: 0.0, marked: Vec::new() }
    }
}

impl Highlighter {
    /// Marks the words whose (English) stems `weights` holds, in texts split into words by
    /// `analyzer`, which must not stem them.
    pub fn new(weights: FxHashMap<String, f32>, analyzer: TextAnalyzer, max_chars: usize) -> Self {
        let mut beginnings: Vec<String> = weights.keys().map(|stem| beginning(stem).to_owned()).collect();
        beginnings.sort_unstable();
        beginnings.dedup();
        let mut by_first_byte = Box::new([(0, 0); 256]);
        for (i, start) in (0..).zip(&beginnings) {
            if let Some(&first) = start.as_bytes().first() {
                let range = &mut by_first_byte[first as usize];
                *range = if range.0 == range.1 { (i, i + 1) } else { (range.0, i + 1) };
            }
        }
        Self { weights, beginnings, by_first_byte, analyzer, max_chars }
    }

    /// Whether `word` begins as a word stemming to a weighted stem does, ignoring ASCII case.
    fn may_match(&self, word: &str) -> bool {
        let Some(first) = word.as_bytes().first() else { return false };
        let (from, to) = self.by_first_byte[first.to_ascii_lowercase() as usize];
        self.beginnings[from as usize..to as usize].iter().any(|start| {
            word.get(..start.len()).is_some_and(|head| head.as_bytes().eq_ignore_ascii_case(start.as_bytes()))
        })
    }

    /// What `word` (lowercased and folded, not stemmed) weighs, `None` when its stem is not
    /// one of the weighted.
    fn weight_of(&self, word: &str) -> Option<f32> {
        with_stem(word, |stem| self.weights.get(stem).copied())
    }

    /// The fragment of `text` of at most `max_chars` bytes whose words weigh the most (the
    /// first of equals), cut where a word would overrun it; empty when no word matches.
    pub fn snippet<'a>(&self, text: &'a str) -> Snippet<'a> {
        let mut best: Option<Fragment> = None;
        let mut current = Fragment::at(0);
        let keep = |fragment: Fragment, best: &mut Option<Fragment>| {
            if fragment.score > 0.0 && best.as_ref().is_none_or(|best| fragment.score > best.score) {
                *best = Some(fragment);
            }
        };
        let mut lowercase = String::new();
        let mut analyzer = None;
        for (range, ascii) in Words::of(text) {
            if range.end - current.start > self.max_chars {
                keep(std::mem::replace(&mut current, Fragment::at(range.start)), &mut best);
            }
            current.stop = range.end;
            let word = &text[range.clone()];
            let weight = if ascii {
                self.may_match(word).then(|| {
                    lowercase.clear();
                    lowercase.push_str(word);
                    lowercase.make_ascii_lowercase();
                    self.weight_of(&lowercase)
                })
            } else {
                // The word is one run of letters and digits, so the analyzer makes one token
                // of it.
                let analyzer = analyzer.get_or_insert_with(|| self.analyzer.clone());
                let mut stream = analyzer.token_stream(word);
                stream.next().filter(|token| self.may_match(&token.text)).map(|token| self.weight_of(&token.text))
            };
            if let Some(weight) = weight.flatten() {
                current.score += weight;
                current.marked.push(range);
            }
        }
        keep(current, &mut best);
        match best {
            Some(best) => Snippet {
                fragment: &text[best.start..best.stop],
                marked: best.marked.iter().map(|word| word.start - best.start..word.end - best.start).collect(),
            },
            None => Snippet { fragment: "", marked: Vec::new() },
        }
    }
}

/// The words of a text as the index's tokenizer and length filter make them (tantivy's
/// `SimpleTokenizer`, then `RemoveLongFilter`): each run of letters and digits shorter than
/// [`LONGEST_WORD`] bytes, by byte range, and whether it is all ASCII.
struct Words<'a> {
    text: &'a str,
    /// Where the next word is looked for, on a character boundary.
    at: usize,
}

impl<'a> Words<'a> {
    fn of(text: &'a str) -> Self {
        Self { text, at: 0 }
    }

    /// The character at byte `at`, a boundary before the end.
    fn char_at(&self, at: usize) -> char {
        self.text[at..].chars().next().unwrap_or_default()
    }
}

impl Iterator for Words<'_> {
    type Item = (Range<usize>, bool);

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.text.as_bytes();
        loop {
            let start = loop {
                match *bytes.get(self.at)? {
                    byte if byte.is_ascii_alphanumeric() => break self.at,
                    0..0x80 => self.at += 1,
                    _ => match self.char_at(self.at) {
                        c if c.is_alphanumeric() => break self.at,
                        c => self.at += c.len_utf8(),
                    },
                }
            };
            let mut ascii = true;
            let mut end = start;
            while let Some(&byte) = bytes.get(end) {
                match byte {
                    _ if byte.is_ascii_alphanumeric() => end += 1,
                    0..0x80 => break,
                    _ => match self.char_at(end) {
                        c if c.is_alphanumeric() => {
                            ascii = false;
                            end += c.len_utf8();
                        }
                        _ => break,
                    },
                }
            }
            self.at = end;
            if end - start < LONGEST_WORD {
                return Some((start..end, ascii));
            }
        }
    }
}

impl Snippet<'_> {
    /// Whether no word is marked.
    pub fn is_empty(&self) -> bool {
        self.marked.is_empty()
    }

    /// The fragment as HTML, each marked word (overlapping ones joined) in `<b>`.
    pub fn to_html(&self, escape: impl Fn(&str) -> String) -> String {
        let mut ranges = self.marked.clone();
        ranges.sort_by_key(|range| (range.start, range.end));
        ranges.dedup();
        let mut joined: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
        for range in ranges {
            match joined.last_mut() {
                Some(last) if last.end > range.start => last.end = last.end.max(range.end),
                _ => joined.push(range),
            }
        }
        let mut html = String::with_capacity(self.fragment.len() + 8 * joined.len());
        let mut from = 0;
        for range in joined {
            html.push_str(&escape(&self.fragment[from..range.start]));
            html.push_str("<b>");
            html.push_str(&escape(&self.fragment[range.clone()]));
            html.push_str("</b>");
            from = range.end;
        }
        html.push_str(&escape(&self.fragment[from..]));
        html
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::snippet::SnippetGenerator;

    use super::*;

    const WORDS: [&str; 22] = [
        "Cells",
        "cell",
        "running",
        "ran",
        "the",
        "of",
        "Émigré",
        "emigre",
        "protein",
        "proteins",
        "a",
        "T-cell",
        "x",
        "zinc",
        "ZINC",
        "Naïve",
        "naivety",
        "İstanbul",
        "cell²",
        "Cellsπ",
        "proteinsproteinsproteinsproteinsprotein",
        "proteinsproteinsproteinsproteinsproteins",
    ];
    const SEPARATORS: [&str; 7] = [" ", ", ", ". ", " (", "\n", "\u{a0}", "—"];

    #[test]
    fn words_of_forty_bytes_or_more_are_left_out() {
        let text = format!("{} {} {}é {}", "a".repeat(39), "b".repeat(40), "c".repeat(38), "d".repeat(41));
        assert_eq!(Words::of(&text).collect::<Vec<_>>(), vec![(0..39, true)]);
    }

    fn htmlescape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#x27;")
    }

    proptest! {
        /// The same fragment and marks as tantivy's snippet generator with the index's
        /// analyzer (every word stemmed), for any text, weights and length.
        #[test]
        fn chooses_and_marks_as_tantivy(
            words in prop::collection::vec((0..WORDS.len(), 0..SEPARATORS.len()), 0..80),
            weighted in prop::collection::btree_map(prop::sample::select(vec!["cell", "run", "the", "emigr", "protein", "zinc", "x", "naiv", "istanbul"]), 0.01f32..1.0, 0..4),
            max_chars in 5usize..120,
        ) {
            let text: String = words.iter().map(|&(w, s)| format!("{}{}", WORDS[w], SEPARATORS[s])).collect();
            let weights: BTreeMap<String, f32> = weighted.into_iter().map(|(w, s)| (w.to_owned(), s)).collect();
            let field = Schema::builder().add_text_field("text", TEXT);
            let theirs = SnippetGenerator::new(weights.clone(), crate::index::analyzer(), field, max_chars).snippet(&text);
            let ours = Highlighter::new(weights.into_iter().collect(), crate::index::unstemmed_analyzer(), max_chars);
            let ours = ours.snippet(&text);
            prop_assert_eq!(ours.fragment, theirs.fragment());
            prop_assert_eq!(&ours.marked, theirs.highlighted());
            prop_assert_eq!(ours.is_empty(), theirs.is_empty());
            prop_assert_eq!(ours.to_html(htmlescape), theirs.to_html());
        }

        /// The same words as the index's tokenizer and length filter, for any text (the last
        /// pattern makes words of about [`LONGEST_WORD`] bytes).
        #[test]
        fn splits_words_as_tantivy(text in "\\PC{0,60}|[a-zA-Z0-9 .,é²π—\u{a0}]{0,120}|([a-z]{36,44}é?[ .—]){1,4}") {
            use tantivy::tokenizer::{RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
            let mut theirs = TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(LONGEST_WORD))
                .build();
            let mut stream = theirs.token_stream(&text);
            let mut expected = Vec::new();
            while let Some(token) = stream.next() {
                expected.push((token.offset_from..token.offset_to, token.text.is_ascii()));
            }
            prop_assert_eq!(Words::of(&text).collect::<Vec<_>>(), expected);
        }
    }
}
