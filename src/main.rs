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
    if cfg.secret_is_default {
        tracing::warn!("CONNECTION_KEY_SECRET is not set: using the development default; set a secret in any shared deployment");
    }
    if cfg.store_name() == "none" {
        tracing::warn!("no persistent store configured (APP_DATABASE_URL / SNAPSHOT_STORE): running memory-only");
    }
    let (lambda, port) = (cfg.lambda, cfg.port);
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
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(error = %e, "server stopped");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
