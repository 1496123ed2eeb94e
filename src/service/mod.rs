//! The request path (ARCHITECTURE.md, "The request path"), top to bottom in one place:
//! memory tier -> persistent tier -> fresh read (single flight) -> drift -> persist ->
//! memory tier.
//!
//! Owns the order of the tiers, the `Service` every endpoint calls, and naming a request
//! ([`Service::resolve`]). Each step lives beside it: [`tier`] (store calls), [`catalog`]
//! (the target database, the seam unit tests replace), [`latest`]
//! (loaders), [`fresh`] (read, single flight, publish), [`lease`] (the cross-process
//! read lease), [`visible`], [`diff`], [`history`], [`export`], [`time`]. It must never hand a URL or
//! credential to a log, a key or a response (only connection keys leave here), and a
//! persistence failure must never cost the caller the fresh snapshot.

mod catalog;
mod diff;
mod drift;
mod export;
mod fresh;
mod history;
mod latest;
mod lease;
mod tier;
pub mod time;
mod visible;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

use crate::cache::{CachedSnapshot, MemoryTier};
use crate::config::Config;
use crate::connkey::{self, Target};
use crate::error::ApiError;
use crate::store::{SnapshotStore, StoreKey};
use catalog::{CatalogReader, PostgresCatalog};
use model::api::{
    CacheInfo, Connection, PerformedRefresh, Persistence, Refresh, RefreshInfo, SnapshotRequest,
    Source, StoreKind,
};
use std::collections::HashMap;
use std::sync::Arc;
use tier::StoreTier;

pub use self::export::Exported;
pub use self::time::now_iso;

/// A snapshot as the service answers it; `http` writes it around the cached JSON.
pub struct SnapshotOutcome {
    pub cached: Arc<CachedSnapshot>,
    pub cache: CacheInfo,
    pub persistence: Persistence,
    pub refresh: RefreshInfo,
}

/// The request path's state: configuration, the two tiers, the catalog reader,
/// in-flight reads, leases. Everything is per instance (no process-wide state), so a
/// test can run several services side by side.
pub struct Service {
    cfg: Arc<Config>,
    memory: MemoryTier,
    store: StoreTier,
    catalog: Arc<dyn CatalogReader>,
    flights: std::sync::Mutex<HashMap<String, fresh::Flight>>,
    /// Read leases this process took (or may have: the answer was lost) and could not
    /// give back, by cache key (see [`lease`]).
    unreleased: std::sync::Mutex<HashMap<String, Vec<String>>>,
}

/// Names of one (connection, schemas) pair: never a credential.
#[derive(Clone)]
struct Keys {
    store: StoreKey,
    cache: String,
}

/// A request named and validated: what every step after [`Service::resolve`] needs.
struct Resolved {
    keys: Keys,
    /// The only holder of the target URL; dropped once connected.
    target: Target,
    schemas: Vec<String>,
    workspace: Option<String>,
}

impl Service {
    pub fn new(cfg: Arc<Config>, store: Option<Arc<dyn SnapshotStore>>) -> Arc<Service> {
        let catalog = Arc::new(PostgresCatalog { cfg: cfg.clone() });
        Service::with_catalog(cfg, store, catalog)
    }

