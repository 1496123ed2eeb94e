//! The synchronous Lambda response limit (6 MB, counted on the payload the runtime posts).
//!
//! Owns measuring a response the way `lambda_http` 1.x will encode it and replacing one
//! that would not fit with a clear [`ApiError::ResponseTooLarge`], so the caller gets a
//! 422 saying what to do instead of the runtime failing the invocation (API Gateway would
//! answer a bare 502). It must never undercount (the estimate is an upper bound), never
//! touch a response that fits, and never run outside Lambda mode.
//!
//! What `lambda_http` 1.3 does (`response.rs`, `ConvertBody` and `LambdaResponse`): a
//! response with any `content-encoding`, or a content type that is not text
//! (`text/*`, `application/json`, `application/javascript`, `application/xml`,
//! `application/yaml`, `*+json`, `*+xml`, `*+yaml`), becomes a binary body, sent
//! base64-encoded (`isBase64Encoded: true`): 4 * ceil(n / 3) bytes. A text body is decoded
//! (UTF-8, invalid bytes replaced) and embedded as a JSON string: quotes, backslashes and
//! control characters are escaped. Headers ride in the same JSON envelope.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::BodyExt;

/// Bytes of the payload envelope besides the body and headers, rounded up:
/// `{"statusCode":200,"headers":{},"multiValueHeaders":{},"body":,"isBase64Encoded":false,"cookies":[]}`
/// is 99 bytes; the rest is slack.
const ENVELOPE: usize = 256;

/// Middleware for the Lambda entry: lets a response through when its encoded payload fits
/// `limit`, else answers [`ApiError::ResponseTooLarge`].
pub(super) async fn guard(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let client_gzip = super::accepts_gzip(req.headers());
    let resp = next.run(req).await;
    let (parts, body) = resp.into_parts();
    let overhead = ENVELOPE + headers_size(&parts.headers);
    let text = is_text(&parts.headers);
    // Cheap answers from the body's size hint, without reading it.
    let hint = http_body::Body::size_hint(&body);
    if let Some(upper) = hint.upper() {
        let upper = usize::try_from(upper).unwrap_or(usize::MAX);
        let worst = if text {
            upper.saturating_mul(6)
        } else {
            base64_len(upper)
        };
        if worst.saturating_add(overhead) <= limit {
            return Response::from_parts(parts, body);
        }
    }
    let lower = usize::try_from(hint.lower()).unwrap_or(usize::MAX);
    let least = if text { lower } else { base64_len(lower) };
    if least.saturating_add(overhead) > limit {
        return refuse(
            least.saturating_add(overhead),
            limit,
            client_gzip,
            &parts.headers,
        );
    }
    // Measure the body itself (`lambda_http` reads it whole anyway).
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut body = body;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    chunks.push(data);
                }
            }
            Err(e) => return ApiError::Internal(format!("response body: {e}")).into_response(),
        }
    }
    let size = overhead.saturating_add(body_size(text, &chunks));
    if size > limit {
        return refuse(size, limit, client_gzip, &parts.headers);
    }
    let remaining = chunks.iter().map(|c| c.len() as u64).sum();
    Response::from_parts(
        parts,
        Body::new(super::ChunkedBody {
            chunks: chunks.into(),
            remaining,
        }),
    )
}

fn refuse(size: usize, limit: usize, client_gzip: bool, headers: &HeaderMap) -> Response {
    let gzip = client_gzip || headers.contains_key(header::CONTENT_ENCODING);
    tracing::warn!(
        size,
        limit,
        gzip,
        "response over the synchronous Lambda payload limit; answered response_too_large"
    );
    ApiError::ResponseTooLarge { size, limit, gzip }.into_response()
}

/// Whether `lambda_http` sends this body as text (else base64).
pub(crate) fn is_text(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let ct = ct.to_str().unwrap_or_default();
    const PREFIXES: [&str; 5] = [
        "text",
        "application/json",
        "application/javascript",
        "application/xml",
        "application/yaml",
    ];
    if PREFIXES.iter().any(|p| ct.starts_with(p)) {
        return true;
    }
    let mime = ct.trim().split(';').next().unwrap_or_default();
    if ["+xml", "+yaml", "+json"].iter().any(|s| mime.ends_with(s)) {
        return true;
    }
    headers
        .get("x-lambda-http-content-encoding")
        .is_some_and(|v| v == "text")
}

/// Standard base64 with padding.
pub(crate) fn base64_len(n: usize) -> usize {
    n.div_ceil(3).saturating_mul(4)
}

/// The body as it appears in the payload: `null`, a quoted base64 string, or a quoted,
/// escaped JSON string.
pub(crate) fn body_size(text: bool, chunks: &[Bytes]) -> usize {
    let n: usize = chunks.iter().map(Bytes::len).sum();
    if n == 0 {
        return 4;
    }
    if !text {
        return 2 + base64_len(n);
    }
    let valid = chunks.iter().all(|c| std::str::from_utf8(c).is_ok());
    if valid {
        return 2 + chunks.iter().map(|c| escaped_len(c)).sum::<usize>();
    }
    // Invalid UTF-8 (or a character split between chunks): measure the text
    // `lambda_http` would decode, with replacement characters.
    let whole: Vec<u8> = chunks.concat();
    2 + escaped_len(String::from_utf8_lossy(&whole).as_bytes())
}

/// Length of UTF-8 text as the inside of a JSON string, as `serde_json` writes it.
pub(crate) fn escaped_len(text: &[u8]) -> usize {
    text.iter()
        .map(|&b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..=0x1f => 6,
            _ => 1,
        })
        .sum()
}

