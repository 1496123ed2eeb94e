//! HTTP routes: the one router both entry points serve (Lambda via `lambda_http`, local
//! via `axum::serve`).
//!
//! Owns request parsing and validation (every bad input becomes a 400 naming its field),
//! body limits, and response assembly: a snapshot response is written around the
//! snapshot's pre-serialized JSON, never re-serializing it; under the Lambda runtime, the
//! guard that answers a response too large for a synchronous invocation with a clear
//! 422 ([`lambda_limit`]). It must never echo a URL or credential back, and holds no
//! tier logic (that is [`crate::service`]).

use crate::config::Config;
use crate::error::ApiError;
use crate::service::{Service, SnapshotOutcome};
use crate::store;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use http_body_util::BodyExt;
use model::api::{
    self, Connection, DiffRequest, ExportFormat, ExportRequest, Health, HistoryRequest, Refresh,
    Served, SnapshotRef, SnapshotRequest, StoreKind,
};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;

mod lambda_limit;
#[cfg(test)]
mod tests;

/// Builds the store the configuration names, the service and the router.
pub async fn app(cfg: Config) -> Result<Router, String> {
    let store = store::build(&cfg).await?;
    let service = Service::new(Arc::new(cfg), store);
    if !service.config().lambda {
        // Locally, find a misconfigured store at start; under Lambda, init is short and
        // the first request prepares it.
        service.prepare_store().await;
    }
    let limit = service.config().lambda_response_limit;
    let lambda = service.config().lambda;
    let router = router(service);
    Ok(if lambda {
        // A response over the synchronous payload limit would fail the invocation: answer
        // a clear 422 instead (see `lambda_limit`).
        router.layer(axum::middleware::from_fn_with_state(
            limit,
            lambda_limit::guard,
        ))
    } else {
        router
    })
}

pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route(
            api::SNAPSHOT_PATH,
            post(snapshot).fallback(method_not_allowed),
        )
        .route(api::DIFF_PATH, post(diff).fallback(method_not_allowed))
        .route(
            api::HISTORY_PATH,
            post(history).fallback(method_not_allowed),
        )
        .route(api::EXPORT_PATH, post(export).fallback(method_not_allowed))
        .route(api::HEALTH_PATH, get(healthz).fallback(method_not_allowed))
        .fallback(not_found)
        .with_state(service)
}

/// Any other route: a page or asset of the web app when it is served (local mode), else
/// a JSON 404.
async fn not_found(State(service): State<Arc<Service>>, req: axum::extract::Request) -> Response {
    if let Some(dir) = &service.config().web_dist_dir {
        if crate::web_assets::wants_asset(&req) {
            if let Some(resp) = crate::web_assets::serve(dir, req).await {
                return resp;
            }
        }
    }
    ApiError::NotFound("no such route".into()).into_response()
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("method not allowed on this route".into())
}

/// `GET /healthz` answers anyone (it is outside the authorizer), so it says only that the
/// service is up and which store it runs with; the read and memory counters are shown
/// only where `HEALTH_COUNTERS` is on (local development and tests; refused under Lambda).
async fn healthz(State(service): State<Arc<Service>>) -> Response {
    let counters = service.config().health_counters;
    let (bytes, entries) = service.memory().usage();
    axum::Json(Health {
        status: "ok".into(),
        store: service.store_kind(),
        memory_only: service.store_kind() == StoreKind::None,
        catalog_reads: counters.then(crate::introspect::catalog_reads),
        memory_bytes: counters.then_some(bytes),
        memory_entries: counters.then_some(entries),
    })
    .into_response()
}

/// Checks what must hold before the body is read: the caller's identity (when
/// `REQUIRE_AUTH` is on, an unauthenticated caller learns nothing about bodies), then a
/// JSON content type.
fn before_body(cfg: &Config, context: &Context, headers: &HeaderMap) -> Result<(), ApiError> {
    let caller = crate::caller::caller(context.as_ref().map(|c| &c.0), &cfg.workspace_claim);
    crate::caller::scope_workspace(cfg, caller.as_ref(), None)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "the request body must be JSON: send Content-Type: application/json".into(),
        ));
    }
    Ok(())
}

