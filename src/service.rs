//! The request path (DESIGN.md §1), top to bottom in one place:
//! memory tier -> persistent tier -> fresh read (single flight) -> drift -> persist ->
//! memory tier.
//!
//! Owns the tier logic, single flight, drift and the "last refreshed" time. It must never
//! hand a URL or credential to a log, a key or a response (only connection keys leave
//! here), and a persistence failure must never cost the caller the fresh snapshot.

use crate::cache::{CachedSnapshot, Drift, MemoryTier};
use crate::config::Config;
use crate::connkey::{self, Target};
use crate::error::ApiError;
use crate::introspect;
use crate::store::{NewSnapshot, SnapshotStore, SnapshotSummary, StoreError, StoreKey};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Refresh {
    Cache,
    Force,
    Visible,
}

/// Which connection and schemas a request is about; shared by every endpoint.
#[derive(Clone)]
pub struct ConnectionRef {
    pub workspace_id: Option<String>,
    pub connection_id: Option<String>,
    /// Raw target URL. Never logged (this type has no `Debug`).
    pub target_database_url: Option<String>,
    pub schemas: Vec<String>,
}

/// A validated snapshot request.
#[derive(Clone)]
pub struct SnapshotRequest {
    pub conn: ConnectionRef,
    pub refresh: Refresh,
    pub visible_tables: Vec<String>,
}

/// One side of a diff: a stored snapshot id, or a position in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotRef {
    Latest,
    Previous,
    Fresh,
    Id(String),
}

#[derive(Clone)]
pub struct DiffRequest {
    pub conn: ConnectionRef,
    pub from: SnapshotRef,
    pub to: SnapshotRef,
}

#[derive(Clone)]
pub struct HistoryRequest {
    pub conn: ConnectionRef,
    pub limit: usize,
    pub before: Option<String>,
}

