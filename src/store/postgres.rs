//! PostgreSQL snapshot store: the `catalog_snapshots` table of the app database.
//!
//! Owns its one connection (reconnected once when a frozen Lambda container finds it
//! dead), the migrations in `migrations/`, and the retention rule. It must never store a
//! credential (it is handed hashed keys only), never commit half a save (each save is
//! one transaction) and never acknowledge a save before it is durable (its session
//! overrides `synchronous_commit = off`).
//!
//! Rows are found by (connection key, hex SHA-256 of the schema list): fixed-size, so
//! no schema list is too long for an index row (migration 012 added the hash to the rows
//! stored before).
//!
//! Retention: a save whose deep signature equals the latest's (an unchanged re-read)
//! refreshes the latest row in place (same id; capture time, signatures and body
//! replaced), so history holds one entry per distinct state, the latest carries the
//! last read time, and every id handed out stays loadable while its state is kept; at
//! most `keep` entries per (connection, schemas) are kept, older ones are deleted in the
//! same transaction.
//!
//! Errors carry the server's message and SQLSTATE (for the log; responses carry only
//! [`StoreError::public_message`]).

use super::{NewSnapshot, SnapshotStore, SnapshotSummary, StoreError, StoreKey, StoredSnapshot};
use async_trait::async_trait;
use bytes::Bytes;
use model::api::StoreKind;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Row};

/// Migrations, in order. Each is idempotent and independent of the ones it skips: the
/// runner applies every entry whose name is not yet recorded, so a gap in the numbers
/// (012 landing before another series' 011) is fine, and a lower number added later is
/// still applied on a database that already ran a higher one.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "009_catalog_snapshots",
        include_str!("../../migrations/009_catalog_snapshots.sql"),
    ),
    (
        "010_catalog_snapshot_leases",
        include_str!("../../migrations/010_catalog_snapshot_leases.sql"),
    ),
    (
        "012_schema_hash_keys_and_settings",
        include_str!("../../migrations/012_schema_hash_keys_and_settings.sql"),
    ),
];

/// The `catalog_snapshot_settings` row holding a generated connection-key secret.
const SECRET_SETTING: &str = "connection-key-secret";

const SUMMARY_COLUMNS: &str = "id::text AS id, \
    to_char(captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS captured_at, \
    signature, deep_signature, table_count";

#[derive(Debug, Clone)]
pub struct PostgresStoreOptions {
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    /// History entries kept per (connection, schemas).
    pub keep: usize,
}

impl Default for PostgresStoreOptions {
    fn default() -> Self {
        PostgresStoreOptions {
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(10),
            keep: 50,
        }
    }
}

pub struct PostgresStore {
    config: tokio_postgres::Config,
    opts: PostgresStoreOptions,
    client: Mutex<Option<Client>>,
}

/// What went wrong, for the log: the server's message and SQLSTATE for a server error
/// (tokio-postgres alone says only "db error"), else the error and its causes.
/// tokio-postgres errors never include the connection string or password; the row
/// detail a server error may carry (it can hold a whole snapshot) is left out.
pub fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
    }
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

fn unavailable(e: tokio_postgres::Error) -> StoreError {
    StoreError::Unavailable(format!("PostgreSQL store: {}", describe(&e)))
}

