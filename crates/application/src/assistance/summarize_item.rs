//! A summary of one item the caller may read.

use ai::{Request, Source};
use tokio::sync::mpsc::UnboundedSender;

use super::{AiAnswer, bounded};
use crate::{App, AppError, Store, TenantContext};

impl<S: Store> App<S> {
    /// Summarizes item `id` (routed as `quick_summary`).
    pub async fn summarize_item(
        &self,
        ctx: &TenantContext,
        id: &str,
        local_only: bool,
        sink: Option<&UnboundedSender<String>>,
    ) -> Result<AiAnswer, AppError> {
        let item = self.get_item(ctx, id).await?;
        let source = Source { item_id: item.id, title: item.title, text: bounded(&item.body) };
        self.assist(ctx, Request::Summarize { source }, local_only, sink).await
    }
}
