//! Tenants stay apart and no acknowledged snapshot is lost (issue 11), and a connection
//! id is a logical connection (issue 12, point 5): the service binary as a local server
//! in front of the throwaway cluster (targets and app databases) and moto.

use crate::harness::{self, Server, TestDb, PG_PASSWORD};
use catalog_snapshot::store::postgres::{PostgresStore, PostgresStoreOptions};
use catalog_snapshot::store::{NewSnapshot, SnapshotStore, StoreKey};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

use model::api::{DIFF_PATH as DIFF, HISTORY_PATH as HISTORY, SNAPSHOT_PATH as SNAPSHOT};
const SECRET: &str = "tenants-test-secret-0123456789";

fn conn_id(id: &str, workspace: &str) -> Value {
    json!({"connectionId": id, "workspaceId": workspace, "schemas": ["public"]})
}

fn with(mut body: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

/// Finding 1: a connection id bound to workspace ws-a answers another workspace exactly
/// as an unknown id does, on every endpoint (no reading, no enumeration).
#[tokio::test]
async fn a_connection_id_outside_its_workspaces_is_refused_like_an_unknown_one() {
    let a = crate::snapshot_api::shop_db("tenant_a").await;
    a.exec("CREATE TABLE public.tenant_a_only (id int)").await;
    let app = harness::pg().await.create_db("app_tenants").await;
    let connections = json!({
        "tenant-a-prod": {"url": a.url, "workspaces": ["ws-a"]},
        "shared": a.url,
    })
    .to_string();
    let server = Server::start(&[
        ("APP_DATABASE_URL", &app.url),
        ("CONNECTION_KEY_SECRET", SECRET),
        ("TARGET_CONNECTIONS", &connections),
    ])
    .await;
    let (status, own) = server
        .post(SNAPSHOT, &conn_id("tenant-a-prod", "ws-a"))
        .await;
    assert_eq!(status, 200, "{own}");
    assert!(own["snapshot"]["tables"]["public.tenant_a_only"].is_object());

    for (path, extra) in [
        (SNAPSHOT, json!({})),
        (SNAPSHOT, json!({"refresh": "force"})),
        (HISTORY, json!({})),
        (DIFF, json!({"from": "latest", "to": "fresh"})),
    ] {
        let (s_other, other) = server
            .post(path, &with(conn_id("tenant-a-prod", "ws-b"), extra.clone()))
            .await;
        let (s_none, none) = server
            .post(
                path,
                &with(
                    json!({"connectionId": "tenant-a-prod", "schemas": ["public"]}),
                    extra.clone(),
                ),
            )
            .await;
        let (s_unknown, unknown) = server
            .post(path, &with(conn_id("tenant-z-prod", "ws-b"), extra.clone()))
            .await;
        assert_eq!(s_other, 400, "{path} {extra}: {other}");
        assert_eq!(s_none, 400, "{path} {extra}: {none}");
        assert_eq!(s_unknown, 400, "{path} {extra}: {unknown}");
        // The same answer, but for the id it names.
        let as_unknown = other.to_string().replace("tenant-a-prod", "tenant-z-prod");
        assert_eq!(as_unknown, unknown.to_string(), "{path}: indistinguishable");
        assert_eq!(
            none.to_string().replace("tenant-a-prod", "tenant-z-prod"),
            unknown.to_string()
        );
    }
    // A plain URL is any workspace's (single-tenant use).
    let (status, shared) = server.post(SNAPSHOT, &conn_id("shared", "ws-b")).await;
    assert_eq!(status, 200, "{shared}");
    // The refused calls never read tenant A's database: only ws-a's read and the
    // shared one happened.
    let health: Value = reqwest::get(server.url("/healthz"))
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(health["catalogReads"], 2, "{health}");
}

/// A configured target that is not a URL stops the start with a message naming it.
#[tokio::test]
async fn a_target_connection_that_is_not_a_url_refuses_to_start() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_catalog-snapshot"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", harness::free_port().to_string())
        .env(
            "TARGET_CONNECTIONS",
            r#"{"prod": {"url": "db.internal:5432 user=app password=hunter2x", "workspaces": ["ws-a"]}}"#,
        )
        .output()
        .expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains(r#"TARGET_CONNECTIONS["prod"]"#) && text.contains("postgres://"),
        "{text}"
    );
    assert!(!text.contains("hunter2x"), "{text}");
}

