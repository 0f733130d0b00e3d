//! `consailt chat`: questions to a server's `POST /api/v1/ask`, answers streamed to the
//! terminal as they arrive, then their sources. On a terminal it keeps a history (arrow keys)
//! and takes commands (`/engagement ID`, `/local on|off`, `/help`, `/quit`); from a pipe each
//! line is a question (`echo "What did we charge Initech?" | consailt chat`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::Failure;
use crate::config::load_file;

/// The server asked when neither flag, environment nor file names one.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The server's base URL [default: the [chat] table's url, else http://127.0.0.1:8080]
    #[arg(long, env = "CONSAILT_URL", value_name = "URL")]
    pub url: Option<String>,
    /// An API key of the organization to ask (or the [chat] table's api_key)
    #[arg(long, env = "CONSAILT_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Draw only on this engagement's items
    #[arg(long, value_name = "ID")]
    pub engagement: Option<String>,
    /// Answer with the built-in extractive provider only
    #[arg(long)]
    pub local: bool,
    /// Configuration file [default: ./consailt.toml when it exists]
    #[arg(long, env = "CONSAILT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// What the session asks with.
struct Session {
    http: reqwest::Client,
    ask_url: String,
    api_key: String,
    engagement: Option<String>,
    local: bool,
}

pub async fn run(args: ChatArgs) -> Result<(), Failure> {
    let file = load_file(args.config.as_deref())?;
    let url = args.url.or(file.chat.url).unwrap_or_else(|| DEFAULT_URL.to_owned());
    let api_key = args.api_key.or(file.chat.api_key).ok_or_else(|| {
        Failure::from("no API key: pass --api-key, set CONSAILT_API_KEY, or put api_key in the [chat] table")
    })?;
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let mut session = Session {
        http,
        ask_url: format!("{}/api/v1/ask", url.trim_end_matches('/')),
        api_key,
        engagement: args.engagement,
        local: args.local,
    };
    if std::io::stdin().is_terminal() { interactive(&mut session).await } else { piped(&mut session).await }
}

/// Every line of standard input is a question; the exit code says whether all were answered.
async fn piped(session: &mut Session) -> Result<(), Failure> {
    let mut failed = 0;
    for line in std::io::stdin().lines() {
        match handle(session, &line?).await {
            Handled::Quit => break,
            Handled::Failed => failed += 1,
            Handled::Fine => {}
        }
    }
    if failed > 0 {
        return Err(Failure { message: format!("{failed} question(s) got no answer"), code: 1 });
    }
    Ok(())
}

/// A line editor with history; commands start with `/`.
async fn interactive(session: &mut Session) -> Result<(), Failure> {
    let mut editor = rustyline::DefaultEditor::new().map_err(|e| format!("cannot open the terminal: {e}"))?;
    println!("Ask your knowledge base. /help lists the commands; /quit or Ctrl-D leaves.");
    loop {
        let prompt = match &session.engagement {
            Some(engagement) => format!("{engagement}> "),
            None => "consailt> ".to_owned(),
        };
        // The editor blocks on the terminal; it runs off the async workers and comes back.
        let (returned, line) = tokio::task::spawn_blocking(move || {
            let line = editor.readline(&prompt);
            (editor, line)
        })
        .await
        .map_err(|e| format!("the line editor stopped: {e}"))?;
        editor = returned;
        let line = match line {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(error) => return Err(format!("cannot read the terminal: {error}").into()),
        };
        if !line.trim().is_empty() {
            let _ = editor.add_history_entry(line.trim());
        }
        if let Handled::Quit = handle(session, &line).await {
            break;
        }
    }
    Ok(())
}

enum Handled {
    Fine,
    Failed,
    Quit,
}

/// Runs one line: a command, or a question whose failure is reported on standard error.
async fn handle(session: &mut Session, line: &str) -> Handled {
    match command(session, line.trim()) {
        Step::Quit => Handled::Quit,
        Step::Done => Handled::Fine,
        Step::Ask(question) => match ask(session, &question).await {
            Ok(()) => Handled::Fine,
            Err(error) => {
                eprintln!("error: {error}");
                Handled::Failed
            }
        },
    }
}

enum Step {
    Ask(String),
    Done,
    Quit,
}

