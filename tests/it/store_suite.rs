//! One behaviour suite for the persistent tier, run against both stores: the PostgreSQL
//! store on a fresh database of the throwaway cluster, and the DynamoDB store on moto's
//! server. Each case uses its own key, so cases never see each other's snapshots.
//!
//! The DynamoDB side also checks what only it has: the item layout (TTL attribute on
//! non-latest items, never on the latest), the table's TTL setting, body parts for a
//! large snapshot, and a clear error for a missing table.

use crate::harness;
use aws_sdk_dynamodb::types::AttributeValue;
use bytes::Bytes;
use catalog_snapshot::store::dynamodb::{
    body_sk, partition_key, summary_sk, DynamoStore, DynamoStoreOptions, PART_BYTES, POINTER_SK,
    TTL_ATTRIBUTE,
};
use catalog_snapshot::store::postgres::{PostgresStore, PostgresStoreOptions};
use catalog_snapshot::store::{NewSnapshot, SnapshotStore, StoreError, StoreKey};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// History entries kept per key in both stores under test.
const KEEP: usize = 6;
/// TTL of the DynamoDB store under test.
const TTL_DAYS: u32 = 30;

static KEY_SEQ: AtomicU32 = AtomicU32::new(0);

/// A key of its own for one case.
fn key(store: &dyn SnapshotStore, case: &str) -> StoreKey {
    StoreKey {
        connection_key: format!(
            "suite-{}-{case}-{}-{}",
            store.name(),
            std::process::id(),
            KEY_SEQ.fetch_add(1, Ordering::Relaxed)
        ),
        schemas_key: r#"["app","public"]"#.into(),
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Canonical `capturedAt` (both stores return this form).
fn iso(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .expect("time in range")
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .expect("format")
}

/// A base time an hour ago, on a whole second (recent enough that no TTL applies).
fn base_ms() -> i64 {
    (now_ms() - 3_600_000) / 1000 * 1000
}

/// A small snapshot whose JSON has spacing, key order and non-ASCII text a re-encoding
/// would change.
fn small(captured_ms: i64, deep: &str, n: usize) -> NewSnapshot {
    let at = iso(captured_ms);
    let json = format!(
        "{{\"meta\": {{\"capturedAt\":\"{at}\", \"n\": {n}}},\n  \"tables\":{{\"app.\\\"Order Items\\\"\":{{\"comment\":\"caf\u{e9} \u{1F600}\"}}}}, \"b\":1, \"a\":2}}"
    );
    NewSnapshot {
        workspace_id: Some("ws-suite".into()),
        captured_at: at,
        signature: format!("light-{deep}"),
        deep_signature: deep.to_string(),
        table_count: n,
        json: Bytes::from(json),
    }
}

async fn save(store: &dyn SnapshotStore, key: &StoreKey, snap: &NewSnapshot) -> String {
    store
        .save(key, snap)
        .await
        .unwrap_or_else(|e| panic!("[{}] save: {e}", store.name()))
}

async fn history(
    store: &dyn SnapshotStore,
    key: &StoreKey,
    limit: usize,
    before: Option<&str>,
) -> Vec<String> {
    store
        .history(key, limit, before)
        .await
        .unwrap_or_else(|e| panic!("[{}] history: {e}", store.name()))
        .into_iter()
        .map(|s| s.id)
        .collect()
}

// ---------------------------------------------------------------------------------
// The cases, generic over the store.

async fn case_save_and_load_latest(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "latest");
    let snap = small(base_ms(), "d1", 3);
    let id = save(store, &k, &snap).await;
    let got = store
        .load_latest(&k)
        .await
        .expect("load_latest")
        .expect("a latest snapshot");
    assert_eq!(
        got.json, snap.json,
        "[{name}] body must round-trip byte for byte"
    );
    assert_eq!(got.summary.id, id, "[{name}]");
    assert_eq!(got.summary.captured_at, snap.captured_at, "[{name}]");
    assert_eq!(got.summary.signature, snap.signature, "[{name}]");
    assert_eq!(got.summary.deep_signature, snap.deep_signature, "[{name}]");
    assert_eq!(got.summary.table_count, 3, "[{name}]");
    let summary = store.latest_summary(&k).await.expect("latest_summary");
    assert_eq!(summary.as_ref(), Some(&got.summary), "[{name}]");
}

async fn case_load_by_id(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "byid");
    let base = base_ms();
    let a = small(base, "da", 1);
    let b = small(base + 1000, "db", 2);
    let id_a = save(store, &k, &a).await;
    let id_b = save(store, &k, &b).await;
    assert_ne!(id_a, id_b, "[{name}]");
    let got_a = store
        .load(&k, &id_a)
        .await
        .expect("load a")
        .expect("a exists");
    assert_eq!(got_a.json, a.json, "[{name}]");
    assert_eq!(got_a.summary.id, id_a, "[{name}]");
    assert_eq!(got_a.summary.captured_at, a.captured_at, "[{name}]");
    let got_b = store
        .load(&k, &id_b)
        .await
        .expect("load b")
        .expect("b exists");
    assert_eq!(got_b.json, b.json, "[{name}]");
    for missing in ["1", "nope", "0000000000001-00000000", ""] {
        assert!(
            store
                .load(&k, missing)
                .await
                .expect("load missing")
                .is_none(),
            "[{name}] id {missing:?} must not be found"
        );
    }
    // An id is found only under its own key.
    let other = key(store, "byid-other");
    assert!(
        store
            .load(&other, &id_a)
            .await
            .expect("load other")
            .is_none(),
        "[{name}]"
    );
}

async fn case_unknown_key(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "unknown");
    assert!(
        store.load_latest(&k).await.expect("load_latest").is_none(),
        "[{name}]"
    );
    assert!(
        store
            .latest_summary(&k)
            .await
            .expect("latest_summary")
            .is_none(),
        "[{name}]"
    );
    assert!(history(store, &k, 10, None).await.is_empty(), "[{name}]");
}

