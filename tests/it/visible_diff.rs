//! Visible-tables refresh, the diff endpoint and snapshot history, end to end against a
//! real PostgreSQL target and app database.

use crate::harness::{self, Server, TestDb};
use model::api;
use serde_json::{json, Value};

const SCHEMA: &str = r#"
    CREATE TYPE public.status AS ENUM ('new', 'paid');
    CREATE TABLE public.users (id bigint PRIMARY KEY, email text NOT NULL);
    CREATE TABLE public.orders (
        id bigint PRIMARY KEY,
        user_id bigint NOT NULL,
        status public.status NOT NULL DEFAULT 'new',
        total numeric(12,2),
        CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES public.users(id));
    CREATE INDEX orders_user_idx ON public.orders (user_id);
    CREATE TABLE public.audit (id bigint, user_id bigint REFERENCES public.users(id));
    CREATE TABLE public.misc1 (id int);
    CREATE TABLE public.misc2 (id int);
    CREATE TABLE public.misc3 (id int);
    CREATE TABLE public.misc4 (id int);
    CREATE TABLE public.misc5 (id int);
"#;

async fn setup(prefix: &str) -> (TestDb, Server) {
    let pg = harness::pg().await;
    let db = pg.create_db(prefix).await;
    db.exec(SCHEMA).await;
    let app = pg.create_db("app").await;
    let server = Server::start(&[("APP_DATABASE_URL", &app.url)]).await;
    (db, server)
}

fn req(db: &TestDb, extra: Value) -> Value {
    let mut v = json!({"targetDatabaseUrl": db.url, "schemas": ["public"]});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

async fn ok(server: &Server, path: &str, body: Value) -> Value {
    let (status, v) = server.post(path, &body).await;
    assert_eq!(status, 200, "{path}: {v}");
    v
}

fn visible(db: &TestDb, tables: &[&str]) -> Value {
    req(db, json!({"refresh": "visible", "visibleTables": tables}))
}

#[tokio::test]
async fn visible_refresh_rereads_only_the_visible_tables_and_matches_a_full_read() {
    let (db, server) = setup("visible").await;
    let first = ok(
        &server,
        api::SNAPSHOT_PATH,
        req(&db, json!({"refresh": "force"})),
    )
    .await;

    // Change a visible table and a hidden one.
    db.exec(
        "ALTER TABLE public.orders ALTER COLUMN total TYPE numeric(14,2);
             ALTER TABLE public.misc1 ADD COLUMN hidden_change int;",
    )
    .await;
    let v = ok(
        &server,
        api::SNAPSHOT_PATH,
        visible(&db, &["public.orders"]),
    )
    .await;
    assert_eq!(
        harness::served(&v).refresh.performed,
        api::PerformedRefresh::Visible,
        "{}",
        v["refresh"]
    );
    assert_eq!(v["refresh"]["refreshedTables"], json!(["public.orders"]));
    let snap = &v["snapshot"];
    assert_eq!(
        snap["columns"]["public.orders.total"]["dataType"],
        "numeric(14,2)"
    );
    assert!(
        snap["columns"].get("public.misc1.hidden_change").is_none(),
        "hidden table untouched"
    );
    assert!(snap["tables"]["public.orders"]["refreshedAt"].is_string());
    assert!(snap["tables"]["public.users"].get("refreshedAt").is_none());
    // The top-level time stays that of the last full read.
    assert_eq!(v["lastRefreshedAt"], first["lastRefreshedAt"]);
    assert_eq!(v["drift"]["changedSinceLast"], true);

    // Revert the hidden change: the merged snapshot now equals a full read of the state.
    db.exec("ALTER TABLE public.misc1 DROP COLUMN hidden_change")
        .await;
    let full = ok(
        &server,
        api::SNAPSHOT_PATH,
        req(&db, json!({"refresh": "force"})),
    )
    .await;
    assert_eq!(
        full["snapshot"]["meta"]["signature"],
        snap["meta"]["signature"]
    );
    assert_eq!(
        full["snapshot"]["meta"]["deepSignature"],
        snap["meta"]["deepSignature"]
    );
}

#[tokio::test]
async fn visible_refresh_handles_dropped_tables_and_relationships_from_hidden_tables() {
    let (db, server) = setup("visdrop").await;
    ok(
        &server,
        api::SNAPSHOT_PATH,
        req(&db, json!({"refresh": "force"})),
    )
    .await;
    // A hidden table gains an FK to a visible one; a visible table is dropped.
    db.exec(
        "ALTER TABLE public.misc2 ADD COLUMN user_id bigint REFERENCES public.users(id);
             DROP TABLE public.misc3;",
    )
    .await;
    let v = ok(
        &server,
        api::SNAPSHOT_PATH,
        visible(&db, &["public.users", "public.misc3"]),
    )
    .await;
    assert_eq!(
        harness::served(&v).refresh.performed,
        api::PerformedRefresh::Visible
    );
    assert_eq!(v["refresh"]["removedTables"], json!(["public.misc3"]));
    let snap = &v["snapshot"];
    assert!(snap["tables"].get("public.misc3").is_none());
    assert!(snap["columns"]
        .as_object()
        .unwrap()
        .keys()
        .all(|k| !k.starts_with("public.misc3.")));
    let rel = &snap["relationships"]["public.misc2.misc2_user_id_fkey"];
    assert_eq!(
        rel["toTable"], "public.users",
        "relationship from a hidden table: {snap}"
    );
    // The hidden table's own columns were not re-read, so its new column is not there yet,
    // but the relationship is; a full read agrees on relationships.
    let full = ok(
        &server,
        api::SNAPSHOT_PATH,
        req(&db, json!({"refresh": "force"})),
    )
    .await;
    assert_eq!(full["snapshot"]["relationships"], snap["relationships"]);
}

#[tokio::test]
async fn visible_refresh_rejects_bad_names_and_falls_back_to_full_reads() {
    let (db, server) = setup("visbad").await;
    // No earlier snapshot: a full read, and the response says so.
    let v = ok(&server, api::SNAPSHOT_PATH, visible(&db, &["public.users"])).await;
    assert_eq!(
        harness::served(&v).refresh.performed,
        api::PerformedRefresh::Full
    );
    assert!(v["refresh"]["note"]
        .as_str()
        .unwrap()
        .contains("no earlier snapshot"));

    let (status, e) = server
        .post(
            api::SNAPSHOT_PATH,
            &visible(&db, &["public.nope", "public.users"]),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["field"], "visibleTables");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("public.nope"));

    let (status, e) = server
        .post(
            api::SNAPSHOT_PATH,
            &visible(&db, &["not.a.table.key", "public.\"open"]),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("not.a.table.key") && msg.contains("public.\"open"),
        "{msg}"
    );

    // More than the configured share of the catalog: a full read.
    let many = [
        "public.users",
        "public.orders",
        "public.audit",
        "public.misc1",
    ];
    let v = ok(&server, api::SNAPSHOT_PATH, visible(&db, &many)).await;
    assert_eq!(
        harness::served(&v).refresh.performed,
        api::PerformedRefresh::Full,
        "{}",
        v["refresh"]
    );
    assert!(v["refresh"]["note"].as_str().unwrap().contains("full read"));
}

