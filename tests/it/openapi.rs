//! The OpenAPI document (`openapi/openapi.json`) against the running service: its paths
//! are exactly the router's, and real responses of every route validate against its
//! schemas (types, required fields, enums, maps), errors included.

use crate::harness::Server;
use model::api;
use serde_json::{json, Value};

pub(crate) fn document() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("openapi/openapi.json"))
        .expect("the OpenAPI document is JSON")
}

/// Validates `value` against `schema` (the subset of OpenAPI 3.0 schema the document
/// uses), collecting problems with their JSON paths.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(target.is_object(), "unresolved $ref {r}");
        return validate(doc, target, value, at, problems);
    }
    if value.is_null() {
        if !schema
            .get("nullable")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            && schema.get("type").is_some()
        {
            problems.push(format!("{at}: null where {} expected", schema["type"]));
        }
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            problems.push(format!("{at}: {value} not in {allowed:?}"));
        }
    }
    let ok = match schema.get("type").and_then(Value::as_str) {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("boolean") => value.is_boolean(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some(other) => panic!("unsupported type {other}"),
    };
    if !ok {
        problems.push(format!("{at}: {value:.80} is not {}", schema["type"]));
        return;
    }
    if let Some(obj) = value.as_object() {
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = req.as_str().unwrap_or_default();
            if !obj.contains_key(name) {
                problems.push(format!("{at}: required {name} missing"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, v) in obj {
            match (
                props.and_then(|p| p.get(k)),
                schema.get("additionalProperties"),
            ) {
                (Some(s), _) => validate(doc, s, v, &format!("{at}.{k}"), problems),
                (None, Some(extra)) if extra.is_object() => {
                    validate(doc, extra, v, &format!("{at}[{k}]"), problems)
                }
                _ => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            validate(doc, items, v, &format!("{at}[{i}]"), problems);
        }
    }
}

pub(crate) fn check(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let schema = &op["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} -> {status} is not documented"
    );
    let mut problems = Vec::new();
    validate(doc, schema, body, "$", &mut problems);
    assert!(
        problems.is_empty(),
        "{method} {path} {status}:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn the_document_matches_the_router_and_real_responses() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut documented: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    documented.sort();
    let mut routed = vec![
        api::SNAPSHOT_PATH,
        api::DIFF_PATH,
        api::HISTORY_PATH,
        api::EXPORT_PATH,
        api::HEALTH_PATH,
    ];
    routed.sort();
    assert_eq!(documented, routed, "every route documented, nothing more");

    let db = crate::snapshot_api::shop_db("openapi").await;
    db.exec("CREATE TYPE public.st AS ENUM ('a'); CREATE VIEW public.v AS SELECT 1 AS one;")
        .await;
    let app = crate::harness::pg().await.create_db("app").await;
    let server = Server::start(&[("APP_DATABASE_URL", &app.url)]).await;
    let conn = json!({"targetDatabaseUrl": db.url, "schemas": ["public"]});
    let with = |extra: Value| {
        let mut v = conn.clone();
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let snap = api::SNAPSHOT_PATH;
    for req in [
        with(json!({})),
        with(json!({"refresh": "force"})),
        with(json!({"refresh": "visible", "visibleTables": ["public.users"]})),
    ] {
        let (status, body) = server.post(snap, &req).await;
        check(&doc, snap, "post", status, &body);
    }
    let (status, body) = server.post(api::DIFF_PATH, &with(json!({}))).await;
    check(&doc, api::DIFF_PATH, "post", status, &body);
    let (status, body) = server
        .post(api::HISTORY_PATH, &with(json!({"limit": 5})))
        .await;
    check(&doc, api::HISTORY_PATH, "post", status, &body);
    // An export's errors are JSON like every other route's (its 200 is text, tested in
    // `export`).
    let (status, body) = server
        .post(api::EXPORT_PATH, &with(json!({"format": "pdf"})))
        .await;
    assert_eq!(status, 400);
    check(&doc, api::EXPORT_PATH, "post", status, &body);
    let health: Value = reqwest::get(server.url(api::HEALTH_PATH))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    check(&doc, api::HEALTH_PATH, "get", 200, &health);
    // Errors too.
    let (status, body) = server.post(snap, &json!({"schemas": []})).await;
    check(&doc, snap, "post", status, &body);
    let (status, body) = server
        .post(
            snap,
            &json!({"targetDatabaseUrl": "postgres://u:p@127.0.0.1:1/x", "schemas": ["public"]}),
        )
        .await;
    check(&doc, snap, "post", status, &body);
    let (status, body) = server
        .post(api::DIFF_PATH, &with(json!({"from": "424242"})))
        .await;
    check(&doc, api::DIFF_PATH, "post", status, &body);
}

#[test]
fn the_validator_catches_what_it_should() {
    let doc = document();
    let schema = json!({"$ref": "#/components/schemas/Health"});
    let mut problems = Vec::new();
    validate(
        &doc,
        &schema,
        &json!({"status": "ok", "store": 3, "memoryOnly": true, "catalogReads": "many"}),
        "$",
        &mut problems,
    );
    assert!(
        problems.iter().any(|p| p.contains("catalogReads")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("$.store")),
        "{problems:?}"
    );
}
