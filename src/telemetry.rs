//! Logging setup: `tracing` to stderr, JSON under the Lambda runtime (CloudWatch parses
//! it), human-readable locally. Must never be handed a URL or credential to log: callers
//! log connection keys only.
//!
//! `RUST_LOG` chooses the levels of this crate's events, but never lowers the floor of
//! the libraries that see raw requests, raw responses or signed AWS calls: the Lambda
//! runtime logs every raw event (bearer token, body with a `targetDatabaseUrl`) at trace,
//! hyper and h2 log headers at trace, and the AWS SDK logs signing material at debug.
//! Their events are kept at info whatever `RUST_LOG` says ([`library_floor`]).

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Target prefixes of libraries whose debug and trace events may carry request bodies,
/// headers or credentials (a target matches a prefix as a string: `aws_` covers every
/// AWS SDK and smithy crate, `lambda_` the runtime and its HTTP adapter).
pub const CAPPED_TARGETS: &[&str] = &[
    "lambda_", "hyper", "h2", "aws_", "rustls", "tower", "axum", "reqwest",
];

/// Every target at any level, except [`CAPPED_TARGETS`] at info at most.
pub fn library_floor() -> Targets {
    CAPPED_TARGETS
        .iter()
        .fold(Targets::new().with_default(LevelFilter::TRACE), |t, p| {
            t.with_target(*p, LevelFilter::INFO)
        })
}

pub fn init(json: bool) {
    let env = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let layer = if json {
        fmt.json()
            .with_current_span(false)
            .without_time()
            .with_filter(env().and(library_floor()))
            .boxed()
    } else {
        fmt.with_ansi(false)
            .with_filter(env().and(library_floor()))
            .boxed()
    };
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn libraries_that_see_raw_requests_stay_at_info() {
        let floor = library_floor();
        for target in [
            "lambda_runtime::layers::api_response",
            "lambda_http",
            "hyper::proto::h1::io",
            "hyper_util::client",
            "aws_sigv4::http_request::sign",
            "aws_smithy_runtime::client::orchestrator",
        ] {
            assert!(floor.would_enable(target, &Level::INFO), "{target}");
            assert!(!floor.would_enable(target, &Level::DEBUG), "{target}");
            assert!(!floor.would_enable(target, &Level::TRACE), "{target}");
        }
        assert!(floor.would_enable("catalog_snapshot::service", &Level::TRACE));
    }
}
