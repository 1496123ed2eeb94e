//! TLS to targets, with `sslmode` as libpq defines it, against the test cluster (which
//! runs with `ssl=on` and a certificate for `localhost` signed by a test CA).

use crate::harness::{self, Server};
use catalog_snapshot::introspect::{self, TargetOptions};
use model::api;
use serde_json::json;
use std::time::Duration;

async fn uses_tls(url: &str) -> bool {
    let opts = TargetOptions {
        connect_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(10),
        application_name: "tls-test".into(),
        budget: introspect::ReadBudget::UNLIMITED,
        lock_timeout: Duration::from_secs(5),
        wire: introspect::WireLimits::DEFAULT,
        max_concurrent_reads: 64,
    };
    let client = introspect::connect(url, &opts).await.expect("connect");
    client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("pg_stat_ssl")
        .get(0)
}

#[tokio::test]
async fn sslmode_is_honoured_and_verify_full_checks_the_name() {
    let pg = harness::pg().await;
    let Some(ca) = pg.ca_file.clone() else {
        harness::skip("TLS test: the test cluster runs without TLS (openssl not found)");
        return;
    };
    let db = crate::snapshot_api::shop_db("tls").await;
    let at =
        |host: &str, mode: &str| db.url.replace("127.0.0.1", host) + &format!("?sslmode={mode}");
    // The default (prefer) encrypts when the server offers it; disable does not.
    assert!(uses_tls(&db.url).await, "prefer uses TLS");
    assert!(uses_tls(&at("127.0.0.1", "require")).await);
    assert!(!uses_tls(&at("127.0.0.1", "disable")).await);

    let ca = ca.to_string_lossy().to_string();
    let server = Server::start(&[("TARGET_TLS_CA_FILE", &ca)]).await;
    let snapshot = |url: String| {
        let server = &server;
        async move {
            server
                .post(
                    api::SNAPSHOT_PATH,
                    &json!({"targetDatabaseUrl": url, "schemas": ["public"], "refresh": "force"}),
                )
                .await
        }
    };
    let (status, v) = snapshot(at("localhost", "verify-full")).await;
    assert_eq!(status, 200, "verify-full with the right name and CA: {v}");
    let (status, v) = snapshot(at("127.0.0.1", "verify-full")).await;
    assert_eq!(
        status, 502,
        "the certificate is for localhost, not 127.0.0.1: {v}"
    );
    let (status, v) = snapshot(at("127.0.0.1", "verify-ca")).await;
    assert_eq!(status, 200, "verify-ca checks the chain, not the name: {v}");
    let (status, v) = snapshot(at("127.0.0.1", "require")).await;
    assert_eq!(status, 200, "{v}");

    // Without the test CA among its roots, verification fails.
    let plain = Server::start(&[]).await;
    let (status, v) = plain
        .post(
            api::SNAPSHOT_PATH,
            &json!({"targetDatabaseUrl": at("localhost", "verify-ca"), "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 502, "{v}");
    assert!(!v.to_string().contains(harness::PG_PASSWORD));
    // Callers may not point the service at server-side files.
    let (status, v) = plain
        .post(
            api::SNAPSHOT_PATH,
            &json!({"targetDatabaseUrl": format!("{}?sslrootcert=/etc/passwd", db.url), "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["field"], "targetDatabaseUrl");
}
