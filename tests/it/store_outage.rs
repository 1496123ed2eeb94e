//! "The app store down mid-run loses no snapshot that was acknowledged": the service in
//! front of a PostgreSQL app database of its own (a second throwaway cluster, so this
//! test can crash it with `pg_ctl stop -m immediate` and start it again), serving a
//! stream of forced snapshot requests across DDL changes while that database crashes
//! right after a save was acknowledged, stays down for several requests, and crashes
//! while a request is in flight.
//!
//! Afterwards: every response was a 200 with the fresh snapshot (unsaved, and saying so,
//! while the store was down); every snapshot acknowledged with `saved: true` loads again
//! by its id with the same signatures (or, by the documented retention rule, an unchanged
//! re-read superseded it with a newer entry of the same deep signature, which loads); and
//! every stored row is whole: its body parses and its signatures, recomputed from the
//! body, equal the row's. And the service, the only process, never waits on a read lease
//! (not even one it took before a crash and could not give back).
//!
//! The app cluster runs like the shared test cluster (`fsync=off`, which a process crash
//! does not exercise, and `synchronous_commit=off`, which it does: a commit acknowledged
//! but not yet written to the WAL is lost in a crash, unless the store asks for a
//! durable commit).

use crate::harness::{self, Server};
use model::api;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// A PostgreSQL cluster of this test's own that it can crash and restart.
struct AppCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

impl AppCluster {
    fn create() -> AppCluster {
        let bin = harness::pg_bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("catsnap-appdb-")
            .tempdir()
            .expect("tempdir")
            .keep();
        if harness::is_root() {
            let mut chown = Command::new("chown");
            chown.args(["-R", "postgres:postgres"]).arg(&dir);
            harness::run_ok(chown, "chown");
        }
        let mut initdb = harness::pg_command(&bin, "initdb");
        initdb
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "postgres", "--auth=trust", "--encoding=UTF8"])
            .args(["--locale=C.UTF-8", "--no-sync"]);
        harness::run_ok(initdb, "initdb (app cluster)");
        let cluster = AppCluster {
            port: harness::free_port(),
            bin,
            dir,
        };
        let runas = if harness::is_root() {
            "runuser -u postgres -- "
        } else {
            ""
        };
        harness::watchdog(&format!(
            "{runas}{} -D '{}' -m immediate stop; rm -rf '{}'",
            cluster.bin.join("pg_ctl").display(),
            cluster.dir.join("data").display(),
            cluster.dir.display()
        ));
        cluster.start();
        cluster
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str], what: &str) {
        let mut c = harness::pg_command(&self.bin, "pg_ctl");
        c.arg("-D").arg(self.dir.join("data")).args(args);
        harness::run_ok(c, what);
    }

    fn start(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        let log = log.to_string_lossy();
        self.pg_ctl(
            &["-o", &opts, "-l", &log, "-w", "-t", "60", "start"],
            "start the app cluster",
        );
    }

    /// A crash: every server process is killed without a checkpoint; the next start
    /// recovers from the WAL.
    fn crash(&self) {
        self.pg_ctl(&["-m", "immediate", "-w", "stop"], "crash the app cluster");
    }
}

/// Runs a blocking cluster command without holding up the runtime (a request may be in
/// flight meanwhile).
async fn blocking(cluster: &std::sync::Arc<AppCluster>, f: fn(&AppCluster)) {
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || f(&c))
        .await
        .expect("cluster command");
}

/// One response as the client saw it.
#[derive(Debug)]
struct Seen {
    step: String,
    status: u16,
    saved: bool,
    id: Option<String>,
    signature: String,
    deep: String,
    captured_at: String,
}

async fn post(base: String, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{base}{}", api::SNAPSHOT_PATH))
        .json(&body)
        .send()
        .await
        .expect("the service answers");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, v)
}