async fn case_history_order_and_pages(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "history");
    let base = base_ms();
    let mut ids = Vec::new();
    let mut times = Vec::new();
    for i in 0..5 {
        let s = small(base + i as i64 * 60_000, &format!("h{i}"), i);
        times.push(s.captured_at.clone());
        ids.push(save(store, &k, &s).await);
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(
        history(store, &k, 10, None).await,
        newest_first,
        "[{name}] newest first"
    );
    let full = store.history(&k, 10, None).await.expect("history");
    let full_times: Vec<&str> = full.iter().map(|s| s.captured_at.as_str()).collect();
    let want_times: Vec<&str> = times.iter().rev().map(String::as_str).collect();
    assert_eq!(full_times, want_times, "[{name}]");
    assert_eq!(full[0].deep_signature, "h4", "[{name}]");
    // Pages: the cursor is the last captured_at of the previous page, exclusive.
    assert_eq!(
        history(store, &k, 2, None).await,
        newest_first[..2],
        "[{name}] page 1"
    );
    assert_eq!(
        history(store, &k, 2, Some(&times[3])).await,
        newest_first[2..4],
        "[{name}] page 2"
    );
    assert_eq!(
        history(store, &k, 2, Some(&times[1])).await,
        newest_first[4..],
        "[{name}] page 3"
    );
    assert!(
        history(store, &k, 2, Some(&times[0])).await.is_empty(),
        "[{name}] past the end"
    );
    // A cursor between two entries, in another offset and precision.
    let between =
        time::OffsetDateTime::parse(&times[2], &time::format_description::well_known::Rfc3339)
            .expect("parse")
            + time::Duration::seconds(30);
    let between = between
        .to_offset(time::macros::offset!(+02:00))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    assert_eq!(
        history(store, &k, 10, Some(&between)).await,
        newest_first[2..],
        "[{name}] cursor {between}"
    );
    // The latest heads the history.
    let latest = store
        .latest_summary(&k)
        .await
        .expect("latest")
        .expect("some");
    assert_eq!(latest.id, newest_first[0], "[{name}]");
}

/// The store returns `capturedAt` as saved; staleness is the service's decision.
async fn case_max_age_is_the_callers(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "maxage");
    let old = "2020-02-03T04:05:06.789Z";
    let mut snap = small(0, "old", 1);
    snap.captured_at = old.into();
    let id = save(store, &k, &snap).await;
    let got = store
        .load_latest(&k)
        .await
        .expect("load_latest")
        .expect("an old snapshot is still the latest");
    assert_eq!(got.summary.id, id, "[{name}]");
    assert_eq!(
        got.summary.captured_at, old,
        "[{name}] capturedAt must come back as saved"
    );
    assert_eq!(got.json, snap.json, "[{name}]");
    let h = store.history(&k, 5, None).await.expect("history");
    assert_eq!(h.len(), 1, "[{name}]");
    assert_eq!(h[0].captured_at, old, "[{name}]");
}

