//! In-process stand-ins for unit tests of the request path: an in-memory
//! [`SnapshotStore`] and a [`CatalogReader`] that serves made-up catalogs. Compiled for
//! tests only.
//!
//! Owns nothing the product uses. It must never back the integration suite, which talks
//! to real PostgreSQL servers and moto (see ARCHITECTURE.md, "How tests are organised").

use super::catalog::CatalogReader;
use super::Service;
use crate::config::Config;
use crate::connkey::Target;
use crate::error::ApiError;
use crate::store::{NewSnapshot, SnapshotStore, StoreError, StoreKey, StoredSnapshot};
use async_trait::async_trait;
use model::api::{Connection, SnapshotSummary, StoreKind};
use model::{Snapshot, Table};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// A snapshot store in a map: snapshots in save order per key, leases with expiry.
#[derive(Default)]
pub(crate) struct MemoryStore {
    inner: Mutex<Inner>,
    /// While set, every call fails as an unavailable store does.
    pub(crate) failing: AtomicBool,
}

#[derive(Default)]
struct Inner {
    snapshots: HashMap<StoreKey, Vec<StoredSnapshot>>,
    leases: HashMap<StoreKey, (String, Instant)>,
    saved: u64,
    secret: Option<Vec<u8>>,
}

impl MemoryStore {
    fn inner(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("the test store is down".into()));
        }
        Ok(self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Holds the lease of every key for `holder` (another process) for `ttl`.
    pub(crate) fn hold_lease(&self, key: &StoreKey, holder: &str, ttl: Duration) {
        if let Ok(mut inner) = self.inner() {
            let until = Instant::now() + ttl;
            inner.leases.insert(key.clone(), (holder.into(), until));
        }
    }

    /// The keys that hold snapshots.
    pub(crate) fn keys(&self) -> Vec<StoreKey> {
        self.inner()
            .map(|i| i.snapshots.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// How many saves were acknowledged.
    pub(crate) fn saves(&self) -> u64 {
        self.inner().map(|i| i.saved).unwrap_or_default()
    }
}

#[async_trait]
impl SnapshotStore for MemoryStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Postgres
    }

    async fn prepare(&self) -> Result<(), StoreError> {
        self.inner().map(|_| ())
    }

    async fn load_latest(&self, key: &StoreKey) -> Result<Option<StoredSnapshot>, StoreError> {
        Ok(self
            .inner()?
            .snapshots
            .get(key)
            .and_then(|s| s.last().cloned()))
    }

    async fn load(&self, key: &StoreKey, id: &str) -> Result<Option<StoredSnapshot>, StoreError> {
        Ok(self
            .inner()?
            .snapshots
            .get(key)
            .and_then(|s| s.iter().find(|s| s.summary.id == id).cloned()))
    }

    async fn save(&self, key: &StoreKey, new: &NewSnapshot) -> Result<String, StoreError> {
        let mut inner = self.inner()?;
        inner.saved += 1;
        let fresh_id = format!("{:06}", inner.saved);
        let list = inner.snapshots.entry(key.clone()).or_default();
        // The store contract: an unchanged re-read refreshes the latest in place.
        let unchanged = list.last().is_some_and(|l| {
            l.summary.deep_signature == new.deep_signature
                && l.summary.captured_at <= new.captured_at
        });
        let id = match list.last() {
            Some(l) if unchanged => l.summary.id.clone(),
            _ => fresh_id,
        };
        let stored = StoredSnapshot {
            summary: SnapshotSummary {
                id: id.clone(),
                captured_at: new.captured_at.clone(),
                signature: new.signature.clone(),
                deep_signature: new.deep_signature.clone(),
                table_count: new.table_count,
            },
            json: new.json.clone(),
        };
        match list.last_mut() {
            Some(latest) if unchanged => *latest = stored,
            _ => list.push(stored),
        }
        // The latest is the newest capture (stable: equal times keep save order).
        list.sort_by(|a, b| a.summary.captured_at.cmp(&b.summary.captured_at));
        Ok(id)
    }

    async fn shared_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut inner = self.inner()?;
        Ok(inner
            .secret
            .get_or_insert_with(|| candidate.to_vec())
            .clone())
    }

    async fn adopt(&self, from: &StoreKey, to: &StoreKey) -> Result<usize, StoreError> {
        let mut inner = self.inner()?;
        if inner.snapshots.get(to).is_some_and(|s| !s.is_empty()) {
            return Ok(0);
        }
        let moved = inner.snapshots.remove(from).unwrap_or_default();
        let n = moved.len();
        if n > 0 {
            inner.snapshots.insert(to.clone(), moved);
        }
        Ok(n)
    }

    async fn try_lease(
        &self,
        key: &StoreKey,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut inner = self.inner()?;
        let now = Instant::now();
        match inner.leases.get(key) {
            Some((other, until)) if other != holder && *until > now => Ok(false),
            _ => {
                inner.leases.insert(key.clone(), (holder.into(), now + ttl));
                Ok(true)
            }
        }
    }

    async fn release_lease(&self, key: &StoreKey, holder: &str) -> Result<(), StoreError> {
        let mut inner = self.inner()?;
        if inner.leases.get(key).is_some_and(|(h, _)| h == holder) {
            inner.leases.remove(key);
        }
        Ok(())
    }

    async fn history(
        &self,
        key: &StoreKey,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<SnapshotSummary>, StoreError> {
        Ok(self
            .inner()?
            .snapshots
            .get(key)
            .map(|list| {
                list.iter()
                    .rev()
                    .filter(|s| before.is_none_or(|b| s.summary.captured_at.as_str() < b))
                    .take(limit)
                    .map(|s| s.summary.clone())
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// A made-up target database: its tables (in schema `public`) can be changed between
/// reads, a read can be made slow, and reads are counted.
#[derive(Default)]
pub(crate) struct FakeCatalog {
    tables: Mutex<Vec<String>>,
    /// How long each read takes (in tokio time, so paused tests skip it).
    pub(crate) delay: Mutex<Duration>,
    reads: AtomicUsize,
    /// Connections opened only to prove the credentials.
    proofs: AtomicUsize,
    /// While set, the credentials no longer work (a rotated or revoked password).
    pub(crate) revoked: AtomicBool,
}

impl FakeCatalog {
    pub(crate) fn with_tables(names: &[&str]) -> Arc<FakeCatalog> {
        let c = FakeCatalog::default();
        c.set_tables(names);
        Arc::new(c)
    }

    /// The tables the next read finds.
    pub(crate) fn set_tables(&self, names: &[&str]) {
        *self.tables.lock().unwrap_or_else(|p| p.into_inner()) =
            names.iter().map(|n| n.to_string()).collect();
    }

    /// Connections opened to prove credentials so far.
    pub(crate) fn proofs(&self) -> usize {
        self.proofs.load(Ordering::SeqCst)
    }

    /// Catalog reads so far (whole or visible).
    pub(crate) fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    async fn read(&self, only: Option<&[String]>, captured_at: String) -> (Snapshot, Vec<String>) {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let delay = *self.delay.lock().unwrap_or_else(|p| p.into_inner());
        tokio::time::sleep(delay).await;
        let names = self
            .tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut s = Snapshot::default();
        s.meta.captured_at = captured_at;
        s.meta.schemas = vec!["public".into()];
        s.meta.server_version = "15.0".into();
        s.meta.server_version_num = 150_000;
        for name in &names {
            let key = format!("public.{name}");
            if only.is_some_and(|only| !only.contains(&key)) {
                continue;
            }
            s.tables.insert(key, table(name));
        }
        let missing = only
            .map(|only| {
                only.iter()
                    .filter(|k| !s.tables.contains_key(*k))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        (s, missing)
    }
}

/// A plain table, built the way a stored snapshot reads (robust to new optional fields).
fn table(name: &str) -> Table {
    serde_json::from_value(serde_json::json!({"schema": "public", "name": name, "kind": "table"}))
        .expect("a plain table")
}

#[async_trait]
impl CatalogReader for FakeCatalog {
    async fn read_all(
        &self,
        _target: Target,
        _pinned: &[IpAddr],
        _schemas: &[String],
        captured_at: String,
    ) -> Result<(Snapshot, Vec<u8>), ApiError> {
        let (mut s, _) = self.read(None, captured_at).await;
        let json = model::signature::seal_to_json(&mut s);
        Ok((s, json))
    }

    async fn read_tables(
        &self,
        _target: Target,
        _pinned: &[IpAddr],
        _schemas: &[String],
        tables: &[String],
        captured_at: String,
    ) -> Result<(Snapshot, Vec<String>), ApiError> {
        let (mut s, missing) = self.read(Some(tables), captured_at).await;
        model::signature::seal(&mut s);
        Ok((s, missing))
    }

    async fn prove(&self, _target: &Target, _pinned: &[IpAddr]) -> Result<(), ApiError> {
        self.proofs.fetch_add(1, Ordering::SeqCst);
        if self.revoked.load(Ordering::SeqCst) {
            return Err(ApiError::TargetAuthFailed(
                "the target refused the credentials".into(),
            ));
        }
        Ok(())
    }
}

/// A configuration from `vars` alone (nothing from the process environment).
pub(crate) fn config(vars: &[(&str, &str)]) -> Arc<Config> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Arc::new(Config::from_lookup(&|k| vars.get(k).cloned()).expect("test configuration"))
}

/// A service over `store` and `catalog`.
pub(crate) fn service(
    vars: &[(&str, &str)],
    store: Option<Arc<MemoryStore>>,
    catalog: Arc<FakeCatalog>,
) -> Arc<Service> {
    let store = store.map(|s| s as Arc<dyn SnapshotStore>);
    Service::with_catalog(config(vars), store, catalog)
}

/// The connection every test asks about (never connected to: the catalog is fake).
pub(crate) fn connection() -> Connection {
    Connection {
        target_database_url: Some("postgres://app:secret@127.0.0.1:5432/shop".into()),
        schemas: vec!["public".into()],
        ..Connection::default()
    }
}
