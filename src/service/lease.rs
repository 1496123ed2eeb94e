//! The cross-process read lease (ARCHITECTURE.md, "Leases"): one catalog read of a key
//! at a time across every process sharing the store.
//!
//! Owns taking the lease or waiting for the holder's snapshot, giving it back, and
//! remembering leases this process could not give back. It must never make a request
//! wait longer than half its budget on another process, and never wait on a lease this
//! process itself left behind.

use super::fresh::FreshOutcome;
use super::{Keys, Service};
use model::api::{SnapshotSummary, Source};
use std::time::Duration;

/// How a fresh read relates to the cross-process read lease.
pub(super) enum LeaseOutcome {
    /// This process holds the lease: read, then release.
    Held,
    /// No store (or it failed, or the wait ran out): read without a lease.
    NoStore,
    /// Another process's read finished while waiting: serve it.
    Served(FreshOutcome),
}

/// How often a process waiting on another's read lease looks for its snapshot.
const LEASE_POLL: Duration = Duration::from_millis(100);

/// Unreleased leases of this process remembered per key (see `Service::unreleased`).
const MAX_UNRELEASED_PER_KEY: usize = 4;

impl Service {
    pub(super) async fn release(&self, keys: &Keys, holder: &str, lease: &LeaseOutcome) {
        if !matches!(lease, LeaseOutcome::Held) {
            return;
        }
        if let Some(Err(e)) = self.store.at(&keys.store).release_lease(holder).await {
            tracing::warn!(key = %keys.public, error = %e,
                "read lease not released; released before this process next reads the key, else it expires by itself");
            self.remember_unreleased(keys, holder);
        }
    }

    /// Remembers `holder` as a lease of this process to give back (the newest few per
    /// key: older ones have expired by the time more pile up). Single flight means this
    /// process never reads one key twice at once, so when it reads that key again they
    /// are stale: it releases them first instead of waiting on its own dead lease.
    fn remember_unreleased(&self, keys: &Keys, holder: &str) {
        let mut unreleased = self.unreleased.lock().unwrap_or_else(|p| p.into_inner());
        let holders = unreleased.entry(keys.cache.clone()).or_default();
        holders.push(holder.to_string());
        if holders.len() > MAX_UNRELEASED_PER_KEY {
            holders.remove(0);
        }
    }

    /// Gives back the leases this process could not release on earlier reads of this
    /// key (e.g. the store crashed mid-read, then came back): without this, the next
    /// read would wait on a lease nobody holds any more. Best effort: those still not
    /// released are kept for the next time.
    pub(super) async fn release_leftover_leases(&self, keys: &Keys) {
        let holders = {
            let mut unreleased = self.unreleased.lock().unwrap_or_else(|p| p.into_inner());
            unreleased.remove(&keys.cache).unwrap_or_default()
        };
        let mut holders = holders.into_iter();
        while let Some(holder) = holders.next() {
            let released = self.store.at(&keys.store).release_lease(&holder).await;
            if let Some(Err(_)) = released {
                // The store is still failing: keep them all for next time, try no more.
                for h in std::iter::once(holder).chain(holders) {
                    self.remember_unreleased(keys, &h);
                }
                return;
            }
        }
    }

    /// Takes the read lease; when another process holds it, polls the store until that
    /// process's snapshot replaces `previous` (then serves it), or the lease frees up
    /// (then holds it), or the lease time runs out (then reads without it).
    pub(super) async fn take_lease_or_wait(
        &self,
        keys: &Keys,
        holder: &str,
        previous: Option<&SnapshotSummary>,
    ) -> LeaseOutcome {
        let ttl = self.cfg.request_timeout;
        let started = tokio::time::Instant::now();
        let mut waited = false;
        let store = self.store.at(&keys.store);
        loop {
            match store.try_lease(holder, ttl).await {
                None => return LeaseOutcome::NoStore,
                Some(Ok(true)) => return LeaseOutcome::Held,
                Some(Err(e)) => {
                    tracing::warn!(key = %keys.public, error = %e,
                        "read lease unavailable; reading without it");
                    // The lease may have been taken all the same (an answer lost).
                    self.remember_unreleased(keys, holder);
                    return LeaseOutcome::NoStore;
                }
                Some(Ok(false)) => {}
            }
            if !waited {
                tracing::info!(key = %keys.public, "another process is reading this catalog; waiting for its snapshot");
                waited = true;
            }
            // A holder that died keeps its lease until it expires (`ttl`, the whole
            // request budget): wait at most half the budget, so this request can still
            // read and answer rather than time out.
            if started.elapsed() + LEASE_POLL >= ttl / 2 {
                tracing::warn!(key = %keys.public, "waited out the read lease; reading without it");
                return LeaseOutcome::NoStore;
            }
            tokio::time::sleep(LEASE_POLL).await;
            if let Some(Ok(Some(latest))) = store.latest_summary().await {
                // The holder's save: a new id, or (an unchanged re-read refreshes the
                // latest in place, keeping its id) a later capture time.
                let newer = previous.is_none_or(|p| {
                    latest.captured_at > p.captured_at
                        || (p.id != latest.id && p.captured_at == latest.captured_at)
                });
                if newer {
                    if let Some(cached) = self.stored_latest_with_drift(keys).await {
                        self.memory.put(&keys.cache, cached.clone());
                        return LeaseOutcome::Served(FreshOutcome {
                            persistence: self.persistence_of(&cached),
                            cached,
                            source: Source::Db,
                        });
                    }
                }
            }
        }
    }
}
