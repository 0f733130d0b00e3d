//! Pseudonymization of client data before a prompt leaves the process. E-mail addresses,
//! phone numbers, IBANs (mod-97 checked), payment card numbers (Luhn checked), URLs carrying
//! credentials and the names the organization declares sensitive are replaced by stable
//! placeholders (`[CLIENT_1]`, `[EMAIL_2]`); the same value gets the same placeholder within
//! one interaction, and the answer's placeholders are mapped back before anyone sees it. The
//! mapping lives in a [`Redaction`] value that is never serialized or logged.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

/// What a placeholder stands for; its label names the placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Client,
    Person,
    Email,
    Phone,
    Iban,
    Card,
    Url,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Client => "CLIENT",
            Kind::Person => "PERSON",
            Kind::Email => "EMAIL",
            Kind::Phone => "PHONE",
            Kind::Iban => "IBAN",
            Kind::Card => "CARD",
            Kind::Url => "URL",
        }
    }
}

/// A name the organization declares sensitive: an engagement's client, a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveName {
    pub name: String,
    pub kind: Kind,
}

impl SensitiveName {
    pub fn client(name: impl Into<String>) -> Self {
        Self { name: name.into(), kind: Kind::Client }
    }

    pub fn person(name: impl Into<String>) -> Self {
        Self { name: name.into(), kind: Kind::Person }
    }
}

/// Names shorter than this are not matched: one- and two-letter names would replace words.
const MIN_NAME_CHARS: usize = 3;
/// The longest placeholder the stream restorer waits for (`[CLIENT_99999]`).
const MAX_PLACEHOLDER_CHARS: usize = 16;

static URL_WITH_CREDENTIALS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@[^\s]+").expect("valid pattern"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b").expect("valid pattern")
});
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b").expect("valid pattern")
});
static CARD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b(?:\d[ -]?){12,18}\d\b").expect("valid pattern"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,5}(?:[ .-]?\d{2,5}){1,5}").expect("valid pattern")
});

/// One interaction's pseudonyms: what was replaced, by which placeholder.
#[derive(Default)]
pub struct Redaction {
    names: Option<Regex>,
    name_kinds: HashMap<String, Kind>,
    /// Original value (names lowercased) -> placeholder.
    placeholders: HashMap<String, String>,
    /// Placeholder -> the original as first seen.
    originals: HashMap<String, String>,
    counters: HashMap<Kind, usize>,
}

impl std::fmt::Debug for Redaction {
    /// Says how many values are hidden, never which.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redaction").field("placeholders", &self.originals.len()).finish_non_exhaustive()
    }
}

impl Redaction {
    /// A mapping that also hides `names` (longest first, whole words, any case).
    pub fn new(names: &[SensitiveName]) -> Self {
        let mut kept: Vec<&SensitiveName> =
            names.iter().filter(|n| n.name.trim().chars().count() >= MIN_NAME_CHARS).collect();
        kept.sort_by_key(|n| std::cmp::Reverse(n.name.trim().len()));
        kept.dedup_by(|a, b| a.name.trim().eq_ignore_ascii_case(b.name.trim()));
        let name_kinds = kept.iter().map(|n| (n.name.trim().to_lowercase(), n.kind)).collect();
        let names = (!kept.is_empty()).then(|| {
            let alternatives: Vec<String> = kept.iter().map(|n| regex::escape(n.name.trim())).collect();
            Regex::new(&format!(r"(?i)\b(?:{})\b", alternatives.join("|"))).expect("escaped names form a valid pattern")
        });
        Self { names, name_kinds, ..Self::default() }
    }

