//! The API boundary's one error enum and its one mapping to HTTP statuses.
//!
//! Every failure a caller can see becomes an [`ApiError`]; [`ApiError::status`] is the
//! only place a status code is chosen. Messages must never carry a URL, password or
//! other credential.

use crate::introspect::IntrospectError;
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use model::api::{ErrorDetail, ErrorResponse};

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed; `field` names the offending field when there is one.
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The body is not declared as JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body did not arrive within the body timeout (ms).
    #[error("the request body did not arrive within {0} ms")]
    BodyTimeout(u64),
    /// No caller identity where one is required (no authorizer context).
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The target database refused or failed the connection.
    #[error("{0}")]
    TargetUnavailable(String),
    /// The target database did not answer in time.
    #[error("{0}")]
    TargetTimeout(String),
    /// A catalog query failed on the target.
    #[error("{0}")]
    TargetQuery(String),
    /// The target refused the credentials (wrong password, unknown role or database) or
    /// a privilege: the caller's to fix, not an outage.
    #[error("{0}")]
    TargetAuthFailed(String),
    /// An unverified target asked for the password in cleartext or as md5; not sent.
    #[error("{0}")]
    TargetAuthInsecure(String),
    /// The target broke the protocol's bounds (e.g. a message over the size limit).
    #[error("{0}")]
    TargetProtocol(String),
    /// A catalog query waited out `lock_timeout` on a lock held on the target.
    #[error("{0}")]
    TargetLockTimeout(String),
    /// Every target connection slot of this process is taken.
    #[error("{0}")]
    Busy(String),
    /// The target sent more bytes for one read than `TARGET_MAX_READ_BYTES`.
    #[error("the target sent more than {0} bytes for this read (TARGET_MAX_READ_BYTES): request fewer schemas (or the operator can raise TARGET_MAX_READ_BYTES)")]
    ReadTooLarge(u64),
    /// The persistent tier is needed (e.g. history) and is down or not configured.
    #[error("{0}")]
    StoreUnavailable(String),
    /// The schemas requested hold more relations or columns than one read may return
    /// (the read budget); refused after counting, before the catalog is read.
    #[error("the schemas requested hold {count} {what}; one read may return at most {limit} ({}): request fewer schemas (or the operator can raise {})", what.variable(), what.variable())]
    CatalogTooLarge {
        what: crate::introspect::Counted,
        count: u64,
        limit: u64,
    },
    /// Under the Lambda runtime: the response would exceed the synchronous response
    /// payload limit once the runtime encodes it. `gzip`: it was already gzip'd.
    #[error("{}", response_too_large_message(*size, *limit, *gzip))]
    ResponseTooLarge {
        size: usize,
        limit: usize,
        gzip: bool,
    },
    /// The whole request ran past its time budget.
    #[error("the request did not finish within {0} ms")]
    RequestTimeout(u64),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TargetUnavailable(_)
            | ApiError::TargetQuery(_)
            | ApiError::TargetAuthInsecure(_)
            | ApiError::TargetProtocol(_) => StatusCode::BAD_GATEWAY,
            // The target answered: the credentials or privileges the caller sent are wrong.
            ApiError::TargetAuthFailed(_) => StatusCode::FORBIDDEN,
            ApiError::TargetTimeout(_)
            | ApiError::RequestTimeout(_)
            | ApiError::TargetLockTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            // The request is well-formed but asks for more than can be delivered; the
            // caller fixes it (fewer schemas, accept gzip), so a 4xx, not a 5xx. Not 413:
            // that status is about the request's own body.
            ApiError::CatalogTooLarge { .. }
            | ApiError::ResponseTooLarge { .. }
            | ApiError::ReadTooLarge(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::BodyTimeout(_) => "request_body_timeout",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::TargetUnavailable(_) => "target_unavailable",
            ApiError::TargetTimeout(_) => "target_timeout",
            ApiError::TargetQuery(_) => "target_query_failed",
            ApiError::TargetAuthFailed(_) => "target_auth_failed",
            ApiError::TargetAuthInsecure(_) => "target_auth_insecure",
            ApiError::TargetProtocol(_) => "target_protocol_error",
            ApiError::TargetLockTimeout(_) => "target_lock_timeout",
            ApiError::Busy(_) => "busy",
            ApiError::ReadTooLarge(_) => "catalog_too_large",
            ApiError::StoreUnavailable(_) => "store_unavailable",
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::CatalogTooLarge { .. } => "catalog_too_large",
            ApiError::ResponseTooLarge { .. } => "response_too_large",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let field = match &self {
            ApiError::BadRequest { field, .. } => field.as_deref(),
            ApiError::CatalogTooLarge { .. } | ApiError::ReadTooLarge(_) => Some("schemas"),
            _ => None,
        };
        let body = ErrorResponse {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.to_string(),
                field: field.map(str::to_string),
            },
        };
        (self.status(), axum::Json(body)).into_response()
    }
}

