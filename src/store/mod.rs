//! The persistent tier: one trait, one implementation per backend.
//!
//! Owns saving and loading serialized snapshots by (connection key, schemas). It must
//! never see a credential (keys are already hashed), never decide freshness (the service
//! compares `captured_at` with its max age) and never leave a half-written snapshot
//! visible to a reader.

pub mod dynamodb;
pub mod postgres;

use async_trait::async_trait;
use bytes::Bytes;

/// Which snapshots a row belongs to: a keyed hash of the connection and the normalized
/// schema list. Neither part contains a credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreKey {
    pub connection_key: String,
    /// Normalized schemas (sorted, deduplicated), joined as a JSON array string.
    pub schemas_key: String,
}

impl StoreKey {
    /// A fixed-size name of the schema list (hex SHA-256 of `schemas_key`): what stores
    /// index by, so a long schema list never exceeds a key or index row limit.
    pub fn schemas_hash(&self) -> String {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(self.schemas_key.as_bytes()))
    }
}

/// Summary of a stored snapshot, as history lists it (a wire type).
pub use model::api::SnapshotSummary;

/// A stored snapshot: its summary and its serialized JSON, byte for byte as saved.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub summary: SnapshotSummary,
    pub json: Bytes,
}

/// What to save: the summary fields (id is assigned by the store) and the JSON body.
#[derive(Debug, Clone)]
pub struct NewSnapshot {
    pub workspace_id: Option<String>,
    pub captured_at: String,
    pub signature: String,
    pub deep_signature: String,
    pub table_count: usize,
    pub json: Bytes,
}

/// A store failure. `Display` is the whole story for the service log (the backend's own
/// message included); [`StoreError::public_message`] is what a response may say.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("snapshot store unavailable: {0}")]
    Unavailable(String),
    #[error("snapshot store timed out after {0} ms")]
    Timeout(u64),
    #[error("snapshot store misconfigured: {0}")]
    Misconfigured(String),
    #[error("stored snapshot is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The failure as a response may carry it: its kind, never the backend's message
    /// (which can name tables, indexes or hosts); that goes to the log.
    pub fn public_message(&self) -> String {
        match self {
            StoreError::Unavailable(_) => "snapshot store unavailable".into(),
            StoreError::Timeout(ms) => format!("snapshot store timed out after {ms} ms"),
            StoreError::Misconfigured(_) => {
                "snapshot store misconfigured (the service log says how)".into()
            }
            StoreError::Corrupt(_) => "stored snapshot is corrupt".into(),
        }
    }
}

/// The persistent tier. Every implementation passes the same behaviour suite
/// (`tests/it/store_suite.rs`).
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// Which backend this is (`postgres` or `dynamodb` on the wire).
    fn kind(&self) -> model::api::StoreKind;

    /// The backend's name, for log lines and test messages.
    fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Prepares the backend (runs migrations, checks the table exists). Idempotent.
    async fn prepare(&self) -> Result<(), StoreError>;

    /// The newest snapshot for `key`, if any.
    async fn load_latest(&self, key: &StoreKey) -> Result<Option<StoredSnapshot>, StoreError>;

    /// The newest snapshot's summary, without its body (for drift). Stores override
    /// this when they can read it cheaper than the body.
    async fn latest_summary(&self, key: &StoreKey) -> Result<Option<SnapshotSummary>, StoreError> {
        Ok(self.load_latest(key).await?.map(|s| s.summary))
    }

    /// One snapshot by id, if it exists under `key`.
    async fn load(&self, key: &StoreKey, id: &str) -> Result<Option<StoredSnapshot>, StoreError>;

    /// Saves `snapshot` as the newest for `key` and returns its id. Acknowledged only
    /// once durable; the latest pointer never moves backwards in time.
    ///
    /// An unchanged re-read (the latest's deep signature, captured no earlier) refreshes
    /// the latest in place: same id, its capture time, signatures and body replaced. So
    /// an id, once returned, stays loadable for as long as history keeps its state.
    /// Ids are never reused, and a body is never mixed from two saves.
    async fn save(&self, key: &StoreKey, snapshot: &NewSnapshot) -> Result<String, StoreError>;

    /// The service's connection-key secret when the deployment sets none: the one
    /// stored, or else `candidate`, stored now. Created once, under a condition, so
    /// every process sharing the store agrees on it; never logged or returned.
    async fn shared_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError>;

    /// Moves every snapshot stored under `from` to `to`, keeping ids, when `to` has
    /// none yet (a change of key scheme: history stays reachable). Returns how many
    /// snapshots moved; 0 when `from` is empty or `to` already has snapshots.
    async fn adopt(&self, from: &StoreKey, to: &StoreKey) -> Result<usize, StoreError>;

    /// Tries to take the read lease for `key` for `ttl`: a catalog read of one
    /// (connection, schemas) at a time across every process sharing the store, so a
    /// burst of cold containers does not all hit one customer database. `Ok(true)` when
    /// `holder` now holds it (or the lease had expired). A store without leases always
    /// grants them.
    async fn try_lease(
        &self,
        _key: &StoreKey,
        _holder: &str,
        _ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        Ok(true)
    }

    /// Gives the lease back early (it also expires by itself).
    async fn release_lease(&self, _key: &StoreKey, _holder: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// Summaries newest first; `before` is a `captured_at` cursor (exclusive).
    async fn history(
        &self,
        key: &StoreKey,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Vec<SnapshotSummary>, StoreError>;
}

/// The store the configuration names, or `None` for memory-only.
pub async fn build(
    cfg: &crate::config::Config,
) -> Result<Option<std::sync::Arc<dyn SnapshotStore>>, String> {
    use crate::config::StoreChoice;
    match &cfg.store {
        StoreChoice::None => Ok(None),
        StoreChoice::Postgres { url } => {
            let store = postgres::PostgresStore::new(
                url,
                postgres::PostgresStoreOptions {
                    connect_timeout: cfg.store_timeout,
                    statement_timeout: cfg.store_timeout,
                    keep: cfg.history_keep,
                },
            )
            .map_err(|e| e.to_string())?;
            Ok(Some(std::sync::Arc::new(store)))
        }
        StoreChoice::DynamoDb {
            table,
            endpoint_url,
        } => {
            let store = dynamodb::DynamoStore::new(dynamodb::DynamoStoreOptions {
                table: table.clone(),
                endpoint_url: endpoint_url.clone(),
                region: None,
                credentials: None,
                ttl_days: cfg.dynamodb_ttl_days,
                keep: cfg.history_keep,
                timeout: cfg.store_timeout,
            })
            .await
            .map_err(|e| e.to_string())?;
            if endpoint_url.is_some() {
                // A local emulator starts empty; a deployed table comes from the template.
                if let Err(e) = store.create_table_if_missing().await {
                    tracing::warn!(error = %e, "could not create the DynamoDB table on the emulator");
                }
            }
            Ok(Some(std::sync::Arc::new(store)))
        }
    }
}
