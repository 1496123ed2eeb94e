//! End-to-end tests of the export endpoint: the service binary in front of a real
//! PostgreSQL, asked for Mermaid, DBML and Markdown as a docs pipeline would.

use crate::harness::{Server, PG_PASSWORD};
use crate::snapshot_api::shop_db;
use model::api;
use serde_json::{json, Value};

async fn export(server: &Server, body: &Value) -> (u16, String, String) {
    let r = reqwest::Client::new()
        .post(server.url(api::EXPORT_PATH))
        .json(body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, r.text().await.expect("body"))
}

#[tokio::test]
async fn each_format_names_every_table_and_foreign_key_and_no_credential() {
    let db = shop_db("export").await;
    let server = Server::start(&[("ALLOW_RAW_DATABASE_URL", "true")]).await;
    let req = |format: &str| json!({ "targetDatabaseUrl": db.url, "schemas": ["public"], "format": format });

    let (status, ct, mermaid) = export(&server, &req("mermaid")).await;
    assert_eq!(status, 200, "{mermaid}");
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert!(mermaid.starts_with("erDiagram\n"), "{mermaid}");
    for label in [
        "[\"public.users\"]",
        "[\"public.orders\"]",
        "[\"public.Order Items\"]",
    ] {
        assert!(mermaid.contains(label), "{label} missing: {mermaid}");
    }
    assert!(
        mermaid.contains("public_users ||--o{ public_orders : \"orders_user_id_fkey\""),
        "{mermaid}"
    );
    assert!(mermaid.contains("text email UK"), "{mermaid}");

    let (status, _, dbml) = export(&server, &req("dbml")).await;
    assert_eq!(status, 200, "{dbml}");
    assert!(
        dbml.contains("Table \"public\".\"Order Items\" {"),
        "{dbml}"
    );
    assert!(dbml.contains("\"Item ID\" \"integer\""), "{dbml}");
    assert!(dbml.contains(
        "Ref \"orders_user_id_fkey\": \"public\".\"orders\".\"user_id\" > \"public\".\"users\".\"id\" [delete: cascade]"
    ), "{dbml}");

    let (status, ct, md) = export(&server, &req("markdown")).await;
    assert_eq!(status, 200, "{md}");
    assert!(ct.starts_with("text/markdown"), "{ct}");
    assert!(md.contains("## public.Order Items"), "{md}");
    assert!(
        md.contains("| `total` | `numeric(12,2)` | yes | `0` |  |  |"),
        "{md}"
    );

    for text in [&mermaid, &dbml, &md] {
        assert!(!text.contains(PG_PASSWORD), "a credential in an export");
        assert!(!text.contains("postgres://") && !text.contains("postgresql://"));
    }
    // The three exports came from one read: the first one's, then the memory tier.
    let h: Value = reqwest::get(server.url(api::HEALTH_PATH))
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(h["catalogReads"], 1, "{h}");
}

#[tokio::test]
async fn a_bad_format_or_refresh_is_a_400_naming_it_before_any_connection() {
    let server = Server::start(&[("ALLOW_RAW_DATABASE_URL", "true")]).await;
    // Port 9 on loopback: nothing listens; a connection attempt would be a 5xx.
    let url = format!("postgres://u:{PG_PASSWORD}@127.0.0.1:9/db");
    for (body, field) in [
        (
            json!({ "targetDatabaseUrl": url, "schemas": ["public"] }),
            "format",
        ),
        (
            json!({ "targetDatabaseUrl": url, "schemas": ["public"], "format": "pdf" }),
            "format",
        ),
        (
            json!({ "targetDatabaseUrl": url, "schemas": ["public"], "format": "dbml", "refresh": "visible" }),
            "refresh",
        ),
    ] {
        let (status, json) = server.post(api::EXPORT_PATH, &body).await;
        assert_eq!(status, 400, "{json}");
        assert_eq!(json["error"]["field"], field, "{json}");
        assert!(!json.to_string().contains(PG_PASSWORD));
    }
    let h: Value = reqwest::get(server.url(api::HEALTH_PATH))
        .await
        .expect("healthz")
        .json()
        .await
        .expect("json");
    assert_eq!(h["catalogReads"], 0, "{h}");
}
