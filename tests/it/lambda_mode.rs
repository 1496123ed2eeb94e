//! The same binary under the Lambda runtime: `runtime_api` plays the Lambda Runtime API
//! (the HTTP protocol AWS and `cargo lambda watch` speak), hands the binary API Gateway
//! HTTP API v2 events, and reads the responses it posts back.

use crate::harness;
use crate::runtime_api::{body_of, LambdaPeer};
use model::api;
use serde_json::{json, Value};

#[tokio::test]
async fn runs_the_lambda_loop_under_the_runtime_api() {
    let db = crate::snapshot_api::shop_db("lambda").await;
    let mut fun = LambdaPeer::start(usize::MAX, &[("REQUIRE_AUTH", "true")]).await;
    let request = json!({"targetDatabaseUrl": db.url, "schemas": ["public"]});
    let mut invoke = async |body: &Value, claims: Option<Value>| -> Value {
        fun.invoke_as(api::SNAPSHOT_PATH, body, &[], claims).await.1
    };
    let ws_a = || Some(json!({"sub": "u1", "workspace_id": "ws-a"}));
    let resp = invoke(&request, ws_a()).await;

    // Workspace scoping from the authorizer's claims (REQUIRE_AUTH is on).
    let anonymous = invoke(&request, None).await;
    assert_eq!(anonymous["statusCode"], 401, "{anonymous}");
    let mut other = request.clone();
    other["workspaceId"] = json!("ws-b");
    let contradicted = invoke(&other, ws_a()).await;
    assert_eq!(contradicted["statusCode"], 403, "{contradicted}");
    let no_claim = invoke(&request, Some(json!({"sub": "u2"}))).await;
    assert_eq!(no_claim["statusCode"], 403, "{no_claim}");
    let b = invoke(&request, Some(json!({"sub": "u3", "workspace_id": "ws-b"}))).await;
    assert_eq!(b["statusCode"], 200, "{b}");
    let b = body_of(&b);
    assert_eq!(
        harness::served(&b).cache.source,
        api::Source::Fresh,
        "another workspace never shares ws-a's snapshot"
    );
    let a_again = body_of(&invoke(&request, ws_a()).await);
    assert_eq!(
        harness::served(&a_again).cache.source,
        api::Source::Mem,
        "same workspace, same key"
    );
    assert_ne!(a_again["cache"]["key"], b["cache"]["key"]);

    assert_eq!(resp["statusCode"], 200, "{resp}");
    assert!(resp["body"].is_string(), "a JSON body is sent as text");
    let body = body_of(&resp);
    assert_eq!(harness::served(&body).cache.source, api::Source::Fresh);
    assert!(body["snapshot"]["tables"]["public.users"].is_object());
    let log = fun.log();
    let json_lines = log
        .lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .count();
    assert!(json_lines > 0, "logs are JSON under Lambda: {log}");
    assert!(!log.contains(harness::PG_PASSWORD));
}

/// Issue 16, finding 1: at `RUST_LOG=trace` the Lambda runtime logged every raw event,
/// bearer token and `targetDatabaseUrl` password included. The libraries that see raw
/// requests stay at info whatever `RUST_LOG` says.
#[tokio::test]
async fn trace_logging_under_lambda_leaks_no_token_or_password() {
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.Bearer-Token-Never-Logged-4417";
    const PASSWORD: &str = "Pa$$-Never-Logged-9931";
    const ENCODED: &str = "Pa%24%24-Never-Logged-9931";
    let mut fun = LambdaPeer::start(
        usize::MAX,
        &[
            ("RUST_LOG", "trace"),
            // No authorizer here: authorization is on by default under Lambda.
            ("REQUIRE_AUTH", "false"),
            // 127.0.0.1 is not on it: the request is refused before any connection.
            ("TARGET_ALLOWED_HOSTS", "10.0.0.0/8"),
        ],
    )
    .await;
    let url = format!("postgres://someone:{ENCODED}@127.0.0.1:1/db");
    let request = json!({"targetDatabaseUrl": url, "schemas": ["public"]});
    let auth = format!("Bearer {TOKEN}");
    let resp = fun
        .invoke(api::SNAPSHOT_PATH, &request, &[("authorization", &auth)])
        .await
        .1;
    assert_eq!(resp["statusCode"], 403, "{resp}");
    let log = fun.log();
    assert!(
        log.contains("target refused"),
        "the service's own events are logged: {log}"
    );
    for secret in [TOKEN, PASSWORD, ENCODED, "Never-Logged"] {
        assert!(!log.contains(secret), "{secret} reached the log:\n{log}");
    }
}

/// Issue 11, finding 2: a function deployed without the template's environment (a
/// Function URL, `cargo lambda deploy`, a route without the authorizer) used to trust the
/// body's `workspaceId`. Under Lambda, authorization is now required unless turned off,
/// and turning it off is warned about at start.
#[tokio::test]
async fn lambda_without_require_auth_refuses_unauthenticated_calls() {
    let db = crate::snapshot_api::shop_db("lambda_noauth").await;
    let request =
        json!({"targetDatabaseUrl": db.url, "schemas": ["public"], "workspaceId": "ws-a"});
    let mut fun = LambdaPeer::start(usize::MAX, &[]).await;
    let (_, anonymous) = fun.invoke(api::SNAPSHOT_PATH, &request, &[]).await;
    assert_eq!(anonymous["statusCode"], 401, "{anonymous}");
    let body = body_of(&anonymous);
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    let (_, claimed) = fun
        .invoke_as(
            api::SNAPSHOT_PATH,
            &request,
            &[],
            Some(json!({"sub": "u1", "workspace_id": "ws-a"})),
        )
        .await;
    assert_eq!(claimed["statusCode"], 200, "{claimed}");
    assert!(
        !fun.log().contains("REQUIRE_AUTH=false"),
        "no warning while authorization is on"
    );

    let mut open = LambdaPeer::start(usize::MAX, &[("REQUIRE_AUTH", "false")]).await;
    let (_, anonymous) = open.invoke(api::SNAPSHOT_PATH, &request, &[]).await;
    assert_eq!(anonymous["statusCode"], 200, "{anonymous}");
    let log = open.log();
    let warning = log
        .lines()
        .find(|l| l.contains("REQUIRE_AUTH=false"))
        .unwrap_or_else(|| panic!("turning authorization off is warned about: {log}"));
    assert!(warning.contains("WARN"), "{warning}");
}