/// A catalog of `tables` tables with 10 columns each, varied names and types, foreign
/// keys, indexes and constraints, serialized the way the service serializes it. With
/// `noisy`, every column carries a comment of random characters, so gzip cannot shrink
/// the body below a few parts.
fn big_snapshot(tables: usize, noisy: bool, captured_at: &str) -> NewSnapshot {
    use model::*;
    let mut rng = rand::rngs::StdRng::seed_from_u64(if noisy { 7 } else { 3 });
    let schemas = ["app", "billing", "audit", "inventory"];
    let nouns = [
        "customer",
        "order",
        "invoice",
        "payment",
        "shipment",
        "product",
        "warehouse",
        "supplier",
        "employee",
        "account",
        "ledger",
        "refund",
        "coupon",
        "session",
        "address",
        "review",
        "subscription",
        "plan",
        "event",
        "tenant",
    ];
    let quals = [
        "", "_item", "_history", "_archive", "_line", "_audit", "_tag", "_note", "_log",
    ];
    let col_names = [
        "external_ref",
        "email",
        "status",
        "amount_cents",
        "currency",
        "notes",
        "metadata",
        "quantity",
        "starts_on",
        "ends_on",
        "is_active",
        "display_name",
        "Price (EUR)",
        "region_code",
        "priority",
        "score",
        "payload",
        "checksum",
    ];
    let types = [
        "text",
        "bigint",
        "integer",
        "numeric(12,2)",
        "character varying(40)",
        "jsonb",
        "timestamp with time zone",
        "boolean",
        "date",
        "uuid",
        "smallint",
        "bytea",
    ];
    let token = |rng: &mut rand::rngs::StdRng, n: usize| -> String {
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
            .collect()
    };
    let mut s = Snapshot::default();
    s.meta.captured_at = captured_at.into();
    s.meta.schemas = schemas.iter().map(|x| x.to_string()).collect();
    s.meta.schemas.sort();
    s.meta.server_version = "16.4 (Debian 16.4-1.pgdg120+1)".into();
    s.meta.server_version_num = 160004;
    let mut table_keys: Vec<String> = Vec::new();
    for t in 0..tables {
        let schema = schemas[t % schemas.len()];
        let name = format!(
            "{}{}_{}",
            nouns[rng.random_range(0..nouns.len())],
            quals[rng.random_range(0..quals.len())],
            t
        );
        let tkey = format!("{schema}.{name}");
        let pkey = format!("{name}_pkey");
        s.tables.insert(
            tkey.clone(),
            Table {
                schema: schema.into(),
                name: name.clone(),
                kind: if t % 37 == 0 { TableKind::View } else { TableKind::Table },
                comment: (t % 3 == 0).then(|| format!("Holds the {name} records of the {schema} domain.")),
                row_estimate: Some(rng.random_range(0..5_000_000)),
                primary_key: Some(PrimaryKey {
                    name: pkey.clone(),
                    columns: vec!["id".into()],
                }),
                partition_of: None,
                partition_bound: None,
                partition_key: None,
                partitions: Vec::new(),
                view_definition: (t % 37 == 0).then(|| format!(" SELECT id, created_at\n   FROM {schema}.{name}_base\n  WHERE (deleted_at IS NULL);")),
                refreshed_at: None,
                ..Default::default()
            },
        );
        for c in 0..10 {
            let (cname, ty) = match c {
                0 => ("id".to_string(), "bigint"),
                1 => ("created_at".to_string(), "timestamp with time zone"),
                2 if t > 0 => ("parent_id".to_string(), "bigint"),
                _ => {
                    let base = col_names[rng.random_range(0..col_names.len())];
                    let cname = if base.contains(' ') {
                        format!("\"{base} {c}\"")
                    } else {
                        format!("{base}_{c}")
                    };
                    (cname, types[rng.random_range(0..types.len())])
                }
            };
            s.columns.insert(
                format!("{tkey}.{cname}"),
                Column {
                    table: tkey.clone(),
                    name: cname.clone(),
                    position: c + 1,
                    data_type: ty.into(),
                    nullable: c > 1 && rng.random_bool(0.6),
                    default: match c {
                        1 => Some("now()".into()),
                        _ if rng.random_bool(0.1) => Some("0".into()),
                        _ => None,
                    },
                    identity: (c == 0).then_some(Identity::ByDefault),
                    generated: None,
                    generated_kind: None,
                    collation: None,
                    comment: noisy.then(|| token(&mut rng, 48)),
                    not_null_not_valid: false,
                    not_null_no_inherit: false,
                    is_primary_key: c == 0,
                    is_foreign_key: c == 2 && t > 0,
                    ..Default::default()
                },
            );
        }
        s.indexes.insert(
            format!("{tkey}.{pkey}"),
            Index {
                table: tkey.clone(),
                name: pkey.clone(),
                definition: format!("CREATE UNIQUE INDEX {pkey} ON {tkey} USING btree (id)"),
                unique: true,
                primary: true,
                method: "btree".into(),
                columns: vec![Some("id".into())],
                include: Vec::new(),
                predicate: None,
                has_expressions: false,
                ..Default::default()
            },
        );
        let ix = format!("{name}_created_at_idx");
        s.indexes.insert(
            format!("{tkey}.{ix}"),
            Index {
                table: tkey.clone(),
                name: ix.clone(),
                definition: format!("CREATE INDEX {ix} ON {tkey} USING btree (created_at DESC)"),
                unique: false,
                primary: false,
                method: "btree".into(),
                columns: vec![Some("created_at".into())],
                include: Vec::new(),
                predicate: None,
                has_expressions: false,
                ..Default::default()
            },
        );
        s.constraints.insert(
            format!("{tkey}.{pkey}"),
            Constraint {
                table: tkey.clone(),
                name: pkey.clone(),
                kind: ConstraintKind::PrimaryKey,
                columns: vec!["id".into()],
                definition: "PRIMARY KEY (id)".into(),
                deferrable: false,
                initially_deferred: false,
                validated: true,
                ..Default::default()
            },
        );
        if t > 0 {
            let target = table_keys[rng.random_range(0..table_keys.len())].clone();
            let fk = format!("{name}_parent_id_fkey");
            s.relationships.insert(
                format!("{tkey}.{fk}"),
                Relationship {
                    name: fk.clone(),
                    from_table: tkey.clone(),
                    from_columns: vec!["parent_id".into()],
                    to_table: target.clone(),
                    to_columns: vec!["id".into()],
                    on_delete: if t % 2 == 0 {
                        FkAction::Cascade
                    } else {
                        FkAction::NoAction
                    },
                    on_update: FkAction::NoAction,
                    deferrable: false,
                    initially_deferred: false,
                    match_type: "simple".into(),
                    validated: true,
                    one_to_one: false,
                    definition: format!(
                        "FOREIGN KEY (parent_id) REFERENCES {target}(id) ON DELETE CASCADE"
                    ),
                    ..Default::default()
                },
            );
        }
        table_keys.push(tkey);
    }
    signature::seal(&mut s);
    let json = serde_json::to_vec(&s).expect("serialize");
    NewSnapshot {
        workspace_id: None,
        captured_at: captured_at.into(),
        signature: s.meta.signature.clone(),
        deep_signature: s.meta.deep_signature.clone(),
        table_count: s.tables.len(),
        json: Bytes::from(json),
    }
}

/// A large snapshot saved and read back; returns (key, id, JSON bytes) of each.
async fn case_large_snapshot(
    store: &dyn SnapshotStore,
) -> Vec<(&'static str, StoreKey, String, usize)> {
    let name = store.name();
    let mut out = Vec::new();
    for (label, noisy) in [("realistic", false), ("noisy", true)] {
        let k = key(store, &format!("large-{label}"));
        let snap = big_snapshot(2000, noisy, &iso(base_ms()));
        assert!(
            snap.json.len() > 2_000_000,
            "a 2,000-table snapshot is several MB"
        );
        let t = Instant::now();
        let id = save(store, &k, &snap).await;
        let save_ms = t.elapsed().as_secs_f64() * 1000.0;
        let mut reads = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let got = store
                .load_latest(&k)
                .await
                .expect("load_latest")
                .expect("the large snapshot");
            reads.push(t.elapsed().as_secs_f64() * 1000.0);
            assert_eq!(got.summary.id, id, "[{name}]");
            assert!(
                got.json == snap.json,
                "[{name}] the {label} 2,000-table snapshot must round-trip byte for byte"
            );
        }
        let t = Instant::now();
        let by_id = store.load(&k, &id).await.expect("load").expect("by id");
        let by_id_ms = t.elapsed().as_secs_f64() * 1000.0;
        assert!(
            by_id.json == snap.json,
            "[{name}] load by id of the {label} snapshot"
        );
        let t = Instant::now();
        let summary = store
            .latest_summary(&k)
            .await
            .expect("summary")
            .expect("some");
        let summary_ms = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(summary.table_count, 2000, "[{name}]");
        reads.sort_by(f64::total_cmp);
        eprintln!(
            "[{name}] {label} 2,000-table snapshot, {} bytes of JSON: save {save_ms:.0} ms; \
             latest read (pointer + body) best {:.1} ms, median {:.1} ms of 5; load by id {by_id_ms:.1} ms; \
             latest summary {summary_ms:.1} ms",
            snap.json.len(),
            reads[0],
            reads[2],
        );
        out.push((label, k, id, snap.json.len()));
    }
    out
}