/// Checks one response and records it. `expect_saved`: what the store's state implies
/// (`None` when it is crashing during the request).
fn record(
    seen: &mut Vec<Seen>,
    step: &str,
    (status, v): (u16, Value),
    must_have: &str,
    expect_saved: Option<bool>,
) {
    assert_eq!(status, 200, "{step}: every request gets its snapshot: {v}");
    assert!(
        v["snapshot"]["tables"][must_have].is_object(),
        "{step}: the snapshot is fresh (has {must_have})"
    );
    let saved = v["persistence"]["saved"]
        .as_bool()
        .expect("persistence.saved");
    if let Some(expected) = expect_saved {
        assert_eq!(saved, expected, "{step}: {}", v["persistence"]);
    }
    if !saved {
        assert!(
            v["persistence"]["error"]
                .as_str()
                .is_some_and(|e| e.contains("not persisted")),
            "{step}: an unsaved snapshot says why: {}",
            v["persistence"]
        );
    }
    let id = v["persistence"]["snapshotId"].as_str().map(String::from);
    assert_eq!(saved, id.is_some(), "{step}: saved means an id");
    seen.push(Seen {
        step: step.to_string(),
        status,
        saved,
        id,
        signature: v["snapshot"]["meta"]["signature"]
            .as_str()
            .unwrap()
            .to_string(),
        deep: v["snapshot"]["meta"]["deepSignature"]
            .as_str()
            .unwrap()
            .to_string(),
        captured_at: v["lastRefreshedAt"].as_str().unwrap().to_string(),
    });
}

