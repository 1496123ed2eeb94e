//! End-to-end tests of the snapshot endpoint: the service binary as a local server in
//! front of a real PostgreSQL (target and app database), as a user calls it.

use crate::harness::{self, Server, TestDb, PG_PASSWORD};
use model::api;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SHOP: &str = r#"
    CREATE TABLE public.users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);
    CREATE TABLE public.orders (
        id bigint PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES public.users(id) ON DELETE CASCADE,
        total numeric(12,2) DEFAULT 0);
    CREATE TABLE public."Order Items" (
        order_id bigint REFERENCES public.orders(id),
        "Item ID" int, qty int CHECK (qty > 0));
"#;

pub(crate) async fn shop_db(prefix: &str) -> TestDb {
    let db = harness::pg().await.create_db(prefix).await;
    db.exec(SHOP).await;
    db
}

fn body(db: &TestDb, refresh: &str) -> Value {
    json!({ "targetDatabaseUrl": db.url, "schemas": ["public"], "refresh": refresh })
}

async fn app_store() -> TestDb {
    harness::pg().await.create_db("app").await
}

async fn catalog_reads(server: &Server) -> u64 {
    let h: Value = reqwest::get(server.url(api::HEALTH_PATH))
        .await
        .expect("healthz")
        .json()
        .await
        .expect("healthz json");
    h["catalogReads"].as_u64().expect("catalogReads")
}

/// The persistent tiers the end-to-end tests run against.
enum Store {
    Postgres,
    DynamoDb,
}

/// Service environment for `store`, or `None` (after printing why) when it cannot run here.
async fn store_env(store: Store, name: &str) -> Option<Vec<(String, String)>> {
    match store {
        Store::Postgres => Some(vec![("APP_DATABASE_URL".into(), app_store().await.url)]),
        Store::DynamoDb => {
            let env = Server::dynamodb_env(&format!("e2e_{name}")).await;
            if env.is_none() {
                harness::skip(
                    "DynamoDB end-to-end run: moto_server not found (scripts/test.sh installs it)",
                );
            }
            env
        }
    }
}

fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn cache_then_memory_then_store_then_force_postgres() {
    cache_then_memory_then_store_then_force(Store::Postgres).await;
}

#[tokio::test]
async fn cache_then_memory_then_store_then_force_dynamodb() {
    cache_then_memory_then_store_then_force(Store::DynamoDb).await;
}

