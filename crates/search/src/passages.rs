//! Items are embedded in passages: the model reads at most [`MAX_TOKENS`](crate::embedding::MAX_TOKENS)
//! tokens of a text, and one vector for a long document blurs what its parts say. A passage
//! is a run of whole words of the body, cut at a sentence end where one comes late enough,
//! and is embedded after the item's title, which gives every passage its context.

use sha2::{Digest, Sha256};

use crate::model::MODEL_ID;

/// Most words of the body in one passage: with the title it stays under the model's 256
/// tokens even for technical text (about 1.5 tokens a word).
const MAX_WORDS: usize = 140;
/// Fewest words before a sentence end may close a passage.
const MIN_WORDS: usize = 90;

/// A passage of an item's body, as a byte range of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passage {
    pub start: usize,
    pub end: usize,
}

/// The passages of `body`; one empty passage when it has no words (the title alone).
pub fn split(body: &str) -> Vec<Passage> {
    let mut passages = Vec::new();
    let mut start = None;
    let mut words = 0;
    for (offset, word) in words_of(body) {
        let first = *start.get_or_insert(offset);
        words += 1;
        let end = offset + word.len();
        let sentence_end = word.ends_with(['.', '?', '!', ';']);
        if words >= MAX_WORDS || (words >= MIN_WORDS && sentence_end) {
            passages.push(Passage { start: first, end });
            start = None;
            words = 0;
        }
    }
    if let Some(first) = start {
        passages.push(Passage { start: first, end: body.trim_end().len() });
    }
    if passages.is_empty() {
        passages.push(Passage { start: 0, end: 0 });
    }
    passages
}

/// The text embedded for `passage`: the title, then the passage.
pub fn text(title: &str, body: &str, passage: Passage) -> String {
    let part = body.get(passage.start..passage.end).unwrap_or_default();
    match (title.trim().is_empty(), part.is_empty()) {
        (_, true) => title.to_owned(),
        (true, false) => part.to_owned(),
        (false, false) => format!("{title}\n{part}"),
    }
}

/// Identifies what an item's vectors were computed from (model, title and body): an edit
/// that changes neither, such as a status transition or a new tag, reuses them.
pub fn content_hash(title: &str, body: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [MODEL_ID, title, body] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// Each whitespace-separated word with its byte offset.
fn words_of(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_whitespace().map(move |word| (word.as_ptr() as usize - text.as_ptr() as usize, word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_body_is_one_passage() {
        let body = "  Two sentences.  Nothing more.  ";
        let passages = split(body);
        assert_eq!(passages.len(), 1);
        assert_eq!(&body[passages[0].start..passages[0].end], "Two sentences.  Nothing more.");
        assert_eq!(text("Title", body, passages[0]), "Title\nTwo sentences.  Nothing more.");
    }

    #[test]
    fn an_empty_body_leaves_the_title() {
        assert_eq!(split(""), vec![Passage { start: 0, end: 0 }]);
        assert_eq!(text("Only a title", "", split("")[0]), "Only a title");
    }

    #[test]
    fn long_bodies_are_cut_at_sentence_ends_and_lose_no_word() {
        let sentence = "word ".repeat(29) + "end. ";
        let body = sentence.repeat(10);
        let passages = split(&body);
        assert!(passages.len() > 1);
        for passage in &passages {
            let part = &body[passage.start..passage.end];
            let words = part.split_whitespace().count();
            assert!((MIN_WORDS..=MAX_WORDS).contains(&words) || passage == passages.last().expect("present"));
            assert!(part.ends_with("end."), "{part}");
        }
        let joined: usize = passages.iter().map(|p| body[p.start..p.end].split_whitespace().count()).sum();
        assert_eq!(joined, body.split_whitespace().count());
    }

    #[test]
    fn text_without_sentences_is_cut_at_the_word_limit() {
        let body = "ünïcödé ".repeat(MAX_WORDS * 2 + 1);
        let passages = split(&body);
        assert_eq!(passages.len(), 3);
        assert_eq!(body[passages[0].start..passages[0].end].split_whitespace().count(), MAX_WORDS);
    }

    #[test]
    fn the_hash_changes_with_title_or_body_only() {
        let hash = content_hash("a", "b");
        assert_eq!(hash, content_hash("a", "b"));
        assert_ne!(hash, content_hash("a", "c"));
        assert_ne!(hash, content_hash("ab", ""));
    }
}
