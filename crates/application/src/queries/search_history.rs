//! The caller's recent searches in the organization it acts in, most recent first.

use store::search_history::SearchRecord;

use crate::{App, AppError, Principal, Store};

impl<S: Store> App<S> {
    pub async fn search_history(&self, principal: &Principal) -> Result<Vec<SearchRecord>, AppError> {
        let ctx = &principal.ctx;
        Ok(self.store.search_history(ctx.org.as_str(), ctx.actor.as_str()).await?)
    }
}
