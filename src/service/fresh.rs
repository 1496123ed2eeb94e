//! The fresh read: a whole-catalog read through the single flight of its key, then
//! publishing it (drift, persist, memory tier).
//!
//! Owns single flight (one read per key per process, run in its own task so a caller
//! that goes away cancels nothing) and publishing. It must never let a persistence
//! failure cost the caller the snapshot it read, and never read the catalog when
//! another process's read under the lease can be served instead (see [`super::lease`]).

use super::lease::LeaseOutcome;
use super::time::{age_of, now_iso};
use super::{Keys, Resolved, Service, SnapshotOutcome};
use crate::cache::{drift_like_with_like, CachedSnapshot};
use crate::error::ApiError;
use crate::store::{NewSnapshot, StoreError};
use model::api::{Persistence, Refresh, RefreshInfo, SnapshotSummary, Source, StoreKind};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The result of one fresh read, shared by every caller that joined its flight.
pub(super) struct FreshOutcome {
    pub(super) cached: Arc<CachedSnapshot>,
    pub(super) persistence: Persistence,
    /// `Fresh`, or `Db` when another process's read (under the lease) was served.
    pub(super) source: Source,
}

pub(super) type Flight = Arc<OnceCell<Result<Arc<FreshOutcome>, ApiError>>>;

impl Service {
    /// A fresh full read through the single flight of its key.
    pub(super) async fn full_read(
        self: &Arc<Self>,
        resolved: Resolved,
        refresh: RefreshInfo,
    ) -> Result<SnapshotOutcome, ApiError> {
        let keys = resolved.keys.clone();
        let fresh = self
            .single_flight(&keys.cache, {
                let this = self.clone();
                let reuse_young = refresh.requested == Refresh::Cache;
                async move { this.fresh(resolved, reuse_young).await }
            })
            .await?;
        Ok(SnapshotOutcome {
            cache: self.cache_info(
                &keys,
                fresh.source != Source::Fresh,
                fresh.source,
                &fresh.cached,
            ),
            cached: fresh.cached.clone(),
            persistence: fresh.persistence.clone(),
            refresh,
        })
    }