/// Applies a `/command`, or passes a question on.
fn command(session: &mut Session, line: &str) -> Step {
    if line.is_empty() {
        return Step::Done;
    }
    let Some(command) = line.strip_prefix('/') else { return Step::Ask(line.to_owned()) };
    let mut words = command.split_whitespace();
    match (words.next(), words.next()) {
        (Some("quit" | "exit" | "q"), _) => return Step::Quit,
        (Some("engagement"), Some(id)) => {
            session.engagement = Some(id.to_owned());
            eprintln!("asking about engagement {id}");
        }
        (Some("engagement"), None) => {
            session.engagement = None;
            eprintln!("asking about the whole knowledge base");
        }
        (Some("local"), Some("on")) => {
            session.local = true;
            eprintln!("answering with the built-in extractive provider");
        }
        (Some("local"), Some("off")) => {
            session.local = false;
            eprintln!("answering with the configured models");
        }
        _ => eprintln!(
            "commands: /engagement ID (ask about one engagement), /engagement (all), \
             /local on|off (extractive answers only), /quit"
        ),
    }
    Step::Done
}

/// Asks `question`, printing the answer as it streams in, then its sources.
async fn ask(session: &Session, question: &str) -> Result<(), String> {
    let body =
        json!({"question": question, "engagement_id": session.engagement, "stream": true, "local": session.local});
    let response = session
        .http
        .post(&session.ask_url)
        .bearer_auth(&session.api_key)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("cannot reach {}: {e}", session.ask_url))?;
    if !response.status().is_success() {
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        return Err(error_message(&text).unwrap_or_else(|| format!("the server answered HTTP {status}")));
    }
    let mut stdout = std::io::stdout().lock();
    let mut events = EventReader::default();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("the answer was cut off: {e}"))?;
        for (name, data) in events.push(&chunk) {
            let data: Value = serde_json::from_str(&data).map_err(|e| format!("unreadable event: {e}"))?;
            match name.as_str() {
                "delta" => {
                    let _ = write!(stdout, "{}", data["text"].as_str().unwrap_or_default());
                    let _ = stdout.flush();
                }
                "done" => {
                    let _ = writeln!(stdout, "\n{}", sources(&data));
                    let _ = stdout.flush();
                    return Ok(());
                }
                "error" => {
                    let _ = writeln!(stdout);
                    return Err(error_message(&data.to_string()).unwrap_or_else(|| "the answer failed".to_owned()));
                }
                _ => {}
            }
        }
    }
    Err("the answer ended before it was complete".to_owned())
}

/// The citations of a finished answer, numbered as the answer cites them.
fn sources(done: &Value) -> String {
    let citations = done["citations"].as_array().map(Vec::as_slice).unwrap_or_default();
    let model = done["model"].as_str().unwrap_or("?");
    if citations.is_empty() {
        return format!("(answered by {model}; no sources)\n");
    }
    let mut out = format!("Sources (answered by {model}):\n");
    for (i, citation) in citations.iter().enumerate() {
        let title = citation["title"].as_str().unwrap_or_default();
        let id = citation["item_id"].as_str().unwrap_or_default();
        let passage: String = citation["passage"].as_str().unwrap_or_default().chars().take(160).collect();
        out.push_str(&format!("  [{}] {title} ({id})\n      {passage}\n", i + 1));
    }
    out
}

/// The message of an error envelope.
fn error_message(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    value["error"]["message"].as_str().map(str::to_owned)
}

/// Splits a Server-Sent Events body into `(event, data)` pairs as bytes arrive.
#[derive(Debug, Default)]
struct EventReader {
    buffer: Vec<u8>,
    event: String,
    data: String,
}

impl EventReader {
    fn push(&mut self, bytes: &[u8]) -> Vec<(String, String)> {
        self.buffer.extend_from_slice(bytes);
        let mut complete = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !self.data.is_empty() {
                    complete.push((std::mem::take(&mut self.event), std::mem::take(&mut self.data)));
                }
                self.event.clear();
            } else if let Some(name) = line.strip_prefix("event:") {
                self.event = name.trim().to_owned();
            } else if let Some(data) = line.strip_prefix("data:") {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(data.strip_prefix(' ').unwrap_or(data));
            }
        }
        complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_chunks_come_out_whole() {
        let mut reader = EventReader::default();
        assert!(reader.push(b"event: delta\ndata: {\"te").is_empty());
        let events = reader.push(b"xt\":\"a\"}\n\n: keep-alive\n\nevent: done\ndata: {}\n\n");
        assert_eq!(events, [("delta".to_owned(), "{\"text\":\"a\"}".to_owned()), ("done".to_owned(), "{}".to_owned())]);
    }
}
