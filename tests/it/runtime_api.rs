//! A Lambda Runtime API peer for tests: plays the HTTP protocol AWS and `cargo lambda
//! watch` speak, runs the service binary under it, hands it API Gateway HTTP API v2
//! events and reads the response payloads it posts back, refusing a payload over a cap
//! with a 413 as AWS does. Used by `lambda_mode.rs` and `lambda_limits.rs`.

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
pub(crate) struct LambdaPeer {
    events: mpsc::Sender<Value>,
    responses: mpsc::Receiver<(usize, Value)>,
    child: Child,
    serve: tokio::task::JoinHandle<()>,
    log_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl LambdaPeer {
    /// Starts the service binary under a Runtime API that refuses response payloads over
    /// `cap` bytes, with `env` on top of the Lambda variables.
    pub(crate) async fn start(cap: usize, env: &[(&str, &str)]) -> LambdaPeer {
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

    /// Sends one API Gateway v2 POST event; returns the posted payload's size and the
    /// payload.
    pub(crate) async fn invoke(
        &mut self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (usize, Value) {
        self.invoke_as(path, body, headers, None).await
    }

    /// The same, with a JWT authorizer's claims in the request context when given.
    pub(crate) async fn invoke_as(
        &mut self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
        claims: Option<Value>,
    ) -> (usize, Value) {
        let mut h = serde_json::Map::new();
        h.insert("content-type".into(), json!("application/json"));
        for (k, v) in headers {
            h.insert((*k).into(), json!(v));
        }
        let mut event = json!({
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
        if let Some(claims) = claims {
            event["requestContext"]["authorizer"] =
                json!({"jwt": {"claims": claims, "scopes": null}});
        }
        self.events.send(event).await.unwrap();
        tokio::time::timeout(Duration::from_secs(60), self.responses.recv())
            .await
            .unwrap_or_else(|_| panic!("the function did not answer: {}", self.log()))
            .expect("response")
    }

    pub(crate) fn log(&self) -> String {
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
pub(crate) fn body_of(payload: &Value) -> Value {
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
