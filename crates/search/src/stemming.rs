//! English stemming with a memory of the words it has stemmed. The Snowball stemmer took a
//! third of the indexing time (`perf` on bench/fulltext.sh), and text repeats its words: most
//! tokens are a lookup (hashed with rustc-hash: SipHash made the lookup cost a tenth of
//! indexing). The memory is per thread, not per analyzer: tantivy clones an analyzer for each
//! segment it writes and for each snippet generator, and a memory per clone started empty for
//! every search, which then stemmed the ten bodies it highlights afresh (0.4 ms of a 1.9 ms
//! search page at 200,000 documents). Same stems as tantivy's `Stemmer` for English.
//!
//! Highlighting stems through [`with_stem`], from the same memory, and only the words that
//! begin as a stem it looks for does ([`beginning`]).

use std::cell::RefCell;

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words remembered per thread before the memory starts again (a few MiB at most).
const REMEMBERED: usize = 100_000;

thread_local! {
    /// Stems of the words this thread has stemmed.
    static STEMS: RefCell<FxHashMap<String, String>> = RefCell::new(FxHashMap::default());
}

/// Calls `f` with the English (Porter2) stem of `word`, from this thread's memory when the
/// thread has stemmed the word before, and returns what `f` returns.
pub(crate) fn with_stem<R>(word: &str, f: impl FnOnce(&str) -> R) -> R {
    STEMS.with_borrow_mut(|stems| {
        if let Some(stem) = stems.get(word) {
            return f(stem);
        }
        if stems.len() >= REMEMBERED {
            stems.clear();
        }
        let stem = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English).stem(word).into_owned();
        let answer = f(&stem);
        stems.insert(word.to_owned(), stem);
        answer
    })
}

/// What every word whose English (Porter2) stem is `stem` begins with: the stem but for its
/// last two letters, and at least its first. Porter2 only rewrites a word's ending, writing at
/// most two letters of the stem where the word had others ("ability" is "abl": "bility" became
/// "ble"; "dying" is "die"); property-tested below.
pub(crate) fn beginning(stem: &str) -> &str {
    let kept = stem.chars().count().saturating_sub(2).max(1);
    stem.char_indices().nth(kept).map_or(stem, |(end, _)| &stem[..end])
}

/// The token filter: English (Porter2) stems, remembered.
#[derive(Clone, Debug, Default)]
pub struct RememberingStemmer;

impl TokenFilter for RememberingStemmer {
    type Tokenizer<T: Tokenizer> = StemmingTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> StemmingTokenizer<T> {
        StemmingTokenizer { inner: tokenizer }
    }
}

/// A tokenizer whose tokens are stemmed.
#[derive(Clone)]
pub struct StemmingTokenizer<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for StemmingTokenizer<T> {
    type TokenStream<'a> = StemmingTokenStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        StemmingTokenStream { tail: self.inner.token_stream(text), spare: String::new() }
    }
}

/// The stream of stemmed tokens.
pub struct StemmingTokenStream<T> {
    tail: T,
    /// Takes each stem, then swaps places with the token's text: both keep their capacity.
    spare: String,
}

impl<T: TokenStream> TokenStream for StemmingTokenStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        let spare = &mut self.spare;
        with_stem(&token.text, |stem| {
            spare.clear();
            spare.push_str(stem);
        });
        std::mem::swap(&mut token.text, spare);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{Language, SimpleTokenizer, Stemmer, TextAnalyzer};

    use super::*;

    fn tokens(mut analyzer: TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn remembered_stems_are_tantivys_stems() {
        let text = "running runs runner ran migrations migrating migration generously generous running runs";
        let ours = TextAnalyzer::builder(SimpleTokenizer::default()).filter(RememberingStemmer).build();
        let theirs = TextAnalyzer::builder(SimpleTokenizer::default()).filter(Stemmer::new(Language::English)).build();
        let expected = tokens(theirs, text);
        assert_eq!(tokens(ours.clone(), text), expected);
        assert_eq!(expected[0], "run");
        // Another analyzer on the same thread reads the memory.
        tokens(ours.clone(), text);
        STEMS.with_borrow(|stems| assert_eq!(stems.get("generously").map(String::as_str), Some("generous")));
        let mut analyzer = ours;
        let mut stream = analyzer.token_stream("generously running");
        assert!(stream.advance());
        assert_eq!(stream.token().text, "generous");
        assert!(stream.advance());
        assert_eq!(stream.token().text, "run");
        assert!(!stream.advance());
    }
}

#[cfg(test)]
mod beginnings {
    use proptest::prelude::*;

    use super::beginning;

    /// Endings Porter2 rewrites or removes, so that generated words exercise its rules.
    const ENDINGS: [&str; 40] = [
        "", "s", "ss", "ies", "ied", "us", "eed", "eedly", "ed", "edly", "ing", "ingly", "y", "ational", "tional",
        "enci", "anci", "abli", "entli", "izer", "ization", "ation", "ator", "alism", "aliti", "alli", "fulness",
        "ousli", "ousness", "iveness", "iviti", "biliti", "bli", "ogi", "fulli", "lessli", "li", "ement", "ment",
        "ically",
    ];

    /// The exceptions Porter2 lists by name, and short words.
    const SPECIAL: [&str; 24] = [
        "skis", "skies", "dying", "lying", "tying", "idly", "gently", "ugly", "early", "only", "singly", "sky", "news",
        "howe", "atlas", "cosmos", "bias", "andes", "a", "is", "as", "ies", "eas", "yes",
    ];

    fn stem(word: &str) -> String {
        rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English).stem(word).into_owned()
    }

    #[test]
    fn named_exceptions_keep_their_beginning() {
        for word in SPECIAL {
            let stemmed = stem(word);
            assert!(word.starts_with(beginning(&stemmed)), "{word} -> {stemmed}");
        }
        assert_eq!(beginning("die"), "d");
        assert_eq!(beginning("abl"), "a");
        assert_eq!(beginning("migrat"), "migr");
        assert_eq!(beginning("é"), "é");
    }

    proptest! {
        /// What highlighting relies on: a word begins as its stem, but for the stem's last
        /// two letters.
        #[test]
        fn a_word_begins_as_its_stem(start in "[a-z]{1,9}", ending in 0..ENDINGS.len()) {
            let word = format!("{start}{}", ENDINGS[ending]);
            let stemmed = stem(&word);
            prop_assert!(word.starts_with(beginning(&stemmed)), "{} -> {}", word, stemmed);
        }

        /// Also for words made of the endings Porter2 rewrites, one after the other.
        #[test]
        fn a_word_of_endings_begins_as_its_stem(parts in prop::collection::vec(0..ENDINGS.len(), 1..5)) {
            let word: String = parts.iter().map(|&part| ENDINGS[part]).collect();
            let stemmed = stem(&word);
            prop_assert!(word.starts_with(beginning(&stemmed)), "{} -> {}", word, stemmed);
        }
    }
}
