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
    /// The holder id of every read lease this process takes.
    lease_holder: String,
    /// The connection-key secret: configured, or generated and kept in the store (per
    /// process when memory-only). Read once.
    secret: tokio::sync::OnceCell<Vec<u8>>,
    /// Keys requests while the generated secret cannot be read (the store is down since
    /// start): fresh reads are still answered, and nothing is saved under these keys.
    fallback_secret: Vec<u8>,
    /// Connection-id keys whose snapshots under the previous key scheme this process
    /// has adopted (see [`Service::adopt_legacy`]).
    adopted: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Raw-URL connection keys and when their credentials last opened a connection.
    proven: std::sync::Mutex<HashMap<String, std::time::Instant>>,
}

/// Names of one (connection, schemas) pair: never a credential.
#[derive(Clone)]
struct Keys {
    store: StoreKey,
    /// The memory tier's key.
    cache: String,
    /// What responses and logs call the pair: keyed apart from the store key.
    public: String,
    /// For a connection id: its key under the previous scheme (an HMAC of the URL),
    /// whose snapshots are adopted.
    legacy: Option<StoreKey>,
    /// Made with a per-process secret because the kept one could not be read: the
    /// store is not written under them.
    provisional: bool,
}

/// A request named and validated: what every step after [`Service::resolve`] needs.
struct Resolved {
    keys: Keys,
    /// The only holder of the target URL; dropped once connected.
    target: Target,
    schemas: Vec<String>,
    workspace: Option<String>,
    /// A caller-supplied URL (raw-URL mode), whose credentials must keep working.
    raw: bool,
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
            lease_holder: format!("{:016x}", rand::random::<u64>()),
            secret: tokio::sync::OnceCell::new(),
            fallback_secret: (0..32).map(|_| rand::random::<u8>()).collect(),
            adopted: std::sync::Mutex::new(Default::default()),
            proven: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The connection-key secret (see the `secret` field). An error when it is generated
    /// and the store that keeps it cannot be read (tried again on the next request).
    async fn secret(&self) -> Result<&[u8], ApiError> {
        self.secret
            .get_or_try_init(|| async {
                if let Some(s) = &self.cfg.connection_key_secret {
                    return Ok(s.clone());
                }
                let candidate: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
                match self
                    .store
                    .run(|s| {
                        let c = candidate.clone();
                        async move { s.shared_secret(&c).await }
                    })
                    .await
                {
                    None => Ok(candidate),
                    Some(Ok(stored)) => Ok(stored),
                    Some(Err(e)) => {
                        tracing::error!(store = %self.store_kind(), error = %e,
                            "cannot read the generated connection-key secret from the store");
                        Err(ApiError::StoreUnavailable(format!(
                            "the connection-key secret is kept in the snapshot store, which failed: {}",
                            e.public_message()
                        )))
                    }
                }
            })
            .await
            .map(Vec::as_slice)
    }

    /// Moves a connection id's snapshots stored under the previous key scheme (an HMAC
    /// of the URL it resolved to) to its logical key, once per key and process; a
    /// failure is logged and tried again on the next request.
    async fn adopt_legacy(&self, keys: &Keys) {
        let Some(legacy) = &keys.legacy else { return };
        let done = |set: &std::collections::HashSet<String>| set.contains(&keys.cache);
        if done(&self.adopted.lock().unwrap_or_else(|p| p.into_inner())) {
            return;
        }
        match self
            .store
            .run(|s| {
                let (from, to) = (legacy.clone(), keys.store.clone());
                async move { s.adopt(&from, &to).await }
            })
            .await
        {
            None | Some(Ok(_)) => {
                self.adopted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(keys.cache.clone());
            }
            Some(Err(e)) => {
                tracing::warn!(key = %keys.public, error = %e,
                    "could not move snapshots stored under the previous key scheme; retried on the next request");
            }
        }
    }

    /// Raw-URL mode: before serving anything stored or cached to a caller-supplied URL,
    /// its credentials must have opened a connection within `DB_MAX_AGE_MS` (a revoked
    /// or rotated password stops reading). Connection ids are the operator's: exempt.
    async fn prove_credentials(&self, resolved: &Resolved) -> Result<(), ApiError> {
        if !resolved.raw {
            return Ok(());
        }
        let key = &resolved.keys.store.connection_key;
        let recent = self
            .proven
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .is_some_and(|at| at.elapsed() <= self.cfg.db_max_age);
        if recent {
            return Ok(());
        }
        let pinned = self.check_target(&resolved.target).await?;
        self.catalog.prove(&resolved.target, &pinned).await?;
        self.credentials_worked(&resolved.keys);
        Ok(())
    }

