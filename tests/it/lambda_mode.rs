//! The same binary under the Lambda runtime: this test plays the Lambda Runtime API (the
//! HTTP protocol AWS and `cargo lambda watch` speak), hands the binary an API Gateway
//! HTTP API v2 event, and reads the response it posts back.

use crate::harness;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

struct Runtime {
    events: Mutex<mpsc::Receiver<Value>>,
    responses: mpsc::Sender<Value>,
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
) -> &'static str {
    let v: Value = serde_json::from_str(&body).unwrap_or(json!({ "unparsed": body }));
    let _ = rt.responses.send(v).await;
    "{}"
}

fn v2_event(body: &Value) -> Value {
    v2_event_as(body, None)
}

/// An API Gateway HTTP API v2 event, with a JWT authorizer's claims when given.
fn v2_event_as(body: &Value, claims: Option<Value>) -> Value {
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/api/v1/introspect/postgres/snapshot",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {"method": "POST", "path": "/api/v1/introspect/postgres/snapshot",
                     "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "time": "24/Nov/2026:02:00:00 +0000", "timeEpoch": 1_790_000_000_000u64
        },
        "body": body.to_string(),
        "isBase64Encoded": false
    });
    if let Some(claims) = claims {
        event["requestContext"]["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    event
}

#[tokio::test]
async fn runs_the_lambda_loop_under_the_runtime_api() {
    let db = crate::snapshot_api::shop_db("lambda").await;
    let (ev_tx, ev_rx) = mpsc::channel(4);
    let (resp_tx, mut resp_rx) = mpsc::channel(4);
    let rt = Arc::new(Runtime {
        events: Mutex::new(ev_rx),
        responses: resp_tx,
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(response))
        .with_state(rt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve = tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("lambda.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_catalog-snapshot"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "catsnap")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/catsnap")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
        .env("CONNECTION_KEY_SECRET", "lambda-test-secret-0123456789")
        .env("ALLOW_RAW_DATABASE_URL", "true")
        .env("REQUIRE_AUTH", "true")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("spawn");

    let request = json!({"targetDatabaseUrl": db.url, "schemas": ["public"]});
    let mut invoke = async |event: Value| -> Value {
        ev_tx.send(event).await.unwrap();
        tokio::time::timeout(Duration::from_secs(30), resp_rx.recv())
            .await
            .expect("the function answered")
            .expect("response")
    };
    let ws_a = || Some(json!({"sub": "u1", "workspace_id": "ws-a"}));
    let resp = invoke(v2_event_as(&request, ws_a())).await;

    // Workspace scoping from the authorizer's claims (REQUIRE_AUTH is on).
    let anonymous = invoke(v2_event(&request)).await;
    assert_eq!(anonymous["statusCode"], 401, "{anonymous}");
    let mut other = request.clone();
    other["workspaceId"] = json!("ws-b");
    let contradicted = invoke(v2_event_as(&other, ws_a())).await;
    assert_eq!(contradicted["statusCode"], 403, "{contradicted}");
    let no_claim = invoke(v2_event_as(&request, Some(json!({"sub": "u2"})))).await;
    assert_eq!(no_claim["statusCode"], 403, "{no_claim}");
    let b = invoke(v2_event_as(
        &request,
        Some(json!({"sub": "u3", "workspace_id": "ws-b"})),
    ))
    .await;
    assert_eq!(b["statusCode"], 200, "{b}");
    let b: Value = serde_json::from_str(b["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        b["cache"]["source"], "fresh",
        "another workspace never shares ws-a's snapshot"
    );
    let a_again = invoke(v2_event_as(&request, ws_a())).await;
    let a_again: Value = serde_json::from_str(a_again["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        a_again["cache"]["source"], "mem",
        "same workspace, same key"
    );
    assert_ne!(a_again["cache"]["key"], b["cache"]["key"]);

    let _ = child.kill();
    let _ = child.wait();
    serve.abort();

    assert_eq!(resp["statusCode"], 200, "{resp}");
    let body: Value = serde_json::from_str(resp["body"].as_str().expect("text body")).unwrap();
    assert_eq!(body["cache"]["source"], "fresh");
    assert!(body["snapshot"]["tables"]["public.users"].is_object());
    let log = std::fs::read_to_string(&log_path).unwrap();
    let json_lines = log
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .count();
    assert!(json_lines > 0, "logs are JSON under Lambda: {log}");
    assert!(!log.contains(harness::PG_PASSWORD));
}