fn change<'a>(d: &'a Value, kind: &str, key: &str) -> &'a Value {
    d["diff"][kind]["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == key)
        .unwrap_or_else(|| panic!("no changed {kind} {key} in {}", d["diff"][kind]))
}

fn attr<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["attribute"] == name)
        .unwrap_or_else(|| panic!("no attribute {name} in {c}"))
}

#[tokio::test]
async fn diff_names_each_kind_of_change_with_before_and_after() {
    let (db, server) = setup("diff").await;
    ok(
        &server,
        api::SNAPSHOT_PATH,
        req(&db, json!({"refresh": "force"})),
    )
    .await;
    db.exec(r#"
        ALTER TABLE public.orders ALTER COLUMN total TYPE numeric(14,2);
        ALTER TABLE public.orders ALTER COLUMN total SET NOT NULL;
        ALTER TABLE public.orders ALTER COLUMN status SET DEFAULT 'paid';
        ALTER TABLE public.users ADD COLUMN name text;
        ALTER TABLE public.audit DROP COLUMN id;
        ALTER TABLE public.orders RENAME CONSTRAINT orders_user_fk TO orders_user_id_fk;
        ALTER TABLE public.audit DROP CONSTRAINT audit_user_id_fkey;
        ALTER TABLE public.audit ADD CONSTRAINT audit_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;
        DROP INDEX public.orders_user_idx;
        CREATE INDEX orders_status_idx ON public.orders (status) WHERE status = 'new';
        ALTER TYPE public.status ADD VALUE 'refunded';
        ALTER TABLE public.misc4 RENAME TO misc4_renamed;
    "#).await;
    let d = ok(
        &server,
        api::DIFF_PATH,
        req(&db, json!({"from": "latest", "to": "fresh"})),
    )
    .await;

    let total = change(&d, "columns", "public.orders.total");
    assert_eq!(attr(total, "dataType")["before"], "numeric(12,2)");
    assert_eq!(attr(total, "dataType")["after"], "numeric(14,2)");
    assert_eq!(attr(total, "nullable")["after"], false);
    let status = change(&d, "columns", "public.orders.status");
    assert!(attr(status, "default")["after"]
        .as_str()
        .unwrap()
        .contains("paid"));
    assert!(d["diff"]["columns"]["added"]
        .as_array()
        .unwrap()
        .contains(&json!("public.users.name")));
    assert!(d["diff"]["columns"]["removed"]
        .as_array()
        .unwrap()
        .contains(&json!("public.audit.id")));

    // A renamed FK with the same columns is a change, not removed + added.
    let renamed = change(&d, "relationships", "public.orders.orders_user_id_fk");
    assert_eq!(renamed["renamedFrom"], "public.orders.orders_user_fk");
    assert!(!d["diff"]["relationships"]["removed"]
        .as_array()
        .unwrap()
        .contains(&json!("public.orders.orders_user_fk")));
    let audit_fk = change(&d, "relationships", "public.audit.audit_user_id_fkey");
    assert_eq!(attr(audit_fk, "onDelete")["before"], "noAction");
    assert_eq!(attr(audit_fk, "onDelete")["after"], "cascade");

    assert!(d["diff"]["indexes"]["removed"]
        .as_array()
        .unwrap()
        .contains(&json!("public.orders.orders_user_idx")));
    assert!(d["diff"]["indexes"]["added"]
        .as_array()
        .unwrap()
        .contains(&json!("public.orders.orders_status_idx")));
    let labels = attr(change(&d, "enums", "public.status"), "labels");
    assert_eq!(labels["after"], json!(["new", "paid", "refunded"]));
    assert!(d["diff"]["tables"]["added"]
        .as_array()
        .unwrap()
        .contains(&json!("public.misc4_renamed")));
    assert!(d["diff"]["tables"]["removed"]
        .as_array()
        .unwrap()
        .contains(&json!("public.misc4")));

    // The fresh read was persisted: previous -> latest gives the same diff.
    let again = ok(&server, api::DIFF_PATH, req(&db, json!({}))).await;
    assert_eq!(again["diff"], d["diff"]);
    assert_eq!(again["to"]["id"], d["to"]["id"]);
    // Explicit ids work, and an unknown id is a 404.
    let by_id = ok(
        &server,
        api::DIFF_PATH,
        req(&db, json!({"from": d["from"]["id"], "to": d["to"]["id"]})),
    )
    .await;
    assert_eq!(by_id["diff"], d["diff"]);
    let (status, e) = server
        .post(api::DIFF_PATH, &req(&db, json!({"from": "999999"})))
        .await;
    assert_eq!(status, 404, "{e}");
    let (status, e) = server
        .post(api::DIFF_PATH, &req(&db, json!({"from": 7})))
        .await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["field"], "from");
}

