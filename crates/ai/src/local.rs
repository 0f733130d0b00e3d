//! The built-in `local` provider: extractive work that needs no model server and no network.
//! A summary is the item's most central sentences; an answer is the retrieved passages'
//! sentences that share the most (rare) words with the question, each cited; a risk checklist
//! collects what the engagement's items and the organization's lessons say about the usual
//! kinds of engagement risk. Every output says plainly that it is extractive, and every quote
//! is an exact substring of its source.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::{Citation, Request, Source};

/// Sentences a summary keeps at most.
const SUMMARY_SENTENCES: usize = 3;
/// Sentences an answer quotes at most.
const ANSWER_SENTENCES: usize = 3;
/// Evidence quoted per risk at most.
const EVIDENCE_PER_RISK: usize = 2;

/// What the local provider produced: the text and the passages it quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalOutput {
    pub text: String,
    pub citations: Vec<Citation>,
}

/// Runs `request` extractively.
pub fn run(request: &Request) -> LocalOutput {
    match request {
        Request::Summarize { source } => summarize(source),
        Request::Answer { question, sources } => answer(question, sources),
        Request::AssessRisks { engagement, sources, lessons } => assess_risks(engagement, sources, lessons),
        Request::DraftTemplate { template, placeholders, known, sources } => {
            draft(template, placeholders, known, sources)
        }
        Request::SuggestTags { source, existing } => suggest_tags(source, existing),
    }
}

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}").expect("valid pattern"));

/// Fills each placeholder with its known value, else with the source sentence sharing most
/// words with the placeholder's name (cited), else with a visible gap.
fn draft(template: &str, placeholders: &[String], known: &[(String, String)], sources: &[Source]) -> LocalOutput {
    let candidates: Vec<(usize, &str)> =
        sources.iter().enumerate().flat_map(|(i, s)| sentences(&s.text).into_iter().map(move |t| (i, t))).collect();
    let mut citations: Vec<Citation> = Vec::new();
    let mut values: HashMap<&str, String> = HashMap::new();
    for name in placeholders {
        if let Some((_, value)) = known.iter().find(|(k, _)| k == name) {
            values.insert(name, value.clone());
            continue;
        }
        let wanted: HashSet<String> = terms(&name.replace('_', " ")).into_iter().collect();
        let best = candidates
            .iter()
            .map(|&(source, sentence)| {
                let found: HashSet<String> = terms(sentence).into_iter().collect();
                (found.intersection(&wanted).count(), source, sentence)
            })
            .filter(|(overlap, _, _)| *overlap > 0)
            .max_by_key(|(overlap, source, _)| (*overlap, std::cmp::Reverse(*source)));
        let value = match best {
            Some((_, source, sentence)) => {
                citations.push(sources[source].cite(sentence));
                format!("{sentence} [{}]", citations.len())
            }
            None => format!("[to be completed: {}]", name.replace('_', " ")),
        };
        values.insert(name, value);
    }
    let filled = PLACEHOLDER.replace_all(template, |caps: &regex::Captures<'_>| {
        values.get(&caps[1]).cloned().unwrap_or_else(|| caps[0].to_owned())
    });
    let text = format!(
        "Extractive draft (placeholders filled with known values and sentences quoted from the \
         engagement's items, not generated):\n\n{filled}"
    );
    LocalOutput { text, citations }
}

/// Tags suggested at most.
pub const MAX_SUGGESTED_TAGS: usize = 5;

/// The organization's tags whose words all occur in the item, most frequent first, then the
/// item's own recurring longer words; a comma-separated list.
fn suggest_tags(source: &Source, existing: &[String]) -> LocalOutput {
    let words = terms(&format!("{}\n{}", source.title, source.text));
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for word in &words {
        *counts.entry(word.as_str()).or_default() += 1;
    }
    let mut known: Vec<(usize, &String)> = existing
        .iter()
        .filter_map(|tag| {
            let parts = terms(tag);
            let hits: Vec<usize> = parts.iter().map(|p| counts.get(p.as_str()).copied().unwrap_or(0)).collect();
            (!parts.is_empty() && hits.iter().all(|&h| h > 0)).then(|| (hits.iter().sum(), tag))
        })
        .collect();
    known.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let mut tags: Vec<String> = known.into_iter().map(|(_, tag)| tag.clone()).collect();
    let mut recurring: Vec<(&str, usize)> = counts
        .iter()
        .filter(|(word, count)| **count >= 2 && word.chars().count() >= 5 && !word.chars().all(|c| c.is_ascii_digit()))
        .map(|(word, count)| (*word, *count))
        .collect();
    recurring.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (word, _) in recurring {
        if tags.len() >= MAX_SUGGESTED_TAGS {
            break;
        }
        if !tags.iter().any(|t| t == word) {
            tags.push(word.to_owned());
        }
    }
    tags.truncate(MAX_SUGGESTED_TAGS);
    LocalOutput { text: tags.join(", "), citations: Vec::new() }
}

