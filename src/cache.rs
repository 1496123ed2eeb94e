//! The memory tier (ARCHITECTURE.md, "Tiers and stores"): the map a warm Lambda
//! container reuses across requests; one per [`crate::service::Service`].
//!
//! Owns TTL, a byte bound with least-recently-used eviction, and the pre-serialized JSON
//! of each snapshot so a hit does no re-serialization. It must never block on I/O while
//! holding its lock, and never hold more than its byte bound.

use crate::store::StoredSnapshot;
use bytes::Bytes;
use model::api::SnapshotSummary;
use model::Snapshot;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::Instant;

/// What the service computed about drift when this snapshot was read (a wire type).
pub use model::api::Drift;

/// Drift of a snapshot with these signatures against `previous` (none: nothing to
/// compare with, so no change).
pub fn drift_since(previous: Option<&SnapshotSummary>, signature: &str, deep: &str) -> Drift {
    Drift {
        changed_since_last: previous
            .is_some_and(|p| p.signature != signature || p.deep_signature != deep),
        previous_signature: previous.map(|p| p.signature.clone()),
        current_signature: signature.to_string(),
        previous_deep_signature: previous.map(|p| p.deep_signature.clone()),
        current_deep_signature: deep.to_string(),
        previous_captured_at: previous.map(|p| p.captured_at.clone()),
        baseline_reestablished: None,
        current_server_version_num: None,
        previous_server_version_num: None,
        server_upgraded: false,
        previous_normalized: false,
    }
}

/// [`drift_since`], comparing like with like when only the deep signature differs: a
/// previous deep signature made by an older format version is compared with the current
/// snapshot signed that way (`snapshot` is parsed only then). When they match, nothing
/// the old format covered changed: no drift, and the answer says a new baseline was
/// established.
pub fn drift_like_with_like(
    previous: Option<&SnapshotSummary>,
    signature: &str,
    deep: &str,
    snapshot: impl FnOnce() -> Option<Arc<Snapshot>>,
) -> Drift {
    let mut drift = drift_since(previous, signature, deep);
    let Some(p) = previous else {
        return drift;
    };
    if drift.changed_since_last && p.signature == signature && p.deep_signature != deep {
        if let Some(s) = snapshot() {
            if model::signature::compare_deep(&p.deep_signature, &s)
                == model::signature::DeepComparison::BaselineReestablished
            {
                drift.changed_since_last = false;
                drift.baseline_reestablished = Some(format!(
                    "the previous snapshot's deep signature was made by an older format; \
                     compared like with like nothing changed, and this snapshot's deep \
                     signature (format version {}) is the new baseline",
                    model::signature::DEEP_VERSION
                ));
            }
        }
    }
    drift
}

/// A snapshot as served: its JSON bytes (shared, never re-serialized) and, parsed on
/// demand, its model.
#[derive(Debug)]
pub struct CachedSnapshot {
    pub json: Bytes,
    pub captured_at: String,
    pub signature: String,
    pub deep_signature: String,
    /// Store id, when persisted.
    pub stored_id: Option<String>,
    /// Tables in the snapshot (its `meta.tableCount`).
    pub table_count: usize,
    pub drift: Drift,
    parsed: OnceLock<Arc<Snapshot>>,
    /// The JSON deflated once, for gzip responses (made on the first one).
    deflated: OnceLock<crate::gzip::Segment>,
}

impl CachedSnapshot {
    /// From a sealed snapshot and its JSON (serialized once, e.g. by
    /// `model::signature::seal_to_json`).
    pub fn from_snapshot_json(snapshot: Snapshot, json: Vec<u8>, drift: Drift) -> CachedSnapshot {
        let meta = &snapshot.meta;
        let c = CachedSnapshot {
            json: Bytes::from(json),
            captured_at: meta.captured_at.clone(),
            signature: meta.signature.clone(),
            deep_signature: meta.deep_signature.clone(),
            stored_id: None,
            table_count: meta.table_count,
            drift,
            parsed: OnceLock::new(),
            deflated: OnceLock::new(),
        };
        let _ = c.parsed.set(Arc::new(snapshot));
        c
    }

    /// From a stored snapshot: keeps the bytes as they are; parses only when the model
    /// is asked for. Its drift compares with nothing (callers that know the previous
    /// snapshot replace it).
    pub fn from_stored(stored: StoredSnapshot) -> CachedSnapshot {
        let sum = stored.summary;
        CachedSnapshot {
            drift: drift_since(None, &sum.signature, &sum.deep_signature),
            json: stored.json,
            captured_at: sum.captured_at,
            signature: sum.signature,
            deep_signature: sum.deep_signature,
            stored_id: Some(sum.id),
            table_count: sum.table_count,
            parsed: OnceLock::new(),
            deflated: OnceLock::new(),
        }
    }

    pub fn with_stored_id(mut self, id: Option<String>) -> Self {
        self.stored_id = id;
        self
    }