    /// `text` with every sensitive value replaced by its placeholder.
    pub fn redact(&mut self, text: &str) -> String {
        let mut spans = self.find(text);
        spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for span in spans {
            if span.start < at {
                continue;
            }
            out.push_str(&text[at..span.start]);
            let value = &text[span.start..span.end];
            out.push_str(&self.placeholder(value, span.kind));
            at = span.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// `text` with every placeholder of this mapping replaced by its original.
    pub fn restore(&self, text: &str) -> String {
        if self.originals.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('[') {
            out.push_str(&rest[..open]);
            let candidate = &rest[open..];
            match candidate
                .find(']')
                .map(|close| &candidate[..=close])
                .and_then(|p| self.originals.get(p).map(|o| (p, o)))
            {
                Some((placeholder, original)) => {
                    out.push_str(original);
                    rest = &candidate[placeholder.len()..];
                }
                None => {
                    out.push('[');
                    rest = &candidate[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// How many distinct values this mapping hides.
    pub fn len(&self) -> usize {
        self.originals.len()
    }

    /// Whether nothing was hidden.
    pub fn is_empty(&self) -> bool {
        self.originals.is_empty()
    }

    fn placeholder(&mut self, value: &str, kind: Kind) -> String {
        let key = match kind {
            Kind::Client | Kind::Person => value.to_lowercase(),
            _ => value.to_owned(),
        };
        if let Some(existing) = self.placeholders.get(&key) {
            return existing.clone();
        }
        let counter = self.counters.entry(kind).or_default();
        *counter += 1;
        let placeholder = format!("[{}_{}]", kind.label(), counter);
        self.placeholders.insert(key, placeholder.clone());
        self.originals.insert(placeholder.clone(), value.to_owned());
        placeholder
    }

    /// Every sensitive span, in order of precedence (earlier kinds win overlaps at one start).
    fn find(&self, text: &str) -> Vec<Span> {
        let mut spans = Vec::new();
        let mut push = |regex: &Regex, kind: Kind, valid: &dyn Fn(&str) -> bool| {
            for m in regex.find_iter(text) {
                if valid(m.as_str()) {
                    spans.push(Span { start: m.start(), end: m.end(), kind });
                }
            }
        };
        push(&URL_WITH_CREDENTIALS, Kind::Url, &|_| true);
        push(&EMAIL, Kind::Email, &|_| true);
        push(&IBAN, Kind::Iban, &iban_checks);
        push(&CARD, Kind::Card, &luhn_checks);
        push(&PHONE, Kind::Phone, &looks_like_phone);
        if let Some(names) = &self.names {
            for m in names.find_iter(text) {
                let kind = self.name_kinds.get(&m.as_str().to_lowercase()).copied().unwrap_or(Kind::Client);
                spans.push(Span { start: m.start(), end: m.end(), kind });
            }
        }
        spans
    }

    /// A restorer for an answer arriving in pieces.
    pub fn restorer(&self) -> StreamRestorer<'_> {
        StreamRestorer { redaction: self, pending: String::new() }
    }
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    kind: Kind,
}

/// Restores placeholders in a streamed answer: a placeholder split across two pieces is held
/// back until it is whole.
#[derive(Debug)]
pub struct StreamRestorer<'a> {
    redaction: &'a Redaction,
    pending: String,
}

impl StreamRestorer<'_> {
    /// The restored text that can be shown now.
    pub fn push(&mut self, piece: &str) -> String {
        self.pending.push_str(piece);
        let hold_from = match self.pending.rfind('[') {
            Some(open) if !self.pending[open..].contains(']') && self.pending.len() - open < MAX_PLACEHOLDER_CHARS => {
                open
            }
            _ => self.pending.len(),
        };
        let ready: String = self.pending.drain(..hold_from).collect();
        self.redaction.restore(&ready)
    }

    /// Whatever is still held back, restored.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.redaction.restore(&rest)
    }
}

/// An IBAN's check digits: the rearranged number modulo 97 is 1.
fn iban_checks(candidate: &str) -> bool {
    let compact: String = candidate.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut remainder = 0u32;
    for c in tail.chars().chain(head.chars()) {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        remainder = if value >= 10 { (remainder * 100 + value) % 97 } else { (remainder * 10 + value) % 97 };
    }
    remainder == 1
}

/// A payment card number: 13 to 19 digits passing the Luhn check.
fn luhn_checks(candidate: &str) -> bool {
    let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// A phone number: 9 to 15 digits, or 7 or more after an international `+`. Shorter runs are
/// dates, amounts and ids far more often than phone numbers.
fn looks_like_phone(candidate: &str) -> bool {
    let digits = candidate.chars().filter(char::is_ascii_digit).count();
    let least = if candidate.starts_with('+') { 7 } else { 9 };
    (least..=15).contains(&digits)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn redaction() -> Redaction {
        Redaction::new(&[SensitiveName::client("Acme Corp"), SensitiveName::person("Jane Doe")])
    }

    #[test]
    fn every_kind_of_client_data_is_replaced_and_restored() {
        let text = "Acme Corp's CFO Jane Doe (jane.doe@acme.example, +44 20 7946 0958) pays from \
                    GB82 WEST 1234 5698 7654 32 with card 4111 1111 1111 1111; repo at \
                    https://deploy:s3cret@git.acme.example/app. Call ACME CORP again.";
        let mut r = redaction();
        let redacted = r.redact(text);
        for secret in ["Acme", "ACME", "Jane", "jane.doe", "7946", "GB82", "4111", "s3cret", "deploy"] {
            assert!(!redacted.contains(secret), "{secret} leaked: {redacted}");
        }
        assert!(redacted.contains("[CLIENT_1]'s CFO [PERSON_1] ([EMAIL_1], [PHONE_1])"), "{redacted}");
        assert!(redacted.contains("[IBAN_1]") && redacted.contains("[CARD_1]") && redacted.contains("[URL_1]"));
        assert!(redacted.ends_with("Call [CLIENT_1] again."), "the same name gets the same placeholder: {redacted}");
        assert_eq!(r.restore("Ask [PERSON_1] at [EMAIL_1]."), "Ask Jane Doe at jane.doe@acme.example.");
    }

    #[test]
    fn numbers_that_fail_their_checks_are_left_alone() {
        let mut r = Redaction::new(&[]);
        let text = "Invoice 4111 1111 1111 1112, account GB00 WEST 1234 5612 ABCD 9Z, year 2024-11-24, 42 days.";
        assert_eq!(r.redact(text), text);
        assert!(r.is_empty());
    }

    #[test]
    fn a_placeholder_split_across_pieces_is_restored_whole() {
        let mut r = redaction();
        r.redact("Jane Doe");
        let mut restorer = r.restorer();
        let mut out = String::new();
        for piece in ["Ask [PER", "SON", "_1] about [unrelated", "] things ["] {
            out.push_str(&restorer.push(piece));
        }
        out.push_str(&restorer.finish());
        assert_eq!(out, "Ask Jane Doe about [unrelated] things [");
    }

    proptest! {
        #[test]
        fn restoring_a_redaction_gives_back_the_text_and_the_redaction_hides_every_secret(
            words in proptest::collection::vec("[a-z]{1,8}", 0..20),
            secrets in proptest::collection::vec(0usize..5, 0..6),
        ) {
            let values = ["Acme Corp", "Jane Doe", "ops@acme.example", "+1 415 555 0134", "4111 1111 1111 1111"];
            let mut text = String::new();
            for (i, word) in words.iter().enumerate() {
                text.push_str(word);
                text.push(' ');
                if let Some(&s) = secrets.get(i) {
                    text.push_str(values[s]);
                    text.push_str(" . ");
                }
            }
            let mut r = redaction();
            let redacted = r.redact(&text);
            for &s in &secrets {
                prop_assert!(!redacted.contains(values[s]), "{} leaked in {}", values[s], redacted);
            }
            prop_assert_eq!(r.restore(&redacted), text);
        }
    }
}