fn key_of(resp: &Value) -> String {
    resp["cache"]["key"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Finding 3: without `CONNECTION_KEY_SECRET` each deployment generates its own secret
/// and keeps it in its store: two deployments never share keys, one deployment keeps
/// its keys across restarts, and responses carry a short id, not the stored key.
#[tokio::test]
async fn two_fresh_deployments_without_a_secret_derive_different_keys() {
    let target = crate::snapshot_api::shop_db("nosecret").await;
    let request = json!({"targetDatabaseUrl": target.url, "schemas": ["public"]});
    let app_one = harness::pg().await.create_db("app_one").await;
    let app_two = harness::pg().await.create_db("app_two").await;
    let one = Server::start(&[("APP_DATABASE_URL", &app_one.url)]).await;
    let two = Server::start(&[("APP_DATABASE_URL", &app_two.url)]).await;
    let (s1, r1) = one.post(SNAPSHOT, &request).await;
    let (s2, r2) = two.post(SNAPSHOT, &request).await;
    assert_eq!((s1, s2), (200, 200), "{r1} {r2}");
    let (k1, k2) = (key_of(&r1), key_of(&r2));
    assert_ne!(k1, k2, "two deployments, two secrets");
    assert!(k1.starts_with("cs_") && k1.len() == 19, "{k1}");
    // The stored keys differ too, and never appear in a response or the log.
    let stored = |db: &TestDb| {
        let url = db.url.clone();
        async move {
            harness::connect(&url)
                .await
                .query_one("SELECT connection_key FROM catalog_snapshots LIMIT 1", &[])
                .await
                .expect("row")
                .get::<_, String>(0)
        }
    };
    let (c1, c2) = (stored(&app_one).await, stored(&app_two).await);
    assert_ne!(c1, c2);
    assert!(!r1.to_string().contains(&c1[3..]) && !one.log().contains(&c1[3..]));
    // The old public default keys nothing.
    let public_key = catalog_snapshot::connkey::parse_target(&target.url)
        .expect("url")
        .connection_key(b"catalog-snapshot-development-secret", None);
    assert_ne!(c1, public_key);
    assert_ne!(c2, public_key);
    // A restart of one deployment keeps its keys: the stored snapshot is found.
    drop(one);
    let one = Server::start(&[("APP_DATABASE_URL", &app_one.url)]).await;
    let (_, again) = one.post(SNAPSHOT, &request).await;
    assert_eq!(key_of(&again), k1);
    assert_eq!(again["cache"]["source"], "db", "{}", again["cache"]);
    // Memory-only: a secret per process.
    let m1 = Server::start(&[]).await;
    let m2 = Server::start(&[]).await;
    let (_, a) = m1.post(SNAPSHOT, &request).await;
    let (_, b) = m2.post(SNAPSHOT, &request).await;
    assert_ne!(key_of(&a), key_of(&b));
    // A configured secret keeps keys across deployments.
    let s1 = Server::start(&[("CONNECTION_KEY_SECRET", SECRET)]).await;
    let s2 = Server::start(&[("CONNECTION_KEY_SECRET", SECRET)]).await;
    let (_, a) = s1.post(SNAPSHOT, &request).await;
    let (_, b) = s2.post(SNAPSHOT, &request).await;
    assert_eq!(key_of(&a), key_of(&b));
    for log in [one.log(), two.log(), m1.log()] {
        assert!(!log.contains(PG_PASSWORD));
    }
}

async fn acknowledged_id_still_diffs(env: Vec<(String, String)>) {
    let target = crate::snapshot_api::shop_db("ackid").await;
    let mut env = env;
    env.push(("CONNECTION_KEY_SECRET".into(), SECRET.into()));
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let user_a = Server::start(&refs).await;
    let user_b = Server::start(&refs).await;
    let force = json!({"targetDatabaseUrl": target.url, "schemas": ["public"], "refresh": "force"});
    let (_, first) = user_a.post(SNAPSHOT, &force).await;
    let id = first["persistence"]["snapshotId"]
        .as_str()
        .expect("saved")
        .to_string();
    // Another caller's unchanged re-reads (another process, so nothing is shared in memory).
    for _ in 0..3 {
        let (status, other) = user_b.post(SNAPSHOT, &force).await;
        assert_eq!(status, 200, "{other}");
        assert_eq!(
            other["persistence"]["snapshotId"],
            id.as_str(),
            "the state keeps its id"
        );
    }
    target.exec("CREATE TABLE public.after_ack (id int)").await;
    let (_, changed) = user_b.post(SNAPSHOT, &force).await;
    assert_ne!(changed["persistence"]["snapshotId"], id.as_str());
    let (status, diff) = user_a
        .post(
            DIFF,
            &json!({"targetDatabaseUrl": target.url, "schemas": ["public"], "from": id, "to": "latest"}),
        )
        .await;
    assert_eq!(status, 200, "user A diffs by the id it was given: {diff}");
    assert_eq!(diff["from"]["id"], id.as_str());
    assert!(
        diff.to_string().contains("public.after_ack"),
        "the diff shows the change: {diff}"
    );
}

/// Finding 4: an unchanged re-read by another caller used to delete the id user A was
/// given (404 on `diff {from: id}`).
#[tokio::test]
async fn an_acknowledged_id_still_diffs_after_another_callers_unchanged_refresh_postgres() {
    let app = harness::pg().await.create_db("app_ackid").await;
    acknowledged_id_still_diffs(vec![("APP_DATABASE_URL".into(), app.url)]).await;
}

#[tokio::test]
async fn an_acknowledged_id_still_diffs_after_another_callers_unchanged_refresh_dynamodb() {
    let Some(env) = Server::dynamodb_env("tenants_ackid").await else {
        harness::skip("moto_server not found (scripts/test.sh installs it)");
        return;
    };
    acknowledged_id_still_diffs(env).await;
}

/// Issue 12, point 5: a connection id keeps its history, drift baseline and stored
/// snapshots when its password rotates (the URL it resolves to changes); snapshots
/// stored under the key scheme before (an HMAC of the URL) are adopted.
#[tokio::test]
async fn a_rotated_password_keeps_a_connection_ids_history() {
    let target = crate::snapshot_api::shop_db("rotate").await;
    let app = harness::pg().await.create_db("app_rotate").await;
    let role = format!("rotating_{}", target.name);
    target
        .exec(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'first-Password-1'; GRANT USAGE ON SCHEMA public TO {role};"
        ))
        .await;
    let pg = harness::pg().await;
    let url = |pw: &str| {
        format!(
            "postgres://{role}:{pw}@127.0.0.1:{}/{}",
            pg.port, target.name
        )
    };
    let connections =
        |pw: &str| json!({"prod": {"url": url(pw), "workspaces": ["ws-a"]}}).to_string();

    // Snapshots stored before connection ids were logical: under the URL's HMAC.
    let legacy_key = StoreKey {
        connection_key: catalog_snapshot::connkey::parse_target(&url("first-Password-1"))
            .expect("url")
            .connection_key(SECRET.as_bytes(), Some("ws-a")),
        schemas_key: r#"["public"]"#.into(),
    };
    let store = PostgresStore::new(&app.url, PostgresStoreOptions::default()).expect("store");
    store.prepare().await.expect("prepare");
    let old_captured = "2026-01-02T03:04:05.678Z";
    let legacy_id = store
        .save(
            &legacy_key,
            &NewSnapshot {
                workspace_id: Some("ws-a".into()),
                captured_at: old_captured.into(),
                signature: "legacy-light".into(),
                deep_signature: "legacy-deep".into(),
                table_count: 0,
                json: bytes::Bytes::from(format!(
                    r#"{{"meta":{{"capturedAt":"{old_captured}","signature":"legacy-light","deepSignature":"legacy-deep","tableCount":0}},"tables":{{}}}}"#
                )),
            },
        )
        .await
        .expect("legacy save");

    let first_conns = connections("first-Password-1");
    let env = |conns: &str| {
        vec![
            ("APP_DATABASE_URL".to_string(), app.url.clone()),
            ("CONNECTION_KEY_SECRET".to_string(), SECRET.to_string()),
            ("TARGET_CONNECTIONS".to_string(), conns.to_string()),
        ]
    };
    let e1 = env(&first_conns);
    let refs: Vec<(&str, &str)> = e1.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start(&refs).await;
    let (status, history) = server.post(HISTORY, &conn_id("prod", "ws-a")).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(
        history["items"][0]["id"],
        legacy_id.as_str(),
        "the snapshot stored under the old key scheme is adopted: {history}"
    );
    let force = with(conn_id("prod", "ws-a"), json!({"refresh": "force"}));
    let (status, before) = server.post(SNAPSHOT, &force).await;
    assert_eq!(status, 200, "{before}");
    let id = before["persistence"]["snapshotId"]
        .as_str()
        .expect("saved")
        .to_string();
    let key = key_of(&before);
    drop(server);

    // The password rotates (as Secrets Manager does every 30 days).
    target
        .exec(&format!("ALTER ROLE {role} PASSWORD 'second-Password-2'"))
        .await;
    let second_conns = connections("second-Password-2");
    let e2 = env(&second_conns);
    let refs: Vec<(&str, &str)> = e2.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Server::start(&refs).await;
    let (_, cached) = server.post(SNAPSHOT, &conn_id("prod", "ws-a")).await;
    assert_eq!(
        cached["cache"]["source"], "db",
        "the cached snapshot survives: {}",
        cached["cache"]
    );
    assert_eq!(key_of(&cached), key);
    let (status, after) = server.post(SNAPSHOT, &force).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(
        after["drift"]["changedSinceLast"], false,
        "{}",
        after["drift"]
    );
    assert_eq!(
        after["drift"]["previousSignature"], before["snapshot"]["meta"]["signature"],
        "the drift baseline survives"
    );
    assert_eq!(
        after["persistence"]["snapshotId"],
        id.as_str(),
        "the same state, the same id"
    );
    let (_, history) = server.post(HISTORY, &conn_id("prod", "ws-a")).await;
    let ids: Vec<&str> = history["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids, vec![id.as_str(), legacy_id.as_str()], "{history}");
    let (status, diff) = server
        .post(
            DIFF,
            &with(conn_id("prod", "ws-a"), json!({"from": id, "to": "latest"})),
        )
        .await;
    assert_eq!(status, 200, "{diff}");
    assert!(!server.log().contains("second-Password-2"));
    // A different workspace's use of the same id is another connection (and refused).
    let (status, _) = server.post(SNAPSHOT, &conn_id("prod", "ws-b")).await;
    assert_eq!(status, 400);
}

/// Finding 8: in raw-URL mode a revoked password stops reading cached and stored
/// snapshots once `DB_MAX_AGE_MS` has passed since its credentials last worked.
#[tokio::test]
async fn a_revoked_password_stops_reading_cached_snapshots() {
    let target = crate::snapshot_api::shop_db("revoke").await;
    let app = harness::pg().await.create_db("app_revoke").await;
    let role = format!("revoked_{}", target.name);
    target
        .exec(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD 'valid-Password-1'; GRANT USAGE ON SCHEMA public TO {role};"
        ))
        .await;
    let pg = harness::pg().await;
    let url = format!(
        "postgres://{role}:valid-Password-1@127.0.0.1:{}/{}",
        pg.port, target.name
    );
    let server = Server::start(&[
        ("APP_DATABASE_URL", &app.url),
        ("DB_MAX_AGE_MS", "1500"),
        ("MEM_TTL_MS", "60000"),
    ])
    .await;
    let req = json!({"targetDatabaseUrl": url, "schemas": ["public"]});
    let (status, first) = server.post(SNAPSHOT, &req).await;
    assert_eq!(status, 200, "{first}");
    let id = first["persistence"]["snapshotId"]
        .as_str()
        .expect("saved")
        .to_string();
    let (_, hit) = server.post(SNAPSHOT, &req).await;
    assert_eq!(
        hit["cache"]["source"], "mem",
        "credentials just worked: served from memory"
    );
    target
        .exec(&format!("ALTER ROLE {role} PASSWORD 'rotated-Password-2'"))
        .await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    for (path, body) in [
        (SNAPSHOT, req.clone()),
        (HISTORY, req.clone()),
        (DIFF, with(req.clone(), json!({"from": id, "to": id}))),
    ] {
        let (status, resp) = server.post(path, &body).await;
        assert_eq!(
            status, 403,
            "{path}: the old password no longer reads: {resp}"
        );
        assert_eq!(resp["error"]["code"], "target_auth_failed", "{resp}");
    }
}

/// Finding 10 through the service: a long schema list is saved.
#[tokio::test]
async fn a_long_schema_list_is_saved() {
    let target = harness::pg().await.create_db("longschemas").await;
    let schemas: Vec<String> = (0..60)
        .map(|i| format!("s{i:02}_{}", "n".repeat(56)))
        .collect();
    let ddl: String = schemas
        .iter()
        .map(|s| format!("CREATE SCHEMA {s}; CREATE TABLE {s}.t (id int PRIMARY KEY);"))
        .collect();
    target.exec(&ddl).await;
    let app = harness::pg().await.create_db("app_longschemas").await;
    let server = Server::start(&[("APP_DATABASE_URL", &app.url), ("MAX_SCHEMAS", "100")]).await;
    let req = json!({"targetDatabaseUrl": target.url, "schemas": schemas});
    let started = Instant::now();
    let (status, resp) = server.post(SNAPSHOT, &req).await;
    assert_eq!(status, 200, "{resp}");
    assert_eq!(
        resp["persistence"]["saved"], true,
        "{}",
        resp["persistence"]
    );
    assert_eq!(
        resp["snapshot"]["tables"].as_object().map(|t| t.len()),
        Some(60)
    );
    eprintln!(
        "60 schemas of 60 characters: saved in {:?}",
        started.elapsed()
    );
    let (status, history) = server.post(HISTORY, &req).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["items"].as_array().map(Vec::len), Some(1));
}