fn summarize(source: &Source) -> LocalOutput {
    let sentences = sentences(&source.text);
    if sentences.is_empty() {
        return LocalOutput {
            text: "Extractive summary: the item has no text to summarize.".to_owned(),
            citations: Vec::new(),
        };
    }
    let frequencies = term_counts(sentences.iter().copied());
    let mut scored: Vec<(usize, f64)> = sentences
        .iter()
        .enumerate()
        .map(|(position, sentence)| {
            let terms = terms(sentence);
            let weight: f64 = terms.iter().map(|t| frequencies.get(t.as_str()).copied().unwrap_or(0) as f64).sum();
            // Central sentences share many of the item's frequent words; early ones set the scene.
            let score = weight / (terms.len().max(1) as f64).sqrt() * (1.0 + 0.5 / (position as f64 + 1.0));
            (position, score)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = scored.iter().take(SUMMARY_SENTENCES).map(|(p, _)| *p).collect();
    chosen.sort_unstable();
    let mut text = String::from("Extractive summary (sentences selected from the item, not generated):\n");
    let mut citations = Vec::new();
    for position in chosen {
        text.push_str("\n- ");
        text.push_str(sentences[position]);
        citations.push(source.cite(sentences[position]));
    }
    LocalOutput { text, citations }
}

fn answer(question: &str, sources: &[Source]) -> LocalOutput {
    let asked: HashSet<String> = terms(question).into_iter().collect();
    let candidates: Vec<(usize, &str)> =
        sources.iter().enumerate().flat_map(|(i, s)| sentences(&s.text).into_iter().map(move |t| (i, t))).collect();
    // Words rare among the candidates say more about a match than common ones.
    let document_frequency = term_counts(candidates.iter().map(|(_, s)| *s));
    let total = candidates.len().max(1) as f64;
    let mut scored: Vec<(f64, usize, &str)> = candidates
        .iter()
        .filter_map(|&(source, sentence)| {
            let present: HashSet<String> = terms(sentence).into_iter().collect();
            let score: f64 = present
                .intersection(&asked)
                .map(|t| (1.0 + total / document_frequency.get(t.as_str()).copied().unwrap_or(1) as f64).ln())
                .sum();
            (score > 0.0).then_some((score, source, sentence))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    if scored.is_empty() {
        return LocalOutput {
            text: "Extractive answer: no passage in the knowledge base you can read matches this question.".to_owned(),
            citations: Vec::new(),
        };
    }
    let mut text = String::from("Extractive answer (passages quoted from your knowledge base, not generated):\n");
    let mut citations: Vec<Citation> = Vec::new();
    for (_, source, sentence) in scored.into_iter().take(ANSWER_SENTENCES) {
        citations.push(sources[source].cite(sentence));
        text.push_str(&format!("\n- {sentence} [{}]", citations.len()));
    }
    LocalOutput { text, citations }
}

/// The kinds of risk the checklist asks about, with words that signal them.
const RISKS: &[(&str, &[&str])] = &[
    ("Scope", &["scope", "requirement", "requirements", "change request", "creep", "deliverable", "unclear"]),
    ("Schedule", &["deadline", "delay", "delayed", "late", "timeline", "milestone", "slip", "overrun"]),
    ("Budget", &["budget", "cost", "costs", "invoice", "overspend", "fee", "fees", "price"]),
    ("Stakeholders", &["stakeholder", "sponsor", "sign-off", "approval", "buy-in", "resistance", "escalat"]),
    ("Data protection", &["gdpr", "personal data", "privacy", "confidential", "nda", "consent"]),
    ("Security", &["security", "breach", "access", "password", "vulnerab", "incident"]),
    ("Dependencies", &["dependency", "dependencies", "vendor", "supplier", "third party", "integration"]),
    ("Resourcing", &["staff", "resource", "capacity", "availability", "turnover", "skills"]),
    ("Quality", &["quality", "defect", "rework", "testing", "acceptance", "review"]),
];

fn assess_risks(engagement: &str, sources: &[Source], lessons: &[Source]) -> LocalOutput {
    let mut text = format!(
        "Extractive risk checklist for {engagement} (drawn from the engagement's items and the \
         organization's lessons learned, not generated):\n"
    );
    let mut citations: Vec<Citation> = Vec::new();
    let all: Vec<&Source> = sources.iter().chain(lessons).collect();
    for (risk, signals) in RISKS {
        let evidence: Vec<(&Source, &str)> = all
            .iter()
            .flat_map(|s| sentences(&s.text).into_iter().map(move |t| (*s, t)))
            .filter(|(_, sentence)| {
                let lower = sentence.to_lowercase();
                signals.iter().any(|signal| lower.contains(signal))
            })
            .take(EVIDENCE_PER_RISK)
            .collect();
        if evidence.is_empty() {
            text.push_str(&format!("\n[ ] {risk}: nothing recorded yet; check it with the client."));
            continue;
        }
        text.push_str(&format!("\n[ ] {risk}:"));
        for (source, sentence) in evidence {
            citations.push(source.cite(sentence));
            text.push_str(&format!("\n    - {sentence} [{}]", citations.len()));
        }
    }
    LocalOutput { text, citations }
}

/// The sentences of `text`: lines split at `.`, `!` or `?` followed by a space, with list and
/// heading markers left out. Each is a substring of `text`.
pub(crate) fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '#' | '-' | '*' | '>' | '|'));
        let mut start = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let ends = matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace());
            if ends {
                push_sentence(&mut out, &line[start..=i]);
                start = i + 1;
            }
        }
        push_sentence(&mut out, &line[start..]);
    }
    out
}

