//! Benchmark (not a test): prints figures for the 2,000-table catalog, each as a ratio to
//! a baseline taken in the same run. Run it with `scripts/bench.sh`, which starts a
//! throwaway cluster, loads ../shared/bench/gen2000.sql and passes:
//!
//!   bench <target-url> <pg_dump path> <service binary path>
//!
//! Figures: raw catalog queries (baseline), fresh snapshot (read + assembly + both
//! signatures + serialization), `pg_dump --schema-only`, a memory-tier hit over loopback
//! HTTP against the real service binary, that process's peak RSS, and the model's pure
//! work on the same snapshot (both signatures, a UTF-16 re-sort, two diffs).

use catalog_snapshot::introspect::{self, TargetOptions};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn opts() -> TargetOptions {
    TargetOptions {
        connect_timeout: Duration::from_secs(10),
        statement_timeout: Duration::from_secs(60),
        application_name: "catalog-snapshot-bench".into(),
        budget: introspect::ReadBudget::UNLIMITED,
        lock_timeout: Duration::from_secs(5),
        wire: introspect::WireLimits::DEFAULT,
        max_concurrent_reads: 64,
    }
}

async fn time_catalog(url: &str, runs: usize) -> (Duration, Duration, usize, usize) {
    let schemas = vec!["public".to_string()];
    let o = opts();
    let mut client = introspect::connect(url, &o).await.expect("connect");
    // Warm the server's catalog caches and the prepared statements' plans.
    for _ in 0..2 {
        let raw = introspect::read_raw(&mut client, &schemas, None, &o)
            .await
            .expect("raw");
        let _ = introspect::assemble(raw, &schemas, "2026-01-01T00:00:00.000Z".into());
    }
    let mut raw_t = Vec::new();
    let mut full_t = Vec::new();
    let mut size = 0;
    let mut tables = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let raw = introspect::read_raw(&mut client, &schemas, None, &o)
            .await
            .expect("raw");
        raw_t.push(t.elapsed());
        drop(raw);

        let t = Instant::now();
        let raw = introspect::read_raw(&mut client, &schemas, None, &o)
            .await
            .expect("raw");
        let snap = introspect::assemble(raw, &schemas, catalog_snapshot::service::now_iso());
        let json = serde_json::to_vec(&snap).expect("json");
        full_t.push(t.elapsed());
        size = json.len();
        tables = snap.tables.len();
    }
    (median(raw_t), median(full_t), size, tables)
}

/// Visible refresh of 20 tables (the partial read, the merge into the full snapshot,
/// both signatures and the serialization, as the service does it) and its catalog read
/// alone; plus the diff of two full snapshots that differ in those 20 tables.
async fn time_visible_and_diff(url: &str, runs: usize) -> (Duration, Duration, Duration) {
    let schemas = vec!["public".to_string()];
    let o = opts();
    let mut client = introspect::connect(url, &o).await.expect("connect");
    let base =
        introspect::read_snapshot(&mut client, &schemas, &o, "2026-01-01T00:00:00.000Z".into())
            .await
            .expect("full read");
    let visible: Vec<String> = (1..=20).map(|i| format!("public.t{}", i * 97)).collect();
    for _ in 0..2 {
        let _ = introspect::read_tables(&mut client, &schemas, &visible, &o, "w".into()).await;
    }
    let (mut read_t, mut all_t, mut diff_t) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let (partial, gone) =
            introspect::read_tables(&mut client, &schemas, &visible, &o, "r".into())
                .await
                .expect("visible read");
        read_t.push(t.elapsed());
        let mut merged = model::merge::merge_visible_unsealed(base.clone(), partial, &gone, "r");
        let json = model::signature::seal_to_json(&mut merged);
        all_t.push(t.elapsed());
        assert!(json.len() > 1000 && merged.tables.len() == base.tables.len());

        // A diff of two 2,000-table snapshots with 20 tables' columns changed.
        let mut after = base.clone();
        for c in after
            .columns
            .values_mut()
            .filter(|c| visible.contains(&c.table))
        {
            c.nullable = !c.nullable;
        }
        let t = Instant::now();
        let d = model::diff::diff(&base, &after);
        diff_t.push(t.elapsed());
        assert_eq!(d.columns.changed.len(), 200);
    }
    (median(read_t), median(all_t), median(diff_t))
}

