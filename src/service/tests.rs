//! Unit tests of the request path, in process: an in-memory store and a made-up catalog
//! (see [`super::testkit`]), tokio's paused clock for the memory tier's TTL. What they
//! assert is what a caller sees in the response.

use super::testkit::{connection, service, FakeCatalog, MemoryStore};
use crate::store::{NewSnapshot, SnapshotStore};
use model::api::{
    DiffRequest, HistoryRequest, PerformedRefresh, Refresh, SnapshotRef, SnapshotRequest, Source,
    StoreKind,
};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

fn request(refresh: Refresh) -> SnapshotRequest {
    SnapshotRequest {
        connection: connection(),
        refresh,
        visible_tables: Vec::new(),
    }
}

const TTL: &[(&str, &str)] = &[("MEM_TTL_MS", "1000"), ("DB_MAX_AGE_MS", "600000")];

#[tokio::test(start_paused = true)]
async fn cache_serves_memory_then_the_store_then_reads_fresh() {
    let store = Arc::new(MemoryStore::default());
    let catalog = FakeCatalog::with_tables(&["users", "orders"]);
    let svc = service(TTL, Some(store.clone()), catalog.clone());

    let first = svc.snapshot(request(Refresh::Cache)).await.expect("fresh");
    assert_eq!(first.cache.source, Source::Fresh);
    assert!(!first.cache.hit);
    assert_eq!(first.refresh.performed, PerformedRefresh::Full);
    assert!(first.persistence.saved, "{:?}", first.persistence);
    assert_eq!(first.persistence.store, StoreKind::Postgres);
    assert_eq!(catalog.reads(), 1);

    let second = svc.snapshot(request(Refresh::Cache)).await.expect("memory");
    assert_eq!(second.cache.source, Source::Mem);
    assert!(second.cache.hit);
    assert_eq!(second.refresh.performed, PerformedRefresh::Cache);
    assert_eq!(second.cached.captured_at, first.cached.captured_at);

    // Past the memory TTL (paused clock), the store's young snapshot is served.
    tokio::time::advance(Duration::from_millis(1001)).await;
    let third = svc.snapshot(request(Refresh::Cache)).await.expect("store");
    assert_eq!(third.cache.source, Source::Db);
    assert_eq!(third.cached.json, first.cached.json);
    assert_eq!(catalog.reads(), 1);

    // A cold process sharing the store finds it too.
    let cold = service(TTL, Some(store.clone()), catalog.clone());
    let fourth = cold.snapshot(request(Refresh::Cache)).await.expect("store");
    assert_eq!(fourth.cache.source, Source::Db);
    assert_eq!(
        fourth.persistence.snapshot_id,
        first.persistence.snapshot_id
    );
    assert_eq!(catalog.reads(), 1);

    // force always reads.
    let forced = svc.snapshot(request(Refresh::Force)).await.expect("force");
    assert_eq!(forced.cache.source, Source::Fresh);
    assert_eq!(forced.refresh.requested, Refresh::Force);
    assert_eq!(catalog.reads(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_store_older_than_its_max_age_is_not_served() {
    let store = Arc::new(MemoryStore::default());
    let catalog = FakeCatalog::with_tables(&["users"]);
    // DB_MAX_AGE_MS=0: nothing stored is young enough (ages are wall-clock).
    let vars = &[("MEM_TTL_MS", "1000"), ("DB_MAX_AGE_MS", "0")];
    service(vars, Some(store.clone()), catalog.clone())
        .snapshot(request(Refresh::Cache))
        .await
        .expect("fresh");
    std::thread::sleep(Duration::from_millis(5));
    let cold = service(vars, Some(store), catalog.clone());
    let again = cold.snapshot(request(Refresh::Cache)).await.expect("fresh");
    assert_eq!(again.cache.source, Source::Fresh);
    assert_eq!(catalog.reads(), 2);
}

#[tokio::test(start_paused = true)]
async fn drift_fires_on_a_change_and_not_on_a_re_read() {
    let catalog = FakeCatalog::with_tables(&["users"]);
    let svc = service(TTL, Some(Arc::new(MemoryStore::default())), catalog.clone());
    let first = svc.snapshot(request(Refresh::Force)).await.expect("read");
    assert!(!first.cached.drift.changed_since_last);
    assert_eq!(first.cached.drift.previous_signature, None);

    let same = svc.snapshot(request(Refresh::Force)).await.expect("read");
    assert!(
        !same.cached.drift.changed_since_last,
        "{:?}",
        same.cached.drift
    );
    assert_eq!(
        same.cached.drift.previous_signature.as_deref(),
        Some(first.cached.signature.as_str())
    );

    catalog.set_tables(&["users", "orders"]);
    let changed = svc.snapshot(request(Refresh::Force)).await.expect("read");
    assert!(changed.cached.drift.changed_since_last);
    assert_ne!(changed.cached.signature, first.cached.signature);
    assert_eq!(
        changed.cached.drift.previous_signature.as_deref(),
        Some(first.cached.signature.as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn memory_only_drift_compares_with_the_expired_memory_entry() {
    let catalog = FakeCatalog::with_tables(&["users"]);
    let svc = service(TTL, None, catalog.clone());
    let first = svc.snapshot(request(Refresh::Cache)).await.expect("read");
    assert_eq!(first.persistence.store, StoreKind::None);
    assert!(!first.persistence.saved);
    tokio::time::advance(Duration::from_secs(5)).await;
    catalog.set_tables(&["users", "orders"]);
    let second = svc.snapshot(request(Refresh::Cache)).await.expect("read");
    assert_eq!(second.cache.source, Source::Fresh);
    assert!(second.cached.drift.changed_since_last);
    assert_eq!(second.cache.max_age_ms, None);
}

#[tokio::test(start_paused = true)]
async fn concurrent_misses_share_one_read() {
    let catalog = FakeCatalog::with_tables(&["users"]);
    *catalog.delay.lock().unwrap() = Duration::from_millis(200);
    let svc = service(TTL, Some(Arc::new(MemoryStore::default())), catalog.clone());
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let svc = svc.clone();
            tokio::spawn(async move { svc.snapshot(request(Refresh::Cache)).await })
        })
        .collect();
    let mut captured = std::collections::BTreeSet::new();
    for call in calls {
        let outcome = call.await.expect("task").expect("snapshot");
        captured.insert(outcome.cached.captured_at.clone());
    }
    assert_eq!(catalog.reads(), 1, "one read for 20 concurrent misses");
    assert_eq!(captured.len(), 1, "every caller got the same snapshot");
}

#[tokio::test(start_paused = true)]
async fn a_dead_store_costs_persistence_only() {
    let store = Arc::new(MemoryStore::default());
    store.failing.store(true, Ordering::SeqCst);
    let catalog = FakeCatalog::with_tables(&["users"]);
    let svc = service(TTL, Some(store.clone()), catalog.clone());
    let first = svc.snapshot(request(Refresh::Cache)).await.expect("served");
    assert_eq!(first.cache.source, Source::Fresh);
    assert!(!first.persistence.saved);
    assert!(first
        .persistence
        .error
        .as_deref()
        .is_some_and(|e| e.contains("not persisted")));
    let second = svc.snapshot(request(Refresh::Cache)).await.expect("served");
    assert_eq!(second.cache.source, Source::Mem);

    // Back up: the next read is saved (the store is prepared again).
    store.failing.store(false, Ordering::SeqCst);
    let third = svc.snapshot(request(Refresh::Force)).await.expect("served");
    assert!(third.persistence.saved, "{:?}", third.persistence);
    assert_eq!(store.saves(), 1);
    // Without CONNECTION_KEY_SECRET the first requests were keyed by a stand-in (the
    // kept secret was unreadable) and saved nothing; the save is under the kept secret,
    // where another process finds it.
    let later = service(TTL, Some(store.clone()), catalog.clone());
    let found = later.snapshot(request(Refresh::Cache)).await.expect("db");
    assert_eq!(found.cache.source, Source::Db);
    assert_eq!(found.persistence.snapshot_id, third.persistence.snapshot_id);
}

#[tokio::test(start_paused = true)]
async fn a_lease_held_elsewhere_serves_the_holders_snapshot() {
    let store = Arc::new(MemoryStore::default());
    let catalog = FakeCatalog::with_tables(&["users"]);
    let first = service(TTL, Some(store.clone()), catalog.clone());
    first.snapshot(request(Refresh::Force)).await.expect("read");
    let key = store.keys().pop().expect("a stored key");
    // Another process holds the read lease and saves its snapshot 350 ms from now.
    store.hold_lease(&key, "other-process", Duration::from_secs(60));
    let holder = {
        let store = store.clone();
        let key = key.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(350)).await;
            let latest = store
                .load_latest(&key)
                .await
                .ok()
                .flatten()
                .expect("stored");
            let new = NewSnapshot {
                workspace_id: None,
                // An unchanged re-read keeps the id and moves the capture time: the
                // waiter tells the holder's save by it (the wall clock, not tokio's).
                captured_at: loop {
                    let now = super::time::now_iso();
                    if now > latest.summary.captured_at {
                        break now;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                },
                signature: latest.summary.signature,
                deep_signature: latest.summary.deep_signature,
                table_count: latest.summary.table_count,
                json: latest.json,
            };
            let id = store.save(&key, &new).await.expect("save");
            store
                .release_lease(&key, "other-process")
                .await
                .expect("release");
            id
        })
    };
    let waiting = service(TTL, Some(store.clone()), catalog.clone());
    let served = waiting
        .snapshot(request(Refresh::Force))
        .await
        .expect("served");
    let saved_id = holder.await.expect("task");
    assert_eq!(served.cache.source, Source::Db);
    assert_eq!(served.persistence.snapshot_id, Some(saved_id));
    assert_eq!(
        catalog.reads(),
        1,
        "the waiting process did not read the catalog"
    );
}

#[tokio::test(start_paused = true)]
async fn a_visible_refresh_merges_into_the_latest_and_reports_what_it_read() {
    let catalog = FakeCatalog::with_tables(&["a", "b", "c", "d", "e"]);
    let svc = service(TTL, Some(Arc::new(MemoryStore::default())), catalog.clone());
    svc.snapshot(request(Refresh::Cache)).await.expect("read");
    catalog.set_tables(&["b", "c", "d", "e"]);
    let mut req = request(Refresh::Visible);
    req.visible_tables = vec!["public.a".into()];
    let merged = svc.snapshot(req).await.expect("visible");
    assert_eq!(merged.refresh.performed, PerformedRefresh::Visible);
    assert_eq!(merged.refresh.removed_tables, Some(vec!["public.a".into()]));
    assert!(merged.cached.drift.changed_since_last);
    assert_eq!(merged.cached.table_count, 4);

    // More than the share of the catalog: a full read, and the note says why.
    let mut req = request(Refresh::Visible);
    req.visible_tables = vec!["public.b".into(), "public.c".into(), "public.d".into()];
    let full = svc.snapshot(req).await.expect("full");
    assert_eq!(full.refresh.performed, PerformedRefresh::Full);
    assert!(full
        .refresh
        .note
        .as_deref()
        .is_some_and(|n| n.contains("full read")));
}

#[tokio::test(start_paused = true)]
async fn history_and_diff_read_the_store() {
    let catalog = FakeCatalog::with_tables(&["users"]);
    let svc = service(TTL, Some(Arc::new(MemoryStore::default())), catalog.clone());
    svc.snapshot(request(Refresh::Force)).await.expect("read");
    std::thread::sleep(Duration::from_millis(3)); // capture times are wall-clock
    catalog.set_tables(&["users", "orders"]);
    svc.snapshot(request(Refresh::Force)).await.expect("read");

    let history = svc
        .history(HistoryRequest {
            connection: connection(),
            limit: 1,
            before: None,
        })
        .await
        .expect("history");
    assert_eq!(history.items.len(), 1);
    assert_eq!(history.items[0].table_count, 2);
    assert!(history.next_before.is_some());

    let diff = svc
        .diff(DiffRequest {
            connection: connection(),
            from: SnapshotRef::Previous,
            to: SnapshotRef::Latest,
        })
        .await
        .expect("diff");
    assert_eq!(diff.diff.tables.added, vec!["public.orders".to_string()]);
}

/// Raw-URL mode (issue 11 finding 8): a process that has not seen the URL's credentials
/// work within DB_MAX_AGE_MS proves them before serving what is stored, so a revoked
/// password stops reading; a fresh read is proof enough, so a hit costs no extra connection.
#[tokio::test(start_paused = true)]
async fn a_revoked_password_no_longer_reads_stored_snapshots() {
    let store = Arc::new(MemoryStore::default());
    let catalog = FakeCatalog::with_tables(&["users"]);
    let first = service(TTL, Some(store.clone()), catalog.clone());
    first.snapshot(request(Refresh::Cache)).await.expect("read");
    let hit = first.snapshot(request(Refresh::Cache)).await.expect("hit");
    assert_eq!(hit.cache.source, Source::Mem);
    assert_eq!(catalog.proofs(), 0, "the fresh read proved the credentials");

    // Another process, credentials still good: one proof, then the stored snapshot.
    let second = service(TTL, Some(store.clone()), catalog.clone());
    let served = second.snapshot(request(Refresh::Cache)).await.expect("db");
    assert_eq!(served.cache.source, Source::Db);
    assert_eq!(catalog.proofs(), 1);

    // The password is revoked: a third process serves nothing stored.
    catalog.revoked.store(true, Ordering::SeqCst);
    let third = service(TTL, Some(store.clone()), catalog.clone());
    let err = third
        .snapshot(request(Refresh::Cache))
        .await
        .err()
        .expect("refused");
    assert_eq!(err.status().as_u16(), 403, "{err:?}");
    assert_eq!(catalog.reads(), 1, "nothing was read for it");
}
