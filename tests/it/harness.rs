//! Test harness: a throwaway PostgreSQL cluster (initdb/pg_ctl on a free port in a temp
//! dir), the service binary as a child process, and moto's DynamoDB server.
//!
//! Each is started at most once per test binary and removed when the binary exits, even
//! on panic: a detached watchdog waits for this process to end, then stops the server
//! and deletes its directory. Nothing here is a fake: tests talk to real servers.

#![allow(dead_code)]

use model::api;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// The superuser password of the throwaway cluster. Tests grep responses, logs and stored
/// rows for it: it must never appear there.
pub(crate) const PG_PASSWORD: &str = "Sup3r-Secret-pw_4Harness";

pub(crate) struct Pg {
    pub port: u16,
    /// The server's major version (13 to 18).
    pub major: u32,
    /// Server binaries (initdb, pg_ctl, postgres).
    pub bin: PathBuf,
    /// Client binaries (psql, pg_dump): Debian's, which load SQL into every supported
    /// server; its pg_dump dumps servers up to its own major.
    pub client_bin: PathBuf,
    pub dir: PathBuf,
    /// The test CA that signed the server's certificate (for `localhost` only), when the
    /// cluster runs with TLS (it does whenever `openssl` is installed).
    pub ca_file: Option<PathBuf>,
}

/// Makes a test CA and a server certificate for `localhost` (not for 127.0.0.1), signed
/// by it, in `dir`. Returns false when `openssl` is not available.
fn make_certs(dir: &Path) -> bool {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let ext = "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n";
    std::fs::write(dir.join("server.ext"), ext).is_ok()
        && run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=catalog-snapshot test CA",
        ])
        && run(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ])
        && run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ])
}

static PG: OnceCell<Pg> = OnceCell::const_new();
static DB_SEQ: AtomicU32 = AtomicU32::new(0);

/// The shared cluster of this test binary (Debian's PostgreSQL, `CATSNAP_PG_BIN`).
pub(crate) async fn pg() -> &'static Pg {
    PG.get_or_init(|| async {
        tokio::task::spawn_blocking(|| start_cluster(pg_bin_dir(), true))
            .await
            .expect("start_cluster panicked")
    })
    .await
}

/// Every supported major, oldest first.
pub(crate) const MAJORS: [u32; 6] = [13, 14, 15, 16, 17, 18];

static OTHER_MAJORS: [OnceCell<Pg>; 6] = [const { OnceCell::const_new() }; 6];

/// Server binaries of the other supported majors: `pgNN/native/bin` under
/// `CATSNAP_PG_MAJORS_DIR`, else under `tests/postgres/node_modules` (where
/// scripts/test.sh installs the npm builds pinned in tests/postgres/package.json).
fn major_bin_dir(major: u32) -> Option<PathBuf> {
    let root = std::env::var("CATSNAP_PG_MAJORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/postgres/node_modules")
        });
    let bin = root.join(format!("pg{major}/native/bin"));
    bin.join("postgres").exists().then_some(bin)
}