/// The model's pure work on the real 2,000-table snapshot: both signatures, the light
/// signature over keys that need a full UTF-16 re-sort, and two diffs. Each is the median
/// of `runs`; `main` prints them as ratios to the raw catalog queries of the same run.
struct ModelTimes {
    light: Duration,
    light_resort: Duration,
    deep: Duration,
    diff_changed: Duration,
    diff_equal: Duration,
}

async fn time_model(url: &str, runs: usize) -> ModelTimes {
    use model::keys::child_key;
    use model::signature::{cmp_utf16, deep_signature, light_signature_of};
    let schemas = vec!["public".to_string()];
    let o = opts();
    let mut client = introspect::connect(url, &o).await.expect("connect");
    let before =
        introspect::read_snapshot(&mut client, &schemas, &o, "2026-01-01T00:00:00.000Z".into())
            .await
            .expect("full read");
    // 1 table removed, every row estimate changed, one column in 500 flips nullability.
    let mut after = before.clone();
    for (i, t) in after.tables.values_mut().enumerate() {
        t.row_estimate = Some(i as i64 * 7);
    }
    for (i, c) in after.columns.values_mut().enumerate() {
        if i % 500 == 0 {
            c.nullable = !c.nullable;
        }
    }
    let first = after.tables.keys().next().cloned().expect("a table");
    after.tables.remove(&first);
    // Column names starting with U+1F600 or U+FF5E: byte order and UTF-16 order disagree
    // within every table, so the light signature must re-sort every key.
    let mut astral = before.clone();
    for (_, c) in std::mem::take(&mut astral.columns) {
        let lead = if c.position % 2 == 0 {
            "\u{1f600}"
        } else {
            "\u{ff5e}"
        };
        astral
            .columns
            .insert(child_key(&c.table, &format!("{lead}{}", c.name)), c);
    }
    let keys: Vec<&str> = astral.columns.keys().map(String::as_str).collect();
    assert!(
        !keys.windows(2).all(|w| cmp_utf16(w[0], w[1]).is_le()),
        "fixture must need a UTF-16 re-sort"
    );
    fn time<R>(runs: usize, mut f: impl FnMut() -> R) -> Duration {
        median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(f());
                    t.elapsed()
                })
                .collect(),
        )
    }
    let same = before.clone();
    ModelTimes {
        light: time(runs, || light_signature_of(&before)),
        light_resort: time(runs, || light_signature_of(&astral)),
        deep: time(runs, || deep_signature(&before)),
        diff_changed: time(runs, || model::diff::diff(&before, &after)),
        diff_equal: time(runs, || model::diff::diff(&before, &same)),
    }
}

fn time_pg_dump(pg_dump: &str, url: &str, runs: usize) -> Duration {
    let mut v = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let st = Command::new(pg_dump)
            .args(["--schema-only", "-d", url, "-f", "/dev/null"])
            .status()
            .expect("pg_dump");
        assert!(st.success());
        v.push(t.elapsed());
    }
    median(v)
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn time_memory_hit(
    service_bin: &str,
    url: &str,
    hits: usize,
) -> (Duration, Duration, Duration, u64, usize) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut child = Command::new(service_bin)
        .env_clear()
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("service");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "service did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let body = serde_json::json!({"targetDatabaseUrl": url, "schemas": ["public"]}).to_string();
    let path = format!("{base}/api/v1/introspect/postgres/snapshot");
    let send = || {
        client
            .post(&path)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
    };
    let t = Instant::now();
    let first = send().await.expect("fresh").bytes().await.expect("body");
    let fresh_http = t.elapsed();
    let mut v = Vec::new();
    let mut size = 0;
    for _ in 0..hits {
        let t = Instant::now();
        let r = send().await.expect("hit");
        let b = r.bytes().await.expect("body");
        v.push(t.elapsed());
        size = b.len();
    }
    assert!(size >= first.len() - 200, "hits return the snapshot");
    let raw_hit = raw_http_hits(port, &body, hits).await;
    let rss = peak_rss_kb(child.id());
    let _ = child.kill();
    let _ = child.wait();
    (median(v), raw_hit, fresh_http, rss, size)
}