async fn cache_then_memory_then_store_then_force(store: Store) {
    let db = shop_db("tiers").await;
    let Some(env) = store_env(store, &db.name).await else {
        return;
    };
    let server = Server::start(&as_refs(&env)).await;

    let (status, first) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(harness::served(&first).cache.source, api::Source::Fresh);
    assert_eq!(first["cache"]["hit"], false);
    assert_eq!(
        first["persistence"]["saved"], true,
        "{}",
        first["persistence"]
    );
    assert_eq!(
        first["lastRefreshedAt"],
        first["snapshot"]["meta"]["capturedAt"]
    );
    assert_eq!(first["drift"]["changedSinceLast"], false);
    assert!(first["drift"]["previousSignature"].is_null());
    let tables: Vec<&str> = first["snapshot"]["tables"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tables,
        vec![r#"public."Order Items""#, "public.orders", "public.users"]
    );
    assert!(first["snapshot"]["columns"]
        .get(r#"public."Order Items"."Item ID""#)
        .is_some());
    assert_eq!(
        first["snapshot"]["relationships"]["public.orders.orders_user_id_fkey"]["toTable"],
        "public.users"
    );

    let (_, second) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(harness::served(&second).cache.source, api::Source::Mem);
    assert_eq!(second["cache"]["hit"], true);
    assert_eq!(second["lastRefreshedAt"], first["lastRefreshedAt"]);
    assert_eq!(second["snapshot"], first["snapshot"]);
    assert_eq!(second["cache"]["key"], first["cache"]["key"]);

    // A new process (a cold container) finds the persisted snapshot.
    drop(server);
    let server = Server::start(&as_refs(&env)).await;
    let (_, third) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(
        harness::served(&third).cache.source,
        api::Source::Db,
        "{}",
        third["cache"]
    );
    assert_eq!(third["snapshot"], first["snapshot"]);
    assert_eq!(third["lastRefreshedAt"], first["lastRefreshedAt"]);
    assert_eq!(catalog_reads(&server).await, 0);

    // force always reads the catalog, and the capture time moves on.
    let (_, forced) = server.post(api::SNAPSHOT_PATH, &body(&db, "force")).await;
    assert_eq!(harness::served(&forced).cache.source, api::Source::Fresh);
    assert_ne!(forced["lastRefreshedAt"], first["lastRefreshedAt"]);
    assert_eq!(forced["drift"]["changedSinceLast"], false);
    assert_eq!(
        forced["drift"]["previousSignature"],
        first["drift"]["currentSignature"]
    );
    assert_eq!(catalog_reads(&server).await, 1);
}

#[tokio::test]
async fn tier_ages_are_configurable() {
    let db = shop_db("ages").await;
    let app = app_store().await;
    let server = Server::start(&[
        ("APP_DATABASE_URL", &app.url),
        ("MEM_TTL_MS", "200"),
        ("DB_MAX_AGE_MS", "1500"),
    ])
    .await;
    let (_, a) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(harness::served(&a).cache.source, api::Source::Fresh);
    assert_eq!(a["cache"]["ttlMs"], 200);
    assert_eq!(a["cache"]["maxAgeMs"], 1500);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, b) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(
        harness::served(&b).cache.source,
        api::Source::Db,
        "memory entry expired, store still young"
    );
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (_, c) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(
        harness::served(&c).cache.source,
        api::Source::Fresh,
        "store entry older than DB_MAX_AGE_MS"
    );
}

#[tokio::test]
async fn drift_is_reported_after_a_schema_change() {
    let db = shop_db("drift").await;
    let app = app_store().await;
    let server = Server::start(&[("APP_DATABASE_URL", &app.url)]).await;
    let (_, before) = server.post(api::SNAPSHOT_PATH, &body(&db, "force")).await;
    db.exec("ALTER TABLE public.users ADD COLUMN name text")
        .await;
    let (_, after) = server.post(api::SNAPSHOT_PATH, &body(&db, "force")).await;
    assert_eq!(
        after["drift"]["changedSinceLast"], true,
        "{}",
        after["drift"]
    );
    assert_eq!(
        after["drift"]["previousSignature"],
        before["drift"]["currentSignature"]
    );
    assert_ne!(
        after["drift"]["currentSignature"],
        before["drift"]["currentSignature"]
    );
    assert_eq!(
        after["drift"]["currentSignature"],
        after["snapshot"]["meta"]["signature"]
    );
    // A definition-only change moves the deep signature, and drift says so.
    db.exec("ALTER TABLE public.users ALTER COLUMN name SET DEFAULT 'x'")
        .await;
    let (_, third) = server.post(api::SNAPSHOT_PATH, &body(&db, "force")).await;
    assert_eq!(third["drift"]["changedSinceLast"], true);
    assert_eq!(
        third["drift"]["currentSignature"],
        after["drift"]["currentSignature"]
    );
    assert_ne!(
        third["drift"]["currentDeepSignature"],
        after["drift"]["currentDeepSignature"]
    );
    // Unchanged: no drift.
    let (_, fourth) = server.post(api::SNAPSHOT_PATH, &body(&db, "force")).await;
    assert_eq!(fourth["drift"]["changedSinceLast"], false);
    // The memory hit reports the drift seen when that snapshot was read.
    let (_, hit) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(harness::served(&hit).cache.source, api::Source::Mem);
    assert_eq!(hit["drift"], fourth["drift"]);
}

#[tokio::test]
async fn memory_only_mode_says_so_and_still_detects_drift() {
    let db = shop_db("memonly").await;
    let server = Server::start(&[]).await;
    let (status, a) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(harness::served(&a).persistence.store, api::StoreKind::None);
    assert_eq!(a["persistence"]["saved"], false);
    assert!(a["cache"]["maxAgeMs"].is_null());
    assert!(server.log().contains("memory-only"), "{}", server.log());
    db.exec("DROP TABLE public.\"Order Items\"").await;
    let (_, b) = server.post(api::SNAPSHOT_PATH, &body(&db, "force")).await;
    assert_eq!(b["drift"]["changedSinceLast"], true);
}

#[tokio::test]
async fn concurrent_misses_share_one_catalog_read() {
    let db = shop_db("flight").await;
    let app = app_store().await;
    let server = Server::start(&[("APP_DATABASE_URL", &app.url)]).await;
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..24 {
        let req = client
            .post(server.url(api::SNAPSHOT_PATH))
            .json(&body(&db, "cache"))
            .send();
        tasks.push(tokio::spawn(async move {
            let r = req.await.expect("request");
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.expect("json")
        }));
    }
    let mut captured = std::collections::BTreeSet::new();
    for t in tasks {
        let v = t.await.expect("task");
        captured.insert(v["lastRefreshedAt"].as_str().unwrap().to_string());
    }
    assert_eq!(
        catalog_reads(&server).await,
        1,
        "24 concurrent misses, one read"
    );
    assert_eq!(captured.len(), 1, "all callers got the same snapshot");
}

#[tokio::test]
async fn credentials_never_reach_responses_logs_or_stored_rows() {
    let db = shop_db("secret").await;
    let app = app_store().await;
    let server = Server::start(&[("APP_DATABASE_URL", &app.url), ("RUST_LOG", "debug")]).await;
    let mut seen = String::new();
    let mut first_key = String::new();
    for refresh in ["cache", "cache", "force"] {
        let (status, text) = server
            .post_raw(api::SNAPSHOT_PATH, &body(&db, refresh).to_string())
            .await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&text).unwrap();
        first_key = v["cache"]["key"].as_str().unwrap().to_string();
        seen.push_str(&text);
    }
    // Error responses too: a wrong password and an unreachable host.
    let wrong = db.url.replace(PG_PASSWORD, "Wr0ng-Pa55word-zzz");
    let (status, text) = server
        .post_raw(
            api::SNAPSHOT_PATH,
            &json!({"targetDatabaseUrl": wrong, "schemas": ["public"]}).to_string(),
        )
        .await;
    assert_eq!(status, 403, "{text}");
    assert!(!text.contains("Wr0ng-Pa55word-zzz"), "{text}");
    seen.push_str(&text);

    let app_client = app.client().await;
    let rows = app_client
        .query("SELECT row_to_json(s)::text FROM catalog_snapshots s", &[])
        .await
        .unwrap();
    assert!(!rows.is_empty());
    let stored: String = rows.iter().map(|r| r.get::<_, String>(0)).collect();

    let log = server.log();
    assert!(
        log.contains("snapshot served"),
        "the log has request lines: {log}"
    );
    for (what, text) in [("response", &seen), ("log", &log), ("stored rows", &stored)] {
        assert!(!text.contains(PG_PASSWORD), "password found in {what}");
        assert!(!text.contains(&db.url), "URL found in {what}");
        assert!(
            !text.contains("Wr0ng-Pa55word-zzz"),
            "wrong password found in {what}"
        );
    }
    // The key in responses is a short public id, keyed apart from the key rows are
    // stored under (which appears in no response or log line).
    assert!(
        first_key.starts_with("cs_") && first_key.len() == 19,
        "{first_key}"
    );
    assert!(!stored.contains(&first_key[3..]));
    let row_key: String = app_client
        .query_one("SELECT connection_key FROM catalog_snapshots LIMIT 1", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!seen.contains(&row_key[3..]));
}