async fn case_concurrent_saves(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "concurrent");
    let base = base_ms();
    let snaps: Vec<NewSnapshot> = (0..20)
        .map(|i| small(base + i as i64 * 1000, &format!("c{i}"), i))
        .collect();
    let ids = futures::future::join_all(snaps.iter().map(|s| store.save(&k, s))).await;
    let ids: Vec<String> = ids
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("[{name}] concurrent save: {e}")))
        .collect();
    let latest = store
        .load_latest(&k)
        .await
        .expect("load_latest")
        .expect("latest");
    assert_eq!(
        latest.summary.id, ids[19],
        "[{name}] the newest capturedAt must win"
    );
    assert_eq!(
        latest.summary.captured_at, snaps[19].captured_at,
        "[{name}]"
    );
    assert_eq!(latest.json, snaps[19].json, "[{name}]");
    let h = store.history(&k, 100, None).await.expect("history");
    assert_eq!(h.len(), KEEP, "[{name}] keep limit after concurrent saves");
    let want: Vec<&str> = ids.iter().rev().take(KEEP).map(String::as_str).collect();
    let got: Vec<&str> = h.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(got, want, "[{name}] history after concurrent saves");
}

async fn case_older_save_keeps_pointer(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "older");
    let base = base_ms();
    let newer = small(base + 10_000, "n", 1);
    let older = small(base + 5_000, "o", 2);
    let id_newer = save(store, &k, &newer).await;
    let id_older = save(store, &k, &older).await;
    let latest = store
        .load_latest(&k)
        .await
        .expect("load_latest")
        .expect("latest");
    assert_eq!(
        latest.summary.id, id_newer,
        "[{name}] an older save must not move the latest"
    );
    assert_eq!(latest.json, newer.json, "[{name}]");
    assert_eq!(
        history(store, &k, 10, None).await,
        vec![id_newer.clone(), id_older.clone()],
        "[{name}]"
    );
    let got = store
        .load(&k, &id_older)
        .await
        .expect("load")
        .expect("the older save is stored");
    assert_eq!(got.json, older.json, "[{name}]");
    // An older save with the latest's deep signature supersedes nothing.
    let older_same = small(base + 1_000, "n", 3);
    let id_same = save(store, &k, &older_same).await;
    assert_eq!(
        history(store, &k, 10, None).await,
        vec![id_newer.clone(), id_older, id_same],
        "[{name}]"
    );
    assert_eq!(
        store
            .latest_summary(&k)
            .await
            .expect("summary")
            .map(|s| s.id),
        Some(id_newer),
        "[{name}]"
    );
}

/// An unchanged re-read (same deep signature, captured later) refreshes the latest in
/// place: the id acknowledged for that state stays loadable and now carries the last read
/// time and body (issue 11, finding 4: such ids used to be deleted).
async fn case_unchanged_reread_refreshes_in_place(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "refresh");
    let base = base_ms();
    let first = save(store, &k, &small(base, "same", 1)).await;
    let again = small(base + 60_000, "same", 1);
    let second = save(store, &k, &again).await;
    assert_eq!(
        second, first,
        "[{name}] an unchanged re-read keeps the acknowledged id"
    );
    assert_eq!(
        history(store, &k, 10, None).await,
        vec![first.clone()],
        "[{name}] one entry per state"
    );
    let got = store
        .load(&k, &first)
        .await
        .expect("load")
        .expect("[{name}] the acknowledged id is still loadable");
    assert_eq!(
        got.json, again.json,
        "[{name}] it carries the last read's body"
    );
    assert_eq!(got.summary.captured_at, again.captured_at, "[{name}]");
    let latest = store
        .load_latest(&k)
        .await
        .expect("load_latest")
        .expect("latest");
    assert_eq!(latest.summary.id, first, "[{name}]");
    assert_eq!(
        latest.summary.captured_at, again.captured_at,
        "[{name}] latest carries the last read time"
    );
    // The history cursor applies to the time it carries now.
    assert!(
        history(store, &k, 10, Some(&again.captured_at))
            .await
            .is_empty(),
        "[{name}] a refreshed entry is not listed again past its own time"
    );
    let changed = save(store, &k, &small(base + 120_000, "changed", 2)).await;
    assert_ne!(changed, first, "[{name}] a change is a new entry");
    assert_eq!(
        history(store, &k, 10, None).await,
        vec![changed.clone(), first.clone()],
        "[{name}]"
    );
    let reread_body = small(base + 180_000, "changed", 2);
    let reread = save(store, &k, &reread_body).await;
    assert_eq!(reread, changed, "[{name}]");
    assert_eq!(
        history(store, &k, 10, None).await,
        vec![changed.clone(), first.clone()],
        "[{name}]"
    );
    // Both acknowledged ids still diff: each loads its own state.
    let old = store.load(&k, &first).await.expect("load").expect("first");
    assert_eq!(old.summary.deep_signature, "same", "[{name}]");
    let new = store
        .load(&k, &changed)
        .await
        .expect("load")
        .expect("changed");
    assert_eq!(new.json, reread_body.json, "[{name}]");
    // Many unchanged re-reads still make one entry (and never grow the history).
    for i in 0..5 {
        let id = save(store, &k, &small(base + 200_000 + i * 1000, "changed", 2)).await;
        assert_eq!(id, changed, "[{name}] re-read {i}");
    }
    assert_eq!(history(store, &k, 10, None).await.len(), 2, "[{name}]");
}