#[tokio::test]
async fn the_app_store_crashing_mid_run_loses_no_acknowledged_snapshot() {
    let cluster = std::sync::Arc::new(
        tokio::task::spawn_blocking(AppCluster::create)
            .await
            .expect("app cluster"),
    );
    let target = crate::snapshot_api::shop_db("outage").await;
    let server = Server::start(&[
        ("APP_DATABASE_URL", &cluster.url()),
        ("STORE_TIMEOUT_MS", "2000"),
    ])
    .await;
    let base = server.base.clone();
    let force = json!({"targetDatabaseUrl": target.url, "schemas": ["public"], "refresh": "force"});
    let mut seen: Vec<Seen> = Vec::new();
    let mut n = 0;
    // A DDL change: a new table, which the next snapshot must show.
    let mut change = async || {
        n += 1;
        let table = format!("s{n}");
        target
            .exec(&format!("CREATE TABLE public.{table} (id int PRIMARY KEY)"))
            .await;
        format!("public.{table}")
    };

    // Store up: distinct states, and an unchanged re-read.
    let mut newest = change().await;
    let r = post(base.clone(), force.clone()).await;
    record(&mut seen, "up 1", r, &newest, Some(true));
    newest = change().await;
    let r = post(base.clone(), force.clone()).await;
    record(&mut seen, "up 2", r, &newest, Some(true));
    let r = post(base.clone(), force.clone()).await;
    record(&mut seen, "up 2, unchanged", r, &newest, Some(true));

    // Acknowledged, then the store crashes at once.
    for i in 0..4 {
        newest = change().await;
        let r = post(base.clone(), force.clone()).await;
        record(
            &mut seen,
            &format!("ack then crash {i}"),
            r,
            &newest,
            Some(true),
        );
        blocking(&cluster, AppCluster::crash).await;
        blocking(&cluster, AppCluster::start).await;
    }

    // The store down for a while: fresh snapshots still served, unsaved.
    blocking(&cluster, AppCluster::crash).await;
    for i in 0..2 {
        newest = change().await;
        let r = post(base.clone(), force.clone()).await;
        record(&mut seen, &format!("down {i}"), r, &newest, Some(false));
    }
    let r = post(base.clone(), force.clone()).await;
    record(&mut seen, "down, unchanged", r, &newest, Some(false));
    blocking(&cluster, AppCluster::start).await;

    // Back up.
    let r = post(base.clone(), force.clone()).await;
    record(&mut seen, "back up", r, &newest, Some(true));
    newest = change().await;
    let r = post(base.clone(), force.clone()).await;
    record(&mut seen, "back up 2", r, &newest, Some(true));

    // The store crashes while a request is in flight, at a different point each time
    // (reading the latest, taking the lease, reading the catalog, saving, releasing):
    // the delays only spread the crash over the request, nothing is timed.
    for (i, delay_ms) in [0u64, 5, 10, 20, 30, 45, 60, 80].into_iter().enumerate() {
        newest = change().await;
        let request = tokio::spawn(post(base.clone(), force.clone()));
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        blocking(&cluster, AppCluster::crash).await;
        let r = request.await.expect("request task");
        record(&mut seen, &format!("crash in flight {i}"), r, &newest, None);
        blocking(&cluster, AppCluster::start).await;
    }
    newest = change().await;
    let r = post(base.clone(), force.clone()).await;
    record(&mut seen, "final", r, &newest, Some(true));

    // Every acknowledged snapshot loads again with the same signatures.
    let conn = json!({"targetDatabaseUrl": target.url, "schemas": ["public"]});
    let (status, history) = server
        .post(api::HISTORY_PATH, &{
            let mut h = conn.clone();
            h["limit"] = json!(200);
            h
        })
        .await;
    assert_eq!(status, 200, "{history}");
    let history = history["items"].as_array().expect("items").clone();
    let load = |id: String| {
        let mut d = conn.clone();
        d["from"] = json!(id);
        d["to"] = json!(id);
        let server = &server;
        async move { server.post(api::DIFF_PATH, &d).await }
    };
    for s in seen.iter().filter(|s| s.saved) {
        let id = s.id.clone().unwrap_or_default();
        let (status, loaded) = load(id.clone()).await;
        if status == 200 {
            assert_eq!(loaded["from"]["id"], id.as_str());
            assert_eq!(
                loaded["from"]["deepSignature"],
                s.deep.as_str(),
                "{}",
                s.step
            );
            assert_eq!(
                loaded["from"]["signature"],
                s.signature.as_str(),
                "{}",
                s.step
            );
            continue;
        }
        // Only an unchanged re-read may replace an acknowledged entry: a newer entry of
        // the same state must be there.
        assert_eq!(status, 404, "{}: {loaded}", s.step);
        let successor = history.iter().find(|h| {
            h["deepSignature"] == s.deep.as_str()
                && h["capturedAt"].as_str().unwrap_or_default() >= s.captured_at.as_str()
                && h["id"] != id.as_str()
        });
        assert!(
            successor.is_some(),
            "{}: snapshot {id} was acknowledged and is gone, with no newer entry of the \
             same state (history: {history:?})",
            s.step
        );
    }
    // Every distinct state acknowledged is in the history.
    let acknowledged: BTreeSet<&str> = seen
        .iter()
        .filter(|s| s.saved)
        .map(|s| s.deep.as_str())
        .collect();
    let stored: BTreeSet<&str> = history
        .iter()
        .filter_map(|h| h["deepSignature"].as_str())
        .collect();
    assert!(
        acknowledged.is_subset(&stored),
        "missing states: {:?}",
        acknowledged.difference(&stored).collect::<Vec<_>>()
    );

    // Nothing half-written: every entry loads, and every stored body is whole.
    for h in &history {
        let id = h["id"].as_str().expect("id").to_string();
        let (status, loaded) = load(id.clone()).await;
        assert_eq!(status, 200, "history entry {id} loads: {loaded}");
        assert_eq!(loaded["from"]["deepSignature"], h["deepSignature"]);
    }
    let app = harness::connect(&cluster.url()).await;
    let rows = app
        .query(
            "SELECT id::text, signature, deep_signature, table_count, snapshot::text \
             FROM catalog_snapshots ORDER BY id",
            &[],
        )
        .await
        .expect("stored rows");
    assert_eq!(rows.len(), history.len(), "history lists every stored row");
    for row in rows {
        let id: String = row.get(0);
        let body: String = row.get(4);
        let snapshot: model::Snapshot = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("stored snapshot {id} does not parse: {e}"));
        assert_eq!(
            model::signature::light_signature_of(&snapshot),
            row.get::<_, String>(1),
            "{id}"
        );
        assert_eq!(
            model::signature::deep_signature(&snapshot),
            row.get::<_, String>(2),
            "{id}"
        );
        assert_eq!(
            snapshot.meta.deep_signature,
            row.get::<_, String>(2),
            "{id}"
        );
        assert_eq!(
            snapshot.tables.len() as i32,
            row.get::<_, i32>(3),
            "{id}: table count"
        );
    }
    assert!(seen.iter().all(|s| s.status == 200));
    let log = server.log();
    assert!(log.contains("could not be persisted"), "{log}");
    // The only process never waits on a read lease: not even one it took before a
    // crash and could not give back.
    assert!(
        !log.contains("another process is reading this catalog"),
        "{log}"
    );
    assert!(!log.contains(harness::PG_PASSWORD));
}