    /// The summary history lists and drift compares with (id empty when not stored).
    pub fn summary(&self) -> SnapshotSummary {
        SnapshotSummary {
            id: self.stored_id.clone().unwrap_or_default(),
            captured_at: self.captured_at.clone(),
            signature: self.signature.clone(),
            deep_signature: self.deep_signature.clone(),
            table_count: self.table_count,
        }
    }

    /// The model, parsed from the JSON the first time it is needed.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, serde_json::Error> {
        if let Some(s) = self.parsed.get() {
            return Ok(s.clone());
        }
        let s = Arc::new(serde_json::from_slice::<Snapshot>(&self.json)?);
        Ok(self.parsed.get_or_init(|| s).clone())
    }

    /// The JSON as a raw deflate segment (sync-flushed), made once.
    pub fn deflated(&self) -> &crate::gzip::Segment {
        self.deflated
            .get_or_init(|| crate::gzip::segment(&self.json, flate2::Compression::fast(), false))
    }

    /// Bytes this entry accounts for in the tier's bound: the JSON, plus about as much
    /// again when the parsed model is held.
    pub fn weight(&self) -> usize {
        let model = if self.parsed.get().is_some() {
            self.json.len() * 2
        } else {
            0
        };
        self.json.len() + model + 256
    }
}

struct Entry {
    value: Arc<CachedSnapshot>,
    inserted: Instant,
    last_used: u64,
    weight: usize,
}

struct Inner {
    map: HashMap<String, Entry>,
    bytes: usize,
    tick: u64,
}

pub struct MemoryTier {
    inner: Mutex<Inner>,
    ttl: Duration,
    max_bytes: usize,
}

/// A hit: the value and how old it is.
pub struct Hit {
    pub value: Arc<CachedSnapshot>,
    pub age: Duration,
}

