//! Catalog Snapshot: introspects a PostgreSQL catalog and serves it, with a memory tier,
//! a persistent tier, refresh modes and drift detection.
//!
//! The request path lives in [`service`]; [`http`] maps it onto routes; `main.rs` only
//! picks the Lambda loop or the local server. Nothing in this crate may log, store or
//! return a database credential.

pub mod cache;
pub mod caller;
pub mod config;
pub mod connkey;
pub mod error;
pub mod gzip;
pub mod http;
pub mod input;
pub mod introspect;
pub mod secrets;
pub mod service;
pub mod store;
pub mod target_policy;
pub mod telemetry;
pub mod tls;
pub mod web_assets;
