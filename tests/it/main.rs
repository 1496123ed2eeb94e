//! Integration tests against a real, throwaway PostgreSQL cluster (and moto's DynamoDB
//! server), one binary so the cluster starts once.

mod conformance;
mod drift_rules;
mod export;
mod harness;
mod hostile;
mod introspect;
mod lambda_limits;
mod lambda_mode;
mod openapi;
mod read_budget;
mod runtime_api;
mod schema_objects;
mod schema_service;
mod secrets;
mod snapshot_api;
mod store_outage;
mod store_suite;
mod tenants;
mod tls;
mod visible_diff;
