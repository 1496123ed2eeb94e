//! Hostile targets and half-sent requests (issue 16): small fake PostgreSQL servers on
//! loopback that lie about message sizes or ask for the password in cleartext, a real
//! server with a locked table, a wrong password or a read over the byte limit, and
//! connections to the local server that never finish their request. Every address used
//! is on loopback.

use crate::harness::{Server, PG_PASSWORD};
use catalog_snapshot::introspect::{self, TargetOptions};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SNAPSHOT: &str = "/api/v1/introspect/postgres/snapshot";

/// What a fake server saw from its clients.
#[derive(Default, Debug)]
struct Seen {
    /// Bytes of every message after the startup, by connection.
    after_startup: Vec<Vec<u8>>,
    /// Bytes the server managed to send.
    sent: u64,
}

/// A fake server: refuses TLS ('N'), reads the startup message, then runs `script`
/// (which writes what the lie needs) and records what the client sends back.
async fn fake_server<F, Fut>(script: F) -> (u16, std::sync::Arc<std::sync::Mutex<Seen>>)
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = (TcpStream, u64)> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Seen::default()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let script = script.clone();
            let seen = seen2.clone();
            tokio::spawn(async move {
                // SSLRequest or startup: both start with a length.
                let mut len = [0u8; 4];
                if sock.read_exact(&mut len).await.is_err() {
                    return;
                }
                let mut rest = vec![0u8; u32::from_be_bytes(len) as usize - 4];
                if sock.read_exact(&mut rest).await.is_err() {
                    return;
                }
                if rest[..4] == [0x04, 0xd2, 0x16, 0x2f] {
                    let _ = sock.write_all(b"N").await;
                    if sock.read_exact(&mut len).await.is_err() {
                        return;
                    }
                    let mut startup = vec![0u8; u32::from_be_bytes(len) as usize - 4];
                    if sock.read_exact(&mut startup).await.is_err() {
                        return;
                    }
                }
                let (mut sock, sent) = script(sock).await;
                let mut after = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(2), sock.read_to_end(&mut after))
                    .await;
                let mut seen = seen.lock().unwrap();
                seen.sent += sent;
                seen.after_startup.push(after);
            });
        }
    });
    (port, seen)
}

fn opts() -> TargetOptions {
    TargetOptions::with_timeouts(Duration::from_secs(5), Duration::from_secs(10))
}

