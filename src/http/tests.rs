//! The router in process, through `tower::ServiceExt::oneshot`: the routes, the
//! validation a caller sees (400 naming the field, 404, 405), the snapshot response's
//! shape (read back through `model::api`), gzip and `If-None-Match`. The service runs
//! over the in-process stand-ins of [`crate::service::testkit`].

use super::router;
use crate::service::testkit::{service, FakeCatalog, MemoryStore};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use model::api::{self, ErrorResponse, Health, Served, Source, StoreKind};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

fn app() -> (axum::Router, Arc<FakeCatalog>) {
    let catalog = FakeCatalog::with_tables(&["users", "orders"]);
    let svc = service(&[], Some(Arc::new(MemoryStore::default())), catalog.clone());
    (router(svc), catalog)
}

fn post(path: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

async fn send(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, headers, body.to_vec())
}

fn snapshot_body() -> Value {
    json!({"targetDatabaseUrl": "postgres://app:secret@127.0.0.1:5432/shop", "schemas": ["public"]})
}

#[tokio::test]
async fn health_answers_in_the_contracts_shape() {
    let (app, _) = app();
    let req = Request::get(api::HEALTH_PATH)
        .body(Body::empty())
        .expect("request");
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    let health: Health = serde_json::from_slice(&body).expect("Health");
    assert_eq!(health.status, "ok");
    assert_eq!(health.store, StoreKind::Postgres);
    assert!(!health.memory_only);
}

#[tokio::test]
async fn a_snapshot_is_served_then_hit_and_304_on_its_etag() {
    let (app, catalog) = app();
    let (status, headers, body) = send(&app, post(api::SNAPSHOT_PATH, &snapshot_body())).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let response: api::SnapshotResponse = serde_json::from_slice(&body).expect("SnapshotResponse");
    assert_eq!(response.served.cache.source, Source::Fresh);
    assert_eq!(response.snapshot.tables.len(), 2);
    assert_eq!(
        response.served.last_refreshed_at,
        response.snapshot.meta.captured_at
    );
    let etag = headers.get(header::ETAG).expect("etag").clone();
    assert!(
        !String::from_utf8_lossy(&body).contains("secret"),
        "no credential in a response"
    );

    let (_, _, body) = send(&app, post(api::SNAPSHOT_PATH, &snapshot_body())).await;
    let served: Served = serde_json::from_slice(&body).expect("Served");
    assert_eq!(served.cache.source, Source::Mem);

    let mut req = post(api::SNAPSHOT_PATH, &snapshot_body());
    req.headers_mut().insert(header::IF_NONE_MATCH, etag);
    let (status, _, body) = send(&app, req).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(catalog.reads(), 1);
}

#[tokio::test]
async fn gzip_is_a_valid_stream_of_the_same_json() {
    let (app, _) = app();
    let (_, _, plain) = send(&app, post(api::SNAPSHOT_PATH, &snapshot_body())).await;
    let mut req = post(api::SNAPSHOT_PATH, &snapshot_body());
    req.headers_mut()
        .insert(header::ACCEPT_ENCODING, "gzip".parse().expect("header"));
    let (status, headers, gz) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get(header::CONTENT_ENCODING).expect("encoding"),
        "gzip"
    );
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped)
        .expect("valid gzip");
    let (a, b): (Value, Value) = (
        serde_json::from_slice(&plain).expect("json"),
        serde_json::from_slice(&unzipped).expect("json"),
    );
    assert_eq!(a["snapshot"], b["snapshot"]);
}

#[tokio::test]
async fn bad_input_is_a_4xx_naming_what_is_wrong() {
    let (app, catalog) = app();
    let mut body = snapshot_body();
    body["refresh"] = json!("sometimes");
    let (status, _, bytes) = send(&app, post(api::SNAPSHOT_PATH, &body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let err: ErrorResponse = serde_json::from_slice(&bytes).expect("ErrorResponse");
    assert_eq!(err.error.code, "bad_request");
    assert_eq!(err.error.field.as_deref(), Some("refresh"));

    let (status, _, bytes) = send(&app, post(api::HISTORY_PATH, &json!({"schemas": []}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let err: ErrorResponse = serde_json::from_slice(&bytes).expect("ErrorResponse");
    assert_eq!(err.error.field.as_deref(), Some("schemas"));

    let req = Request::get(api::SNAPSHOT_PATH)
        .body(Body::empty())
        .expect("request");
    let (status, _, _) = send(&app, req).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    let req = Request::get("/api/v1/nothing")
        .body(Body::empty())
        .expect("request");
    let (status, _, bytes) = send(&app, req).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let err: ErrorResponse = serde_json::from_slice(&bytes).expect("ErrorResponse");
    assert_eq!(err.error.code, "not_found");
    assert_eq!(catalog.reads(), 0, "nothing was read for bad input");
}