/// 40 concurrent saves of one capture time (visible refreshes of one base keep its
/// capture time) with their own contents: 40 distinct ids, each loading its own body and
/// signatures (issue 11, finding 5: ids collided and loads returned another save's body).
/// Needs a store keeping at least 40 entries.
async fn case_concurrent_same_time_saves_stay_apart(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "same-time-40");
    let at = base_ms() + 3_000;
    let snaps: Vec<NewSnapshot> = (0..40)
        .map(|i| {
            let mut s = small(at, &format!("visible-{i}"), i);
            s.json = Bytes::from(format!(
                "{{\"meta\":{{\"n\":{i}}},\"pad\":\"{}\"}}",
                "x".repeat(i * 37)
            ));
            s
        })
        .collect();
    let ids = futures::future::join_all(snaps.iter().map(|s| store.save(&k, s))).await;
    let ids: Vec<String> = ids
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("[{name}] concurrent save: {e}")))
        .collect();
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 40, "[{name}] 40 saves, 40 ids: {ids:?}");
    for (snap, id) in snaps.iter().zip(&ids) {
        let got = store
            .load(&k, id)
            .await
            .unwrap_or_else(|e| panic!("[{name}] load {id}: {e}"))
            .unwrap_or_else(|| panic!("[{name}] {id} is loadable"));
        assert_eq!(got.json, snap.json, "[{name}] {id} loads its own body");
        assert_eq!(
            got.summary.deep_signature, snap.deep_signature,
            "[{name}] {id}"
        );
        assert_eq!(got.summary.signature, snap.signature, "[{name}] {id}");
    }
    assert_eq!(
        store.history(&k, 100, None).await.expect("history").len(),
        40,
        "[{name}]"
    );
}

/// A long schema list (60 names of 60 characters) saves, loads and leases (issue 11,
/// finding 10: it passed the PostgreSQL btree row limit and every save failed).
async fn case_long_schema_list(store: &dyn SnapshotStore) {
    let name = store.name();
    let schemas: Vec<String> = (0..60)
        .map(|i| format!("s{i:02}_{}", "x".repeat(56)))
        .collect();
    let k = StoreKey {
        schemas_key: serde_json::to_string(&schemas).expect("json"),
        ..key(store, "long-schemas")
    };
    assert!(k.schemas_key.len() > 3_600);
    let snap = small(base_ms(), "long", 4);
    let id = store
        .save(&k, &snap)
        .await
        .unwrap_or_else(|e| panic!("[{name}] a long schema list must save: {e}"));
    let got = store.load_latest(&k).await.expect("load").expect("latest");
    assert_eq!(got.summary.id, id, "[{name}]");
    assert_eq!(got.json, snap.json, "[{name}]");
    assert_eq!(
        history(store, &k, 5, None).await,
        vec![id.clone()],
        "[{name}]"
    );
    assert!(
        store.load(&k, &id).await.expect("load").is_some(),
        "[{name}]"
    );
    assert!(
        store
            .try_lease(&k, "long", Duration::from_secs(5))
            .await
            .expect("lease"),
        "[{name}]"
    );
    store.release_lease(&k, "long").await.expect("release");
    // A list differing only in its last name is another key.
    let mut other_schemas = schemas.clone();
    other_schemas[59].push('y');
    let other = StoreKey {
        schemas_key: serde_json::to_string(&other_schemas).expect("json"),
        ..k.clone()
    };
    assert!(
        store.load_latest(&other).await.expect("load").is_none(),
        "[{name}]"
    );
}

/// The generated connection-key secret is created once: every later caller gets the
/// first one, whatever it offers.
async fn case_shared_secret_created_once(store: &dyn SnapshotStore) {
    let name = store.name();
    let first: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    let got = store.shared_secret(&first).await.expect("shared_secret");
    let again = store
        .shared_secret(b"another-candidate-secret-bytes!!")
        .await
        .expect("shared_secret");
    assert_eq!(got, again, "[{name}] the stored secret wins");
    assert_eq!(got.len(), 32, "[{name}]");
    let concurrent = futures::future::join_all((0..8).map(|i| {
        let candidate = vec![i as u8; 32];
        async move {
            store
                .shared_secret(&candidate)
                .await
                .expect("shared_secret")
        }
    }))
    .await;
    assert!(concurrent.iter().all(|s| *s == got), "[{name}]");
}

/// Adopting moves a key's snapshots to a new key, ids kept, only into an empty key.
async fn case_adopt_moves_history_keeping_ids(store: &dyn SnapshotStore) {
    let name = store.name();
    let from = key(store, "adopt-from");
    let to = key(store, "adopt-to");
    let base = base_ms();
    let a = save(store, &from, &small(base, "adopt-a", 1)).await;
    let b_snap = small(base + 1000, "adopt-b", 2);
    let b = save(store, &from, &b_snap).await;
    assert_eq!(store.adopt(&from, &to).await.expect("adopt"), 2, "[{name}]");
    assert_eq!(
        history(store, &to, 10, None).await,
        vec![b.clone(), a.clone()],
        "[{name}]"
    );
    let latest = store.load_latest(&to).await.expect("load").expect("latest");
    assert_eq!(latest.summary.id, b, "[{name}]");
    assert_eq!(latest.json, b_snap.json, "[{name}]");
    assert!(
        store.load(&to, &a).await.expect("load").is_some(),
        "[{name}] ids kept"
    );
    assert!(
        history(store, &from, 10, None).await.is_empty(),
        "[{name}] moved, not copied"
    );
    assert_eq!(store.adopt(&from, &to).await.expect("adopt"), 0, "[{name}]");
    // Never into a key that has snapshots of its own.
    let third = key(store, "adopt-third");
    save(store, &third, &small(base, "t", 1)).await;
    let c = save(store, &from, &small(base + 5000, "adopt-c", 1)).await;
    assert_eq!(store.adopt(&from, &to).await.expect("adopt"), 0, "[{name}]");
    assert_eq!(history(store, &from, 10, None).await, vec![c], "[{name}]");
    // Saving under the new key goes on from the adopted latest.
    let next = save(store, &to, &small(base + 9000, "adopt-b", 2)).await;
    assert_eq!(
        next, b,
        "[{name}] an unchanged re-read refreshes the adopted latest"
    );
}