impl PostgresStore {
    pub fn new(url: &str, opts: PostgresStoreOptions) -> Result<PostgresStore, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|_| {
            StoreError::Misconfigured("APP_DATABASE_URL is not a valid PostgreSQL URL".into())
        })?;
        config
            .connect_timeout(opts.connect_timeout)
            .application_name("catalog-snapshot-store");
        Ok(PostgresStore {
            config,
            opts,
            client: Mutex::new(None),
        })
    }

    async fn connect(&self) -> Result<Client, StoreError> {
        let timeout = self.opts.connect_timeout;
        let (client, conn) = tokio::time::timeout(timeout, self.config.connect(NoTls))
            .await
            .map_err(|_| StoreError::Timeout(timeout.as_millis() as u64))?
            .map_err(unavailable)?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::warn!(error = %e, "snapshot store connection closed");
            }
        });
        // A save is acknowledged (`saved: true` and its id) only once durable: a server
        // running with `synchronous_commit = off` acknowledges commits it has not yet
        // written to the WAL, and a crash then loses them, and reissues their ids. Every
        // other setting is durable locally and is left alone.
        client
            .batch_execute(&format!(
                "SET statement_timeout = {}; \
                 SELECT pg_catalog.set_config('synchronous_commit', 'on', false) \
                 WHERE pg_catalog.current_setting('synchronous_commit') = 'off'",
                self.opts.statement_timeout.as_millis()
            ))
            .await
            .map_err(unavailable)?;
        Ok(client)
    }
}

/// Runs `$body` with `$c: &mut Client`, connecting first if needed and reconnecting once
/// if the connection died (a frozen container's socket). Bounded by twice the connect
/// timeout plus the statement timeout. A macro rather than a closure-taking function so
/// each body can borrow freely and its future stays `Send`.
macro_rules! with_client {
    ($store:expr, |$c:ident| $body:expr) => {{
        let store: &PostgresStore = $store;
        let budget = store.opts.connect_timeout * 2 + store.opts.statement_timeout;
        let work = async {
            let mut guard = store.client.lock().await;
            let mut attempt = 0;
            loop {
                if guard.as_ref().is_none_or(|c| c.is_closed()) {
                    *guard = Some(store.connect().await?);
                }
                let Some($c) = guard.as_mut() else {
                    return Err(StoreError::Unavailable("no connection".into()));
                };
                let result: Result<_, tokio_postgres::Error> = async { $body }.await;
                match result {
                    Ok(v) => return Ok(v),
                    Err(e) => {
                        let closed = e.is_closed() || $c.is_closed();
                        if closed {
                            *guard = None;
                        }
                        if closed && attempt == 0 {
                            attempt += 1;
                            continue;
                        }
                        return Err(unavailable(e));
                    }
                }
            }
        };
        tokio::time::timeout(budget, work)
            .await
            .map_err(|_| StoreError::Timeout(budget.as_millis() as u64))
            .and_then(|r| r)
    }};
}

fn summary(row: &Row) -> Result<SnapshotSummary, tokio_postgres::Error> {
    Ok(SnapshotSummary {
        id: row.try_get("id")?,
        captured_at: row.try_get("captured_at")?,
        signature: row.try_get("signature")?,
        deep_signature: row.try_get("deep_signature")?,
        table_count: row.try_get::<_, i32>("table_count")?.max(0) as usize,
    })
}

fn stored(row: &Row) -> Result<StoredSnapshot, tokio_postgres::Error> {
    let json: String = row.try_get("snapshot")?;
    Ok(StoredSnapshot {
        summary: summary(row)?,
        json: Bytes::from(json),
    })
}