/// The major version of the server binaries in `bin` (`postgres --version`).
fn server_major(bin: &Path) -> u32 {
    let out = Command::new(bin.join("postgres"))
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("{}/postgres --version: {e}", bin.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .find_map(|w| w.split('.').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no version in {text:?}"))
}

/// A throwaway cluster of each supported major that is installed (all six in CI, where a
/// missing one fails the test; elsewhere the missing ones are named and skipped), oldest
/// first. Debian's cluster is [`pg`]; the others start on first use, without TLS.
pub(crate) async fn clusters() -> Vec<&'static Pg> {
    let main = pg().await;
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for (i, major) in MAJORS.iter().copied().enumerate() {
        if major == main.major {
            out.push(main);
            continue;
        }
        let Some(bin) = major_bin_dir(major) else {
            missing.push(major);
            continue;
        };
        let pg = OTHER_MAJORS[i]
            .get_or_init(|| async move {
                tokio::task::spawn_blocking(move || start_cluster(bin, false))
                    .await
                    .expect("start_cluster panicked")
            })
            .await;
        out.push(pg);
    }
    if !missing.is_empty() {
        skip(&format!(
            "PostgreSQL {missing:?} not installed (scripts/test.sh installs them from npm into tests/postgres)"
        ));
    }
    out
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

pub(crate) fn is_root() -> bool {
    // SAFETY-free check: uid 0 owns /proc/self.
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// PostgreSQL server binaries: `CATSNAP_PG_BIN`, else the newest /usr/lib/postgresql/*/bin.
pub(crate) fn pg_bin_dir() -> PathBuf {
    if let Ok(p) = std::env::var("CATSNAP_PG_BIN") {
        return PathBuf::from(p);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is not installed: no /usr/lib/postgresql (run scripts/test.sh, which installs it)")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no PostgreSQL server binaries under /usr/lib/postgresql")
        .1
}

/// Runs a PostgreSQL binary as the `postgres` OS user when we are root (initdb and the
/// server refuse to run as root).
pub(crate) fn pg_command(bin: &Path, name: &str) -> Command {
    let exe = bin.join(name);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

pub(crate) fn run_ok(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Kills `cleanup` (a shell snippet) once this process has exited.
pub(crate) fn watchdog(cleanup: &str) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {cleanup}",
        pid = std::process::id()
    );
    let _ = Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

fn start_cluster(bin: PathBuf, want_tls: bool) -> Pg {
    let major = server_major(&bin);
    let dir = tempfile::Builder::new()
        .prefix(&format!("catsnap-pg{major}-"))
        .tempdir()
        .expect("tempdir")
        .keep();
    let data = dir.join("data");
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, PG_PASSWORD).expect("write pwfile");
    let tls = want_tls && make_certs(&dir);
    if tls {
        let key = dir.join("server.key");
        let _ = std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600));
    } else if want_tls {
        eprintln!("openssl not found: the test cluster runs without TLS and TLS tests skip");
    }
    if is_root() {
        run_ok(
            {
                let mut c = Command::new("chown");
                c.args(["-R", "postgres:postgres"]).arg(&dir);
                c
            },
            "chown",
        );
    }
    let mut initdb = pg_command(&bin, "initdb");
    initdb
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ])
        .args(["--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        .arg(format!("--pwfile={}", pwfile.display()));
    run_ok(initdb, "initdb");
    let port = free_port();
    let mut opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
         -c synchronous_commit=off -c max_connections=300 -c shared_buffers=128MB",
        dir.display()
    );
    if tls {
        opts.push_str(&format!(
            " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
            dir.display()
        ));
    }
    let mut ctl = pg_command(&bin, "pg_ctl");
    ctl.arg("-D")
        .arg(&data)
        .arg("-o")
        .arg(&opts)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-w", "-t", "60", "start"]);
    run_ok(ctl, "pg_ctl start");
    let runas = if is_root() {
        "runuser -u postgres -- "
    } else {
        ""
    };
    watchdog(&format!(
        "{runas}{} -D '{}' -m immediate stop; rm -rf '{}'",
        bin.join("pg_ctl").display(),
        data.display(),
        dir.display()
    ));
    let ca_file = tls.then(|| dir.join("ca.crt"));
    Pg {
        port,
        major,
        bin,
        client_bin: pg_bin_dir(),
        dir,
        ca_file,
    }
}

pub(crate) struct TestDb {
    pub name: String,
    pub url: String,
}

impl Pg {
    /// `postgres://postgres:PASSWORD@127.0.0.1:PORT/db`
    pub(crate) fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres:{PG_PASSWORD}@127.0.0.1:{}/{db}",
            self.port
        )
    }

    pub(crate) fn bin(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// Whether the client's pg_dump can dump this server (pg_dump refuses newer servers).
    pub(crate) fn can_dump(&self) -> bool {
        self.major <= server_major(&self.client_bin)
    }

    /// A command for a client binary (psql, pg_dump...) with the connection set in env.
    pub(crate) fn client_command(&self, name: &str) -> Command {
        let mut c = Command::new(self.client_bin.join(name));
        c.env("PGHOST", "127.0.0.1")
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", "postgres")
            .env("PGPASSWORD", PG_PASSWORD);
        c
    }

    /// Creates a fresh, uniquely named database.
    pub(crate) async fn create_db(&self, prefix: &str) -> TestDb {
        let name = format!(
            "{}_{}_{}",
            prefix.to_lowercase(),
            std::process::id(),
            DB_SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let admin = connect(&self.url("postgres")).await;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create database");
        TestDb {
            url: self.url(&name),
            name,
        }
    }

    /// Drops the database `name` (closing any session still on it), so a test that loads
    /// large schemas on several servers gives the disk back as it goes. Best effort: a
    /// failure is printed, and the cluster's temp dir is removed at exit anyway.
    pub(crate) async fn drop_db(&self, name: &str) {
        let admin = connect(&self.url("postgres")).await;
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        if let Err(e) = admin.batch_execute(&sql).await {
            eprintln!("{sql} on {}: {e}", self.major);
        }
    }

    /// Runs `psql -f file` against `db` without stopping at errors (as a restore of a
    /// dump is usually run), returning the `ERROR:` lines it printed.
    pub(crate) fn psql_file_lenient(&self, db: &str, file: &Path) -> Result<Vec<String>, String> {
        let out = self
            .client_command("psql")
            .args(["-X", "-q", "-d", db, "-f"])
            .arg(file)
            .output()
            .map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| l.contains("ERROR:"))
            .map(str::to_string)
            .collect())
    }

    /// Runs `psql -v ON_ERROR_STOP=1 -f file` against `db`.
    pub(crate) fn psql_file(&self, db: &str, file: &Path) -> Result<(), String> {
        let out = self
            .client_command("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-f"])
            .arg(file)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