async fn case_keep_limit(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "keep");
    let base = base_ms();
    let mut ids = Vec::new();
    for i in 0..KEEP + 3 {
        ids.push(
            save(
                store,
                &k,
                &small(base + i as i64 * 1000, &format!("k{i}"), i),
            )
            .await,
        );
    }
    let want: Vec<String> = ids.iter().rev().take(KEEP).cloned().collect();
    assert_eq!(
        history(store, &k, 100, None).await,
        want,
        "[{name}] at most {KEEP} kept"
    );
    for gone in &ids[..3] {
        assert!(
            store.load(&k, gone).await.expect("load").is_none(),
            "[{name}] {gone} trimmed"
        );
    }
    assert!(
        store.load(&k, &ids[3]).await.expect("load").is_some(),
        "[{name}]"
    );
}

/// The read lease: one holder at a time, re-entrant for its holder, free again after a
/// release or once it expires, and independent per key.
async fn case_read_lease(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "lease");
    let other = key(store, "lease-other");
    let ttl = Duration::from_secs(30);
    assert!(
        store.try_lease(&k, "a", ttl).await.expect("lease"),
        "[{name}] free lease is taken"
    );
    assert!(
        !store.try_lease(&k, "b", ttl).await.expect("lease"),
        "[{name}] held lease is refused"
    );
    assert!(
        store.try_lease(&k, "a", ttl).await.expect("lease"),
        "[{name}] holder may renew"
    );
    assert!(
        store.try_lease(&other, "b", ttl).await.expect("lease"),
        "[{name}] other keys are independent"
    );
    store
        .release_lease(&k, "b")
        .await
        .expect("release by a non-holder is a no-op");
    assert!(
        !store.try_lease(&k, "b", ttl).await.expect("lease"),
        "[{name}] still held by a"
    );
    store.release_lease(&k, "a").await.expect("release");
    assert!(
        store.try_lease(&k, "b", ttl).await.expect("lease"),
        "[{name}] released lease is taken"
    );
    // An expired lease is free whoever held it.
    let short = Duration::from_millis(300);
    assert!(store.try_lease(&other, "b", short).await.expect("lease"));
    assert!(!store.try_lease(&other, "c", ttl).await.expect("lease"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        store.try_lease(&other, "c", ttl).await.expect("lease"),
        "[{name}] expired lease is taken"
    );
}

/// Two saves with the same capture time (a visible refresh keeps its base's): the later
/// save becomes the latest.
async fn case_same_capture_time_later_save_wins(store: &dyn SnapshotStore) {
    let name = store.name();
    let k = key(store, "same-time");
    let at = base_ms() + 7_000;
    let first = save(store, &k, &small(at, "deep-one", 3)).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    let second = save(store, &k, &small(at, "deep-two", 3)).await;
    let latest = store
        .load_latest(&k)
        .await
        .expect("load")
        .expect("a latest");
    assert_eq!(
        latest.summary.id, second,
        "[{name}] the later save is the latest (first was {first})"
    );
    assert_eq!(latest.summary.deep_signature, "deep-two", "[{name}]");
}

/// Every generic case; returns what the large case saved.
async fn run_suite(store: &dyn SnapshotStore) -> Vec<(&'static str, StoreKey, String, usize)> {
    case_save_and_load_latest(store).await;
    case_load_by_id(store).await;
    case_unknown_key(store).await;
    case_history_order_and_pages(store).await;
    case_max_age_is_the_callers(store).await;
    case_concurrent_saves(store).await;
    case_older_save_keeps_pointer(store).await;
    case_unchanged_reread_refreshes_in_place(store).await;
    case_long_schema_list(store).await;
    case_shared_secret_created_once(store).await;
    case_adopt_moves_history_keeping_ids(store).await;
    case_keep_limit(store).await;
    case_read_lease(store).await;
    case_same_capture_time_later_save_wins(store).await;
    case_large_snapshot(store).await
}

// ---------------------------------------------------------------------------------
// PostgreSQL.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_suite() {
    let db = harness::pg().await.create_db("store").await;
    let store = PostgresStore::new(
        &db.url,
        PostgresStoreOptions {
            keep: KEEP,
            statement_timeout: Duration::from_secs(60),
            ..PostgresStoreOptions::default()
        },
    )
    .expect("PostgresStore::new");
    store.prepare().await.expect("prepare");
    store.prepare().await.expect("prepare is idempotent");
    run_suite(&store).await;
    let wide = PostgresStore::new(
        &db.url,
        PostgresStoreOptions {
            keep: 64,
            statement_timeout: Duration::from_secs(60),
            ..PostgresStoreOptions::default()
        },
    )
    .expect("PostgresStore::new");
    case_concurrent_same_time_saves_stay_apart(&wide).await;
}