    /// A service reading catalogs through `catalog` (tests pass an in-process one).
    pub(crate) fn with_catalog(
        cfg: Arc<Config>,
        store: Option<Arc<dyn SnapshotStore>>,
        catalog: Arc<dyn CatalogReader>,
    ) -> Arc<Service> {
        Arc::new(Service {
            memory: MemoryTier::new(cfg.mem_ttl, cfg.mem_max_bytes),
            store: StoreTier::new(store, cfg.store_timeout),
            catalog,
            cfg,
            flights: std::sync::Mutex::new(HashMap::new()),
            unreleased: std::sync::Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn store_kind(&self) -> StoreKind {
        self.store.kind()
    }

    pub fn memory(&self) -> &MemoryTier {
        &self.memory
    }

    /// Prepares the store now (local start), logging rather than failing.
    pub async fn prepare_store(&self) {
        if let Some(Err(e)) = self.store.prepare().await {
            tracing::warn!(store = %self.store_kind(), error = %e,
                "snapshot store not ready; will retry on first use");
        }
    }

    /// POST /api/v1/introspect/postgres/snapshot
    pub async fn snapshot(
        self: &Arc<Self>,
        req: SnapshotRequest,
    ) -> Result<SnapshotOutcome, ApiError> {
        let resolved = self.resolve(&req.connection)?;
        let keys = &resolved.keys;
        match req.refresh {
            Refresh::Cache => {
                let served = RefreshInfo::plain(Refresh::Cache, PerformedRefresh::Cache);
                // 1. Memory tier.
                if let Some(hit) = self.memory.get(&keys.cache) {
                    tracing::info!(key = %keys.cache, source = "mem", "snapshot served");
                    return Ok(self.outcome(keys, Source::Mem, hit.value, served));
                }
                // 2. Persistent tier, when its latest is young enough.
                if let Some(cached) = self.stored_latest_if_young(keys).await {
                    tracing::info!(key = %keys.cache, source = "db", "snapshot served");
                    self.memory.put(&keys.cache, cached.clone());
                    return Ok(self.outcome(keys, Source::Db, cached, served));
                }
                // 3. Fresh read.
                let refresh = RefreshInfo::plain(Refresh::Cache, PerformedRefresh::Full);
                self.full_read(resolved, refresh).await
            }
            Refresh::Force => {
                let refresh = RefreshInfo::plain(Refresh::Force, PerformedRefresh::Full);
                self.full_read(resolved, refresh).await
            }
            Refresh::Visible => self.visible_read(resolved, req.visible_tables).await,
        }
    }

    /// Validates the target (raw URL or configured connection id) and names the
    /// (connection, schemas) pair. The returned [`Target`] is the only holder of the URL.
    fn resolve(&self, conn: &Connection) -> Result<Resolved, ApiError> {
        let target = if let Some(url) = &conn.target_database_url {
            if !self.cfg.allow_raw_database_url {
                return Err(ApiError::bad(
                    "targetDatabaseUrl",
                    "raw database URLs are disabled here (ALLOW_RAW_DATABASE_URL=false); send a connectionId",
                ));
            }
            connkey::parse_target(url)
                .map_err(|m| ApiError::bad("targetDatabaseUrl", format!("targetDatabaseUrl {m}")))?
        } else if let Some(id) = &conn.connection_id {
            let url = self.cfg.connections.get(id).ok_or_else(|| {
                ApiError::bad("connectionId", format!("unknown connectionId {id:?}"))
            })?;
            connkey::parse_target(url)
                .map_err(|m| ApiError::Internal(format!("configured connection {id:?}: URL {m}")))?
        } else {
            return Err(ApiError::bad(
                "targetDatabaseUrl",
                "one of targetDatabaseUrl or connectionId is required",
            ));
        };
        let schemas = connkey::normalize_schemas(&conn.schemas);
        let connection_key = target.connection_key(
            &self.cfg.connection_key_secret,
            conn.workspace_id.as_deref(),
        );
        let schemas_key = connkey::schemas_key(&schemas);
        let keys = Keys {
            cache: connkey::cache_key(&connection_key, &schemas_key),
            store: StoreKey {
                connection_key,
                schemas_key,
            },
        };
        Ok(Resolved {
            keys,
            target,
            schemas,
            workspace: conn.workspace_id.clone(),
        })
    }

    /// The target policy's verdict, before any connection: the addresses to pin to, or
    /// a 403 naming the refused host.
    async fn check_target(&self, target: &Target) -> Result<Vec<std::net::IpAddr>, ApiError> {
        self.cfg
            .target_policy
            .check(target.config())
            .await
            .map_err(|refused| {
                tracing::warn!(reason = %refused, "target refused by the allowlist");
                ApiError::Forbidden(refused.0)
            })
    }

    /// The answer for `cached`, served from `source`.
    fn outcome(
        &self,
        keys: &Keys,
        source: Source,
        cached: Arc<CachedSnapshot>,
        refresh: RefreshInfo,
    ) -> SnapshotOutcome {
        SnapshotOutcome {
            cache: self.cache_info(keys, source != Source::Fresh, source, &cached),
            persistence: self.persistence_of(&cached),
            cached,
            refresh,
        }
    }

    fn persistence_of(&self, cached: &CachedSnapshot) -> Persistence {
        Persistence {
            store: self.store_kind(),
            saved: cached.stored_id.is_some(),
            snapshot_id: cached.stored_id.clone(),
            error: None,
        }
    }

    fn cache_info(
        &self,
        keys: &Keys,
        hit: bool,
        source: Source,
        cached: &CachedSnapshot,
    ) -> CacheInfo {
        CacheInfo {
            hit,
            source,
            key: keys.cache.clone(),
            ttl_ms: self.cfg.mem_ttl.as_millis() as u64,
            max_age_ms: self
                .store
                .is_configured()
                .then(|| self.cfg.db_max_age.as_millis() as u64),
            age_ms: time::millis(time::age_of(&cached.captured_at)),
        }
    }
}
