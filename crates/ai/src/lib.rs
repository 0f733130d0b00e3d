//! AI orchestration (DESIGN section 8): the tasks the product asks of a model, the providers
//! that answer them (any OpenAI-compatible endpoint, and a built-in extractive `local` one that
//! works offline), task-to-model routing with fallbacks, a circuit breaker and bounded
//! concurrency per model, pseudonymization of client data before a prompt leaves the process,
//! costs per call, monthly budgets and a response cache.
//!
//! This crate knows nothing of storage or HTTP: the application layer gathers the sources,
//! the sensitive names and the month's spending, calls [`Assistant::run`], and records the
//! [`Attempt`]s it returns.

pub mod assistant;
pub mod breaker;
pub mod config;
pub mod local;
pub mod openai;
pub mod prompt;
pub mod redaction;

use serde::{Deserialize, Serialize};

pub use assistant::{Assistant, Attempt, AttemptStatus, Budget, Call, Reply};
pub use config::{AiConfig, ConfigError, ModelConfig, ProviderKind};
pub use redaction::{Redaction, SensitiveName};

/// What the product asks of a model; the routing matrix maps each to an ordered list of models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    QuickSummary,
    KnowledgeQa,
    RiskAssessment,
    TechnicalDocs,
    Realtime,
}

impl Task {
    /// Every task.
    pub const ALL: [Task; 5] =
        [Task::QuickSummary, Task::KnowledgeQa, Task::RiskAssessment, Task::TechnicalDocs, Task::Realtime];

    /// The task's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::QuickSummary => "quick_summary",
            Task::KnowledgeQa => "knowledge_qa",
            Task::RiskAssessment => "risk_assessment",
            Task::TechnicalDocs => "technical_docs",
            Task::Realtime => "realtime",
        }
    }
}

/// A piece of the knowledge base a request draws on.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub item_id: String,
    pub title: String,
    pub text: String,
}

impl Source {
    /// A citation of `passage`, which must be a substring of this source's text.
    pub fn cite(&self, passage: &str) -> Citation {
        Citation { item_id: self.item_id.clone(), title: self.title.clone(), passage: passage.to_owned() }
    }
}

/// A cited passage: the item it comes from and the words quoted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    pub item_id: String,
    pub title: String,
    pub passage: String,
}

/// One piece of AI work, in terms both kinds of provider understand: the local provider works
/// on the structure, a language model on the prompt built from it ([`prompt::messages`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Summarize one item.
    Summarize { source: Source },
    /// Answer a question from retrieved sources, citing them.
    Answer { question: String, sources: Vec<Source> },
    /// A risk checklist for an engagement from its items and the organization's lessons.
    AssessRisks { engagement: String, sources: Vec<Source>, lessons: Vec<Source> },
    /// A template's `{{placeholders}}` filled from an engagement's knowledge: `known` values
    /// (the client's name, the date) as given, the others from the sources.
    DraftTemplate { template: String, placeholders: Vec<String>, known: Vec<(String, String)>, sources: Vec<Source> },
    /// Tags for an item, preferring the organization's `existing` tags.
    SuggestTags { source: Source, existing: Vec<String> },
}

impl Request {
    /// The task this request is routed as.
    pub fn task(&self) -> Task {
        match self {
            Request::Summarize { .. } => Task::QuickSummary,
            Request::Answer { .. } => Task::KnowledgeQa,
            Request::AssessRisks { .. } => Task::RiskAssessment,
            Request::DraftTemplate { .. } => Task::TechnicalDocs,
            Request::SuggestTags { .. } => Task::Realtime,
        }
    }

    /// Every source, in the order the prompt numbers them.
    pub fn sources(&self) -> Vec<&Source> {
        match self {
            Request::Summarize { source } | Request::SuggestTags { source, .. } => vec![source],
            Request::DraftTemplate { sources, .. } => sources.iter().collect(),
            Request::Answer { sources, .. } => sources.iter().collect(),
            Request::AssessRisks { sources, lessons, .. } => sources.iter().chain(lessons).collect(),
        }
    }
}