/// Reads the body up to the configured limit, within the body timeout, and parses it as
/// a JSON object.
async fn json_object(body: Body, cfg: &Config) -> Result<Map<String, Value>, ApiError> {
    let limit = cfg.max_body_bytes;
    let collected = tokio::time::timeout(
        cfg.body_timeout,
        http_body_util::Limited::new(body, limit).collect(),
    )
    .await
    .map_err(|_| ApiError::BodyTimeout(cfg.body_timeout.as_millis() as u64))?;
    let bytes = collected
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::PayloadTooLarge(limit)
            } else if e
                .downcast_ref::<tower_http::timeout::TimeoutError>()
                .is_some()
            {
                ApiError::BodyTimeout(cfg.body_timeout.as_millis() as u64)
            } else {
                ApiError::bad("body", "could not read the request body")
            }
        })?
        .to_bytes();
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest {
        field: None,
        message: format!("request body is not valid JSON: {e}"),
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::BadRequest {
            field: None,
            message: "request body must be a JSON object".into(),
        }),
    }
}

fn opt_string(body: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(ApiError::bad(field, format!("{field} must not be empty")))
        }
        Some(Value::String(s)) if s.len() > 4096 => {
            Err(ApiError::bad(field, format!("{field} is too long")))
        }
        Some(Value::String(s)) if crate::input::control_char(s).is_some() => Err(ApiError::bad(
            field,
            format!(
                "{field} holds {}; remove it",
                crate::input::control_char(s).unwrap_or("a control character")
            ),
        )),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad(field, format!("{field} must be a string"))),
    }
}

