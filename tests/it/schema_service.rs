//! The service side of issue 13 against real PostgreSQL and the PostgreSQL store: a
//! service upgraded to the version 2 deep signature re-establishes its baseline instead
//! of raising drift, a requested schema that was dropped is reported removed, and
//! `from: "previous"` after an unchanged re-read is an empty diff.

use crate::harness::{self, Server};
use model::api;
use serde_json::{json, Value};

fn body(url: &str, schemas: &[&str], refresh: &str) -> Value {
    json!({ "targetDatabaseUrl": url, "schemas": schemas, "refresh": refresh })
}

#[tokio::test]
async fn an_upgraded_service_re_establishes_the_baseline_instead_of_raising_drift() {
    let pg = harness::pg().await;
    let db = pg.create_db("upgrade").await;
    db.exec(
        "CREATE TABLE public.t (id int PRIMARY KEY, v text);
         CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1';",
    )
    .await;
    let app = pg.create_db("upgradeapp").await;
    let server = Server::start(&[("APP_DATABASE_URL", &app.url)]).await;
    let (status, first) = server
        .post(api::SNAPSHOT_PATH, &body(&db.url, &["public"], "force"))
        .await;
    assert_eq!(status, 200, "{first}");
    // Make the stored row what the version 1 service stored: the v1 deep signature of
    // the same catalog, and a snapshot without the kinds v1 did not read.
    let mut old: model::Snapshot =
        serde_json::from_value(first["snapshot"].clone()).expect("snapshot parses");
    let v1 = model::signature::deep_signature_v1(&old);
    old.functions.clear();
    old.schemas.clear();
    old.extensions.clear();
    old.meta.deep_signature = v1.clone();
    let mut stored = serde_json::to_value(&old).expect("json");
    stored["meta"]
        .as_object_mut()
        .expect("meta")
        .remove("deepSignatureVersion");
    app.client()
        .await
        .execute(
            "UPDATE catalog_snapshots SET deep_signature = $1, snapshot = $2::text::json",
            &[&v1, &stored.to_string()],
        )
        .await
        .expect("rewrite the stored row as v1");

    let (_, upgraded) = server
        .post(api::SNAPSHOT_PATH, &body(&db.url, &["public"], "force"))
        .await;
    let drift = &upgraded["drift"];
    assert_eq!(drift["changedSinceLast"], false, "{drift}");
    assert_eq!(drift["previousDeepSignature"], json!(v1));
    assert!(
        drift["baselineReestablished"]
            .as_str()
            .is_some_and(|n| n.contains("new baseline")),
        "{drift}"
    );
    assert_eq!(upgraded["snapshot"]["meta"]["deepSignatureVersion"], 2);

    // From then on v2 compares with v2: nothing changed, and no baseline note.
    let (_, again) = server
        .post(api::SNAPSHOT_PATH, &body(&db.url, &["public"], "force"))
        .await;
    assert_eq!(again["drift"]["changedSinceLast"], false);
    assert!(again["drift"].get("baselineReestablished").is_none());
    // And a change only v2 sees is drift.
    db.exec("CREATE OR REPLACE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 2'")
        .await;
    let (_, changed) = server
        .post(api::SNAPSHOT_PATH, &body(&db.url, &["public"], "force"))
        .await;
    assert_eq!(changed["drift"]["changedSinceLast"], true);

    // A change v1 covers, across the format change, is still drift.
    app.client()
        .await
        .execute("UPDATE catalog_snapshots SET deep_signature = $1", &[&v1])
        .await
        .expect("rewrite as v1 again");
    db.exec("ALTER TABLE public.t ALTER COLUMN v SET NOT NULL")
        .await;
    let (_, altered) = server
        .post(api::SNAPSHOT_PATH, &body(&db.url, &["public"], "force"))
        .await;
    assert_eq!(altered["drift"]["changedSinceLast"], true);
    assert!(altered["drift"].get("baselineReestablished").is_none());
}

#[tokio::test]
async fn a_dropped_schema_is_reported_removed_and_previous_after_an_unchanged_read_is_empty() {
    let pg = harness::pg().await;
    let db = pg.create_db("dropschema").await;
    db.exec(
        "CREATE SCHEMA gone; CREATE TABLE gone.a (id int PRIMARY KEY);
         CREATE FUNCTION gone.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
         CREATE TABLE public.b (id int);",
    )
    .await;
    let app = pg.create_db("dropschemaapp").await;
    let server = Server::start(&[("APP_DATABASE_URL", &app.url)]).await;
    let schemas = ["gone", "public"];
    let req = |from: &str, to: &str| json!({ "targetDatabaseUrl": db.url, "schemas": schemas, "from": from, "to": to });
    let (status, first) = server
        .post(api::SNAPSHOT_PATH, &body(&db.url, &schemas, "force"))
        .await;
    assert_eq!(status, 200, "{first}");
    // An unchanged re-read, then "previous" to "latest": empty, not a 404.
    server
        .post(api::SNAPSHOT_PATH, &body(&db.url, &schemas, "force"))
        .await;
    let (status, d) = server
        .post(api::DIFF_PATH, &req("previous", "latest"))
        .await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["diff"]["summary"]["total"], 0, "{d}");

    db.exec("DROP SCHEMA gone CASCADE").await;
    let (status, after) = server
        .post(api::SNAPSHOT_PATH, &body(&db.url, &schemas, "force"))
        .await;
    assert_eq!(status, 200, "a dropped schema is drift, not a 400: {after}");
    assert_eq!(after["drift"]["changedSinceLast"], true);
    assert_eq!(after["snapshot"]["meta"]["missingSchemas"], json!(["gone"]));
    assert_eq!(
        after["snapshot"]["meta"]["schemas"],
        json!(["gone", "public"])
    );
    let (status, d) = server
        .post(api::DIFF_PATH, &req("previous", "latest"))
        .await;
    assert_eq!(status, 200, "{d}");
    let diff = &d["diff"];
    assert_eq!(diff["schemas"]["removed"], json!(["gone"]), "{diff}");
    assert_eq!(diff["tables"]["removed"], json!(["gone.a"]));
    assert_eq!(diff["functions"]["removed"], json!(["gone.f()"]));

    // Without an earlier snapshot, an unknown schema is still a 400 naming it.
    let (status, e) = server
        .post(
            api::SNAPSHOT_PATH,
            &body(&db.url, &["never_there"], "force"),
        )
        .await;
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("never_there"), "{e}");
}