/// Rows stored before migration 012 (keyed by the schema list itself) stay reachable
/// after it: by latest, history and id, and a re-read refreshes them in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_migration_keeps_old_rows_reachable() {
    let db = harness::pg().await.create_db("store_migrate").await;
    let client = db.client().await;
    client
        .batch_execute(concat!(
            include_str!("../../migrations/009_catalog_snapshots.sql"),
            include_str!("../../migrations/010_catalog_snapshot_leases.sql"),
            "CREATE TABLE catalog_snapshot_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
             INSERT INTO catalog_snapshot_migrations (version) VALUES ('009_catalog_snapshots'), ('010_catalog_snapshot_leases');"
        ))
        .await
        .expect("the schema before 012");
    // A non-ASCII schema name: the migration hashes the same bytes the service does.
    let k = StoreKey {
        connection_key: "ck_migrated".into(),
        schemas_key: serde_json::to_string(&["app", "caf\u{e9}"]).expect("json"),
    };
    let old = small(base_ms(), "before-012", 2);
    let row = client
        .query_one(
            "INSERT INTO catalog_snapshots (connection_key, schemas_key, workspace_id, captured_at,
                 signature, deep_signature, table_count, snapshot)
             VALUES ($1, $2, 'ws', $3::text::timestamptz, $4, $5, 2, $6::text::json) RETURNING id::text",
            &[
                &k.connection_key,
                &k.schemas_key,
                &old.captured_at,
                &old.signature,
                &old.deep_signature,
                &std::str::from_utf8(&old.json).expect("utf8"),
            ],
        )
        .await
        .expect("old row");
    let old_id: String = row.get(0);
    let store = PostgresStore::new(&db.url, PostgresStoreOptions::default()).expect("store");
    store.prepare().await.expect("migrate");
    // 011 belongs to another series: the runner applies 012 across the gap.
    let applied: Vec<String> = client
        .query(
            "SELECT version FROM catalog_snapshot_migrations ORDER BY version",
            &[],
        )
        .await
        .expect("migrations")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        applied
            .iter()
            .any(|v| v == "012_schema_hash_keys_and_settings"),
        "{applied:?}"
    );
    let latest = store
        .load_latest(&k)
        .await
        .expect("load")
        .expect("the old row is found");
    assert_eq!(latest.summary.id, old_id);
    assert_eq!(latest.json, old.json);
    assert_eq!(history(&store, &k, 5, None).await, vec![old_id.clone()]);
    assert!(store.load(&k, &old_id).await.expect("load").is_some());
    let again = save(&store, &k, &small(base_ms() + 60_000, "before-012", 2)).await;
    assert_eq!(
        again, old_id,
        "an unchanged re-read refreshes the old row in place"
    );
    assert!(store
        .try_lease(&k, "h", Duration::from_secs(5))
        .await
        .expect("lease"));
}

/// A server error reaches the log with the server's message (it used to say only "db
/// error"); what a response may say does not carry it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_errors_carry_the_servers_message() {
    let db = harness::pg().await.create_db("store_errors").await;
    let store = PostgresStore::new(&db.url, PostgresStoreOptions::default()).expect("store");
    store.prepare().await.expect("prepare");
    db.exec("DROP TABLE catalog_snapshots").await;
    let err = store
        .save(&key(&store, "errors"), &small(base_ms(), "e", 1))
        .await
        .expect_err("no table");
    let logged = err.to_string();
    assert!(
        logged.contains("relation \"catalog_snapshots\" does not exist")
            && logged.contains("42P01"),
        "{logged}"
    );
    let public = err.public_message();
    assert!(
        !public.contains("catalog_snapshots") && !public.contains("42P01"),
        "{public}"
    );
}

// ---------------------------------------------------------------------------------
// DynamoDB on moto.

async fn moto_store(moto: &harness::Moto, table: &str) -> DynamoStore {
    DynamoStore::new(DynamoStoreOptions {
        table: table.into(),
        endpoint_url: Some(moto.endpoint.clone()),
        region: Some("us-east-1".into()),
        credentials: Some(("test".into(), "test".into())),
        ttl_days: TTL_DAYS,
        keep: KEEP,
        timeout: Duration::from_secs(60),
    })
    .await
    .expect("DynamoStore::new")
}

fn skip_without_moto() {
    harness::skip("DynamoDB store suite: moto_server not found (scripts/test.sh installs it)");
}

type RawItem = HashMap<String, AttributeValue>;

async fn raw(store: &DynamoStore, pk: &str, sk: &str) -> Option<RawItem> {
    let key = HashMap::from([
        ("pk".to_string(), AttributeValue::S(pk.into())),
        ("sk".to_string(), AttributeValue::S(sk.into())),
    ]);
    store
        .client()
        .get_item()
        .table_name(store.table())
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
}

async fn raw_body(store: &DynamoStore, pk: &str, id: &str) -> Vec<RawItem> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = store
            .client()
            .query()
            .table_name(store.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .expression_attribute_values(":p", AttributeValue::S(format!("body#{id}#")))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Query");
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return items,
        }
    }
}