fn response_too_large_message(size: usize, limit: usize, gzip: bool) -> String {
    if gzip {
        format!(
            "the response would be {size} bytes as the Lambda runtime sends it (gzip'd, then \
             base64-encoded), over the {limit}-byte limit of a synchronous Lambda response: \
             request fewer schemas"
        )
    } else {
        format!(
            "the response would be {size} bytes as the Lambda runtime sends it, over the \
             {limit}-byte limit of a synchronous Lambda response: send Accept-Encoding: gzip \
             (a snapshot compresses about tenfold) or request fewer schemas"
        )
    }
}

impl From<IntrospectError> for ApiError {
    fn from(e: IntrospectError) -> Self {
        match &e {
            IntrospectError::Connect(_) => ApiError::TargetUnavailable(e.to_string()),
            IntrospectError::Timeout(_) => ApiError::TargetTimeout(e.to_string()),
            IntrospectError::Query(_) => ApiError::TargetQuery(e.to_string()),
            IntrospectError::AuthFailed(_) => ApiError::TargetAuthFailed(e.to_string()),
            IntrospectError::InsecurePassword(_) => ApiError::TargetAuthInsecure(e.to_string()),
            IntrospectError::Protocol(_) => ApiError::TargetProtocol(e.to_string()),
            IntrospectError::LockTimeout(_) => ApiError::TargetLockTimeout(e.to_string()),
            IntrospectError::Busy(_) => ApiError::Busy(e.to_string()),
            IntrospectError::ReadTooLarge(limit) => ApiError::ReadTooLarge(*limit),
            IntrospectError::UnknownSchemas(names) => ApiError::bad(
                "schemas",
                format!(
                    "these schemas do not exist on the target database: {}",
                    names.join(", ")
                ),
            ),
            IntrospectError::UnknownTables(names) => ApiError::bad(
                "visibleTables",
                format!(
                    "these tables do not exist in the schemas read: {}",
                    names.join(", ")
                ),
            ),
            IntrospectError::TooLarge { what, count, limit } => ApiError::CatalogTooLarge {
                what: *what,
                count: *count,
                limit: *limit,
            },
        }
    }
}

impl From<StoreError> for ApiError {
    /// The store's own text (driver and SDK messages, table names, hosts) goes to the
    /// log; the caller learns only which kind of failure it was.
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "snapshot store call failed");
        ApiError::StoreUnavailable(store_failure(&e).into())
    }
}

/// What a caller may read about a store failure: its kind, never the store's own text.
pub fn store_failure(e: &StoreError) -> &'static str {
    match e {
        StoreError::Timeout(_) => "the snapshot store did not answer in time",
        _ => "the snapshot store is unavailable (the service log has the detail)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::introspect::Counted;

    #[test]
    fn size_limits_are_4xx_that_say_what_to_do() {
        let e = ApiError::from(IntrospectError::TooLarge {
            what: Counted::Columns,
            count: 401,
            limit: 400,
        });
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.code(), "catalog_too_large");
        let m = e.to_string();
        for part in [
            "401 columns",
            "at most 400",
            "MAX_CATALOG_COLUMNS",
            "fewer schemas",
        ] {
            assert!(m.contains(part), "{m}");
        }

        let plain = ApiError::ResponseTooLarge {
            size: 7_000_000,
            limit: 6_291_456,
            gzip: false,
        };
        assert_eq!(plain.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(plain.code(), "response_too_large");
        let m = plain.to_string();
        assert!(m.contains("7000000") && m.contains("6291456"), "{m}");
        assert!(m.contains("Accept-Encoding: gzip"), "{m}");
        let gz = ApiError::ResponseTooLarge {
            size: 7_000_000,
            limit: 6_291_456,
            gzip: true,
        };
        assert!(!gz.to_string().contains("Accept-Encoding"), "{gz}");
    }
}
