//! PostgreSQL snapshot store: the `catalog_snapshots` table of the app database.
//!
//! Owns its one connection (reconnected once when a frozen Lambda container finds it
//! dead), the migrations in `migrations/`, and the retention rule. It must never store a
//! credential (it is handed hashed keys only), never commit half a save (each save is
//! one transaction) and never acknowledge a save before it is durable (its session
//! overrides `synchronous_commit = off`).
//!
//! Retention: a save whose deep signature equals the latest's (an unchanged re-read)
//! supersedes it, so history holds one entry per distinct state and the latest carries
//! the last read time; at most `keep` entries per (connection, schemas) are kept, older
//! ones are deleted in the same transaction.

use super::{NewSnapshot, SnapshotStore, SnapshotSummary, StoreError, StoreKey, StoredSnapshot};
use async_trait::async_trait;
use bytes::Bytes;
use model::api::StoreKind;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Row};

/// Migrations, in order. Each is idempotent.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "009_catalog_snapshots",
        include_str!("../../migrations/009_catalog_snapshots.sql"),
    ),
    (
        "010_catalog_snapshot_leases",
        include_str!("../../migrations/010_catalog_snapshot_leases.sql"),
    ),
];

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

fn unavailable(e: tokio_postgres::Error) -> StoreError {
    // tokio-postgres errors do not include the connection string or password.
    StoreError::Unavailable(e.to_string())
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
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, snapshot::text AS snapshot FROM catalog_snapshots \
             WHERE connection_key = $1 AND schemas_key = $2 \
             ORDER BY captured_at DESC, id DESC LIMIT 1"
        );
        let row = with_client!(self, |c| {
            c.query_opt(&sql, &[&key.connection_key, &key.schemas_key])
                .await
        })?;
        row.map(|r| stored(&r))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    async fn latest_summary(&self, key: &StoreKey) -> Result<Option<SnapshotSummary>, StoreError> {
        Ok(self.history(key, 1, None).await?.into_iter().next())
    }

    async fn load(&self, key: &StoreKey, id: &str) -> Result<Option<StoredSnapshot>, StoreError> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, snapshot::text AS snapshot FROM catalog_snapshots \
             WHERE connection_key = $1 AND schemas_key = $2 AND id = $3"
        );
        let row = with_client!(self, |c| {
            c.query_opt(&sql, &[&key.connection_key, &key.schemas_key, &id])
                .await
        })?;
        row.map(|r| stored(&r))
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    async fn save(&self, key: &StoreKey, snap: &NewSnapshot) -> Result<String, StoreError> {
        let keep = self.opts.keep.max(1) as i64;
        let json = std::str::from_utf8(&snap.json)
            .map_err(|_| StoreError::Corrupt("snapshot JSON is not UTF-8".into()))?;
        let table_count = i32::try_from(snap.table_count).unwrap_or(i32::MAX);
        with_client!(self, |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1 || chr(31) || $2, 7411))",
                &[&key.connection_key, &key.schemas_key],
            )
            .await?;
            // An unchanged re-read that is newer than the latest supersedes it.
            tx.execute(
                "DELETE FROM catalog_snapshots WHERE id = (
                     SELECT id FROM catalog_snapshots
                     WHERE connection_key = $1 AND schemas_key = $2
                     ORDER BY captured_at DESC, id DESC LIMIT 1)
                 AND deep_signature = $3 AND captured_at <= $4::text::timestamptz",
                &[
                    &key.connection_key,
                    &key.schemas_key,
                    &snap.deep_signature,
                    &snap.captured_at,
                ],
            )
            .await?;
            let row = tx
                .query_one(
                    "INSERT INTO catalog_snapshots (connection_key, schemas_key, workspace_id,
                         captured_at, signature, deep_signature, table_count, snapshot)
                     VALUES ($1, $2, $3, $4::text::timestamptz, $5, $6, $7, $8::text::json)
                     RETURNING id::text AS id",
                    &[
                        &key.connection_key,
                        &key.schemas_key,
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
                     WHERE connection_key = $1 AND schemas_key = $2
                     ORDER BY captured_at DESC, id DESC OFFSET $3)",
                &[&key.connection_key, &key.schemas_key, &keep],
            )
            .await?;
            tx.commit().await?;
            row.try_get::<_, String>("id")
        })
    }

    async fn try_lease(
        &self,
        key: &StoreKey,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let ttl_ms = ttl.as_millis().min(i64::MAX as u128) as i64;
        with_client!(self, |c| {
            c.query_opt(
                "INSERT INTO catalog_snapshot_leases AS l (connection_key, schemas_key, holder, expires_at)
                 VALUES ($1, $2, $3, clock_timestamp() + $4::int8 * interval '1 millisecond')
                 ON CONFLICT (connection_key, schemas_key) DO UPDATE
                     SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                     WHERE l.expires_at < clock_timestamp() OR l.holder = EXCLUDED.holder
                 RETURNING holder",
                &[&key.connection_key, &key.schemas_key, &holder, &ttl_ms],
            )
            .await
            .map(|row| row.is_some())
        })
    }

    async fn release_lease(&self, key: &StoreKey, holder: &str) -> Result<(), StoreError> {
        with_client!(self, |c| {
            c.execute(
                "DELETE FROM catalog_snapshot_leases
                 WHERE connection_key = $1 AND schemas_key = $2 AND holder = $3",
                &[&key.connection_key, &key.schemas_key, &holder],
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
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM catalog_snapshots \
             WHERE connection_key = $1 AND schemas_key = $2 \
               AND ($3::text IS NULL OR captured_at < $3::text::timestamptz) \
             ORDER BY captured_at DESC, id DESC LIMIT $4"
        );
        let rows = with_client!(self, |c| {
            c.query(
                &sql,
                &[&key.connection_key, &key.schemas_key, &before, &limit],
            )
            .await
        })?;
        rows.iter()
            .map(summary)
            .collect::<Result<_, _>>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}