/// Issue 16, finding 3: a server that asks for the password in cleartext (or as md5)
/// got it under every sslmode but verify-*. Now it is refused before it is sent.
#[tokio::test]
async fn cleartext_and_md5_password_requests_from_unverified_servers_are_refused() {
    const PASSWORD: &str = "Captured-If-Sent-6120";
    for (code, md5) in [(3u32, false), (5u32, true)] {
        let (port, seen) = fake_server(move |mut sock| async move {
            let mut msg = vec![b'R'];
            let mut body = code.to_be_bytes().to_vec();
            if md5 {
                body.extend_from_slice(b"salt");
            }
            msg.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
            msg.extend_from_slice(&body);
            let _ = sock.write_all(&msg).await;
            (sock, msg.len() as u64)
        })
        .await;
        for sslmode in ["disable", "prefer", "allow"] {
            let url =
                format!("postgres://someone:{PASSWORD}@127.0.0.1:{port}/db?sslmode={sslmode}");
            let r = introspect::connect(&url, &opts()).await;
            match r {
                Err(introspect::IntrospectError::InsecurePassword(m)) => {
                    assert!(m.contains("TARGET_ALLOW_UNVERIFIED_PASSWORD"), "{m}");
                    assert!(m.contains("verify-full"), "{m}");
                    assert!(!m.contains(PASSWORD), "{m}");
                }
                other => panic!(
                    "code {code}, sslmode={sslmode}: expected a refusal, got {:?}",
                    other.map(|_| ())
                ),
            }
        }
        // The service answers the same as a 502 naming the setting.
        let server = Server::start(&[]).await;
        let (status, err) = server
            .post(
                SNAPSHOT,
                &json!({"targetDatabaseUrl": format!("postgres://someone:{PASSWORD}@127.0.0.1:{port}/db"), "schemas": ["public"]}),
            )
            .await;
        assert_eq!(status, 502, "{err}");
        assert_eq!(err["error"]["code"], "target_auth_insecure", "{err}");
        assert!(!err.to_string().contains(PASSWORD));
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let seen = seen.lock().unwrap();
        assert!(seen.after_startup.len() >= 4, "{seen:?}");
        for after in &seen.after_startup {
            assert!(
                !String::from_utf8_lossy(after).contains(PASSWORD),
                "the fake server captured the password"
            );
            assert!(
                !after.contains(&b'p'),
                "no password message was sent: {after:?}"
            );
        }
    }

    // The setting that allows it does allow it (so the test above can fail).
    let (port, seen) = fake_server(|mut sock| async move {
        let _ = sock.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).await;
        (sock, 9)
    })
    .await;
    let server = Server::start(&[("TARGET_ALLOW_UNVERIFIED_PASSWORD", "true")]).await;
    let (status, _) = server
        .post(
            SNAPSHOT,
            &json!({"targetDatabaseUrl": format!("postgres://someone:{PASSWORD}@127.0.0.1:{port}/db?sslmode=disable"), "schemas": ["public"]}),
        )
        .await;
    assert!(status >= 500);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let seen = seen.lock().unwrap();
    assert!(
        seen.after_startup
            .iter()
            .any(|a| String::from_utf8_lossy(a).contains(PASSWORD)),
        "with TARGET_ALLOW_UNVERIFIED_PASSWORD=true the password is sent"
    );
}

/// Peak resident memory of a process, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Issue 16, finding 2: a server answering the startup with a header that claims
/// 0x7FFFFFF0 bytes, then streaming data, made one request peak at 316 MB and four at
/// 1,216 MB. Now the header is refused as it arrives: a clear 502, memory flat.
#[tokio::test]
async fn a_target_claiming_a_huge_message_is_cut_off_at_its_header() {
    let (port, seen) = fake_server(|mut sock| async move {
        let mut sent = 5u64;
        if sock
            .write_all(&[b'R', 0x7f, 0xff, 0xff, 0xf0])
            .await
            .is_err()
        {
            return (sock, 0);
        }
        let chunk = vec![0u8; 64 * 1024];
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            match tokio::time::timeout(Duration::from_millis(200), sock.write_all(&chunk)).await {
                Ok(Ok(())) => sent += chunk.len() as u64,
                Ok(Err(_)) => break,
                Err(_) => {}
            }
        }
        (sock, sent)
    })
    .await;
    let r = introspect::connect(&format!("postgres://u:pw@127.0.0.1:{port}/db"), &opts()).await;
    match r {
        Err(introspect::IntrospectError::Protocol(m)) => {
            assert!(m.contains("TARGET_MAX_MESSAGE_BYTES"), "{m}")
        }
        other => panic!("expected a protocol error, got {:?}", other.map(|_| ())),
    }

    let server = Server::start(&[]).await;
    let baseline = peak_rss_kib(server.pid());
    let started = Instant::now();
    let requests = (0..4).map(|i| {
        let body = json!({"targetDatabaseUrl": format!("postgres://u{i}:pw@127.0.0.1:{port}/db"), "schemas": ["public"]});
        let server = &server;
        async move { server.post(SNAPSHOT, &body).await }
    });
    let answers = futures::future::join_all(requests).await;
    let elapsed = started.elapsed();
    for (status, err) in &answers {
        assert_eq!(*status, 502, "{err}");
        assert_eq!(err["error"]["code"], "target_protocol_error", "{err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("2147483633 bytes")),
            "{err}"
        );
    }
    let peak = peak_rss_kib(server.pid());
    println!(
        "4 concurrent requests to a target claiming a 2 GiB message: 502 in {} ms, server peak RSS {} MiB (at start {} MiB)",
        elapsed.as_millis(),
        peak / 1024,
        baseline / 1024
    );
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert!(
        peak < baseline + 64 * 1024,
        "peak RSS grew from {baseline} KiB to {peak} KiB"
    );
    drop(seen);
}