fn string_list(
    body: &Map<String, Value>,
    field: &str,
    max: usize,
) -> Result<Option<Vec<String>>, ApiError> {
    let items = match body.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::bad(
                field,
                format!("{field} must be an array of strings"),
            ))
        }
    };
    if items.len() > max {
        return Err(ApiError::bad(
            field,
            format!(
                "{field} has {} entries; at most {max} are allowed",
                items.len()
            ),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) if crate::input::control_char(s).is_some() => Err(ApiError::bad(
                field,
                format!(
                    "{field}[{i}] holds {}; names may not contain control characters",
                    crate::input::control_char(s).unwrap_or("a control character")
                ),
            )),
            Value::String(s) if !s.trim().is_empty() && s.len() <= 1024 => Ok(s.clone()),
            _ => Err(ApiError::bad(
                field,
                format!("{field}[{i}] must be a non-empty string of at most 1024 bytes"),
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The connection part every endpoint shares: `targetDatabaseUrl` or `connectionId`,
/// `workspaceId`, `schemas`.
pub fn parse_connection(body: &Map<String, Value>, cfg: &Config) -> Result<Connection, ApiError> {
    let schemas = string_list(body, "schemas", cfg.max_schemas)?.ok_or_else(|| {
        ApiError::bad(
            "schemas",
            "schemas is required (a non-empty array of schema names)",
        )
    })?;
    if schemas.is_empty() {
        return Err(ApiError::bad(
            "schemas",
            "schemas must name at least one schema",
        ));
    }
    let conn = Connection {
        workspace_id: opt_string(body, "workspaceId")?,
        connection_id: opt_string(body, "connectionId")?,
        target_database_url: opt_string(body, "targetDatabaseUrl")?,
        schemas,
    };
    match (&conn.target_database_url, &conn.connection_id) {
        (None, None) => {
            return Err(ApiError::bad(
                "targetDatabaseUrl",
                "one of targetDatabaseUrl or connectionId is required",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad(
                "connectionId",
                "send either targetDatabaseUrl or connectionId, not both",
            ))
        }
        (Some(url), None) => crate::input::check_target_url(url)
            .map_err(|m| ApiError::bad("targetDatabaseUrl", format!("targetDatabaseUrl {m}")))?,
        (None, Some(_)) => {}
    }
    Ok(conn)
}

/// Validates a snapshot request body (ARCHITECTURE.md, "The wire contract").
pub fn parse_snapshot_request(
    body: &Map<String, Value>,
    cfg: &Config,
) -> Result<SnapshotRequest, ApiError> {
    let conn = parse_connection(body, cfg)?;
    let refresh = match body.get("refresh") {
        None | Some(Value::Null) => Refresh::Cache,
        Some(Value::String(s)) => match Refresh::parse(s) {
            Some(refresh) => refresh,
            None => {
                return Err(ApiError::bad(
                    "refresh",
                    format!("refresh must be \"cache\", \"force\" or \"visible\", got {s:?}"),
                ))
            }
        },
        Some(_) => {
            return Err(ApiError::bad(
                "refresh",
                "refresh must be \"cache\", \"force\" or \"visible\"",
            ))
        }
    };
    let visible_tables =
        string_list(body, "visibleTables", cfg.max_visible_tables)?.unwrap_or_default();
    if refresh == Refresh::Visible && visible_tables.is_empty() {
        return Err(ApiError::bad(
            "visibleTables",
            "refresh \"visible\" needs visibleTables (e.g. [\"public.users\"])",
        ));
    }
    Ok(SnapshotRequest {
        connection: conn,
        refresh,
        visible_tables,
    })
}

/// Validates an export request body: the connection fields, `format` (required) and
/// `refresh` (`cache` or `force`; an export is of the whole snapshot, so not `visible`).
pub fn parse_export_request(
    body: &Map<String, Value>,
    cfg: &Config,
) -> Result<ExportRequest, ApiError> {
    let formats = "format must be \"mermaid\", \"dbml\" or \"markdown\"";
    let format = match body.get("format") {
        Some(Value::String(s)) => ExportFormat::parse(s)
            .ok_or_else(|| ApiError::bad("format", format!("{formats}, got {s:?}")))?,
        None | Some(Value::Null) => return Err(ApiError::bad("format", formats)),
        Some(_) => return Err(ApiError::bad("format", formats)),
    };
    let refresh = match body.get("refresh") {
        None | Some(Value::Null) => Refresh::Cache,
        Some(Value::String(s)) if s == "cache" => Refresh::Cache,
        Some(Value::String(s)) if s == "force" => Refresh::Force,
        Some(_) => {
            return Err(ApiError::bad(
                "refresh",
                "refresh must be \"cache\" or \"force\" for an export",
            ))
        }
    };
    Ok(ExportRequest {
        connection: parse_connection(body, cfg)?,
        format,
        refresh,
    })
}

fn snapshot_ref(
    body: &Map<String, Value>,
    field: &str,
    default: SnapshotRef,
) -> Result<SnapshotRef, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => match SnapshotRef::parse(s) {
            SnapshotRef::Id(id)
                if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Err(ApiError::bad(
                    field,
                    format!("{field} must be \"latest\", \"previous\", \"fresh\" or a snapshot id"),
                ))
            }
            r => Ok(r),
        },
        Some(_) => Err(ApiError::bad(
            field,
            format!("{field} must be \"latest\", \"previous\", \"fresh\" or a snapshot id"),
        )),
    }
}

pub fn parse_diff_request(
    body: &Map<String, Value>,
    cfg: &Config,
) -> Result<DiffRequest, ApiError> {
    Ok(DiffRequest {
        connection: parse_connection(body, cfg)?,
        from: snapshot_ref(body, "from", SnapshotRef::Previous)?,
        to: snapshot_ref(body, "to", SnapshotRef::Latest)?,
    })
}

pub fn parse_history_request(
    body: &Map<String, Value>,
    cfg: &Config,
) -> Result<HistoryRequest, ApiError> {
    let limit = match body.get("limit") {
        None | Some(Value::Null) => api::HISTORY_DEFAULT_LIMIT,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(l) if (1..=api::HISTORY_MAX_LIMIT as u64).contains(&l) => l as usize,
            _ => {
                return Err(ApiError::bad(
                    "limit",
                    "limit must be an integer from 1 to 200",
                ))
            }
        },
        Some(_) => {
            return Err(ApiError::bad(
                "limit",
                "limit must be an integer from 1 to 200",
            ))
        }
    };
    let before = opt_string(body, "before")?;
    if let Some(b) = &before {
        crate::input::check_before(b)
            .map_err(|m| ApiError::bad("before", format!("before {m}")))?;
    }
    Ok(HistoryRequest {
        connection: parse_connection(body, cfg)?,
        limit,
        before,
    })
}

/// `{"snapshot":<stored JSON>,"cache":...,"lastRefreshedAt":...,"drift":...}` written as
/// three chunks; the middle one is the cached bytes themselves (or, gzip'd, their cached
/// deflate segment). `ETag` is the deep signature; a matching `If-None-Match` gets 304.
fn snapshot_response(outcome: &SnapshotOutcome, headers: &HeaderMap) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", outcome.cached.deep_signature);
    let etag_value = HeaderValue::from_str(&etag).map_err(|e| ApiError::Internal(e.to_string()))?;
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        });
    if matches {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        resp.headers_mut().insert(header::ETAG, etag_value);
        return Ok(resp);
    }
    let tail = serde_json::to_vec(&Served {
        cache: outcome.cache.clone(),
        last_refreshed_at: outcome.cached.captured_at.clone(),
        drift: outcome.cached.drift.clone(),
        persistence: outcome.persistence.clone(),
        refresh: outcome.refresh.clone(),
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    // `tail` is `{...}`: replace its opening brace with a comma.
    let mut tail = tail;
    tail[0] = b',';
    const HEAD: &[u8] = b"{\"snapshot\":";
    let gzip = accepts_gzip(headers);
    let chunks: Vec<Bytes> = if gzip {
        let head = crate::gzip::segment(HEAD, flate2::Compression::fast(), false);
        let tail = crate::gzip::segment(&tail, flate2::Compression::fast(), true);
        crate::gzip::member(&[&head, outcome.cached.deflated(), &tail])
    } else {
        vec![
            Bytes::from_static(HEAD),
            outcome.cached.json.clone(),
            Bytes::from(tail),
        ]
    };
    let mut resp = chunked_response(chunks, gzip, "application/json");
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::ETAG, etag_value);
    Ok(resp)
}