    /// Records that a raw URL's credentials just opened a connection.
    fn credentials_worked(&self, keys: &Keys) {
        let mut proven = self.proven.lock().unwrap_or_else(|p| p.into_inner());
        if proven.len() > 10_000 {
            let max_age = self.cfg.db_max_age;
            proven.retain(|_, at| at.elapsed() <= max_age);
        }
        proven.insert(keys.store.connection_key.clone(), std::time::Instant::now());
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
            return;
        }
        // Read (or create) the generated connection-key secret at start.
        let _ = self.secret().await;
    }

    /// POST /api/v1/introspect/postgres/snapshot
    pub async fn snapshot(
        self: &Arc<Self>,
        req: SnapshotRequest,
    ) -> Result<SnapshotOutcome, ApiError> {
        let resolved = self.resolve(&req.connection).await?;
        let keys = &resolved.keys;
        match req.refresh {
            Refresh::Cache => {
                let served = RefreshInfo::plain(Refresh::Cache, PerformedRefresh::Cache);
                // A hit is served to a raw URL only while its credentials still work
                // (proven at most DB_MAX_AGE_MS ago); a fresh read proves them itself.
                // 1. Memory tier.
                if let Some(hit) = self.memory.get(&keys.cache) {
                    self.prove_credentials(&resolved).await?;
                    tracing::info!(key = %keys.public, source = "mem", "snapshot served");
                    return Ok(self.outcome(keys, Source::Mem, hit.value, served));
                }
                // 2. Persistent tier, when its latest is young enough.
                if let Some(cached) = self.stored_latest_if_young(keys).await {
                    self.prove_credentials(&resolved).await?;
                    tracing::info!(key = %keys.public, source = "db", "snapshot served");
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
    ///
    /// A connection id is a logical connection, keyed by the id and workspace; one
    /// outside its configured workspaces is answered exactly as an unknown id.
    async fn resolve(&self, conn: &Connection) -> Result<Resolved, ApiError> {
        let workspace = conn.workspace_id.as_deref();
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
            let url = self
                .cfg
                .connections
                .get(id)
                .filter(|c| c.allows(workspace))
                .map(|c| &c.url)
                .ok_or_else(|| {
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
        let schemas_key = connkey::schemas_key(&schemas);
        // Keys made with another secret would hide every stored snapshot: while the
        // kept secret cannot be read, keys are provisional and nothing is saved.
        let (secret, provisional) = match self.secret().await {
            Ok(s) => (s, false),
            Err(_) => (self.fallback_secret.as_slice(), true),
        };
        let raw = conn.target_database_url.is_some();
        let (connection_key, legacy) = match (&conn.connection_id, raw) {
            (Some(id), false) => {
                // Snapshots of this id stored before ids were logical connections were
                // keyed by the URL with the configured secret (or the old public
                // default, where none was set).
                let legacy_secret = self
                    .cfg
                    .connection_key_secret
                    .as_deref()
                    .unwrap_or(crate::config::LEGACY_DEV_CONNECTION_KEY_SECRET.as_bytes());
                let legacy = StoreKey {
                    connection_key: target.connection_key(legacy_secret, workspace),
                    schemas_key: schemas_key.clone(),
                };
                (
                    connkey::connection_id_key(secret, workspace, id),
                    Some(legacy),
                )
            }
            _ => (target.connection_key(secret, workspace), None),
        };
        let cache = connkey::cache_key(&connection_key, &schemas_key);
        let keys = Keys {
            public: connkey::public_id(secret, &cache),
            cache,
            store: StoreKey {
                connection_key,
                schemas_key,
            },
            legacy: legacy.filter(|_| !provisional),
            provisional,
        };
        self.adopt_legacy(&keys).await;
        Ok(Resolved {
            keys,
            target,
            schemas,
            workspace: conn.workspace_id.clone(),
            raw,
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
            key: keys.public.clone(),
            ttl_ms: self.cfg.mem_ttl.as_millis() as u64,
            max_age_ms: self
                .store
                .is_configured()
                .then(|| self.cfg.db_max_age.as_millis() as u64),
            age_ms: time::millis(time::age_of(&cached.captured_at)),
        }
    }
}
