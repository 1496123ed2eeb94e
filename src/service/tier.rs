//! The persistent tier as the request path sees it: one wrapper around the optional
//! [`SnapshotStore`] that owns the store timeout, the lazy `prepare` and the key, so a
//! store call is one line (`self.store.at(&keys.store).load_latest().await`).
//!
//! Owns bounding every store call by `STORE_TIMEOUT_MS` and preparing the store on first
//! use (again after a failed save). It must never decide freshness or drift, and never
//! turn a store failure into a panic: every call answers `None` (no store configured)
//! or `Some(Result)`.

use crate::store::{NewSnapshot, SnapshotStore, StoreError, StoreKey, StoredSnapshot};
use model::api::{SnapshotSummary, StoreKind};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The optional store, its readiness and its time bound.
pub(crate) struct StoreTier {
    store: Option<Arc<dyn SnapshotStore>>,
    ready: AtomicBool,
    timeout: Duration,
}

/// The store tier bound to one (connection, schemas) key.
pub(crate) struct StoreAt<'a> {
    tier: &'a StoreTier,
    key: &'a StoreKey,
}

impl StoreTier {
    pub(crate) fn new(store: Option<Arc<dyn SnapshotStore>>, timeout: Duration) -> StoreTier {
        StoreTier {
            store,
            ready: AtomicBool::new(false),
            timeout,
        }
    }

    /// Which store this is (`none` when memory-only).
    pub(crate) fn kind(&self) -> StoreKind {
        self.store.as_ref().map_or(StoreKind::None, |s| s.kind())
    }

    pub(crate) fn is_configured(&self) -> bool {
        self.store.is_some()
    }

    /// The calls about one key.
    pub(crate) fn at<'a>(&'a self, key: &'a StoreKey) -> StoreAt<'a> {
        StoreAt { tier: self, key }
    }

    /// Prepares the store now (migrations, table check); `None` when memory-only.
    pub(crate) async fn prepare(&self) -> Option<Result<(), StoreError>> {
        self.run(|_| async { Ok(()) }).await
    }

    /// Runs a store call bounded by the store timeout, preparing the store (migrations,
    /// table check) on first use, and again after a failed save.
    pub(crate) async fn run<T, F, Fut>(&self, op: F) -> Option<Result<T, StoreError>>
    where
        F: FnOnce(Arc<dyn SnapshotStore>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let store = self.store.clone()?;
        let budget = self.timeout;
        let work = async {
            if !self.ready.load(Ordering::Acquire) {
                store.prepare().await?;
                self.ready.store(true, Ordering::Release);
            }
            op(store).await
        };
        Some(
            tokio::time::timeout(budget, work)
                .await
                .unwrap_or(Err(StoreError::Timeout(budget.as_millis() as u64))),
        )
    }
}

impl StoreAt<'_> {
    /// Several calls about this key under one time bound (e.g. the latest and its
    /// predecessor, read together).
    pub(crate) async fn run<T, F, Fut>(&self, op: F) -> Option<Result<T, StoreError>>
    where
        F: FnOnce(Arc<dyn SnapshotStore>, StoreKey) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let key = self.key.clone();
        self.tier.run(|s| op(s, key)).await
    }

    pub(crate) async fn load_latest(&self) -> Option<Result<Option<StoredSnapshot>, StoreError>> {
        self.run(|s, key| async move { s.load_latest(&key).await })
            .await
    }

    pub(crate) async fn latest_summary(
        &self,
    ) -> Option<Result<Option<SnapshotSummary>, StoreError>> {
        self.run(|s, key| async move { s.latest_summary(&key).await })
            .await
    }

    pub(crate) async fn load(
        &self,
        id: &str,
    ) -> Option<Result<Option<StoredSnapshot>, StoreError>> {
        self.run(|s, key| async move { s.load(&key, id).await })
            .await
    }

    pub(crate) async fn history(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> Option<Result<Vec<SnapshotSummary>, StoreError>> {
        self.run(|s, key| async move { s.history(&key, limit, before).await })
            .await
    }

    /// Saves `new` as the latest; after a failure the store is prepared again on next use.
    pub(crate) async fn save(&self, new: &NewSnapshot) -> Option<Result<String, StoreError>> {
        let saved = self
            .run(|s, key| async move { s.save(&key, new).await })
            .await;
        if let Some(Err(_)) = saved {
            self.tier.ready.store(false, Ordering::Release);
        }
        saved
    }

    pub(crate) async fn try_lease(
        &self,
        holder: &str,
        ttl: Duration,
    ) -> Option<Result<bool, StoreError>> {
        self.run(|s, key| async move { s.try_lease(&key, holder, ttl).await })
            .await
    }

    pub(crate) async fn release_lease(&self, holder: &str) -> Option<Result<(), StoreError>> {
        self.run(|s, key| async move { s.release_lease(&key, holder).await })
            .await
    }
}
