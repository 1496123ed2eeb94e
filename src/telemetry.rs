//! Logging setup: `tracing` to stderr, JSON under the Lambda runtime (CloudWatch parses
//! it), human-readable locally. Must never be handed a URL or credential to log: callers
//! log connection keys only.

use tracing_subscriber::EnvFilter;

pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder
            .json()
            .with_current_span(false)
            .without_time()
            .try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
}
