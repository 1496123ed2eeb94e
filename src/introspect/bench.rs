//! A timing harness for the catalog read, ignored by default: set `CATSNAP_BENCH_URL` to
//! a database (e.g. one loaded with `shared/bench/gen2000.sql`) and run
//! `cargo test --release --lib introspect::bench -- --ignored --nocapture`.
//!
//! Owns nothing the service uses. It must never write to the database it is pointed at.

use super::*;
use std::time::{Duration, Instant};

fn opts() -> TargetOptions {
    TargetOptions {
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(30),
        application_name: "catalog-snapshot-bench".into(),
        budget: ReadBudget::UNLIMITED,
        lock_timeout: Duration::from_secs(5),
        wire: WireLimits::DEFAULT,
        max_concurrent_reads: 64,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn time_catalog_read() {
    let Ok(url) = std::env::var("CATSNAP_BENCH_URL") else {
        eprintln!("CATSNAP_BENCH_URL is not set; nothing to time");
        return;
    };
    let schemas = vec!["public".to_string()];
    let rounds: usize = std::env::var("CATSNAP_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    for fresh_connection in [true, false] {
        let mut client = connect(&url, &opts()).await.unwrap();
        let (mut raw_t, mut snap_t, mut asm_t, mut ser_t) = (vec![], vec![], vec![], vec![]);
        for _ in 0..rounds {
            if fresh_connection {
                client = connect(&url, &opts()).await.unwrap();
            }
            let t = Instant::now();
            let raw = read_raw(&mut client, &schemas, None, &opts())
                .await
                .unwrap();
            raw_t.push(ms(t.elapsed()));
            drop(raw);

            if fresh_connection {
                client = connect(&url, &opts()).await.unwrap();
            }
            let t = Instant::now();
            let raw = read_raw(&mut client, &schemas, None, &opts())
                .await
                .unwrap();
            let t_asm = Instant::now();
            let snap = assemble(raw, &schemas, "2024-01-01T00:00:00Z".into());
            let t_ser = Instant::now();
            let json = serde_json::to_vec(&snap).unwrap();
            let end = Instant::now();
            snap_t.push(ms(end - t));
            asm_t.push(ms(t_ser - t_asm));
            ser_t.push(ms(end - t_ser));
            assert!(!json.is_empty());
            if snap_t.len() == 1 {
                eprintln!(
                    "tables {} columns {} relationships {} indexes {} constraints {}; json {} bytes",
                    snap.tables.len(),
                    snap.columns.len(),
                    snap.relationships.len(),
                    snap.indexes.len(),
                    snap.constraints.len(),
                    json.len()
                );
            }
        }
        let (r, s) = (median(raw_t), median(snap_t));
        eprintln!(
            "{}: read_raw {r:.1} ms; snapshot {s:.1} ms (assemble+seal {:.1}, serialize {:.1}); ratio {:.2}",
            if fresh_connection { "fresh connection" } else { "same connection" },
            median(asm_t),
            median(ser_t),
            s / r
        );
    }
}