/// A response made of ready chunks (gzip'd ones when `gzip`), with its type, its length
/// and the headers every body answer here carries.
fn chunked_response(chunks: Vec<Bytes>, gzip: bool, content_type: &'static str) -> Response {
    let len: usize = chunks.iter().map(Bytes::len).sum();
    let body = Body::new(ChunkedBody {
        chunks: chunks.into_iter().collect(),
        remaining: len as u64,
    });
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len as u64));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

/// True when `Accept-Encoding` lists gzip with a non-zero weight.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q_zero = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !q_zero
        })
}

/// A body made of ready byte chunks with an exact size hint (so hyper sends a
/// Content-Length and writes the shared snapshot bytes without copying them).
struct ChunkedBody {
    chunks: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl http_body::Body for ChunkedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let next = self.chunks.pop_front();
        if let Some(c) = &next {
            self.remaining -= c.len() as u64;
        }
        std::task::Poll::Ready(next.map(|c| Ok(http_body::Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

/// Runs `work` within the request time budget.
async fn within_budget<T>(
    cfg: &Config,
    work: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    let budget = cfg.request_timeout;
    tokio::time::timeout(budget, work)
        .await
        .map_err(|_| ApiError::RequestTimeout(budget.as_millis() as u64))?
}

/// The authorizer's request context, present under API Gateway.
type Context = Option<axum::Extension<lambda_http::request::RequestContext>>;

/// Puts the request in the caller's workspace (see [`crate::caller`]).
fn scope(conn: &mut Connection, cfg: &Config, context: &Context) -> Result<(), ApiError> {
    let caller = crate::caller::caller(context.as_ref().map(|c| &c.0), &cfg.workspace_claim);
    if let Some(c) = &caller {
        tracing::debug!(subject = ?c.subject, workspace = ?c.workspace, "authorized caller");
    }
    conn.workspace_id =
        crate::caller::scope_workspace(cfg, caller.as_ref(), conn.workspace_id.take())?;
    Ok(())
}

async fn snapshot(
    State(service): State<Arc<Service>>,
    context: Context,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let cfg = service.config();
    before_body(cfg, &context, &headers)?;
    let body = json_object(body, cfg).await?;
    let mut req = parse_snapshot_request(&body, cfg)?;
    scope(&mut req.connection, cfg, &context)?;
    let outcome = within_budget(cfg, service.snapshot(req)).await?;
    snapshot_response(&outcome, &headers)
}

async fn diff(
    State(service): State<Arc<Service>>,
    context: Context,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let cfg = service.config();
    before_body(cfg, &context, &headers)?;
    let body = json_object(body, cfg).await?;
    let mut req = parse_diff_request(&body, cfg)?;
    scope(&mut req.connection, cfg, &context)?;
    let outcome = within_budget(cfg, service.diff(req)).await?;
    json_response(&outcome, &headers)
}

/// A JSON response, gzip'd when the client accepts it and the body is big enough to gain.
fn json_response<T: Serialize>(value: &T, headers: &HeaderMap) -> Result<Response, ApiError> {
    let json = serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(whole_body_response(json, "application/json", headers))
}

/// A response of one body of `content_type`, gzip'd when the client accepts it and the
/// body is over 1 KiB (smaller ones do not gain).
fn whole_body_response(body: Vec<u8>, content_type: &'static str, headers: &HeaderMap) -> Response {
    let gzip = body.len() > 1024 && accepts_gzip(headers);
    let chunks = if gzip {
        let whole = crate::gzip::segment(&body, flate2::Compression::fast(), true);
        crate::gzip::member(&[&whole])
    } else {
        vec![Bytes::from(body)]
    };
    chunked_response(chunks, gzip, content_type)
}

async fn export(
    State(service): State<Arc<Service>>,
    context: Context,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let cfg = service.config();
    before_body(cfg, &context, &headers)?;
    let body = json_object(body, cfg).await?;
    let mut req = parse_export_request(&body, cfg)?;
    scope(&mut req.connection, cfg, &context)?;
    let exported = within_budget(cfg, service.export(req)).await?;
    Ok(text_response(exported, &headers))
}

/// An export: its text with the format's type, as a download named for the format,
/// gzip'd when the client accepts it and the text is big enough to gain.
fn text_response(exported: crate::service::Exported, headers: &HeaderMap) -> Response {
    let content_type = exported.format.content_type();
    let mut resp = whole_body_response(exported.text.into_bytes(), content_type, headers);
    let h = resp.headers_mut();
    let disposition = format!("attachment; filename=\"{}\"", exported.format.file_name());
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&exported.captured_at) {
        h.insert("x-snapshot-captured-at", v);
    }
    resp
}

async fn history(
    State(service): State<Arc<Service>>,
    context: Context,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let cfg = service.config();
    before_body(cfg, &context, &headers)?;
    let body = json_object(body, cfg).await?;
    let mut req = parse_history_request(&body, cfg)?;
    scope(&mut req.connection, cfg, &context)?;
    let outcome = within_budget(cfg, service.history(req)).await?;
    Ok(axum::Json(outcome).into_response())
}
