//! English stemming with a memory of the words it has stemmed. The Snowball stemmer took a
//! third of the indexing time (`perf` on bench/fulltext.sh), and text repeats its words: most
//! tokens are a lookup (hashed with rustc-hash: SipHash made the lookup cost a tenth of
//! indexing). The memory is per thread, not per analyzer: tantivy clones an analyzer for each
//! segment it writes and for each snippet generator, and a memory per clone started empty for
//! every search, which then stemmed the ten bodies it highlights afresh (0.4 ms of a 1.9 ms
//! search page at 200,000 documents). Same stems as tantivy's `Stemmer` for English.

use std::cell::RefCell;

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words remembered per thread before the memory starts again (a few MiB at most).
const REMEMBERED: usize = 100_000;

thread_local! {
    /// Stems of the words this thread has stemmed.
    static STEMS: RefCell<FxHashMap<String, String>> = RefCell::new(FxHashMap::default());
}

/// The token filter: English (Porter2) stems, remembered.
#[derive(Clone, Copy, Debug, Default)]
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
        STEMS.with_borrow_mut(|stems| {
            if stems.len() > REMEMBERED {
                stems.clear();
            }
        });
        StemmingTokenStream {
            tail: self.inner.token_stream(text),
            stemmer: rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English),
        }
    }
}

/// The stream of stemmed tokens.
pub struct StemmingTokenStream<T> {
    tail: T,
    stemmer: rust_stemmers::Stemmer,
}

impl<T: TokenStream> TokenStream for StemmingTokenStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
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
