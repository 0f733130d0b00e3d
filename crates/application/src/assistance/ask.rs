//! A question answered from the knowledge base the caller may read, with citations: the best
//! items of a hybrid search are the sources.

use ai::{Request, Source};
use search::Filters;
use search::hybrid::Mode;
use tokio::sync::mpsc::UnboundedSender;

use super::{AiAnswer, bounded};
use crate::queries::search_items::SearchItems;
use crate::{App, AppError, Store, TenantContext};

/// Items an answer draws on at most.
const SOURCES: usize = 5;
/// The longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 2_000;

/// What the caller asks.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub question: String,
    /// Only this engagement's items.
    pub engagement: Option<String>,
    pub local_only: bool,
}

impl<S: Store> App<S> {
    /// Answers `input.question` (routed as `knowledge_qa`).
    pub async fn ask(
        &self,
        ctx: &TenantContext,
        input: Ask,
        sink: Option<&UnboundedSender<String>>,
    ) -> Result<AiAnswer, AppError> {
        let question = input.question.trim();
        if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
            return Err(AppError::Domain(domain::DomainError::validation(
                "question",
                format!("must be 1 to {MAX_QUESTION_CHARS} characters"),
            )));
        }
        if let Some(engagement) = &input.engagement {
            self.get_engagement(ctx, engagement).await?;
        }
        let found = self
            .search_items(
                ctx,
                SearchItems {
                    text: question.to_owned(),
                    mode: Mode::Hybrid,
                    filters: Filters { engagement: input.engagement.clone(), ..Filters::default() },
                    limit: SOURCES,
                    offset: 0,
                },
            )
            .await?;
        let mut sources = Vec::with_capacity(found.page.hits.len());
        for hit in found.page.hits {
            // The index may trail a trash or a permission change by a moment; the read model decides.
            match self.get_item(ctx, &hit.id).await {
                Ok(item) => sources.push(Source { item_id: item.id, title: item.title, text: bounded(&item.body) }),
                Err(AppError::NotFound(_)) => continue,
                Err(other) => return Err(other),
            }
        }
        let request = Request::Answer { question: question.to_owned(), sources };
        self.assist(ctx, request, input.local_only, sink).await
    }
}