/// Memory-tier hits through a minimal keep-alive HTTP/1.1 client on a raw socket: the
/// request written, the status line and headers read, then exactly Content-Length bytes.
/// Measures the service and loopback, not a client library's buffering.
async fn raw_http_hits(port: u16, body: &str, hits: usize) -> Duration {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut stream = BufReader::with_capacity(1 << 20, stream);
    let request = format!(
        "POST /api/v1/introspect/postgres/snapshot HTTP/1.1\r\nhost: 127.0.0.1\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut buf = vec![0u8; 16 << 20];
    let mut v = Vec::new();
    for _ in 0..hits {
        let t = Instant::now();
        stream
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("write");
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some(l) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = l.trim().parse().expect("length");
            }
        }
        stream.read_exact(&mut buf[..len]).await.expect("body");
        v.push(t.elapsed());
    }
    median(v)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: bench <target-url> <pg_dump> <service-binary>   (see scripts/bench.sh)");
        std::process::exit(2);
    }
    let (url, pg_dump, service) = (&args[1], &args[2], &args[3]);
    let runs = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);

    let (raw, full, json_bytes, tables) = time_catalog(url, runs).await;
    let dump = time_pg_dump(pg_dump, url, 3);
    let (visible_read, visible_all, diff) = time_visible_and_diff(url, runs).await;
    let (hit, raw_hit, fresh_http, rss_kb, resp_bytes) = time_memory_hit(service, url, 50).await;
    let model_times = time_model(url, runs).await;

    println!(
        "catalog: {tables} tables, snapshot JSON {:.1} MB, response {:.1} MB",
        json_bytes as f64 / 1e6,
        resp_bytes as f64 / 1e6
    );
    println!("raw catalog queries (baseline)      {:>9.1} ms", ms(raw));
    println!(
        "fresh snapshot                      {:>9.1} ms   = {:.2}x raw queries (target <= 1.20x)",
        ms(full),
        ms(full) / ms(raw)
    );
    println!("pg_dump --schema-only               {:>9.1} ms   fresh snapshot = {:.2} of pg_dump (target <= 0.33)", ms(dump), ms(full) / ms(dump));
    println!(
        "fresh request over HTTP (1st call)  {:>9.1} ms   = {:.2}x raw queries",
        ms(fresh_http),
        ms(fresh_http) / ms(raw)
    );
    println!(
        "memory-tier hit, raw HTTP client    {:>9.2} ms   = {:.4}x fresh snapshot (target < 2 ms)",
        ms(raw_hit),
        ms(raw_hit) / ms(full)
    );
    println!(
        "memory-tier hit, reqwest client     {:>9.2} ms   = {:.4}x fresh snapshot",
        ms(hit),
        ms(hit) / ms(full)
    );
    println!(
        "visible refresh, 20 tables: read      {:>9.1} ms   = {:.3} of a fresh snapshot",
        ms(visible_read),
        ms(visible_read) / ms(full)
    );
    println!(
        "visible refresh, 20 tables: all       {:>9.1} ms   = {:.3} of a fresh snapshot (target < 0.05)",
        ms(visible_all),
        ms(visible_all) / ms(full)
    );
    println!(
        "diff of two 2,000-table snapshots     {:>9.1} ms   = {:.3} of a fresh snapshot",
        ms(diff),
        ms(diff) / ms(full)
    );
    println!(
        "service peak RSS                    {:>9.1} MB   (target < 128 MB)",
        rss_kb as f64 / 1024.0
    );
    for (what, d) in [
        ("light signature", model_times.light),
        ("light signature, UTF-16 re-sort", model_times.light_resort),
        ("deep signature", model_times.deep),
        ("diff, 1 table gone, 1 col in 500", model_times.diff_changed),
        ("diff of equal snapshots", model_times.diff_equal),
    ] {
        println!(
            "{what:<36}{:>9.1} ms   = {:.3}x raw queries",
            ms(d),
            ms(d) / ms(raw)
        );
    }
}