#[async_trait]
impl SnapshotStore for PostgresStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Postgres
    }

    async fn prepare(&self) -> Result<(), StoreError> {
        with_client!(self, |c| {
            let tx = c.transaction().await?;
            // One migrator at a time across processes.
            tx.batch_execute(
                "SELECT pg_advisory_xact_lock(7411093001);
                 CREATE TABLE IF NOT EXISTS catalog_snapshot_migrations (
                     version text PRIMARY KEY,
                     applied_at timestamptz NOT NULL DEFAULT now())",
            )
            .await?;
            for (version, sql) in MIGRATIONS {
                let done = tx
                    .query_opt(
                        "SELECT 1 FROM catalog_snapshot_migrations WHERE version = $1",
                        &[version],
                    )
                    .await?;
                if done.is_none() {
                    tx.batch_execute(sql).await?;
                    tx.execute(
                        "INSERT INTO catalog_snapshot_migrations (version) VALUES ($1)",
                        &[version],
                    )
                    .await?;
                    tracing::info!(version, "applied migration");
                }
            }
            tx.commit().await
        })
    }

    async fn load_latest(&self, key: &StoreKey) -> Result<Option<StoredSnapshot>, StoreError> {
        let hash = key.schemas_hash();
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, snapshot::text AS snapshot FROM catalog_snapshots \
             WHERE connection_key = $1 AND schemas_hash = $2 \
             ORDER BY captured_at DESC, id DESC LIMIT 1"
        );
        let row = with_client!(self, |c| {
            c.query_opt(&sql, &[&key.connection_key, &hash]).await
        })?;
        row.map(|r| stored(&r))
            .transpose()
            .map_err(|e| StoreError::Corrupt(describe(&e)))
    }

    async fn latest_summary(&self, key: &StoreKey) -> Result<Option<SnapshotSummary>, StoreError> {
        Ok(self.history(key, 1, None).await?.into_iter().next())
    }

    async fn load(&self, key: &StoreKey, id: &str) -> Result<Option<StoredSnapshot>, StoreError> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let hash = key.schemas_hash();
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, snapshot::text AS snapshot FROM catalog_snapshots \
             WHERE connection_key = $1 AND schemas_hash = $2 AND id = $3"
        );
        let row = with_client!(self, |c| {
            c.query_opt(&sql, &[&key.connection_key, &hash, &id]).await
        })?;
        row.map(|r| stored(&r))
            .transpose()
            .map_err(|e| StoreError::Corrupt(describe(&e)))
    }

    async fn save(&self, key: &StoreKey, snap: &NewSnapshot) -> Result<String, StoreError> {
        let keep = self.opts.keep.max(1) as i64;
        let json = std::str::from_utf8(&snap.json)
            .map_err(|_| StoreError::Corrupt("snapshot JSON is not UTF-8".into()))?;
        let table_count = i32::try_from(snap.table_count).unwrap_or(i32::MAX);
        let hash = key.schemas_hash();
        with_client!(self, |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 7411))",
                &[&key.connection_key, &hash],
            )
            .await?;
            // An unchanged re-read, no older than the latest, refreshes it in place: the
            // id the latest was acknowledged with stays the id of this state.
            let refreshed = tx
                .query_opt(
                    "UPDATE catalog_snapshots
                        SET captured_at = $4::text::timestamptz, signature = $5,
                            table_count = $6, snapshot = $7::text::json
                      WHERE id = (
                            SELECT id FROM catalog_snapshots
                             WHERE connection_key = $1 AND schemas_hash = $2
                             ORDER BY captured_at DESC, id DESC LIMIT 1)
                        AND deep_signature = $3
                        AND captured_at <= $4::text::timestamptz
                  RETURNING id::text AS id",
                    &[
                        &key.connection_key,
                        &hash,
                        &snap.deep_signature,
                        &snap.captured_at,
                        &snap.signature,
                        &table_count,
                        &json,
                    ],
                )
                .await?;
            if let Some(row) = refreshed {
                tx.commit().await?;
                return row.try_get::<_, String>("id");
            }
            let row = tx
                .query_one(
                    "INSERT INTO catalog_snapshots (connection_key, schemas_key, schemas_hash,
                         workspace_id, captured_at, signature, deep_signature, table_count,
                         snapshot)
                     VALUES ($1, $2, $3, $4, $5::text::timestamptz, $6, $7, $8, $9::text::json)
                     RETURNING id::text AS id",
                    &[
                        &key.connection_key,
                        &key.schemas_key,
                        &hash,
                        &snap.workspace_id,
                        &snap.captured_at,
                        &snap.signature,
                        &snap.deep_signature,
                        &table_count,
                        &json,
                    ],
                )
                .await?;
            tx.execute(
                "DELETE FROM catalog_snapshots WHERE id IN (
                     SELECT id FROM catalog_snapshots
                     WHERE connection_key = $1 AND schemas_hash = $2
                     ORDER BY captured_at DESC, id DESC OFFSET $3)",
                &[&key.connection_key, &hash, &keep],
            )
            .await?;
            tx.commit().await?;
            row.try_get::<_, String>("id")
        })
    }

    async fn shared_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        let row = with_client!(self, |c| {
            // The first process inserts; every later one (and a concurrent loser) reads
            // the value that won.
            c.execute(
                "INSERT INTO catalog_snapshot_settings (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING",
                &[&SECRET_SETTING, &candidate],
            )
            .await?;
            c.query_one(
                "SELECT value FROM catalog_snapshot_settings WHERE name = $1",
                &[&SECRET_SETTING],
            )
            .await
        })?;
        row.try_get::<_, Vec<u8>>("value").map_err(|e| {
            StoreError::Corrupt(format!("stored connection-key secret: {}", describe(&e)))
        })
    }

    async fn adopt(&self, from: &StoreKey, to: &StoreKey) -> Result<usize, StoreError> {
        let (from_hash, to_hash) = (from.schemas_hash(), to.schemas_hash());
        let moved = with_client!(self, |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 7411))",
                &[&to.connection_key, &to_hash],
            )
            .await?;
            let moved = tx
                .execute(
                    "UPDATE catalog_snapshots
                        SET connection_key = $3, schemas_key = $4, schemas_hash = $5
                      WHERE connection_key = $1 AND schemas_hash = $2
                        AND NOT EXISTS (SELECT 1 FROM catalog_snapshots
                                         WHERE connection_key = $3 AND schemas_hash = $5)",
                    &[
                        &from.connection_key,
                        &from_hash,
                        &to.connection_key,
                        &to.schemas_key,
                        &to_hash,
                    ],
                )
                .await?;
            tx.commit().await?;
            Ok::<u64, tokio_postgres::Error>(moved)
        })?;
        Ok(moved as usize)
    }

    async fn try_lease(
        &self,
        key: &StoreKey,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl_ms = ttl.as_millis().min(i64::MAX as u128) as i64;
        let hash = key.schemas_hash();
        with_client!(self, |c| {
            c.query_opt(
                "INSERT INTO catalog_snapshot_leases AS l (connection_key, schemas_hash, holder, expires_at)
                 VALUES ($1, $2, $3, clock_timestamp() + $4::int8 * interval '1 millisecond')
                 ON CONFLICT (connection_key, schemas_hash) DO UPDATE
                     SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                     WHERE l.expires_at < clock_timestamp() OR l.holder = EXCLUDED.holder
                 RETURNING holder",
                &[&key.connection_key, &hash, &holder, &ttl_ms],
            )
            .await
            .map(|row| row.is_some())
        })
    }

    async fn release_lease(&self, key: &StoreKey, holder: &str) -> Result<(), StoreError> {
        let hash = key.schemas_hash();
        with_client!(self, |c| {
            c.execute(
                "DELETE FROM catalog_snapshot_leases
                 WHERE connection_key = $1 AND schemas_hash = $2 AND holder = $3",
                &[&key.connection_key, &hash, &holder],
            )
            .await
            .map(|_| ())
        })
    }

    async fn history(
        &self,
        key: &StoreKey,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<SnapshotSummary>, StoreError> {
        let limit = limit.clamp(1, 1000) as i64;
        let hash = key.schemas_hash();
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM catalog_snapshots \
             WHERE connection_key = $1 AND schemas_hash = $2 \
               AND ($3::text IS NULL OR captured_at < $3::text::timestamptz) \
             ORDER BY captured_at DESC, id DESC LIMIT $4"
        );
        let rows = with_client!(self, |c| {
            c.query(&sql, &[&key.connection_key, &hash, &before, &limit])
                .await
        })?;
        rows.iter()
            .map(summary)
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Corrupt(describe(&e)))
    }
}
