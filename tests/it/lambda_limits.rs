//! The synchronous Lambda response limit, with the binary under the Lambda runtime: this
//! test plays the Runtime API (as `lambda_mode.rs` does, and as AWS does, refusing a
//! response payload over the limit with a 413 the function cannot recover from), hands the
//! binary API Gateway HTTP API v2 events, and reads what it posts back.
//!
//! `LAMBDA_RESPONSE_LIMIT_BYTES` is set small so a modest catalog crosses it: its snapshot
//! (and a diff of it) must come back as a clear 422 `response_too_large` without gzip, and
//! succeed, gzip'd and base64-encoded within the limit, for a client that accepts gzip.

use crate::harness;
use crate::runtime_api::{body_of, LambdaPeer};
use model::api;
use serde_json::json;

const LIMIT: usize = 60_000;

#[tokio::test]
async fn responses_over_the_lambda_limit_are_a_clear_422_and_gzip_fits() {
    let db = harness::pg().await.create_db("lambdalimit").await;
    db.exec("CREATE TABLE public.seed (id int PRIMARY KEY)")
        .await;
    let app = harness::pg().await.create_db("app").await;
    let limit = LIMIT.to_string();
    let mut fun = LambdaPeer::start(
        LIMIT,
        &[
            ("APP_DATABASE_URL", &app.url),
            ("LAMBDA_RESPONSE_LIMIT_BYTES", &limit),
            // No authorizer in this test: authorization is on by default under Lambda.
            ("REQUIRE_AUTH", "false"),
        ],
    )
    .await;
    let conn = json!({"targetDatabaseUrl": db.url, "schemas": ["public"]});
    let gzip = [("accept-encoding", "gzip, deflate, br")];

    // A small catalog: well under the limit, sent as JSON text.
    let (size, small) = fun.invoke(api::SNAPSHOT_PATH, &conn, &[]).await;
    assert_eq!(small["statusCode"], 200, "{small}");
    assert!(size <= LIMIT);
    let small = body_of(&small);
    let first_id = small["persistence"]["snapshotId"]
        .as_str()
        .expect("saved")
        .to_string();

    // Grow it to about 300 KB of snapshot JSON: 150 tables of 8 commented columns.
    db.exec(
        "DO $$ BEGIN FOR i IN 1..150 LOOP
           EXECUTE format('CREATE TABLE public.%I (id bigint PRIMARY KEY, name text NOT NULL,
             email text, created_at timestamptz DEFAULT now(), amount numeric(12,2),
             note text, flag boolean DEFAULT false, ref int)', 'table_' || i);
           EXECUTE format('COMMENT ON COLUMN public.%I.note IS %L', 'table_' || i,
             'free text, \"quoted\" and back\\slashed, for table ' || i);
         END LOOP; END $$;",
    )
    .await;
    let mut force = conn.clone();
    force["refresh"] = json!("force");

    // Without gzip: too large once lambda_http embeds it; a clear 422, within the limit.
    let (size, refused) = fun.invoke(api::SNAPSHOT_PATH, &force, &[]).await;
    assert!(size <= LIMIT, "the refusal itself fits: {size}");
    assert_eq!(refused["statusCode"], 422, "{refused}");
    let err = body_of(&refused);
    assert_eq!(err["error"]["code"], "response_too_large", "{err}");
    let m = err["error"]["message"].as_str().unwrap();
    assert!(m.contains("Accept-Encoding: gzip"), "{m}");
    assert!(m.contains(&limit), "{m}");
    crate::openapi::check(
        &crate::openapi::document(),
        api::SNAPSHOT_PATH,
        "post",
        422,
        &err,
    );

    // With gzip: the same snapshot (a memory hit now), gzip'd and base64'd, fits.
    let (size, ok) = fun.invoke(api::SNAPSHOT_PATH, &conn, &gzip).await;
    assert_eq!(ok["statusCode"], 200, "{}", fun.log());
    assert!(size <= LIMIT, "{size}");
    assert_eq!(ok["isBase64Encoded"], true);
    assert_eq!(ok["headers"]["content-encoding"], "gzip");
    let snap = body_of(&ok);
    let tables = snap["snapshot"]["tables"].as_object().unwrap();
    assert_eq!(tables.len(), 151);
    let plain_len = serde_json::to_vec(&snap).unwrap().len();
    assert!(
        plain_len > LIMIT,
        "the test catalog must exceed the limit: {plain_len}"
    );
    let grown_id = snap["persistence"]["snapshotId"]
        .as_str()
        .expect("saved")
        .to_string();

    // Change five columns of every table: a diff of 750 changed columns, each with
    // before and after, is as large as the snapshot. The same guard, and gzip when
    // accepted.
    db.exec(
        "DO $$ BEGIN FOR i IN 1..150 LOOP
           EXECUTE format('ALTER TABLE public.%I ALTER name TYPE varchar(300),
             ALTER email TYPE varchar(300), ALTER note TYPE varchar(1000),
             ALTER ref TYPE bigint, ALTER amount TYPE numeric(14,4)', 'table_' || i);
         END LOOP; END $$;",
    )
    .await;
    let (_, changed) = fun.invoke(api::SNAPSHOT_PATH, &force, &gzip).await;
    assert_eq!(changed["statusCode"], 200, "{}", fun.log());
    let changed_id = body_of(&changed)["persistence"]["snapshotId"]
        .as_str()
        .expect("saved")
        .to_string();
    let mut diff = conn.clone();
    diff["from"] = json!(grown_id);
    diff["to"] = json!(changed_id);
    let (size, refused) = fun.invoke(api::DIFF_PATH, &diff, &[]).await;
    assert!(size <= LIMIT);
    assert_eq!(refused["statusCode"], 422, "{refused}");
    assert_eq!(body_of(&refused)["error"]["code"], "response_too_large");
    let (size, ok) = fun.invoke(api::DIFF_PATH, &diff, &gzip).await;
    assert_eq!(ok["statusCode"], 200, "{ok:.500}");
    assert!(size <= LIMIT);
    assert_eq!(ok["headers"]["content-encoding"], "gzip");
    let d = body_of(&ok);
    assert_eq!(
        d["diff"]["columns"]["changed"].as_array().map(Vec::len),
        Some(750),
        "{}",
        d["diff"]["summary"]
    );
    let plain_len = serde_json::to_vec(&d).unwrap().len();
    assert!(
        plain_len > LIMIT,
        "the test diff must exceed the limit: {plain_len}"
    );
    crate::openapi::check(&crate::openapi::document(), api::DIFF_PATH, "post", 200, &d);
    // The first, small state is still there to compare with.
    diff["from"] = json!(first_id);
    let (_, ok) = fun.invoke(api::DIFF_PATH, &diff, &gzip).await;
    assert_eq!(ok["statusCode"], 200);
    assert_eq!(
        body_of(&ok)["diff"]["tables"]["added"]
            .as_array()
            .map(Vec::len),
        Some(150)
    );

    let log = fun.log();
    assert!(log.contains("response_too_large"), "{log}");
    assert!(!log.contains(harness::PG_PASSWORD));
}