fn expires_at(item: &RawItem) -> Option<i64> {
    match item.get(TTL_ATTRIBUTE) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

fn data_len(item: &RawItem) -> usize {
    match item.get("data") {
        Some(AttributeValue::B(b)) => b.as_ref().len(),
        _ => 0,
    }
}

/// Only the latest is free of a TTL; everything else expires `TTL_DAYS` after it stopped
/// being the latest; reads hide expired items DynamoDB has not deleted yet.
async fn dynamo_ttl_and_layout(store: &DynamoStore) {
    let ttl = store
        .client()
        .describe_time_to_live()
        .table_name(store.table())
        .send()
        .await
        .expect("DescribeTimeToLive");
    let desc = ttl.time_to_live_description().expect("a TTL description");
    assert_eq!(desc.attribute_name(), Some(TTL_ATTRIBUTE));
    assert_eq!(
        desc.time_to_live_status(),
        Some(&aws_sdk_dynamodb::types::TimeToLiveStatus::Enabled)
    );

    let k = key(store, "ttl");
    let pk = partition_key(&k);
    let base = base_ms();
    let a = save(store, &k, &small(base, "ta", 1)).await;
    let b = save(store, &k, &small(base + 1000, "tb", 2)).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let want = now + i64::from(TTL_DAYS) * 86_400;

    let pointer = raw(store, &pk, POINTER_SK).await.expect("pointer item");
    assert_eq!(pointer.get("id"), Some(&AttributeValue::S(b.clone())));
    assert_eq!(expires_at(&pointer), None, "the pointer never expires");
    let sum_b = raw(store, &pk, &summary_sk(&b))
        .await
        .expect("latest summary item");
    assert_eq!(expires_at(&sum_b), None, "the latest never expires");
    assert!(!sum_b.contains_key("pending"));
    for part in raw_body(store, &pk, &b).await {
        assert_eq!(expires_at(&part), None, "the latest's body never expires");
    }
    let sum_a = raw(store, &pk, &summary_sk(&a))
        .await
        .expect("previous summary item");
    let at = expires_at(&sum_a).expect("a non-latest snapshot carries expiresAt");
    assert!(
        (at - want).abs() < 600,
        "expiresAt {at} should be about now + {TTL_DAYS} days ({want})"
    );
    assert!(!sum_a.contains_key("pending"));
    let body_a = raw_body(store, &pk, &a).await;
    assert_eq!(body_a.len(), 1);
    assert_eq!(
        expires_at(&body_a[0]),
        Some(at),
        "body parts expire with their snapshot"
    );

    // Expired but not yet deleted (DynamoDB lags, moto never deletes): hidden.
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key("pk", AttributeValue::S(pk.clone()))
        .key("sk", AttributeValue::S(summary_sk(&a)))
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
        .expression_attribute_values(":past", AttributeValue::N((now - 10).to_string()))
        .send()
        .await
        .expect("UpdateItem");
    assert_eq!(history(store, &k, 10, None).await, vec![b.clone()]);
    assert!(
        store.load(&k, &a).await.expect("load").is_none(),
        "an expired snapshot is gone"
    );
    assert_eq!(
        store
            .load_latest(&k)
            .await
            .expect("latest")
            .map(|s| s.summary.id),
        Some(b)
    );
}

async fn dynamo_large_parts(
    store: &DynamoStore,
    saved: &[(&'static str, StoreKey, String, usize)],
) {
    let mut multi_part = false;
    for (label, k, id, json_bytes) in saved {
        let pk = partition_key(k);
        let summary = raw(store, &pk, &summary_sk(id))
            .await
            .expect("summary item");
        let gzip_bytes = match summary.get("gzipBytes") {
            Some(AttributeValue::N(n)) => n.parse::<usize>().expect("gzipBytes"),
            _ => panic!("summary has no gzipBytes"),
        };
        let parts = raw_body(store, &pk, id).await;
        assert_eq!(parts.iter().map(data_len).sum::<usize>(), gzip_bytes);
        for (n, p) in parts.iter().enumerate() {
            assert_eq!(p.get("sk"), Some(&AttributeValue::S(body_sk(id, n))));
            assert!(data_len(p) <= PART_BYTES);
        }
        assert_eq!(parts.len(), gzip_bytes.div_ceil(PART_BYTES));
        multi_part |= parts.len() > 1;
        eprintln!(
            "[dynamodb] {label} 2,000-table snapshot: {json_bytes} bytes of JSON -> {gzip_bytes} bytes gzip'd ({:.1}%), {} part item(s)",
            gzip_bytes as f64 * 100.0 / *json_bytes as f64,
            parts.len()
        );
    }
    assert!(
        multi_part,
        "the noisy snapshot must exercise more than one body part"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_store_suite() {
    let Some(moto) = harness::moto().await else {
        return skip_without_moto();
    };
    let store = moto_store(moto, &format!("catsnap_suite_{}", std::process::id())).await;
    store.create_table_if_missing().await.expect("create table");
    store
        .create_table_if_missing()
        .await
        .expect("create table is idempotent");
    store.prepare().await.expect("prepare");
    let saved = run_suite(&store).await;
    dynamo_large_parts(&store, &saved).await;
    dynamo_ttl_and_layout(&store).await;
    let wide = DynamoStore::new(DynamoStoreOptions {
        table: store.table().to_string(),
        endpoint_url: Some(moto.endpoint.clone()),
        region: Some("us-east-1".into()),
        credentials: Some(("test".into(), "test".into())),
        ttl_days: TTL_DAYS,
        keep: 64,
        // moto answers one request at a time: 40 concurrent saves queue behind each other.
        timeout: Duration::from_secs(60),
    })
    .await
    .expect("DynamoStore::new");
    case_concurrent_same_time_saves_stay_apart(&wide).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_missing_table_is_a_clear_error() {
    let Some(moto) = harness::moto().await else {
        return skip_without_moto();
    };
    let table = format!("catsnap_missing_{}", std::process::id());
    let store = moto_store(moto, &table).await;
    let err = store
        .prepare()
        .await
        .expect_err("prepare must fail on a missing table");
    assert!(matches!(err, StoreError::Misconfigured(_)), "{err:?}");
    assert!(
        err.to_string().contains(&table),
        "the error names the table: {err}"
    );
    let err = store
        .load_latest(&key(&store, "missing"))
        .await
        .expect_err("a request on a missing table fails");
    assert!(
        err.to_string().contains(&table),
        "the error names the table: {err}"
    );
    let err = store
        .save(&key(&store, "missing"), &small(base_ms(), "m", 1))
        .await
        .expect_err("a save on a missing table fails");
    assert!(
        err.to_string().contains(&table),
        "the error names the table: {err}"
    );

    // A bad table name is a startup error, not a request error.
    let bad = DynamoStore::new(DynamoStoreOptions {
        table: "no spaces allowed".into(),
        ..DynamoStoreOptions::default()
    })
    .await;
    assert!(matches!(bad, Err(StoreError::Misconfigured(m)) if m.contains("no spaces allowed")));
}
