//! `POST .../history`: the stored snapshots of one key, newest first, a page at a time.
//!
//! Owns paging (`limit` plus one to know whether a next page exists, `nextBefore` as the
//! cursor) and the memory-only answer (the memory tier's one entry). It must never read
//! the catalog.

use super::Service;
use crate::error::ApiError;
use model::api::{HistoryRequest, HistoryResponse, HISTORY_MAX_LIMIT};

impl Service {
    /// POST /api/v1/introspect/postgres/history
    pub async fn history(&self, req: HistoryRequest) -> Result<HistoryResponse, ApiError> {
        let resolved = self.resolve(&req.connection).await?;
        self.prove_credentials(&resolved).await?;
        let keys = resolved.keys;
        let limit = req.limit.clamp(1, HISTORY_MAX_LIMIT);
        let before = req.before.as_deref();
        let mut items = match self.store.at(&keys.store).history(limit + 1, before).await {
            Some(result) => result?,
            None => self
                .memory
                .get_any(&keys.cache)
                .filter(|h| before.is_none_or(|b| h.value.captured_at.as_str() < b))
                .map(|h| vec![h.value.summary()])
                .unwrap_or_default(),
        };
        let next_before = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|i| i.captured_at.clone())
        } else {
            None
        };
        Ok(HistoryResponse {
            store: self.store_kind(),
            items,
            next_before,
        })
    }
}