#[tokio::test]
async fn history_lists_snapshots_newest_first_with_pages() {
    let (db, server) = setup("history").await;
    let mut captured = Vec::new();
    for i in 0..4 {
        db.exec(&format!("CREATE TABLE public.h{i} (id int)")).await;
        let v = ok(
            &server,
            api::SNAPSHOT_PATH,
            req(&db, json!({"refresh": "force"})),
        )
        .await;
        captured.push(v["lastRefreshedAt"].as_str().unwrap().to_string());
    }
    // An unchanged re-read supersedes the latest instead of piling up.
    let v = ok(
        &server,
        api::SNAPSHOT_PATH,
        req(&db, json!({"refresh": "force"})),
    )
    .await;
    *captured.last_mut().unwrap() = v["lastRefreshedAt"].as_str().unwrap().to_string();
    captured.reverse();

    let page1 = ok(&server, api::HISTORY_PATH, req(&db, json!({"limit": 3}))).await;
    let items = page1["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    let times: Vec<&str> = items
        .iter()
        .map(|i| i["capturedAt"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        captured[..3].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(items[0]["tableCount"], 12);
    assert!(items[0]["signature"].is_string() && items[0]["deepSignature"].is_string());
    let next = page1["nextBefore"].as_str().expect("a next page");
    let page2 = ok(
        &server,
        api::HISTORY_PATH,
        req(&db, json!({"limit": 3, "before": next})),
    )
    .await;
    let items2 = page2["items"].as_array().unwrap();
    assert_eq!(items2.len(), 1);
    assert_eq!(items2[0]["capturedAt"], captured[3].as_str());
    assert!(page2.get("nextBefore").is_none());
    let (status, e) = server
        .post(api::HISTORY_PATH, &req(&db, json!({"limit": 0})))
        .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["field"], "limit");
}