    /// Joins the in-flight read for `key`, or starts `work` as it. The work runs in its
    /// own task, so a caller that goes away does not cancel a read others wait on, and a
    /// save is never cut in half.
    pub(super) async fn single_flight<F>(
        &self,
        key: &str,
        work: F,
    ) -> Result<Arc<FreshOutcome>, ApiError>
    where
        F: Future<Output = Result<Arc<FreshOutcome>, ApiError>> + Send + 'static,
    {
        let flight: Flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            flights.entry(key.to_string()).or_default().clone()
        };
        let result = flight
            .get_or_init(|| async move {
                tokio::spawn(work).await.unwrap_or_else(|e| {
                    Err(ApiError::Internal(format!("catalog read task failed: {e}")))
                })
            })
            .await
            .clone();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if flights.get(key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(key);
        }
        result
    }

    /// Reads the whole catalog and publishes the result, unless another process holds
    /// the read lease for this key: then waits for its snapshot to appear in the store
    /// and serves that (one catalog read per lease across containers).
    async fn fresh(
        self: Arc<Self>,
        resolved: Resolved,
        reuse_young: bool,
    ) -> Result<Arc<FreshOutcome>, ApiError> {
        let Resolved {
            keys,
            target,
            schemas,
            workspace,
            ..
        } = resolved;
        self.release_leftover_leases(&keys).await;
        let seen = self.latest_known_summary(&keys).await;
        // One holder id per process: single flight means this process never reads one
        // key twice at once, so a lease it holds (even one it could not give back after
        // a store outage) is its own to renew, never one to wait on.
        let holder = self.lease_holder.clone();
        let lease = match self.take_lease_or_wait(&keys, &holder, seen.as_ref()).await {
            LeaseOutcome::Served(outcome) => return Ok(Arc::new(outcome)),
            other => other,
        };
        // Double-check under the lease: another process may have stored a snapshot
        // between this request's store lookup and taking the lease.
        let previous = match lease {
            LeaseOutcome::Held => self.latest_known_summary(&keys).await,
            _ => seen,
        };
        let young = previous
            .as_ref()
            .is_some_and(|p| age_of(&p.captured_at) <= self.cfg.db_max_age);
        if reuse_young && young && self.store.is_configured() {
            if let Some(cached) = self.stored_latest_if_young(&keys).await {
                self.release(&keys, &holder, &lease).await;
                self.memory.put(&keys.cache, cached.clone());
                return Ok(Arc::new(FreshOutcome {
                    persistence: self.persistence_of(&cached),
                    cached,
                    source: Source::Db,
                }));
            }
        }
        let result = async {
            let pinned = self.check_target(&target).await?;
            // With an earlier snapshot, a requested schema that is gone was removed
            // (drift, everything in it removed), not a bad request.
            let (snapshot, json) = if previous.is_some() {
                self.catalog
                    .read_all_removing_missing(target, &pinned, &schemas, now_iso())
                    .await?
            } else {
                self.catalog
                    .read_all(target, &pinned, &schemas, now_iso())
                    .await?
            };
            self.credentials_worked(&keys);
            self.publish(&keys, snapshot, json, previous, workspace)
                .await
        }
        .await;
        self.release(&keys, &holder, &lease).await;
        result.map(Arc::new)
    }

    /// Compares a sealed snapshot (and its JSON) with the latest known signatures,
    /// persists it, and puts it in the memory tier. A persistence failure is reported,
    /// not raised.
    pub(super) async fn publish(
        &self,
        keys: &Keys,
        snapshot: model::Snapshot,
        json: Vec<u8>,
        previous: Option<SnapshotSummary>,
        workspace_id: Option<String>,
    ) -> Result<FreshOutcome, ApiError> {
        let mut drift = drift_like_with_like(
            previous.as_ref(),
            &snapshot.meta.signature,
            &snapshot.meta.deep_signature,
            || Some(Arc::new(snapshot.clone())),
        );
        self.settle_drift(keys, &snapshot, previous.as_ref(), &mut drift)
            .await;
        if drift.changed_since_last {
            tracing::info!(key = %keys.public, "schema changed since the last snapshot");
        }
        let table_count = snapshot.meta.table_count;
        let mut cached = CachedSnapshot::from_snapshot_json(snapshot, json, drift);

        let new = NewSnapshot {
            workspace_id,
            captured_at: cached.captured_at.clone(),
            signature: cached.signature.clone(),
            deep_signature: cached.deep_signature.clone(),
            table_count,
            json: cached.json.clone(),
        };
        let saved = if keys.provisional && self.store.is_configured() {
            // Keyed by a stand-in secret (the kept one could not be read): a save
            // would start a history nobody finds again.
            Some(Err(StoreError::Unavailable(
                "the connection-key secret could not be read from the store".into(),
            )))
        } else {
            self.store.at(&keys.store).save(&new).await
        };
        let persistence = match saved {
            None => Persistence {
                store: StoreKind::None,
                saved: false,
                snapshot_id: None,
                error: Some("memory-only: no persistent store is configured".into()),
            },
            Some(Ok(id)) => {
                cached = cached.with_stored_id(Some(id.clone()));
                Persistence {
                    store: self.store_kind(),
                    saved: true,
                    snapshot_id: Some(id),
                    error: None,
                }
            }
            Some(Err(e)) => {
                tracing::error!(key = %keys.public, store = %self.store_kind(), error = %e,
                    "snapshot was read but could not be persisted");
                Persistence {
                    store: self.store_kind(),
                    saved: false,
                    snapshot_id: None,
                    // The store's own text went to the log above.
                    error: Some(format!(
                        "snapshot not persisted: {}",
                        crate::error::store_failure(&e)
                    )),
                }
            }
        };
        let cached = Arc::new(cached);
        self.memory.put(&keys.cache, cached.clone());
        tracing::info!(key = %keys.public, source = "fresh", tables = table_count,
            saved = persistence.saved, "snapshot served");
        Ok(FreshOutcome {
            cached,
            persistence,
            source: Source::Fresh,
        })
    }
}