/// Issue 16, finding 2 (the other half): the read budget is counted by the target, so a
/// lying one bypasses it; the bytes received are counted here.
#[tokio::test]
async fn a_read_over_the_byte_limit_is_a_clear_422() {
    let db = crate::snapshot_api::shop_db("bytecap").await;
    let server = Server::start(&[("TARGET_MAX_READ_BYTES", "3000")]).await;
    let (status, err) = server
        .post(
            SNAPSHOT,
            &json!({"targetDatabaseUrl": db.url, "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["code"], "catalog_too_large");
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("TARGET_MAX_READ_BYTES") && m.contains("3000")),
        "{err}"
    );
    let server = Server::start(&[]).await;
    let (status, err) = server
        .post(
            SNAPSHOT,
            &json!({"targetDatabaseUrl": db.url, "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 200, "{err}");
}

/// Issue 16, finding 11: a wrong password answered 502 `target_unavailable`.
#[tokio::test]
async fn a_wrong_password_is_target_auth_failed() {
    let db = crate::snapshot_api::shop_db("wrongpw").await;
    let wrong = db.url.replace(PG_PASSWORD, "Not-The-Password-1");
    assert_ne!(wrong, db.url);
    let server = Server::start(&[]).await;
    let (status, err) = server
        .post(
            SNAPSHOT,
            &json!({"targetDatabaseUrl": wrong, "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["error"]["code"], "target_auth_failed", "{err}");
    assert!(!err.to_string().contains("Not-The-Password-1"));
}

/// Issue 16, finding 10: a read dropped mid-query (its request or its own bound gave up)
/// left the query running on the target.
#[tokio::test]
async fn a_dropped_read_cancels_its_query_on_the_target() {
    let db = crate::snapshot_api::shop_db("cancel").await;
    let mut o = opts();
    o.application_name = "cancel-test".into();
    let client = introspect::connect(&db.url, &o).await.expect("connect");
    let running = tokio::time::timeout(
        Duration::from_millis(500),
        client.batch_execute("SELECT pg_sleep(60)"),
    )
    .await;
    assert!(running.is_err(), "the sleep is still running");
    drop(client);
    let watcher = db.client().await;
    let started = Instant::now();
    loop {
        let n: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cancel-test' AND state = 'active'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if n == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the query still runs on the target {:?} after its client was dropped",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "query cancelled on the target {} ms after its client was dropped",
        started.elapsed().as_millis()
    );
}

/// Issue 16, finding 9: half-sent requests stayed open for ever.
#[tokio::test]
async fn half_sent_requests_are_dropped_and_connections_are_capped() {
    let server = Server::start(&[
        ("HTTP_HEADER_TIMEOUT_MS", "500"),
        ("HTTP_BODY_TIMEOUT_MS", "500"),
    ])
    .await;
    let addr = format!("127.0.0.1:{}", server.port);
    let silent = TcpStream::connect(&addr).await.unwrap();
    let mut partial_headers = TcpStream::connect(&addr).await.unwrap();
    partial_headers
        .write_all(b"POST /api/v1/introspect/postgres/snapshot HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut partial_body = TcpStream::connect(&addr).await.unwrap();
    partial_body
        .write_all(b"POST /api/v1/introspect/postgres/snapshot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"schemas\"")
        .await
        .unwrap();
    let started = Instant::now();
    for (name, mut sock) in [
        ("silent", silent),
        ("partial headers", partial_headers),
        ("partial body", partial_body),
    ] {
        let mut buf = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), sock.read_to_end(&mut buf)).await;
        assert!(
            closed.is_ok(),
            "{name}: the server kept the connection open for {:?}",
            started.elapsed()
        );
    }
    println!(
        "three half-sent requests dropped within {} ms (header and body timeouts 500 ms)",
        started.elapsed().as_millis()
    );

    // The connection cap: with 2 slots held by silent connections, a third waits.
    let server = Server::start(&[
        ("HTTP_HEADER_TIMEOUT_MS", "3000"),
        ("HTTP_MAX_CONNECTIONS", "2"),
    ])
    .await;
    let addr = format!("127.0.0.1:{}", server.port);
    // Let the harness's own keep-alive connection close first.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let a = TcpStream::connect(&addr).await.unwrap();
    let b = TcpStream::connect(&addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let client = reqwest::Client::new();
    let waited = client
        .get(server.url("/healthz"))
        .timeout(Duration::from_millis(800))
        .send()
        .await;
    assert!(waited.is_err(), "a third connection was served: {waited:?}");
    drop((a, b));
    let served = client
        .get(server.url("/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("served once a slot is free");
    assert!(served.status().is_success());
}

/// A loopback listener that counts the connections made to it (and holds them).
async fn counting_listener() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(s);
        }
    });
    (port, count)
}

/// Issue 16, findings 4, 5, 6 and 11 (request shape): every bad input is a 4xx naming
/// its field, decided before any connection or store call.
#[tokio::test]
async fn bad_input_is_refused_before_any_connection_or_store_call() {
    let (port, connections) = counting_listener().await;
    let (store_port, store_connections) = counting_listener().await;
    let server = Server::start(&[(
        "APP_DATABASE_URL",
        &format!("postgres://app:app-pw@127.0.0.1:{store_port}/app"),
    )])
    .await;
    let url = format!("postgres://u:pw@127.0.0.1:{port}/db");
    let history = "/api/v1/introspect/postgres/history";
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            SNAPSHOT,
            json!({"targetDatabaseUrl": url, "schemas": ["pub\u{0}lic"]}),
            "schemas",
        ),
        (
            SNAPSHOT,
            json!({"targetDatabaseUrl": url, "schemas": ["public"], "refresh": "visible", "visibleTables": ["public.us\u{0}ers"]}),
            "visibleTables",
        ),
        (
            SNAPSHOT,
            json!({"targetDatabaseUrl": format!("postgres://u:p%00w@127.0.0.1:{port}/db"), "schemas": ["public"]}),
            "targetDatabaseUrl",
        ),
        (
            SNAPSHOT,
            json!({"targetDatabaseUrl": format!("postgres://u:pw@127.0.0.1:{port}/d\u{0}b"), "schemas": ["public"]}),
            "targetDatabaseUrl",
        ),
        (
            SNAPSHOT,
            json!({"targetDatabaseUrl": url, "schemas": ["public"], "workspaceId": "w\u{1}"}),
            "workspaceId",
        ),
        (
            SNAPSHOT,
            json!({"targetDatabaseUrl": url, "connectionId": "prod", "schemas": ["public"]}),
            "connectionId",
        ),
        (
            history,
            json!({"targetDatabaseUrl": url, "schemas": ["public"], "before": "0000-01-01T00:00:00Z"}),
            "before",
        ),
        (
            history,
            json!({"targetDatabaseUrl": url, "schemas": ["public"], "before": "2026-01-01T00:00:00+16:00"}),
            "before",
        ),
        (
            SNAPSHOT,
            json!({"targetDatabaseUrl": "postgres://u:pa@ss@leaky-host-name.invalid:5432/db", "schemas": ["public"]}),
            "targetDatabaseUrl",
        ),
    ];
    for (path, body, field) in &cases {
        let (status, err) = server.post(path, body).await;
        assert_eq!(status, 400, "{body}: {err}");
        assert_eq!(err["error"]["field"], *field, "{body}: {err}");
    }
    // The ambiguous URL: the message says what to do and repeats no part of it.
    let (_, err) = server.post(SNAPSHOT, &cases[8].1).await;
    let m = err["error"]["message"].as_str().unwrap_or_default();
    assert!(m.contains("%40"), "{m}");
    for part in ["ss@", "leaky", "pa@"] {
        assert!(!m.contains(part), "{m}");
    }
    assert!(
        !server.log().contains("leaky-host-name"),
        "{}",
        server.log()
    );

    // Not JSON: 415, whatever the body.
    let r = reqwest::Client::new()
        .post(server.url(SNAPSHOT))
        .header("content-type", "text/plain")
        .body(json!({"targetDatabaseUrl": url, "schemas": ["public"]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unsupported_media_type");

    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a target was contacted"
    );
    // The store is prepared at start (one connection attempt); no request reached it.
    assert!(store_connections.load(std::sync::atomic::Ordering::SeqCst) <= 1);

    // With REQUIRE_AUTH, an unauthenticated caller gets 401 before its body is judged.
    let server = Server::start(&[("REQUIRE_AUTH", "true")]).await;
    let (status, err) = server.post_raw(SNAPSHOT, "{not json").await;
    assert_eq!(status, 401, "{err}");
}

/// Issue 16, finding 11: raw store error strings reached callers in
/// `persistence.error`, and `/healthz` showed read and memory counters to anyone.
#[tokio::test]
async fn store_errors_stay_in_the_log_and_healthz_shows_no_counters() {
    let db = crate::snapshot_api::shop_db("storeerr").await;
    let dead_port = crate::harness::free_port();
    let server = Server::start(&[
        (
            "APP_DATABASE_URL",
            &format!("postgres://app:Store-Pw-41@127.0.0.1:{dead_port}/app"),
        ),
        ("STORE_TIMEOUT_MS", "1000"),
        ("HEALTH_COUNTERS", "false"),
    ])
    .await;
    let (status, body) = server
        .post(
            SNAPSHOT,
            &json!({"targetDatabaseUrl": db.url, "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let error = body["persistence"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("not persisted"), "{body}");
    let port = dead_port.to_string();
    for raw in [port.as_str(), "127.0.0.1", "refused", "Store-Pw-41", "app:"] {
        assert!(
            !error.contains(raw),
            "persistence.error carries {raw:?}: {error}"
        );
    }
    assert!(server.log().contains("could not be persisted"));

    let health: Value = reqwest::get(server.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    for counter in ["catalogReads", "memoryBytes", "memoryEntries"] {
        assert!(health.get(counter).is_none(), "{health}");
    }
}

/// Issue 16, finding 11: a table locked by a migration answered "did not answer within
/// 20000 ms" (no `lock_timeout`: each read held a customer backend for 20 s).
#[tokio::test]
async fn a_locked_table_is_a_bounded_target_lock_timeout() {
    let db = crate::snapshot_api::shop_db("locked").await;
    db.exec("CREATE VIEW public.user_emails AS SELECT email FROM public.users")
        .await;
    let migration = db.client().await;
    migration
        .batch_execute(
            "BEGIN; LOCK TABLE public.users, public.user_emails IN ACCESS EXCLUSIVE MODE",
        )
        .await
        .unwrap();
    let server = Server::start(&[("TARGET_LOCK_TIMEOUT_MS", "700")]).await;
    let started = Instant::now();
    let (status, err) = server
        .post(
            SNAPSHOT,
            &json!({"targetDatabaseUrl": db.url, "schemas": ["public"]}),
        )
        .await;
    let elapsed = started.elapsed();
    assert_eq!(status, 504, "{err}");
    assert_eq!(err["error"]["code"], "target_lock_timeout", "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("700 ms") && m.contains("lock")),
        "{err}"
    );
    println!(
        "a locked table: 504 target_lock_timeout in {} ms (lock timeout 700 ms)",
        elapsed.as_millis()
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    migration.batch_execute("ROLLBACK").await.unwrap();
}

/// Issue 16, build item 3: concurrent fresh reads per process are bounded. One slot,
/// held by a read blocked on a lock: a second read elsewhere waits the connect timeout
/// for it, then gets a clear 503 instead of opening another connection.
#[tokio::test]
async fn concurrent_target_connections_per_process_are_bounded() {
    let locked = crate::snapshot_api::shop_db("slotheld").await;
    locked
        .exec("CREATE VIEW public.user_emails AS SELECT email FROM public.users")
        .await;
    let other = crate::snapshot_api::shop_db("slotwait").await;
    let migration = locked.client().await;
    migration
        .batch_execute(
            "BEGIN; LOCK TABLE public.users, public.user_emails IN ACCESS EXCLUSIVE MODE",
        )
        .await
        .unwrap();
    let server = Server::start(&[
        ("TARGET_MAX_CONCURRENT_READS", "1"),
        ("TARGET_CONNECT_TIMEOUT_MS", "700"),
        ("TARGET_LOCK_TIMEOUT_MS", "4000"),
    ])
    .await;
    let locked_body = json!({"targetDatabaseUrl": locked.url, "schemas": ["public"]});
    let blocked = server.post(SNAPSHOT, &locked_body);
    let second = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        server
            .post(
                SNAPSHOT,
                &json!({"targetDatabaseUrl": other.url, "schemas": ["public"]}),
            )
            .await
    };
    let ((s1, e1), (s2, e2)) = tokio::join!(blocked, second);
    assert_eq!(s1, 504, "{e1}");
    assert_eq!(s2, 503, "{e2}");
    assert_eq!(e2["error"]["code"], "busy", "{e2}");
    assert!(
        e2["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("TARGET_MAX_CONCURRENT_READS")),
        "{e2}"
    );
    migration.batch_execute("ROLLBACK").await.unwrap();
    // With the slot free again, the same read succeeds.
    let (status, body) = server
        .post(
            SNAPSHOT,
            &json!({"targetDatabaseUrl": other.url, "schemas": ["public"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Issue 16, finding 3 under `sslmode=require`: a fake server with a self-signed
/// certificate that asks for a cleartext password gets nothing (only `verify-*` proves
/// a server's identity).
#[tokio::test]
async fn cleartext_requests_over_unverified_tls_are_refused() {
    use rustls::pki_types::pem::PemObject;
    const PASSWORD: &str = "Captured-Over-Tls-7781";
    let dir = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        assert!(
            std::env::var("CI").is_err(),
            "openssl is needed for this test in CI"
        );
        eprintln!("skipped: openssl is not installed");
        return;
    }
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(dir.path().join("cert.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(dir.path().join("key.pem")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let captured = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let handshakes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (c, h) = (captured.clone(), handshakes.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (acceptor, c, h) = (acceptor.clone(), c.clone(), h.clone());
            tokio::spawn(async move {
                let mut req = [0u8; 8];
                if sock.read_exact(&mut req).await.is_err() || sock.write_all(b"S").await.is_err() {
                    return;
                }
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut len = [0u8; 4];
                if tls.read_exact(&mut len).await.is_err() {
                    return;
                }
                let mut startup = vec![0u8; u32::from_be_bytes(len) as usize - 4];
                if tls.read_exact(&mut startup).await.is_err() {
                    return;
                }
                let _ = tls.write_all(&[b'R', 0, 0, 0, 8, 0, 0, 0, 3]).await;
                let _ = tls.flush().await;
                let mut after = Vec::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), tls.read_to_end(&mut after)).await;
                c.lock().unwrap().extend_from_slice(&after);
            });
        }
    });
    for sslmode in ["require", "prefer"] {
        let url = format!("postgres://someone:{PASSWORD}@127.0.0.1:{port}/db?sslmode={sslmode}");
        match introspect::connect(&url, &opts()).await {
            Err(introspect::IntrospectError::InsecurePassword(m)) => {
                assert!(m.contains("TARGET_ALLOW_UNVERIFIED_PASSWORD"), "{m}")
            }
            other => panic!(
                "sslmode={sslmode}: expected a refusal, got {:?}",
                other.map(|_| ())
            ),
        }
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        handshakes.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "both connected over TLS"
    );
    let captured = captured.lock().unwrap();
    assert!(
        !String::from_utf8_lossy(&captured).contains(PASSWORD),
        "the fake TLS server captured the password"
    );
}
