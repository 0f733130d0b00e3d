//! English stemming with a memory of the words it has stemmed. The Snowball stemmer took a
//! third of the indexing time (`perf` on bench/fulltext.sh), and text repeats its words: most
//! tokens are a lookup (hashed with rustc-hash: SipHash made the lookup cost a tenth of
//! indexing). The memory is per thread, not per analyzer: tantivy clones an analyzer for each
//! segment it writes and for each snippet generator, and a memory per clone started empty for
//! every search, which then stemmed the ten bodies it highlights afresh (0.4 ms of a 1.9 ms
//! search page at 200,000 documents). Same stems as tantivy's `Stemmer` for English.
//!
//! Highlighting needs only the words that can stem to one of the query's: a stem keeps its
//! word's first letter (Porter2 rewrites endings; not always the second letter: "dying" is
//! "die"), so the stemmer made for a query ([`RememberingStemmer::only_for`]) empties every
//! token beginning with another letter without stemming it.

use std::cell::RefCell;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words remembered per thread before the memory starts again (a few MiB at most).
const REMEMBERED: usize = 100_000;

thread_local! {
    /// Stems of the words this thread has stemmed.
    static STEMS: RefCell<FxHashMap<String, String>> = RefCell::new(FxHashMap::default());
}

/// The token filter: English (Porter2) stems, remembered.
#[derive(Clone, Debug, Default)]
pub struct RememberingStemmer {
    /// When set, only tokens beginning with one of these characters are stemmed; the others
    /// come out empty.
    only: Option<Arc<[char]>>,
}

impl RememberingStemmer {
    /// The stemmer for finding `stems` in text: tokens that cannot stem to one of them come
    /// out empty.
    pub fn only_for<'a>(stems: impl IntoIterator<Item = &'a String>) -> Self {
        let mut beginnings: Vec<char> = stems.into_iter().filter_map(|stem| stem.chars().next()).collect();
        beginnings.sort_unstable();
        beginnings.dedup();
        Self { only: Some(beginnings.into()) }
    }
}

impl TokenFilter for RememberingStemmer {
    type Tokenizer<T: Tokenizer> = StemmingTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> StemmingTokenizer<T> {
        StemmingTokenizer { inner: tokenizer, only: self.only }
    }
}

/// A tokenizer whose tokens are stemmed.
#[derive(Clone)]
pub struct StemmingTokenizer<T> {
    inner: T,
    only: Option<Arc<[char]>>,
}

impl<T: Tokenizer> Tokenizer for StemmingTokenizer<T> {
    type TokenStream<'a> = StemmingTokenStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        STEMS.with_borrow_mut(|stems| {
            if stems.len() > REMEMBERED {
                stems.clear();
            }
        });
        StemmingTokenStream {
            tail: self.inner.token_stream(text),
            stemmer: rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English),
            only: self.only.clone(),
        }
    }
}

/// The stream of stemmed tokens.
pub struct StemmingTokenStream<T> {
    tail: T,
    stemmer: rust_stemmers::Stemmer,
    only: Option<Arc<[char]>>,
}

impl<T: TokenStream> TokenStream for StemmingTokenStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(only) = &self.only
            && !token.text.chars().next().is_some_and(|first| only.contains(&first))
        {
            token.text.clear();
            return true;
        }
        STEMS.with_borrow_mut(|stems| match stems.get(&token.text) {
            Some(stem) => stem.clone_into(&mut token.text),
            None => {
                let stem = self.stemmer.stem(&token.text).into_owned();
                stems.insert(std::mem::replace(&mut token.text, stem.clone()), stem);
            }
        });
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
        let ours = TextAnalyzer::builder(SimpleTokenizer::default()).filter(RememberingStemmer::default()).build();
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

    use super::*;

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
            assert_eq!(stem(word).chars().next(), word.chars().next(), "{word} -> {}", stem(word));
        }
    }

    proptest! {
        /// What highlighting relies on: a stem begins with its word's first letter.
        #[test]
        fn a_stem_keeps_the_first_letter(start in "[a-z]{1,9}", ending in 0..ENDINGS.len()) {
            let word = format!("{start}{}", ENDINGS[ending]);
            let stemmed = stem(&word);
            prop_assert_eq!(stemmed.chars().next(), word.chars().next(), "{} -> {}", word, stemmed);
        }

        /// A stemmer made for some stems empties exactly the tokens that cannot stem to one
        /// of them, and stems the others as the plain stemmer does.
        #[test]
        fn only_for_keeps_what_can_match(words in prop::collection::vec("[a-z]{1,12}", 1..20), query in 0usize..20) {
            let text = words.join(" ");
            let wanted = stem(&words[query % words.len()]);
            let plain = tokens(RememberingStemmer::default(), &text);
            let selective = tokens(RememberingStemmer::only_for([&wanted]), &text);
            prop_assert_eq!(plain.len(), selective.len());
            for (all, only) in plain.iter().zip(&selective) {
                if *all == wanted {
                    prop_assert_eq!(only, all);
                } else {
                    prop_assert!(only.is_empty() || only == all);
                }
            }
        }
    }

    fn tokens(stemmer: RememberingStemmer, text: &str) -> Vec<String> {
        use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer};
        let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default()).filter(stemmer).build();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }
}