pub(crate) async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to test cluster: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

impl TestDb {
    pub(crate) async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }

    pub(crate) async fn exec(&self, sql: &str) {
        self.client()
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// True under CI (`CI` set to anything but empty, `0` or `false`; GitHub Actions, GitLab
/// and `.ci/run` set `CI=true`), where every tool a test needs is installed.
pub(crate) fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Says why a test cannot run here; the caller then returns. Locally that is a skip
/// with its reason printed. Under CI a missing moto, `../shared`, node or openssl is a
/// broken setup, not a pass: this fails the test.
#[track_caller]
pub(crate) fn skip(reason: &str) {
    assert!(
        !in_ci(),
        "cannot run under CI (CI is set, so a skip would hide a broken setup): {reason}"
    );
    eprintln!("skipping: {reason}");
}

/// A snapshot response read through the wire contract ([`api::Served`]): the test fails
/// if the response does not parse as the contract says.
pub(crate) fn served(response: &serde_json::Value) -> api::Served {
    serde_json::from_value(response.clone())
        .unwrap_or_else(|e| panic!("response does not match model::api::Served ({e}): {response}"))
}

/// `../shared` beside the project, or `CATSNAP_SHARED_DIR`; `None` (and the caller
/// says why it skips, see [`skip`]) on a clone without it.
pub(crate) fn shared_dir() -> Option<PathBuf> {
    let p = std::env::var("CATSNAP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    p.is_dir().then_some(p)
}

/// The service binary running as a local server, killed on drop. Its stdout and stderr go
/// to `log_path` so tests can read what it logged.
pub(crate) struct Server {
    pub base: String,
    pub port: u16,
    pub log_path: PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Environment that points the service at moto's DynamoDB (table `table`), or
    /// `None` when moto is not installed.
    pub(crate) async fn dynamodb_env(table: &str) -> Option<Vec<(String, String)>> {
        let moto = moto().await?;
        Some(vec![
            ("SNAPSHOT_STORE".into(), "dynamodb".into()),
            ("SNAPSHOT_TABLE".into(), table.into()),
            ("AWS_ENDPOINT_URL".into(), moto.endpoint.clone()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
        ])
    }

    /// Starts the service with `env` (on top of a clean environment with PATH and the
    /// port) and waits until /healthz answers.
    pub(crate) async fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let log_path = dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).expect("log file");
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_catalog-snapshot"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", port.to_string())
            .env("RUST_LOG", "info")
            // Tests count catalog reads on /healthz.
            .env("HEALTH_COUNTERS", "true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn service");
        let base = format!("http://127.0.0.1:{port}");
        let server = Server {
            base,
            port,
            log_path,
            child,
            _dir: dir,
        };
        let client = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if let Ok(r) = client.get(server.url(api::HEALTH_PATH)).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "service did not come up: {}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The service's process id (for /proc figures).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// POSTs JSON to `path`, returning the status and the body parsed as JSON.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = reqwest::Client::new()
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {text}"));
        (status, json)
    }

    /// POSTs raw bytes with a JSON content type, returning status and raw body.
    pub(crate) async fn post_raw(&self, path: &str, body: &str) -> (u16, String) {
        let r = reqwest::Client::new()
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// moto's DynamoDB server, started once per test binary on a free port. `None` (and the
/// caller prints why it skips) when `moto_server` is not installed; scripts/test.sh
/// installs it into .venv and sets `CATSNAP_MOTO_SERVER`.
pub(crate) struct Moto {
    pub endpoint: String,
    /// Killed by the watchdog when this test binary exits.
    _child: std::process::Child,
}

static MOTO: OnceCell<Option<Moto>> = OnceCell::const_new();

pub(crate) fn moto_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("CATSNAP_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.exists() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("moto_server"))
            .find(|p| p.exists())
    })
}

pub(crate) async fn moto() -> Option<&'static Moto> {
    MOTO.get_or_init(|| async {
        let bin = moto_binary()?;
        let port = free_port();
        // moto's app behind scripts/moto_serial.py (one request at a time, as DynamoDB
        // applies each atomically), run by the Python beside moto_server; moto_server
        // itself when that Python is not there.
        let python = bin.with_file_name("python");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/moto_serial.py");
        let mut command = if python.exists() {
            let mut c = Command::new(&python);
            c.arg(&script).args(["127.0.0.1", &port.to_string()]);
            c
        } else {
            let mut c = Command::new(&bin);
            c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            c
        };
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        watchdog(&format!("kill {} 2>/dev/null", child.id()));
        let endpoint = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto_server did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Some(Moto {
            endpoint,
            _child: child,
        })
    })
    .await
    .as_ref()
}