impl MemoryTier {
    pub fn new(ttl: Duration, max_bytes: usize) -> MemoryTier {
        MemoryTier {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                bytes: 0,
                tick: 0,
            }),
            ttl,
            max_bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the map inconsistent (every
        // mutation is a single insert/remove plus a counter update), so recover.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh (within TTL) entry, marked as recently used.
    pub fn get(&self, key: &str) -> Option<Hit> {
        self.lookup(key, false)
    }

    /// The entry even when past its TTL (the last known state, for drift and merges).
    pub fn get_any(&self, key: &str) -> Option<Hit> {
        self.lookup(key, true)
    }

    fn lookup(&self, key: &str, allow_stale: bool) -> Option<Hit> {
        let mut inner = self.lock();
        self.reweigh_and_shrink(&mut inner, key);
        inner.tick += 1;
        let tick = inner.tick;
        let ttl = self.ttl;
        let entry = inner.map.get_mut(key)?;
        let age = entry.inserted.elapsed();
        if age > ttl && !allow_stale {
            return None;
        }
        entry.last_used = tick;
        Some(Hit {
            value: entry.value.clone(),
            age,
        })
    }

    /// Inserts or replaces `key`, then evicts expired entries and least-recently-used ones
    /// until the tier is within its byte bound. An entry larger than the whole bound is
    /// not kept.
    pub fn put(&self, key: &str, value: Arc<CachedSnapshot>) {
        let weight = value.weight() + key.len();
        let mut inner = self.lock();
        Self::reweigh(&mut inner);
        if let Some(old) = inner.map.remove(key) {
            inner.bytes -= old.weight;
        }
        if weight > self.max_bytes {
            return;
        }
        inner.tick += 1;
        let tick = inner.tick;
        inner.map.insert(
            key.to_string(),
            Entry {
                value,
                inserted: Instant::now(),
                last_used: tick,
                weight,
            },
        );
        inner.bytes += weight;
        self.shrink(&mut inner, key);
    }

    /// Weighs every entry again: a model parsed after insertion (a visible refresh or a
    /// diff parses a cached entry in place) makes it heavier than when it was put.
    fn reweigh(inner: &mut Inner) {
        let mut bytes = 0;
        for (k, e) in inner.map.iter_mut() {
            e.weight = e.value.weight() + k.len();
            bytes += e.weight;
        }
        inner.bytes = bytes;
    }

    fn reweigh_and_shrink(&self, inner: &mut Inner, keep: &str) {
        Self::reweigh(inner);
        self.shrink(inner, keep);
    }

    /// Evicts expired entries, then least-recently-used ones, never `keep`, until the
    /// tier is within its byte bound.
    fn shrink(&self, inner: &mut Inner, key: &str) {
        if inner.bytes > self.max_bytes {
            let ttl = self.ttl;
            let expired: Vec<String> = inner
                .map
                .iter()
                .filter(|(k, e)| k.as_str() != key && e.inserted.elapsed() > ttl)
                .map(|(k, _)| k.clone())
                .collect();
            for k in expired {
                if let Some(e) = inner.map.remove(&k) {
                    inner.bytes -= e.weight;
                }
            }
        }
        while inner.bytes > self.max_bytes {
            let victim = inner
                .map
                .iter()
                .filter(|(k, _)| k.as_str() != key)
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            match victim.and_then(|k| inner.map.remove(&k)) {
                Some(e) => inner.bytes -= e.weight,
                None => break,
            }
        }
    }

    /// Total bytes accounted (models parsed since the last call included) and entry
    /// count.
    pub fn usage(&self) -> (usize, usize) {
        let mut inner = self.lock();
        Self::reweigh(&mut inner);
        (inner.bytes, inner.map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cached entry whose JSON parses: `tables` tables with padded comments.
    fn parseable(tables: usize) -> Arc<CachedSnapshot> {
        let mut s = Snapshot::default();
        for i in 0..tables {
            let t: model::Table = serde_json::from_value(serde_json::json!({
                "schema": "public", "name": format!("t{i}"), "kind": "table",
                "comment": "c".repeat(200)
            }))
            .expect("a table");
            s.tables.insert(format!("public.t{i}"), t);
        }
        Arc::new(CachedSnapshot::from_stored(StoredSnapshot {
            summary: SnapshotSummary {
                id: "id".into(),
                captured_at: "t".into(),
                signature: "s".into(),
                deep_signature: "d".into(),
                table_count: tables,
            },
            json: Bytes::from(serde_json::to_vec(&s).expect("json")),
        }))
    }

    /// Issue 11 finding 7: entries parsed after insertion (a visible refresh that fails
    /// with 400 parses the cached entry in place) used to keep the weight they were put
    /// with, so the tier held about 3x its bound. What it holds, weighed now, stays
    /// within the bound.
    #[test]
    fn models_parsed_after_insertion_count_against_the_bound() {
        let one = parseable(50);
        let unparsed = one.weight() + "k00".len();
        let bound = 10 * unparsed;
        let t = MemoryTier::new(Duration::from_secs(60), bound);
        for i in 0..10 {
            t.put(&format!("k{i:02}"), parseable(50));
        }
        assert_eq!(t.usage().1, 10, "ten unparsed entries fit");
        for i in 0..10 {
            let hit = t.get_any(&format!("k{i:02}"));
            if let Some(hit) = hit {
                hit.value.snapshot().expect("parses");
            }
        }
        let (accounted, entries) = t.usage();
        // What the entries weigh now, parsed models included.
        let held_now = |t: &MemoryTier| -> usize {
            let inner = t.lock();
            inner
                .map
                .iter()
                .map(|(k, e)| e.value.weight() + k.len())
                .sum()
        };
        let held = held_now(&t);
        // After the next operation nothing parsed is left unweighed.
        t.get("k09");
        let held_after = held_now(&t);
        assert_eq!(accounted, held, "the tier's count is what it holds");
        assert!(
            held_after <= bound,
            "held {held_after} bytes in {entries} entries, bound {bound}"
        );
        assert!(entries < 10, "parsed entries made room: {entries} kept");
    }

    fn entry(size: usize) -> Arc<CachedSnapshot> {
        Arc::new(CachedSnapshot::from_stored(StoredSnapshot {
            summary: SnapshotSummary {
                id: "id".into(),
                captured_at: "t".into(),
                signature: "s".into(),
                deep_signature: "d".into(),
                table_count: 0,
            },
            json: Bytes::from(vec![b' '; size]),
        }))
    }

    #[test]
    fn expires_after_ttl_but_stays_readable_as_stale() {
        let t = MemoryTier::new(Duration::from_millis(30), 1 << 20);
        t.put("k", entry(10));
        assert!(t.get("k").is_some());
        std::thread::sleep(Duration::from_millis(50));
        assert!(t.get("k").is_none());
        assert!(t.get_any("k").is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn the_ttl_runs_on_tokio_time_so_tests_can_pause_it() {
        let t = MemoryTier::new(Duration::from_secs(60), 1 << 20);
        t.put("k", entry(10));
        tokio::time::advance(Duration::from_millis(59_999)).await;
        assert!(t.get("k").is_some(), "still within the TTL");
        tokio::time::advance(Duration::from_millis(2)).await;
        assert!(t.get("k").is_none(), "expired");
        assert!(t.get_any("k").is_some(), "kept as the last known state");
    }

    #[test]
    fn evicts_least_recently_used_within_byte_bound() {
        let t = MemoryTier::new(Duration::from_secs(60), 3 * 1400);
        t.put("a", entry(1000));
        t.put("b", entry(1000));
        t.put("c", entry(1000));
        assert!(t.get("a").is_some()); // a is now more recent than b
        t.put("d", entry(1000));
        assert!(t.get("b").is_none(), "b was least recently used");
        assert!(t.get("a").is_some() && t.get("c").is_some() && t.get("d").is_some());
        assert!(t.usage().0 <= 3 * 1400);
    }

    #[test]
    fn too_large_entry_is_not_kept_and_replacing_frees_bytes() {
        let t = MemoryTier::new(Duration::from_secs(60), 2000);
        t.put("big", entry(5000));
        assert!(t.get("big").is_none());
        t.put("k", entry(500));
        t.put("k", entry(600));
        assert_eq!(t.usage().1, 1);
        assert!(t.usage().0 < 1000);
    }
}
