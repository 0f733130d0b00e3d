//! Prompts for language models, built from a [`Request`], and the citations read back from
//! their answers: sources are numbered in the prompt and the model cites them as `[n]`.

use serde::Serialize;

use crate::{Citation, Request, Source};

/// Characters of a source quoted back as a citation's passage.
const CITED_CHARS: usize = 400;

/// A chat message in the OpenAI wire format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: &'static str,
    pub content: String,
}

impl Message {
    fn system(content: &str) -> Self {
        Self { role: "system", content: content.to_owned() }
    }

    fn user(content: String) -> Self {
        Self { role: "user", content }
    }
}

/// The chat messages for `request`.
pub fn messages(request: &Request) -> Vec<Message> {
    match request {
        Request::Summarize { source } => vec![
            Message::system(
                "You summarize documents for a consultant. Answer with at most five short bullet points \
                 and use only what the document says.",
            ),
            Message::user(format!("Title: {}\n\n{}", source.title, source.text)),
        ],
        Request::Answer { question, sources } => vec![
            Message::system(
                "You answer questions for a consulting team using only the numbered sources. Cite every \
                 claim with its source number in brackets, like [2]. If the sources do not answer the \
                 question, say so plainly.",
            ),
            Message::user(format!("Sources:\n{}\nQuestion: {question}", numbered(sources, 1))),
        ],
        Request::AssessRisks { engagement, sources, lessons } => vec![
            Message::system(
                "You assess the risks of a consulting engagement. Answer with a checklist of concrete risks, \
                 each with a one-line mitigation and the numbers of the sources that support it, like [3].",
            ),
            Message::user(format!(
                "Engagement: {engagement}\n\nThe engagement's documents:\n{}\nLessons learned in earlier engagements:\n{}",
                numbered(sources, 1),
                numbered(lessons, sources.len() + 1)
            )),
        ],
        Request::DraftTemplate { template, placeholders, known, sources } => vec![
            Message::system(
                "You draft consulting documents. Fill in the template: replace every {{placeholder}} \
                 with text drawn from the numbered sources (cite them like [2]) or from the known values, \
                 keep the rest of the template as it is, and write [to be completed] where the sources say \
                 nothing. Answer with the filled document only.",
            ),
            Message::user(format!(
                "Template:\n{template}\n\nPlaceholders: {}\n\nKnown values:\n{}\nSources:\n{}",
                placeholders.join(", "),
                known.iter().map(|(k, v)| format!("- {k}: {v}\n")).collect::<String>(),
                numbered(sources, 1)
            )),
        ],
        Request::SuggestTags { source, existing } => vec![
            Message::system(
                "You tag documents of a consulting knowledge base. Answer with at most five short lowercase \
                 tags, comma-separated, nothing else. Prefer the organization's existing tags when they fit.",
            ),
            Message::user(format!(
                "Existing tags: {}\n\nTitle: {}\n\n{}",
                existing.join(", "),
                source.title,
                source.text
            )),
        ],
    }
}

fn numbered(sources: &[Source], first: usize) -> String {
    let mut out = String::new();
    for (i, source) in sources.iter().enumerate() {
        out.push_str(&format!("[{}] {}\n{}\n\n", first + i, source.title, source.text));
    }
    if sources.is_empty() {
        out.push_str("(none)\n");
    }
    out
}

/// The sources an answer cites as `[n]`, in order of first citation. A summary cites its one
/// source.
pub fn citations(request: &Request, answer: &str) -> Vec<Citation> {
    let sources = request.sources();
    match request {
        Request::Summarize { source } => return vec![source.cite(excerpt(&source.text))],
        Request::SuggestTags { .. } => return Vec::new(),
        _ => {}
    }
    let mut cited: Vec<usize> = Vec::new();
    let mut rest = answer;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        for number in rest[..close].split(',').filter_map(|n| n.trim().parse::<usize>().ok()) {
            if (1..=sources.len()).contains(&number) && !cited.contains(&(number - 1)) {
                cited.push(number - 1);
            }
        }
    }
    cited.into_iter().map(|i| sources[i].cite(excerpt(&sources[i].text))).collect()
}

/// The start of `text`, cut at a character boundary.
fn excerpt(text: &str) -> &str {
    match text.char_indices().nth(CITED_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_follow_the_numbers_the_answer_uses() {
        let source = |id: &str| Source { item_id: id.into(), title: id.into(), text: format!("text of {id}") };
        let request = Request::Answer { question: "q".into(), sources: vec![source("a"), source("b"), source("c")] };
        let prompt = messages(&request);
        assert!(prompt[1].content.contains("[2] b\ntext of b"));
        let cited = citations(&request, "Yes [3], and also [1, 3]; not [9] or [x].");
        assert_eq!(cited.iter().map(|c| c.item_id.as_str()).collect::<Vec<_>>(), ["c", "a"]);
        assert_eq!(cited[0].passage, "text of c");
    }
}
