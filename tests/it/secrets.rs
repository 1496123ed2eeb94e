//! Secrets by ARN: the service binary reads `CONNECTION_KEY_SECRET` and
//! `TARGET_CONNECTIONS` from Secrets Manager (moto's server, the same one the DynamoDB
//! tests use) at start, as a deployment does, and never shows the values.

use crate::harness::{self, Server, PG_PASSWORD};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use model::api;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A Secrets Manager client on moto, or `None` (after saying why) without moto.
async fn secrets_client() -> Option<(aws_sdk_secretsmanager::Client, String)> {
    let Some(moto) = harness::moto().await else {
        harness::skip("Secrets Manager test: moto_server not found (scripts/test.sh installs it)");
        return None;
    };
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .build();
    Some((
        aws_sdk_secretsmanager::Client::from_conf(conf),
        moto.endpoint.clone(),
    ))
}

/// Creates a secret on moto and returns its ARN.
async fn create_secret(client: &aws_sdk_secretsmanager::Client, name: &str, value: &str) -> String {
    let out = client
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create secret {name} on moto: {e:?}"));
    out.arn().expect("moto returns the ARN").to_string()
}

/// The environment a deployment gives the function, minus the secrets' ARNs.
fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("ALLOW_RAW_DATABASE_URL", "false".into()),
        ("TARGET_ALLOWED_HOSTS", "127.0.0.1".into()),
    ]
}

#[tokio::test]
async fn a_connection_from_secrets_manager_reaches_the_target_and_no_secret_is_shown() {
    let Some((client, endpoint)) = secrets_client().await else {
        return;
    };
    let pg = harness::pg().await;
    let db = pg.create_db("secrets").await;
    db.exec("CREATE TABLE public.secret_probe (id int PRIMARY KEY, note text);")
        .await;
    let key_secret = format!("key-secret-{}-not-for-logs", std::process::id());
    let run = format!("{}-{}", std::process::id(), db.name);
    let key_arn = create_secret(&client, &format!("catsnap/key-{run}"), &key_secret).await;
    let targets = json!({ "prod": db.url }).to_string();
    let targets_arn = create_secret(&client, &format!("catsnap/targets-{run}"), &targets).await;

    let mut env = aws_env(&endpoint);
    env.push(("CONNECTION_KEY_SECRET_ARN", key_arn.clone()));
    env.push(("TARGET_CONNECTIONS_SECRET_ARN", targets_arn.clone()));
    // Everything the service logs at any level while it serves.
    env.push(("RUST_LOG", "trace".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start(&env).await;

    let (status, resp) = server
        .post(
            api::SNAPSHOT_PATH,
            &json!({ "connectionId": "prod", "schemas": ["public"] }),
        )
        .await;
    assert_eq!(status, 200, "{resp}");
    assert!(
        resp["snapshot"]["tables"]
            .get("public.secret_probe")
            .is_some(),
        "the URL from the secret reached the test database: {}",
        resp["snapshot"]["tables"]
    );
    // The connection key is keyed with the secret from Secrets Manager (a connection
    // id is keyed by the id), and the response names it by its public id.
    use catalog_snapshot::connkey;
    let secret = key_secret.as_bytes();
    let expected = connkey::public_id(
        secret,
        &connkey::cache_key(
            &connkey::connection_id_key(secret, None, "prod"),
            &connkey::schemas_key(&["public".to_string()]),
        ),
    );
    let key = resp["cache"]["key"].as_str().unwrap_or_default();
    assert_eq!(key, expected);

    // A connectionId the secret does not name is a 400 naming it; raw URLs are off.
    let (status, err) = server
        .post(
            api::SNAPSHOT_PATH,
            &json!({ "connectionId": "staging", "schemas": ["public"] }),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["field"], "connectionId", "{err}");
    let (status, err): (u16, Value) = server
        .post(
            api::SNAPSHOT_PATH,
            &json!({ "targetDatabaseUrl": db.url, "schemas": ["public"] }),
        )
        .await;
    assert_eq!(status, 400, "{err}");

    let log = server.log();
    assert!(log.contains("read from Secrets Manager"), "{log}");
    assert!(
        !log.contains("development default"),
        "the key secret was not taken from Secrets Manager: {log}"
    );
    for (what, text) in [
        ("response", resp.to_string()),
        ("error", err.to_string()),
        ("log", log),
    ] {
        assert!(!text.contains(PG_PASSWORD), "target password in the {what}");
        assert!(!text.contains(&key_secret), "key secret in the {what}");
        assert!(!text.contains(&targets), "targets secret in the {what}");
    }
}

/// Runs the service binary until it exits (it must, within 20 s) and returns its exit
/// code and everything it printed.
fn run_to_exit(env: &[(&str, String)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_catalog-snapshot"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", harness::free_port().to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn service");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the service did not stop: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status.code(),
        std::fs::read_to_string(&log_path).unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_missing_secret_stops_startup_naming_the_variable_and_the_arn() {
    let Some((_client, endpoint)) = secrets_client().await else {
        return;
    };
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:catsnap/nowhere-AbCdEf";
    let mut env = aws_env(&endpoint);
    env.push(("CONNECTION_KEY_SECRET", "a-direct-secret-0123456789".into()));
    env.push(("TARGET_CONNECTIONS_SECRET_ARN", missing.into()));
    let (code, out) = tokio::task::spawn_blocking(move || run_to_exit(&env))
        .await
        .expect("run");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("TARGET_CONNECTIONS_SECRET_ARN"), "{out}");
    assert!(out.contains(missing), "{out}");
    assert!(out.contains("no such secret"), "{out}");
    assert!(!out.contains("a-direct-secret-0123456789"), "{out}");
}

#[tokio::test]
async fn a_secret_and_its_arn_both_set_stop_startup() {
    let env = vec![
        ("CONNECTION_KEY_SECRET", "a-direct-secret-0123456789".into()),
        (
            "CONNECTION_KEY_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbCdEf".to_string(),
        ),
    ];
    let (code, out) = tokio::task::spawn_blocking(move || run_to_exit(&env))
        .await
        .expect("run");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("CONNECTION_KEY_SECRET_ARN"), "{out}");
    assert!(!out.contains("a-direct-secret-0123456789"), "{out}");
}
