//! The synchronous Lambda response limit, with the binary under the Lambda runtime: this
//! test plays the Runtime API (as `lambda_mode.rs` does, and as AWS does, refusing a
//! response payload over the limit with a 413 the function cannot recover from), hands the
//! binary API Gateway HTTP API v2 events, and reads what it posts back.
//!
//! `LAMBDA_RESPONSE_LIMIT_BYTES` is set small so a modest catalog crosses it: its snapshot
//! (and a diff of it) must come back as a clear 422 `response_too_large` without gzip, and
//! succeed, gzip'd and base64-encoded within the limit, for a client that accepts gzip.

use crate::harness;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::io::Read;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

const LIMIT: usize = 60_000;
const SNAPSHOT: &str = "/api/v1/introspect/postgres/snapshot";
const DIFF: &str = "/api/v1/introspect/postgres/diff";

struct Runtime {
    events: Mutex<mpsc::Receiver<Value>>,
    /// Each response payload as posted: its size and the payload parsed.
    responses: mpsc::Sender<(usize, Value)>,
    /// The payload cap this runtime enforces, as AWS's does.
    cap: usize,
}

async fn next(State(rt): State<Arc<Runtime>>) -> (HeaderMap, String) {
    let event = rt.events.lock().await.recv().await.unwrap_or(Value::Null);
    let mut h = HeaderMap::new();
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    h.insert("lambda-runtime-aws-request-id", "req-1".parse().unwrap());
    h.insert(
        "lambda-runtime-deadline-ms",
        deadline.to_string().parse().unwrap(),
    );
    h.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:catsnap"
            .parse()
            .unwrap(),
    );
    h.insert("content-type", "application/json".parse().unwrap());
    (h, event.to_string())
}

async fn response(
    State(rt): State<Arc<Runtime>>,
    Path(_id): Path<String>,
    body: String,
) -> (StatusCode, String) {
    let size = body.len();
    let v: Value = serde_json::from_str(&body).unwrap_or(json!({ "unparsed": size }));
    let _ = rt.responses.send((size, v)).await;
    if size > rt.cap {
        // What the AWS Runtime API answers; the invocation then fails (a 502 at the
        // gateway) whatever the function does next.
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"errorMessage": format!("Response payload size ({size} bytes) exceeded maximum allowed payload size ({} bytes).", rt.cap), "errorType": "RequestEntityTooLarge"}).to_string(),
        );
    }
    (StatusCode::ACCEPTED, "{}".into())
}

/// The binary under a Runtime API played by this test.
struct LambdaPeer {
    events: mpsc::Sender<Value>,
    responses: mpsc::Receiver<(usize, Value)>,
    child: Child,
    serve: tokio::task::JoinHandle<()>,
    log_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl LambdaPeer {
    async fn start(cap: usize, env: &[(&str, &str)]) -> LambdaPeer {
        let (ev_tx, ev_rx) = mpsc::channel(4);
        let (resp_tx, resp_rx) = mpsc::channel(4);
        let rt = Arc::new(Runtime {
            events: Mutex::new(ev_rx),
            responses: resp_tx,
            cap,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(response))
            .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(rt);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serve = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("lambda.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_catalog-snapshot"));
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "catsnap")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/catsnap")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("CONNECTION_KEY_SECRET", "lambda-test-secret-0123456789")
            .env("ALLOW_RAW_DATABASE_URL", "true")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn");
        LambdaPeer {
            events: ev_tx,
            responses: resp_rx,
            child,
            serve,
            log_path,
            _dir: dir,
        }
    }

    /// Sends one API Gateway v2 event; returns the posted payload's size and the payload.
    async fn invoke(
        &mut self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (usize, Value) {
        let mut h = serde_json::Map::new();
        h.insert("content-type".into(), json!("application/json"));
        for (k, v) in headers {
            h.insert((*k).into(), json!(v));
        }
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": "",
            "headers": h,
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
                "domainPrefix": "api",
                "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "test"},
                "requestId": "r1", "routeKey": "$default", "stage": "$default",
                "time": "24/Nov/2026:02:00:00 +0000", "timeEpoch": 1_790_000_000_000u64
            },
            "body": body.to_string(),
            "isBase64Encoded": false
        });
        self.events.send(event).await.unwrap();
        tokio::time::timeout(Duration::from_secs(60), self.responses.recv())
            .await
            .unwrap_or_else(|_| panic!("the function did not answer: {}", self.log()))
            .expect("response")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for LambdaPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.serve.abort();
    }
}

/// The response body of a posted payload, decoded (base64, then gzip when the payload
/// says `content-encoding: gzip`) and parsed.
fn body_of(payload: &Value) -> Value {
    let raw = payload["body"].as_str().expect("a body");
    let base64 = payload["isBase64Encoded"].as_bool().unwrap_or(false);
    let bytes = match lambda_http::Body::from_maybe_encoded(base64, raw) {
        lambda_http::Body::Binary(b) => b,
        lambda_http::Body::Text(t) => t.into_bytes(),
        _ => Vec::new(),
    };
    let text = if payload["headers"]["content-encoding"] == "gzip" {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .expect("valid gzip");
        text
    } else {
        String::from_utf8(bytes).expect("UTF-8 body")
    };
    serde_json::from_str(&text).expect("a JSON body")
}

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
        ],
    )
    .await;
    let conn = json!({"targetDatabaseUrl": db.url, "schemas": ["public"]});
    let gzip = [("accept-encoding", "gzip, deflate, br")];

    // A small catalog: well under the limit, sent as JSON text.
    let (size, small) = fun.invoke(SNAPSHOT, &conn, &[]).await;
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
    let (size, refused) = fun.invoke(SNAPSHOT, &force, &[]).await;
    assert!(size <= LIMIT, "the refusal itself fits: {size}");
    assert_eq!(refused["statusCode"], 422, "{refused}");
    let err = body_of(&refused);
    assert_eq!(err["error"]["code"], "response_too_large", "{err}");
    let m = err["error"]["message"].as_str().unwrap();
    assert!(m.contains("Accept-Encoding: gzip"), "{m}");
    assert!(m.contains(&limit), "{m}");
    crate::openapi::check(&crate::openapi::document(), SNAPSHOT, "post", 422, &err);

    // With gzip: the same snapshot (a memory hit now), gzip'd and base64'd, fits.
    let (size, ok) = fun.invoke(SNAPSHOT, &conn, &gzip).await;
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
    let (_, changed) = fun.invoke(SNAPSHOT, &force, &gzip).await;
    assert_eq!(changed["statusCode"], 200, "{}", fun.log());
    let changed_id = body_of(&changed)["persistence"]["snapshotId"]
        .as_str()
        .expect("saved")
        .to_string();
    let mut diff = conn.clone();
    diff["from"] = json!(grown_id);
    diff["to"] = json!(changed_id);
    let (size, refused) = fun.invoke(DIFF, &diff, &[]).await;
    assert!(size <= LIMIT);
    assert_eq!(refused["statusCode"], 422, "{refused}");
    assert_eq!(body_of(&refused)["error"]["code"], "response_too_large");
    let (size, ok) = fun.invoke(DIFF, &diff, &gzip).await;
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
    crate::openapi::check(&crate::openapi::document(), DIFF, "post", 200, &d);
    // The first, small state is still there to compare with.
    diff["from"] = json!(first_id);
    let (_, ok) = fun.invoke(DIFF, &diff, &gzip).await;
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