#[tokio::test]
async fn wrong_password_never_gets_a_cache_hit() {
    let db = shop_db("wrongpw").await;
    let server = Server::start(&[]).await;
    let (status, _) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(status, 200);
    let wrong = db.url.replace(PG_PASSWORD, "not-the-password");
    let (status, err) = server
        .post(
            api::SNAPSHOT_PATH,
            &json!({"targetDatabaseUrl": wrong, "schemas": ["public"]}),
        )
        .await;
    // The caller's mistake, not an outage (issue 16).
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "target_auth_failed");
}

#[tokio::test]
async fn bad_input_gets_a_400_naming_the_field() {
    let db = shop_db("badinput").await;
    let server = Server::start(&[]).await;
    let cases: Vec<(String, Option<&str>)> = vec![
        ("{not json".into(), None),
        ("[]".into(), None),
        (
            json!({"schemas": ["public"]}).to_string(),
            Some("targetDatabaseUrl"),
        ),
        (
            json!({"targetDatabaseUrl": db.url}).to_string(),
            Some("schemas"),
        ),
        (
            json!({"targetDatabaseUrl": db.url, "schemas": []}).to_string(),
            Some("schemas"),
        ),
        (
            json!({"targetDatabaseUrl": db.url, "schemas": "public"}).to_string(),
            Some("schemas"),
        ),
        (
            json!({"targetDatabaseUrl": db.url, "schemas": [""]}).to_string(),
            Some("schemas"),
        ),
        (
            json!({"targetDatabaseUrl": "mysql://u:p@h/db", "schemas": ["public"]}).to_string(),
            Some("targetDatabaseUrl"),
        ),
        (
            json!({"targetDatabaseUrl": 42, "schemas": ["public"]}).to_string(),
            Some("targetDatabaseUrl"),
        ),
        (
            json!({"targetDatabaseUrl": db.url, "schemas": ["public"], "refresh": "later"})
                .to_string(),
            Some("refresh"),
        ),
        (
            json!({"targetDatabaseUrl": db.url, "schemas": ["public"], "refresh": "visible"})
                .to_string(),
            Some("visibleTables"),
        ),
        (
            json!({"targetDatabaseUrl": db.url, "schemas": ["no_such_schema"]}).to_string(),
            Some("schemas"),
        ),
        (
            json!({"connectionId": "nope", "schemas": ["public"]}).to_string(),
            Some("connectionId"),
        ),
    ];
    for (input, field) in cases {
        let (status, text) = server.post_raw(api::SNAPSHOT_PATH, &input).await;
        assert_eq!(status, 400, "{input} -> {text}");
        let v: Value = serde_json::from_str(&text).expect("error body is JSON");
        assert_eq!(v["error"]["code"], "bad_request", "{text}");
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
        if let Some(f) = field {
            assert_eq!(v["error"]["field"], f, "{input} -> {text}");
        }
        assert!(!text.contains(PG_PASSWORD));
    }
    // Unknown routes and methods answer JSON too.
    let r = reqwest::get(server.url("/nope")).await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.is_ok());
    let r = reqwest::get(server.url(api::SNAPSHOT_PATH)).await.unwrap();
    assert_eq!(r.status(), 405);
    // An oversized body is refused.
    let big = "x".repeat(300 * 1024);
    let (status, _) = server
        .post_raw(
            api::SNAPSHOT_PATH,
            &json!({"schemas": ["public"], "pad": big}).to_string(),
        )
        .await;
    assert_eq!(status, 413);
    // The service is still up.
    let (status, _) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn dead_targets_fail_fast_with_502_or_504() {
    let server = Server::start(&[("TARGET_CONNECT_TIMEOUT_MS", "700")]).await;
    // Nothing listens: refused -> 502.
    let port = harness::free_port();
    let started = Instant::now();
    let (status, err) = server
        .post(
            api::SNAPSHOT_PATH,
            &json!({"targetDatabaseUrl": format!("postgres://u:pw@127.0.0.1:{port}/db"), "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 502, "{err}");
    assert_eq!(err["error"]["code"], "target_unavailable");
    assert!(started.elapsed() < Duration::from_secs(5));

    // Something accepts and never answers: the connect timeout gives 504.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let started = Instant::now();
    let (status, err) = server
        .post(
            api::SNAPSHOT_PATH,
            &json!({"targetDatabaseUrl": format!("postgres://u:pw@127.0.0.1:{port}/db"), "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 504, "{err}");
    assert_eq!(err["error"]["code"], "target_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    hold.abort();
}

#[tokio::test]
async fn app_database_down_still_returns_the_fresh_snapshot() {
    let db = shop_db("appdown").await;
    let dead = format!("postgres://u:pw@127.0.0.1:{}/app", harness::free_port());
    let server = Server::start(&[("APP_DATABASE_URL", &dead), ("STORE_TIMEOUT_MS", "1000")]).await;
    let started = Instant::now();
    let (status, v) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(harness::served(&v).cache.source, api::Source::Fresh);
    assert_eq!(
        harness::served(&v).persistence.store,
        api::StoreKind::Postgres
    );
    assert_eq!(v["persistence"]["saved"], false);
    assert!(v["persistence"]["error"]
        .as_str()
        .unwrap()
        .contains("not persisted"));
    assert!(v["snapshot"]["tables"]["public.users"].is_object());
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(
        server.log().contains("could not be persisted"),
        "{}",
        server.log()
    );
}

#[tokio::test]
async fn signature_matches_the_original_node_algorithm_on_real_responses() {
    let Some(shared) = harness::shared_dir() else {
        harness::skip("../shared not found (seed-signature.mjs lives there)");
        return;
    };
    let script = shared.join("tools/seed-signature.mjs");
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
        || !script.exists()
    {
        harness::skip(&format!("node or {} not found", script.display()));
        return;
    }
    let db = shop_db("nodesig").await;
    db.exec(
        r#"CREATE SCHEMA "Sales";
           CREATE TABLE "Sales".customers (id int PRIMARY KEY, "Naïve Name" text, "日本" text);
           CREATE TABLE public."a.b" ("x""y" int REFERENCES "Sales".customers(id));
           CREATE TABLE public."😀" (a int); CREATE TABLE public."～" (a int);"#,
    )
    .await;
    let server = Server::start(&[]).await;
    let (status, text) = server
        .post_raw(
            api::SNAPSHOT_PATH,
            &json!({"targetDatabaseUrl": db.url, "schemas": ["public", "Sales"]}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    let mut child = std::process::Command::new("node")
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let node_sig = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(node_sig.len(), 64, "node printed {node_sig:?}");
    assert_eq!(v["drift"]["currentSignature"], node_sig.as_str());
    assert_eq!(v["snapshot"]["meta"]["signature"], node_sig.as_str());
}

#[tokio::test]
async fn gzip_and_etag_for_clients_that_ask() {
    use std::io::Read;
    let db = shop_db("gzip").await;
    let server = Server::start(&[]).await;
    let client = reqwest::Client::new();
    let send = |headers: &[(&str, &str)]| {
        let mut r = client
            .post(server.url(api::SNAPSHOT_PATH))
            .json(&body(&db, "cache"));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.send()
    };
    let plain = send(&[]).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let etag = plain.headers()["etag"].to_str().unwrap().to_string();
    let plain: Value = plain.json().await.unwrap();
    assert_eq!(
        etag,
        format!(
            "\"{}\"",
            plain["snapshot"]["meta"]["deepSignature"].as_str().unwrap()
        )
    );

    for _ in 0..2 {
        // Twice: the second reuses the cached deflate segment.
        let gz = send(&[("accept-encoding", "br;q=1, gzip;q=0.8")])
            .await
            .unwrap();
        assert_eq!(gz.status(), 200);
        assert_eq!(gz.headers()["content-encoding"], "gzip");
        let bytes = gz.bytes().await.unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .expect("valid gzip");
        let v: Value = serde_json::from_str(&text).expect("gzip body is the JSON response");
        assert_eq!(v["snapshot"], plain["snapshot"]);
        assert_eq!(harness::served(&v).cache.source, api::Source::Mem);
        assert!(bytes.len() < text.len());
    }
    let refused = send(&[("accept-encoding", "gzip;q=0")]).await.unwrap();
    assert!(refused.headers().get("content-encoding").is_none());

    let not_modified = send(&[("if-none-match", &etag)]).await.unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()["etag"].to_str().unwrap(), etag);
    let other = send(&[("if-none-match", "\"something-else\"")])
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn misses_across_two_processes_share_one_read_under_the_lease_postgres() {
    misses_across_two_processes_share_one_read(Store::Postgres).await;
}

#[tokio::test]
async fn misses_across_two_processes_share_one_read_under_the_lease_dynamodb() {
    misses_across_two_processes_share_one_read(Store::DynamoDb).await;
}

/// 200 concurrent cache misses for one key, split across two service processes sharing
/// one store: one catalog read in all, the other process serves the lease holder's
/// snapshot from the store.
async fn misses_across_two_processes_share_one_read(store: Store) {
    let db = shop_db("lease").await;
    let Some(env) = store_env(store, &db.name).await else {
        return;
    };
    let a = Server::start(&as_refs(&env)).await;
    let b = Server::start(&as_refs(&env)).await;
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let server = if i % 2 == 0 { &a } else { &b };
        let req = client
            .post(server.url(api::SNAPSHOT_PATH))
            .json(&body(&db, "cache"))
            .send();
        tasks.push(tokio::spawn(async move {
            let r = req.await.expect("request");
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.expect("json")
        }));
    }
    let mut captured = std::collections::BTreeSet::new();
    let mut sources = std::collections::BTreeMap::new();
    for t in tasks {
        let v = t.await.expect("task");
        captured.insert(v["lastRefreshedAt"].as_str().unwrap().to_string());
        *sources
            .entry(v["cache"]["source"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    let reads = catalog_reads(&a).await + catalog_reads(&b).await;
    assert_eq!(
        reads, 1,
        "one catalog read across both processes; sources {sources:?}"
    );
    assert_eq!(captured.len(), 1, "every caller got the same snapshot");
}

#[tokio::test]
async fn the_allowlist_refuses_targets_before_connecting() {
    // Counts every connection attempt to a loopback port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let attempts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = attempts.clone();
    let accept = tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let server = Server::start(&[(
        "TARGET_ALLOWED_HOSTS",
        "10.0.0.0/8, 0.0.0.0/0, db.example.com",
    )])
    .await;
    for (host, why) in [
        (format!("127.0.0.1:{port}"), "loopback"),
        (format!("localhost:{port}"), "a name for loopback"),
        ("169.254.169.254:5432".to_string(), "the metadata service"),
        ("[::1]:5432".to_string(), "IPv6 loopback"),
    ] {
        let started = Instant::now();
        let (status, err) = server
            .post(
                api::SNAPSHOT_PATH,
                &json!({"targetDatabaseUrl": format!("postgres://u:pw@{host}/db"), "schemas": ["public"]}),
            )
            .await;
        assert_eq!(status, 403, "{why}: {err}");
        assert_eq!(err["error"]["code"], "forbidden");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("allowlist"),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{why}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        attempts.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no connection was attempted"
    );
    accept.abort();

    // A host not on the list (with only named hosts allowed).
    let server = Server::start(&[("TARGET_ALLOWED_HOSTS", "db.example.com, 10.0.0.0/8")]).await;
    let (status, _) = server
        .post(
            api::SNAPSHOT_PATH,
            &json!({"targetDatabaseUrl": "postgres://u:pw@192.0.2.10/db", "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 403);

    // Loopback listed explicitly: allowed, and the read works through the pinned address.
    let db = shop_db("allowed").await;
    let server = Server::start(&[("TARGET_ALLOWED_HOSTS", "127.0.0.1")]).await;
    let (status, v) = server.post(api::SNAPSHOT_PATH, &body(&db, "cache")).await;
    assert_eq!(status, 200, "{v}");
}
