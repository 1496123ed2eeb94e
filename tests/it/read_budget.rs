//! The read budget (`MAX_CATALOG_TABLES`, `MAX_CATALOG_COLUMNS`) end to end: a service
//! with small limits refuses a schema set over them with a 422 `catalog_too_large` that
//! says what was counted, the limit and the variable, persists nothing, and serves a
//! schema set under them as usual.

use crate::harness::{self, Server};
use crate::openapi::{check, document};
use model::api;
use serde_json::{json, Value};

#[tokio::test]
async fn a_catalog_over_the_budget_is_refused_with_a_clear_422_and_nothing_saved() {
    let db = harness::pg().await.create_db("budget").await;
    // small: 3 relations, 6 columns. big: 18 tables and 3 views = 21 relations.
    // wide: 2 tables of 60 columns = 120 columns.
    let wide_cols = |t: &str| {
        (1..=60)
            .map(|i| format!("{t}_c{i} int"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    db.exec(&format!(
        "CREATE SCHEMA small; CREATE SCHEMA big; CREATE SCHEMA wide;
         CREATE TABLE small.users (id int PRIMARY KEY, email text);
         CREATE TABLE small.orders (id int PRIMARY KEY, user_id int REFERENCES small.users);
         CREATE VIEW small.v AS SELECT id, email FROM small.users;
         DO $$ BEGIN FOR i IN 1..18 LOOP
             EXECUTE format('CREATE TABLE big.t%s (id int PRIMARY KEY)', i);
         END LOOP; END $$;
         CREATE VIEW big.v1 AS SELECT 1 AS one; CREATE VIEW big.v2 AS SELECT 2 AS two;
         CREATE MATERIALIZED VIEW big.m AS SELECT 3 AS three;
         CREATE TABLE wide.a ({}); CREATE TABLE wide.b ({});",
        wide_cols("a"),
        wide_cols("b")
    ))
    .await;
    let app = harness::pg().await.create_db("app").await;
    let server = Server::start(&[
        ("APP_DATABASE_URL", &app.url),
        ("MAX_CATALOG_TABLES", "20"),
        ("MAX_CATALOG_COLUMNS", "100"),
    ])
    .await;
    let doc = document();
    let req = |schemas: Value, refresh: &str| json!({"targetDatabaseUrl": db.url, "schemas": schemas, "refresh": refresh});

    // Under the budget: served and saved as usual.
    let (status, ok) = server
        .post(api::SNAPSHOT_PATH, &req(json!(["small"]), "cache"))
        .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["persistence"]["saved"], true, "{ok}");
    assert_eq!(
        ok["snapshot"]["tables"].as_object().map(|t| t.len()),
        Some(3)
    );

    // Over the relation budget (views and materialized views count).
    let (status, over) = server
        .post(api::SNAPSHOT_PATH, &req(json!(["big"]), "force"))
        .await;
    assert_eq!(status, 422, "{over}");
    check(&doc, api::SNAPSHOT_PATH, "post", status, &over);
    assert_eq!(over["error"]["code"], "catalog_too_large");
    assert_eq!(over["error"]["field"], "schemas");
    let m = over["error"]["message"].as_str().unwrap();
    for part in [
        "21 relations",
        "at most 20",
        "MAX_CATALOG_TABLES",
        "fewer schemas",
    ] {
        assert!(m.contains(part), "{part:?} missing from {m}");
    }
    // Both schemas together are over too; "small" alone still fits.
    let (status, both) = server
        .post(api::SNAPSHOT_PATH, &req(json!(["small", "big"]), "cache"))
        .await;
    assert_eq!(status, 422, "{both}");
    assert!(both["error"]["message"]
        .as_str()
        .unwrap()
        .contains("24 relations"));

    // Over the column budget.
    let (status, wide) = server
        .post(api::SNAPSHOT_PATH, &req(json!(["wide"]), "cache"))
        .await;
    assert_eq!(status, 422, "{wide}");
    let m = wide["error"]["message"].as_str().unwrap();
    for part in ["120 columns", "at most 100", "MAX_CATALOG_COLUMNS"] {
        assert!(m.contains(part), "{part:?} missing from {m}");
    }

    // A visible refresh with no earlier snapshot becomes a full read: refused the same way.
    let mut visible = req(json!(["big"]), "visible");
    visible["visibleTables"] = json!(["big.t1"]);
    let (status, v) = server.post(api::SNAPSHOT_PATH, &visible).await;
    assert_eq!(status, 422, "{v}");
    // A diff against a fresh read of it too.
    let mut diff = req(json!(["big"]), "cache");
    diff["from"] = json!("fresh");
    diff["to"] = json!("fresh");
    let (status, d) = server.post(api::DIFF_PATH, &diff).await;
    assert_eq!(status, 422, "{d}");
    check(&doc, api::DIFF_PATH, "post", status, &d);

    // Nothing was persisted or cached for the refused schema sets.
    for schemas in [json!(["big"]), json!(["wide"]), json!(["small", "big"])] {
        let (status, h) = server
            .post(api::HISTORY_PATH, &req(schemas.clone(), "cache"))
            .await;
        assert_eq!(status, 200, "{h}");
        assert_eq!(h["items"], json!([]), "{schemas}: {h}");
    }
    let rows = app
        .client()
        .await
        .query_one("SELECT count(*) FROM catalog_snapshots", &[])
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(rows, 1, "only the 'small' snapshot is stored");
    let log = server.log();
    assert!(!log.contains(harness::PG_PASSWORD));
}
