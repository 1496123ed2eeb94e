//! The latest known snapshot of a key, in the forms the request path needs; each loader
//! is named for what it returns.
//!
//! Owns reading the store's latest (and its predecessor, for drift) and falling back to
//! the memory tier's last entry. It must never fail a request: a store failure is
//! logged and counts as "nothing stored".

use super::time::age_of;
use super::{Keys, Service};
use crate::cache::{drift_like_with_like, CachedSnapshot};
use model::api::SnapshotSummary;
use std::sync::Arc;
use std::time::Duration;

impl Service {
    /// The store's latest if it is within the max age (`DB_MAX_AGE_MS`), with its drift
    /// against its predecessor.
    pub(super) async fn stored_latest_if_young(&self, keys: &Keys) -> Option<Arc<CachedSnapshot>> {
        self.stored_latest_with_drift_within(keys, Some(self.cfg.db_max_age))
            .await
    }

    /// The store's latest whatever its age, with its drift against its predecessor.
    pub(super) async fn stored_latest_with_drift(
        &self,
        keys: &Keys,
    ) -> Option<Arc<CachedSnapshot>> {
        self.stored_latest_with_drift_within(keys, None).await
    }

    async fn stored_latest_with_drift_within(
        &self,
        keys: &Keys,
        max_age: Option<Duration>,
    ) -> Option<Arc<CachedSnapshot>> {
        let loaded = self
            .store
            .at(&keys.store)
            .run(|s, key| async move {
                let Some(latest) = s.load_latest(&key).await? else {
                    return Ok(None);
                };
                if max_age.is_some_and(|max| age_of(&latest.summary.captured_at) > max) {
                    return Ok(None);
                }
                let history = s.history(&key, 2, None).await?;
                Ok(Some((latest, history)))
            })
            .await?;
        match loaded {
            Ok(Some((latest, history))) => {
                let previous = history.iter().find(|h| h.id != latest.summary.id).cloned();
                let mut cached = CachedSnapshot::from_stored(latest);
                let mut drift = drift_like_with_like(
                    previous.as_ref(),
                    &cached.signature,
                    &cached.deep_signature,
                    || cached.snapshot().ok(),
                );
                if drift.changed_since_last {
                    if let Ok(current) = cached.snapshot() {
                        self.settle_drift(keys, &current, previous.as_ref(), &mut drift)
                            .await;
                    }
                }
                cached.drift = drift;
                Some(Arc::new(cached))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(key = %keys.public, store = %self.store_kind(), error = %e,
                    "snapshot store read failed; reading the catalog instead");
                None
            }
        }
    }

    /// The store's latest whatever its age, without drift (a base for merges).
    pub(super) async fn stored_latest_without_drift(
        &self,
        keys: &Keys,
    ) -> Option<Arc<CachedSnapshot>> {
        match self.store.at(&keys.store).load_latest().await? {
            Ok(latest) => latest.map(|l| Arc::new(CachedSnapshot::from_stored(l))),
            Err(e) => {
                tracing::warn!(key = %keys.public, error = %e, "snapshot store read failed");
                None
            }
        }
    }

    /// The latest known signatures for drift: the store's latest summary, or, without a
    /// store (or when it fails), the memory tier's last entry even if expired.
    pub(super) async fn latest_known_summary(&self, keys: &Keys) -> Option<SnapshotSummary> {
        match self.store.at(&keys.store).latest_summary().await {
            Some(Ok(summary)) => return summary,
            Some(Err(e)) => {
                tracing::warn!(key = %keys.public, error = %e,
                    "snapshot store read failed; drift compares with the memory tier");
            }
            None => {}
        }
        self.memory
            .get_any(&keys.cache)
            .map(|hit| hit.value.summary())
    }
}