/// A snapshot as a diff or history names it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRefInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub captured_at: String,
    pub signature: String,
    pub deep_signature: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffOutcome {
    pub from: SnapshotRefInfo,
    pub to: SnapshotRefInfo,
    pub diff: model::diff::SnapshotDiff,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryOutcome {
    pub store: &'static str,
    pub items: Vec<SnapshotSummary>,
    /// Pass as `before` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Mem,
    Db,
    Fresh,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheInfo {
    pub hit: bool,
    pub source: Source,
    pub key: String,
    pub ttl_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age_ms: Option<u64>,
    /// How old the served snapshot is, by its capture time.
    pub age_ms: u64,
}

/// Whether the served snapshot is persisted, and if not, why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Persistence {
    /// `postgres`, `dynamodb` or `none` (memory-only).
    pub store: &'static str,
    pub saved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How the request was served, when it differs from what was asked.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshInfo {
    pub requested: Refresh,
    /// `cache`, `full` or `visible`.
    pub performed: &'static str,
    /// For a visible refresh: the tables re-read (and those found gone), by key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refreshed_tables: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_tables: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl RefreshInfo {
    fn plain(requested: Refresh, performed: &'static str) -> RefreshInfo {
        RefreshInfo {
            requested,
            performed,
            refreshed_tables: None,
            removed_tables: None,
            note: None,
        }
    }

    fn with_note(mut self, note: impl Into<String>) -> RefreshInfo {
        self.note = Some(note.into());
        self
    }
}

pub struct SnapshotOutcome {
    pub cached: Arc<CachedSnapshot>,
    pub cache: CacheInfo,
    pub persistence: Persistence,
    pub refresh: RefreshInfo,
}

/// The result of one fresh read, shared by every caller that joined its flight.
struct FreshOutcome {
    cached: Arc<CachedSnapshot>,
    persistence: Persistence,
    /// `Fresh`, or `Db` when another process's read (under the lease) was served.
    source: Source,
}

/// How a fresh read relates to the cross-process read lease.
enum LeaseOutcome {
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

type Flight = Arc<OnceCell<Result<Arc<FreshOutcome>, ApiError>>>;

pub struct Service {
    cfg: Arc<Config>,
    memory: &'static MemoryTier,
    store: Option<Arc<dyn SnapshotStore>>,
    store_ready: AtomicBool,
    flights: std::sync::Mutex<HashMap<String, Flight>>,
    /// Read leases this process took (or may have: the answer was lost) and could not
    /// give back, by cache key. Single flight means this process never reads one key
    /// twice at once, so when it reads that key again they are stale: it releases them
    /// first instead of waiting on its own dead lease.
    unreleased: std::sync::Mutex<HashMap<String, Vec<String>>>,
}

/// Names of one (connection, schemas) pair: never a credential.
#[derive(Clone)]
struct Keys {
    store: StoreKey,
    cache: String,
}

pub fn now_iso() -> String {
    format_iso(time::OffsetDateTime::now_utc())
}

fn format_iso(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&f)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Age of an ISO-8601 capture time; unparseable times count as infinitely old.
fn age_of(captured_at: &str) -> Duration {
    time::OffsetDateTime::parse(captured_at, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| {
            let d = time::OffsetDateTime::now_utc() - t;
            Duration::from_millis(d.whole_milliseconds().max(0) as u64)
        })
        .unwrap_or(Duration::MAX)
}

fn cached_from_stored(s: crate::store::StoredSnapshot) -> CachedSnapshot {
    let sum = s.summary;
    let drift = drift_between(None, &sum.signature, &sum.deep_signature);
    CachedSnapshot::from_json(
        s.json,
        sum.captured_at,
        sum.signature,
        sum.deep_signature,
        Some(sum.id),
        drift,
    )
}

fn drift_between(previous: Option<&SnapshotSummary>, signature: &str, deep: &str) -> Drift {
    Drift {
        changed_since_last: previous
            .is_some_and(|p| p.signature != signature || p.deep_signature != deep),
        previous_signature: previous.map(|p| p.signature.clone()),
        current_signature: signature.to_string(),
        previous_deep_signature: previous.map(|p| p.deep_signature.clone()),
        current_deep_signature: deep.to_string(),
        previous_captured_at: previous.map(|p| p.captured_at.clone()),
    }
}

impl Service {
    pub fn new(cfg: Arc<Config>, store: Option<Arc<dyn SnapshotStore>>) -> Arc<Service> {
        let memory = crate::cache::global(cfg.mem_ttl, cfg.mem_max_bytes);
        Arc::new(Service {
            cfg,
            memory,
            store,
            store_ready: AtomicBool::new(false),
            flights: std::sync::Mutex::new(HashMap::new()),
            unreleased: std::sync::Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn store_name(&self) -> &'static str {
        self.store.as_ref().map_or("none", |s| s.name())
    }

    pub fn memory(&self) -> &'static MemoryTier {
        self.memory
    }

    /// Runs a store call bounded by the store timeout, preparing the store (migrations,
    /// table check) on first use, and again after a failure.
    async fn with_store<T, F, Fut>(&self, op: F) -> Option<Result<T, StoreError>>
    where
        F: FnOnce(Arc<dyn SnapshotStore>) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let store = self.store.clone()?;
        let budget = self.cfg.store_timeout;
        let work = async {
            if !self.store_ready.load(Ordering::Acquire) {
                store.prepare().await?;
                self.store_ready.store(true, Ordering::Release);
            }
            op(store).await
        };
        Some(
            tokio::time::timeout(budget, work)
                .await
                .unwrap_or(Err(StoreError::Timeout(budget.as_millis() as u64))),
        )
    }

    /// Prepares the store now (local start), logging rather than failing.
    pub async fn prepare_store(&self) {
        if let Some(Err(e)) = self.with_store(|_| async { Ok(()) }).await {
            tracing::warn!(store = self.store_name(), error = %e,
                "snapshot store not ready; will retry on first use");
        }
    }

    /// Validates the target (raw URL or configured connection id) and names the
    /// (connection, schemas) pair. The returned [`Target`] is the only holder of the URL.
    fn resolve(&self, conn: &ConnectionRef) -> Result<(Target, Vec<String>, Keys), ApiError> {
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
        Ok((target, schemas, keys))
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

    fn persistence_of(&self, cached: &CachedSnapshot) -> Persistence {
        Persistence {
            store: self.store_name(),
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
                .as_ref()
                .map(|_| self.cfg.db_max_age.as_millis() as u64),
            age_ms: age_of(&cached.captured_at)
                .as_millis()
                .min(u64::MAX as u128) as u64,
        }
    }

    /// POST /api/v1/introspect/postgres/snapshot
    pub async fn snapshot(
        self: &Arc<Self>,
        req: SnapshotRequest,
    ) -> Result<SnapshotOutcome, ApiError> {
        let (target, schemas, keys) = self.resolve(&req.conn)?;
        let workspace = req.conn.workspace_id.clone();
        match req.refresh {
            Refresh::Cache => {
                // 1. Memory tier.
                if let Some(hit) = self.memory.get(&keys.cache) {
                    tracing::info!(key = %keys.cache, source = "mem", "snapshot served");
                    return Ok(SnapshotOutcome {
                        cache: self.cache_info(&keys, true, Source::Mem, &hit.value),
                        persistence: self.persistence_of(&hit.value),
                        cached: hit.value,
                        refresh: RefreshInfo::plain(Refresh::Cache, "cache"),
                    });
                }
                // 2. Persistent tier, when its latest is young enough.
                if let Some(cached) = self.load_from_store(&keys).await {
                    tracing::info!(key = %keys.cache, source = "db", "snapshot served");
                    self.memory.put(&keys.cache, cached.clone());
                    return Ok(SnapshotOutcome {
                        cache: self.cache_info(&keys, true, Source::Db, &cached),
                        persistence: self.persistence_of(&cached),
                        cached,
                        refresh: RefreshInfo::plain(Refresh::Cache, "cache"),
                    });
                }
                // 3. Fresh read.
                self.full_read(
                    keys,
                    target,
                    schemas,
                    workspace,
                    RefreshInfo::plain(Refresh::Cache, "full"),
                )
                .await
            }
            Refresh::Force => {
                self.full_read(
                    keys,
                    target,
                    schemas,
                    workspace,
                    RefreshInfo::plain(Refresh::Force, "full"),
                )
                .await
            }
            Refresh::Visible => {
                self.visible_read(keys, target, schemas, workspace, req.visible_tables)
                    .await
            }
        }
    }

    /// A fresh full read through the single flight of its key.
    async fn full_read(
        self: &Arc<Self>,
        keys: Keys,
        target: Target,
        schemas: Vec<String>,
        workspace: Option<String>,
        refresh: RefreshInfo,
    ) -> Result<SnapshotOutcome, ApiError> {
        let fresh = self
            .single_flight(&keys.cache, {
                let this = self.clone();
                let keys = keys.clone();
                let reuse_young = refresh.requested == Refresh::Cache;
                async move {
                    this.fresh(keys, target, schemas, workspace, reuse_young)
                        .await
                }
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

    /// Refresh "visible": re-reads only the named tables and merges them into the latest
    /// snapshot. Falls back to a full read (and says why) when there is no earlier
    /// snapshot or the tables are more than `VISIBLE_FULL_READ_SHARE` of the catalog.
    async fn visible_read(
        self: &Arc<Self>,
        keys: Keys,
        target: Target,
        schemas: Vec<String>,
        workspace: Option<String>,
        visible: Vec<String>,
    ) -> Result<SnapshotOutcome, ApiError> {
        let mut tables: Vec<String> = visible.iter().map(|t| t.trim().to_string()).collect();
        tables.sort();
        tables.dedup();
        let malformed: Vec<&str> = tables
            .iter()
            .filter(|t| model::keys::split_key(t).is_none_or(|parts| parts.len() != 2))
            .map(String::as_str)
            .collect();
        if !malformed.is_empty() {
            return Err(ApiError::bad(
                "visibleTables",
                format!(
                    "visibleTables must be table keys like public.users or public.\"Order Items\"; malformed: {}",
                    malformed.join(", ")
                ),
            ));
        }
        let full = |note: String| RefreshInfo::plain(Refresh::Visible, "full").with_note(note);

        // The base: the memory tier's entry while it is fresh; otherwise the newer of the
        // store's latest (another container may have read since) and the stale entry.
        let base = match self.memory.get(&keys.cache) {
            Some(hit) => Some(hit.value),
            None => {
                let stored = self.load_latest_any_age(&keys).await;
                let remembered = self.memory.get_any(&keys.cache).map(|h| h.value);
                match (stored, remembered) {
                    (Some(s), Some(m)) if m.captured_at > s.captured_at => Some(m),
                    (Some(s), _) => Some(s),
                    (None, m) => m,
                }
            }
        };
        let Some(base) = base else {
            let note = "no earlier snapshot to merge into: did a full read".to_string();
            return self
                .full_read(keys, target, schemas, workspace, full(note))
                .await;
        };
        let base_snapshot = base
            .snapshot()
            .map_err(|e| ApiError::Internal(format!("latest snapshot does not parse: {e}")))?;
        let share = self.cfg.visible_full_read_share;
        let limit = ((base_snapshot.tables.len() as f64) * share)
            .floor()
            .max(1.0) as usize;
        if tables.len() > limit {
            let note = format!(
                "{} visible tables are more than {:.0}% of the {} in the catalog: did a full read",
                tables.len(),
                share * 100.0,
                base_snapshot.tables.len()
            );
            return self
                .full_read(keys, target, schemas, workspace, full(note))
                .await;
        }

        let opts = &self.cfg.target;
        let pinned = self.check_target(&target).await?;
        let mut client =
            introspect::connect_pinned(&target.url, opts, &pinned, &self.cfg.tls).await?;
        drop(target);
        let now = now_iso();
        let (partial, missing) =
            introspect::read_tables(&mut client, &schemas, &tables, opts, now.clone()).await?;
        drop(client);
        let (gone, unknown): (Vec<String>, Vec<String>) = missing
            .into_iter()
            .partition(|t| base_snapshot.tables.contains_key(t));
        if !unknown.is_empty() {
            return Err(ApiError::bad(
                "visibleTables",
                format!(
                    "these tables exist neither in the latest snapshot nor in the database: {}",
                    unknown.join(", ")
                ),
            ));
        }
        let reread: Vec<String> = partial.tables.keys().cloned().collect();
        let mut merged =
            model::merge::merge_visible_unsealed((*base_snapshot).clone(), partial, &gone, &now);
        let json = model::signature::seal_to_json(&mut merged);
        let previous = Some(SnapshotSummary {
            id: base.stored_id.clone().unwrap_or_default(),
            captured_at: base.captured_at.clone(),
            signature: base.signature.clone(),
            deep_signature: base.deep_signature.clone(),
            table_count: base_snapshot.tables.len(),
        });
        let published = self
            .publish(&keys, merged, json, previous, workspace)
            .await?;
        Ok(SnapshotOutcome {
            cache: self.cache_info(&keys, false, Source::Fresh, &published.cached),
            cached: published.cached,
            persistence: published.persistence,
            refresh: RefreshInfo {
                requested: Refresh::Visible,
                performed: "visible",
                refreshed_tables: Some(reread),
                removed_tables: Some(gone),
                note: None,
            },
        })
    }

    /// The latest persisted snapshot whatever its age (a base for merges and diffs).
    async fn load_latest_any_age(&self, keys: &Keys) -> Option<Arc<CachedSnapshot>> {
        match self
            .with_store(|s| {
                let key = keys.store.clone();
                async move { s.load_latest(&key).await }
            })
            .await?
        {
            Ok(latest) => latest.map(|l| Arc::new(cached_from_stored(l))),
            Err(e) => {
                tracing::warn!(key = %keys.cache, error = %e, "snapshot store read failed");
                None
            }
        }
    }

    /// The latest persisted snapshot if it is within the max age; store failures are
    /// logged and treated as a miss.
    async fn load_from_store(&self, keys: &Keys) -> Option<Arc<CachedSnapshot>> {
        self.load_latest_with_drift(keys, Some(self.cfg.db_max_age))
            .await
    }

    /// The latest persisted snapshot whatever its age, with its drift.
    async fn load_from_store_any_age(&self, keys: &Keys) -> Option<Arc<CachedSnapshot>> {
        self.load_latest_with_drift(keys, None).await
    }

    async fn load_latest_with_drift(
        &self,
        keys: &Keys,
        max_age: Option<Duration>,
    ) -> Option<Arc<CachedSnapshot>> {
        let loaded = self
            .with_store(|s| {
                let key = keys.store.clone();
                async move {
                    let Some(latest) = s.load_latest(&key).await? else {
                        return Ok(None);
                    };
                    if max_age.is_some_and(|max| age_of(&latest.summary.captured_at) > max) {
                        return Ok(None);
                    }
                    let history = s.history(&key, 2, None).await?;
                    Ok(Some((latest, history)))
                }
            })
            .await?;
        match loaded {
            Ok(Some((latest, history))) => {
                let previous = history.iter().find(|h| h.id != latest.summary.id).cloned();
                let mut cached = cached_from_stored(latest);
                cached.drift =
                    drift_between(previous.as_ref(), &cached.signature, &cached.deep_signature);
                Some(Arc::new(cached))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(key = %keys.cache, store = self.store_name(), error = %e,
                    "snapshot store read failed; reading the catalog instead");
                None
            }
        }
    }

    /// Joins the in-flight read for `key`, or starts `work` as it. The work runs in its
    /// own task, so a caller that goes away does not cancel a read others wait on, and a
    /// save is never cut in half.
    async fn single_flight<F>(&self, key: &str, work: F) -> Result<Arc<FreshOutcome>, ApiError>
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
        keys: Keys,
        target: Target,
        schemas: Vec<String>,
        workspace_id: Option<String>,
        reuse_young: bool,
    ) -> Result<Arc<FreshOutcome>, ApiError> {
        self.release_leftover_leases(&keys).await;
        let seen = self.previous_summary(&keys).await;
        let holder = format!("{:016x}", rand::random::<u64>());
        let lease = match self.take_lease_or_wait(&keys, &holder, seen.as_ref()).await {
            LeaseOutcome::Served(outcome) => return Ok(Arc::new(outcome)),
            other => other,
        };
        // Double-check under the lease: another process may have stored a snapshot
        // between this request's store lookup and taking the lease.
        let previous = match lease {
            LeaseOutcome::Held => self.previous_summary(&keys).await,
            _ => seen,
        };
        let young = previous
            .as_ref()
            .is_some_and(|p| age_of(&p.captured_at) <= self.cfg.db_max_age);
        if reuse_young && young && self.store.is_some() {
            if let Some(cached) = self.load_from_store(&keys).await {
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
            let opts = &self.cfg.target;
            let pinned = self.check_target(&target).await?;
            let mut client =
                introspect::connect_pinned(&target.url, opts, &pinned, &self.cfg.tls).await?;
            drop(target);
            let (snapshot, json) =
                introspect::read_snapshot_json(&mut client, &schemas, opts, now_iso()).await?;
            drop(client);
            self.publish(&keys, snapshot, json, previous, workspace_id)
                .await
        }
        .await;
        self.release(&keys, &holder, &lease).await;
        result.map(Arc::new)
    }

    async fn release(&self, keys: &Keys, holder: &str, lease: &LeaseOutcome) {
        if !matches!(lease, LeaseOutcome::Held) {
            return;
        }
        if let Some(Err(e)) = self
            .with_store(|s| {
                let key = keys.store.clone();
                async move { s.release_lease(&key, holder).await }
            })
            .await
        {
            tracing::warn!(key = %keys.cache, error = %e,
                "read lease not released; released before this process next reads the key, else it expires by itself");
            self.remember_unreleased(keys, holder);
        }
    }

    /// Remembers `holder` as a lease of this process to give back (the newest few per
    /// key: older ones have expired by the time more pile up).
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
    async fn release_leftover_leases(&self, keys: &Keys) {
        let holders = {
            let mut unreleased = self.unreleased.lock().unwrap_or_else(|p| p.into_inner());
            unreleased.remove(&keys.cache).unwrap_or_default()
        };
        let mut holders = holders.into_iter();
        while let Some(holder) = holders.next() {
            let released = self
                .with_store(|s| {
                    let key = keys.store.clone();
                    let holder = holder.clone();
                    async move { s.release_lease(&key, &holder).await }
                })
                .await;
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
    async fn take_lease_or_wait(
        &self,
        keys: &Keys,
        holder: &str,
        previous: Option<&SnapshotSummary>,
    ) -> LeaseOutcome {
        let ttl = self.cfg.request_timeout;
        let started = std::time::Instant::now();
        let mut waited = false;
        loop {
            let taken = self
                .with_store(|s| {
                    let key = keys.store.clone();
                    async move { s.try_lease(&key, holder, ttl).await }
                })
                .await;
            match taken {
                None => return LeaseOutcome::NoStore,
                Some(Ok(true)) => return LeaseOutcome::Held,
                Some(Err(e)) => {
                    tracing::warn!(key = %keys.cache, error = %e,
                        "read lease unavailable; reading without it");
                    // The lease may have been taken all the same (an answer lost).
                    self.remember_unreleased(keys, holder);
                    return LeaseOutcome::NoStore;
                }
                Some(Ok(false)) => {}
            }
            if !waited {
                tracing::info!(key = %keys.cache, "another process is reading this catalog; waiting for its snapshot");
                waited = true;
            }
            // A holder that died keeps its lease until it expires (`ttl`, the whole
            // request budget): wait at most half the budget, so this request can still
            // read and answer rather than time out.
            if started.elapsed() + LEASE_POLL >= ttl / 2 {
                tracing::warn!(key = %keys.cache, "waited out the read lease; reading without it");
                return LeaseOutcome::NoStore;
            }
            tokio::time::sleep(LEASE_POLL).await;
            let latest = self
                .with_store(|s| {
                    let key = keys.store.clone();
                    async move { s.latest_summary(&key).await }
                })
                .await;
            if let Some(Ok(Some(latest))) = latest {
                if previous.is_none_or(|p| p.id != latest.id && p.captured_at <= latest.captured_at)
                {
                    if let Some(cached) = self.load_from_store_any_age(keys).await {
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

    /// Compares a sealed snapshot (and its JSON) with the latest known signatures,
    /// persists it, and puts it in the memory tier. A persistence failure is reported,
    /// not raised.
    async fn publish(
        &self,
        keys: &Keys,
        snapshot: model::Snapshot,
        json: Vec<u8>,
        previous: Option<SnapshotSummary>,
        workspace_id: Option<String>,
    ) -> Result<FreshOutcome, ApiError> {
        let drift = drift_between(
            previous.as_ref(),
            &snapshot.meta.signature,
            &snapshot.meta.deep_signature,
        );
        if drift.changed_since_last {
            tracing::info!(key = %keys.cache, "schema changed since the last snapshot");
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
        let persistence = match self
            .with_store(|s| {
                let key = keys.store.clone();
                async move { s.save(&key, &new).await }
            })
            .await
        {
            None => Persistence {
                store: "none",
                saved: false,
                snapshot_id: None,
                error: Some("memory-only: no persistent store is configured".into()),
            },
            Some(Ok(id)) => {
                cached = cached.with_stored_id(Some(id.clone()));
                Persistence {
                    store: self.store_name(),
                    saved: true,
                    snapshot_id: Some(id),
                    error: None,
                }
            }
            Some(Err(e)) => {
                self.store_ready.store(false, Ordering::Release);
                tracing::error!(key = %keys.cache, store = self.store_name(), error = %e,
                    "snapshot was read but could not be persisted");
                Persistence {
                    store: self.store_name(),
                    saved: false,
                    snapshot_id: None,
                    error: Some(format!("snapshot not persisted: {e}")),
                }
            }
        };
        let cached = Arc::new(cached);
        self.memory.put(&keys.cache, cached.clone());
        tracing::info!(key = %keys.cache, source = "fresh", tables = table_count,
            saved = persistence.saved, "snapshot served");
        Ok(FreshOutcome {
            cached,
            persistence,
            source: Source::Fresh,
        })
    }

    /// POST /api/v1/introspect/postgres/diff
    pub async fn diff(self: &Arc<Self>, req: DiffRequest) -> Result<DiffOutcome, ApiError> {
        let (target, schemas, keys) = self.resolve(&req.conn)?;
        // Stored sides first: a fresh read becomes the latest once it is persisted.
        let mut target = Some(target);
        let mut sides: [Option<Arc<CachedSnapshot>>; 2] = [None, None];
        for pass in [false, true] {
            for (i, r) in [&req.from, &req.to].into_iter().enumerate() {
                if (*r == SnapshotRef::Fresh) != pass || sides[i].is_some() {
                    continue;
                }
                sides[i] = Some(match r {
                    SnapshotRef::Fresh => {
                        let fresh = match target.take() {
                            Some(t) => {
                                self.full_read(
                                    keys.clone(),
                                    t,
                                    schemas.clone(),
                                    req.conn.workspace_id.clone(),
                                    RefreshInfo::plain(Refresh::Force, "full"),
                                )
                                .await?
                                .cached
                            }
                            // Both sides "fresh": the same read.
                            None => sides[1 - i]
                                .clone()
                                .ok_or_else(|| ApiError::Internal("fresh side missing".into()))?,
                        };
                        fresh
                    }
                    other => self.stored_side(&keys, other).await?,
                });
            }
        }
        let [Some(from), Some(to)] = sides else {
            return Err(ApiError::Internal("diff sides unresolved".into()));
        };
        let parse = |c: &CachedSnapshot| {
            c.snapshot()
                .map_err(|e| ApiError::Internal(format!("stored snapshot does not parse: {e}")))
        };
        let (a, b) = (parse(&from)?, parse(&to)?);
        let diff = model::diff::diff(&a, &b);
        let info = |c: &CachedSnapshot| SnapshotRefInfo {
            id: c.stored_id.clone(),
            captured_at: c.captured_at.clone(),
            signature: c.signature.clone(),
            deep_signature: c.deep_signature.clone(),
        };
        Ok(DiffOutcome {
            from: info(&from),
            to: info(&to),
            diff,
        })
    }

    async fn stored_side(
        &self,
        keys: &Keys,
        r: &SnapshotRef,
    ) -> Result<Arc<CachedSnapshot>, ApiError> {
        let no_store = || {
            ApiError::NotFound(
                "this service runs memory-only: only \"latest\" and \"fresh\" snapshots can be compared".into(),
            )
        };
        let loaded = match r {
            SnapshotRef::Fresh => return Err(ApiError::Internal("fresh is not stored".into())),
            SnapshotRef::Latest => {
                match self
                    .with_store(|s| {
                        let key = keys.store.clone();
                        async move { s.load_latest(&key).await }
                    })
                    .await
                {
                    Some(result) => result?,
                    None => {
                        return self
                            .memory
                            .get_any(&keys.cache)
                            .map(|h| h.value)
                            .ok_or_else(|| {
                                ApiError::NotFound(
                                    "no snapshot of this connection and schemas yet".into(),
                                )
                            })
                    }
                }
            }
            SnapshotRef::Previous => self
                .with_store(|s| {
                    let key = keys.store.clone();
                    async move {
                        let history = s.history(&key, 2, None).await?;
                        match history.get(1) {
                            Some(prev) => s.load(&key, &prev.id).await,
                            None => Ok(None),
                        }
                    }
                })
                .await
                .ok_or_else(no_store)??,
            SnapshotRef::Id(id) => self
                .with_store(|s| {
                    let key = keys.store.clone();
                    let id = id.clone();
                    async move { s.load(&key, &id).await }
                })
                .await
                .ok_or_else(no_store)??,
        };
        loaded
            .map(|l| Arc::new(cached_from_stored(l)))
            .ok_or_else(|| {
                ApiError::NotFound(match r {
                    SnapshotRef::Id(id) => {
                        format!("no snapshot {id:?} for this connection and schemas")
                    }
                    SnapshotRef::Previous => {
                        "there is no previous snapshot of this connection and schemas yet".into()
                    }
                    _ => "no snapshot of this connection and schemas yet".into(),
                })
            })
    }

    /// POST /api/v1/introspect/postgres/history
    pub async fn history(&self, req: HistoryRequest) -> Result<HistoryOutcome, ApiError> {
        let (_target, _schemas, keys) = self.resolve(&req.conn)?;
        let limit = req.limit.clamp(1, 200);
        let items = match self
            .with_store(|s| {
                let key = keys.store.clone();
                let before = req.before.clone();
                async move { s.history(&key, limit + 1, before.as_deref()).await }
            })
            .await
        {
            Some(result) => result?,
            None => self
                .memory
                .get_any(&keys.cache)
                .filter(|h| {
                    req.before
                        .as_deref()
                        .is_none_or(|b| h.value.captured_at.as_str() < b)
                })
                .map(|h| {
                    let table_count = h.value.snapshot().map(|s| s.tables.len()).unwrap_or(0);
                    vec![SnapshotSummary {
                        id: h.value.stored_id.clone().unwrap_or_default(),
                        captured_at: h.value.captured_at.clone(),
                        signature: h.value.signature.clone(),
                        deep_signature: h.value.deep_signature.clone(),
                        table_count,
                    }]
                })
                .unwrap_or_default(),
        };
        let mut items = items;
        let next_before = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|i| i.captured_at.clone())
        } else {
            None
        };
        Ok(HistoryOutcome {
            store: self.store_name(),
            items,
            next_before,
        })
    }

    /// The latest known signatures for drift: the persistent tier's latest, or, without
    /// one (or when it fails), the memory tier's last entry even if expired.
    async fn previous_summary(&self, keys: &Keys) -> Option<SnapshotSummary> {
        match self
            .with_store(|s| {
                let key = keys.store.clone();
                async move { s.latest_summary(&key).await }
            })
            .await
        {
            Some(Ok(summary)) => return summary,
            Some(Err(e)) => {
                tracing::warn!(key = %keys.cache, error = %e,
                    "snapshot store read failed; drift compares with the memory tier");
            }
            None => {}
        }
        self.memory.get_any(&keys.cache).map(|hit| SnapshotSummary {
            id: hit.value.stored_id.clone().unwrap_or_default(),
            captured_at: hit.value.captured_at.clone(),
            signature: hit.value.signature.clone(),
            deep_signature: hit.value.deep_signature.clone(),
            table_count: 0,
        })
    }
}
