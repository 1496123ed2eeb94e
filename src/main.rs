//! Entry point, deliberately thin: read configuration, set up logs, then run the router
//! under the Lambda runtime (`AWS_LAMBDA_RUNTIME_API` set: AWS and `cargo lambda watch`)
//! or as a local HTTP server on 127.0.0.1:$PORT.

use catalog_snapshot::{config::Config, http, secrets, telemetry};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // Variables named by `<NAME>_SECRET_ARN` are fetched from Secrets Manager and laid
    // over the environment; the values go to the configuration and nowhere else.
    let env = |k: &str| std::env::var(k).ok();
    let fetched = match secrets::fetch(&env).await {
        Ok(fetched) => fetched,
        Err(e) => {
            eprintln!("catalog-snapshot: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = match Config::from_lookup(&|k| fetched.get(k).or_else(|| env(k))) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("catalog-snapshot: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(cfg.lambda);
    tracing::info!(config = %cfg.describe(), "starting");
    if !fetched.is_empty() {
        tracing::info!(variables = ?fetched.names(), "read from Secrets Manager");
    }
    for warning in cfg.startup_warnings() {
        tracing::warn!("{warning}");
    }
    if cfg.store_name() == "none" {
        tracing::warn!("no persistent store configured (APP_DATABASE_URL / SNAPSHOT_STORE): running memory-only");
    }
    let (lambda, port) = (cfg.lambda, cfg.port);
    let limits = local::Limits {
        header_timeout: cfg.header_timeout,
        body_timeout: cfg.body_timeout,
        max_connections: cfg.max_http_connections,
    };
    let app = match http::app(cfg).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::from(2);
        }
    };
    if lambda {
        if let Err(e) = lambda_http::run(app).await {
            tracing::error!(error = %e, "lambda runtime stopped");
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, port, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(url = %format!("http://127.0.0.1:{port}"), "listening");
    local::serve(listener, app, limits).await;
    ExitCode::SUCCESS
}

/// The local server: HTTP/1.1 on a loopback listener, with a bound on connections
/// served at once and on how long a connection may take to send its headers and body
/// (a half-sent request is dropped, not held for ever).
mod local {
    use axum::Router;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use std::sync::Arc;
    use std::time::Duration;

    pub(crate) struct Limits {
        pub header_timeout: Duration,
        pub body_timeout: Duration,
        pub max_connections: usize,
    }

    pub(crate) async fn serve(listener: tokio::net::TcpListener, app: Router, limits: Limits) {
        let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            limits.body_timeout,
        ));
        let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
        let shutdown = tokio::signal::ctrl_c();
        tokio::pin!(shutdown);
        loop {
            // Wait for a free slot before accepting: excess connections wait in the
            // kernel's listen queue instead of costing memory and descriptors here.
            let slot = tokio::select! {
                _ = &mut shutdown => return,
                slot = slots.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => return,
                },
            };
            let (stream, _) = tokio::select! {
                _ = &mut shutdown => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of descriptors, typically: back off rather than spin.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(app.clone());
            let header_timeout = limits.header_timeout;
            tokio::spawn(async move {
                let _slot = slot;
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                // The header timeout bounds each request's headers (and an idle
                // keep-alive connection); the body timeout layer bounds its body.
                let _ = conn.await;
            });
        }
    }
}