/// Headers in the envelope, counted twice (API Gateway REST and ALB responses carry them
/// in both `headers` and `multiValueHeaders`), each name and value quoted and escaped.
fn headers_size(headers: &HeaderMap) -> usize {
    2 * headers
        .iter()
        .map(|(k, v)| k.as_str().len() + escaped_len(v.as_bytes()) + 10)
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, StatusCode};
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;

    /// The payload `lambda_http` posts for `resp` under API Gateway HTTP API (v2), as
    /// its `LambdaResponse::from_response` builds it.
    async fn lambda_payload(resp: Response) -> Vec<u8> {
        let converted = lambda_http::IntoResponse::into_response(resp).await;
        let (parts, body) = converted.into_parts();
        let mut out = ApiGatewayV2httpResponse::default();
        out.is_base64_encoded = matches!(body, lambda_http::Body::Binary(_));
        out.body = match body {
            lambda_http::Body::Empty => None,
            b => Some(b),
        };
        out.status_code = i64::from(parts.status.as_u16());
        out.headers = parts.headers;
        serde_json::to_vec(&out).expect("serializes")
    }

    fn response(headers: &[(&str, &str)], body: Vec<u8>) -> Response {
        let mut r = Response::new(Body::from(body));
        for (k, v) in headers {
            r.headers_mut().insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        r
    }

    /// Our estimate for `resp` (headers, body), without the middleware plumbing.
    fn estimate(headers: &[(&str, &str)], body: &[u8]) -> usize {
        let r = response(headers, body.to_vec());
        ENVELOPE
            + headers_size(r.headers())
            + body_size(is_text(r.headers()), &[Bytes::copy_from_slice(body)])
    }

    /// The estimate never undercounts what lambda_http really sends, and is close.
    #[tokio::test]
    async fn estimate_bounds_the_real_lambda_http_payload() {
        let json_body = serde_json::to_vec(&serde_json::json!({
            "snapshot": {"tables": {"public.\"Order Items\"": {"comment": "a \\ b\n\tc \u{1} ü 日本"}}},
        }))
        .unwrap();
        let binary: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        type Case = (Vec<(&'static str, &'static str)>, Vec<u8>);
        let cases: Vec<Case> = vec![
            (
                vec![("content-type", "application/json")],
                json_body.clone(),
            ),
            (
                vec![
                    ("content-type", "application/json"),
                    ("content-encoding", "gzip"),
                ],
                binary.clone(),
            ),
            (vec![("content-type", "application/wasm")], binary.clone()),
            (vec![], b"plain \"text\"".to_vec()),
            (vec![("content-type", "text/html")], vec![b'a', 0xff, b'"']),
            (vec![("content-type", "application/json")], Vec::new()),
            (
                vec![
                    ("content-type", "application/json"),
                    ("etag", "\"abc\""),
                    ("vary", "accept-encoding"),
                ],
                json_body.repeat(50),
            ),
        ];
        for (headers, body) in cases {
            let real = lambda_payload(response(&headers, body.clone())).await.len();
            let ours = estimate(&headers, &body);
            assert!(
                ours >= real && ours <= real + 2 * ENVELOPE + 64 * headers.len().max(1),
                "{headers:?}: estimated {ours}, lambda_http sends {real}"
            );
        }
    }

    #[test]
    fn gzip_bodies_are_base64_and_json_bodies_are_escaped() {
        assert_eq!(base64_len(0), 0);
        assert_eq!(base64_len(1), 4);
        assert_eq!(base64_len(3), 4);
        assert_eq!(base64_len(4), 8);
        assert_eq!(base64_len(3_000_000), 4_000_000);
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert!(is_text(&h));
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(!is_text(&h));
        assert_eq!(escaped_len(br#"{"a":"\"}"#), 9 + 5);
    }

    async fn run_guard(limit: usize, resp: Response, accept_gzip: bool) -> Response {
        let resp = std::sync::Arc::new(std::sync::Mutex::new(Some(resp)));
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get(move || {
                    let taken = resp.lock().unwrap().take();
                    async move { taken.unwrap_or_else(|| StatusCode::GONE.into_response()) }
                }),
            )
            .layer(axum::middleware::from_fn_with_state(limit, guard));
        let mut req = axum::http::Request::get("/").body(Body::empty()).unwrap();
        if accept_gzip {
            req.headers_mut()
                .insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        }
        tower::ServiceExt::oneshot(app, req).await.unwrap()
    }

    #[tokio::test]
    async fn the_guard_passes_what_fits_and_refuses_what_does_not() {
        let json = |n: usize| {
            response(
                &[("content-type", "application/json")],
                format!("{{\"a\":\"{}\"}}", "x".repeat(n)).into_bytes(),
            )
        };
        // Fits: passed through untouched.
        let ok = run_guard(10_000, json(1_000), false).await;
        assert_eq!(ok.status(), StatusCode::OK);
        let body = ok.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 1_008);
        // Body fits the limit as raw bytes but not once escaped into the envelope.
        let quotes = response(&[("content-type", "application/json")], vec![b'"'; 6_000]);
        let refused = run_guard(10_000, quotes, false).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: serde_json::Value =
            serde_json::from_slice(&refused.into_body().collect().await.unwrap().to_bytes())
                .unwrap();
        assert_eq!(v["error"]["code"], "response_too_large");
        let m = v["error"]["message"].as_str().unwrap();
        assert!(
            m.contains("Accept-Encoding: gzip") && m.contains("10000"),
            "{m}"
        );
        // A client that already accepts gzip is not told to.
        let refused = run_guard(1_000, json(5_000), true).await;
        let v: serde_json::Value =
            serde_json::from_slice(&refused.into_body().collect().await.unwrap().to_bytes())
                .unwrap();
        assert!(!v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Accept-Encoding"));
    }
}