fn push_sentence<'a>(out: &mut Vec<&'a str>, candidate: &'a str) {
    let sentence = candidate.trim();
    if sentence.split_whitespace().count() >= 3 {
        out.push(sentence);
    }
}

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "has", "have", "how", "in",
    "is", "it", "its", "of", "on", "or", "our", "that", "the", "their", "this", "to", "was", "we", "were", "what",
    "when", "where", "which", "who", "why", "will", "with", "you", "your",
];

/// Lowercased content words, with a plural `s` dropped so `risks` meets `risk`.
pub(crate) fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") { w[..w.len() - 1].to_owned() } else { w })
        .collect()
}

/// In how many of `texts` each term occurs.
fn term_counts<'a>(texts: impl Iterator<Item = &'a str>) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for text in texts {
        let distinct: HashSet<String> = terms(text).into_iter().collect();
        for term in distinct {
            *counts.entry(term).or_default() += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(id: &str, text: &str) -> Source {
        Source { item_id: id.to_owned(), title: format!("Item {id}"), text: text.to_owned() }
    }

    #[test]
    fn an_answer_quotes_the_sentences_that_match_the_question_and_cites_their_items() {
        let sources = [
            source("a", "The kickoff is on Monday. Travel is booked."),
            source("b", "## Pricing\n- The retainer fee is 12,000 EUR per month. Invoices are due in 30 days."),
        ];
        let out = run(&Request::Answer { question: "What is the retainer fee?".to_owned(), sources: sources.to_vec() });
        assert!(out.text.starts_with("Extractive answer"), "{}", out.text);
        assert_eq!(out.citations[0].item_id, "b");
        assert_eq!(out.citations[0].passage, "The retainer fee is 12,000 EUR per month.");
        for citation in &out.citations {
            let cited = sources.iter().find(|s| s.item_id == citation.item_id).expect("a cited source");
            assert!(cited.text.contains(&citation.passage));
        }
        let none = run(&Request::Answer { question: "zebra migration".to_owned(), sources: sources.to_vec() });
        assert!(none.citations.is_empty());
    }

    #[test]
    fn a_summary_keeps_the_central_sentences_in_order() {
        let text = "Churn rose in the enterprise segment. Churn in the enterprise segment follows price rises. \
                    The office has a plant. Lowering enterprise prices cut churn in the pilot.";
        let out = run(&Request::Summarize { source: source("s", text) });
        assert!(out.text.contains("not generated"));
        assert_eq!(out.citations.len(), 3);
        assert!(!out.text.contains("plant"), "{}", out.text);
    }

    #[test]
    fn a_draft_fills_known_values_then_quoted_sentences_and_marks_what_is_missing() {
        let out = run(&Request::DraftTemplate {
            template: "Dear {{ client }},\nBudget: {{budget_range}}\nRisks: {{ open_risks }}".to_owned(),
            placeholders: vec!["client".into(), "budget_range".into(), "open_risks".into()],
            known: vec![("client".into(), "Initech".into())],
            sources: vec![source("e", "The budget is capped at 80k EUR. Kickoff was on Monday.")],
        });
        assert!(out.text.contains("Dear Initech,"), "{}", out.text);
        assert!(out.text.contains("Budget: The budget is capped at 80k EUR. [1]"), "{}", out.text);
        assert!(out.text.contains("Risks: The budget") || out.text.contains("[to be completed: open risks]"));
        assert_eq!(out.citations[0].passage, "The budget is capped at 80k EUR.");
    }

    #[test]
    fn tag_suggestions_prefer_existing_tags_then_recurring_words() {
        let item = source("t", "Pricing workshop. The pricing model drives churn; churn fell after the workshop.");
        let out = run(&Request::SuggestTags { source: item, existing: vec!["pricing".into(), "hiring".into()] });
        let tags: Vec<&str> = out.text.split(", ").collect();
        assert_eq!(tags[0], "pricing");
        assert!(tags.contains(&"churn") && tags.contains(&"workshop") && !tags.contains(&"hiring"), "{tags:?}");
    }

    #[test]
    fn the_risk_checklist_quotes_evidence_and_lists_every_kind_of_risk() {
        let out = run(&Request::AssessRisks {
            engagement: "Pricing review".to_owned(),
            sources: vec![source("e", "The client keeps adding requirements to the scope.")],
            lessons: vec![source("l", "Last year the vendor integration was delayed by six weeks.")],
        });
        for (risk, _) in RISKS {
            assert!(out.text.contains(risk), "{risk} missing");
        }
        assert!(out.citations.iter().any(|c| c.item_id == "e"));
        assert!(out.citations.iter().any(|c| c.item_id == "l"));
    }
}
