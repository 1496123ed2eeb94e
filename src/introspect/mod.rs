//! Reading the target catalog (ARCHITECTURE.md, "Where SQL lives").
//!
//! Owns the connection to a customer database and the catalog queries (one `.sql` file
//! per concern, beside this file), run as a fixed number of whole-set `pg_catalog`
//! queries in one read-only REPEATABLE READ transaction, and the assembly of their rows
//! into a [`model::Snapshot`]. It must never write to the target, never issue one query
//! per table, and never put the connection URL or its password into an error or log.
//!
//! - [`connect`]: one connection, bounded by the connect timeout, `application_name` set.
//! - [`read_raw`]: the catalog rows, as little processed as possible ([`RawCatalog`]).
//! - [`assemble`]: rows -> keyed snapshot maps, sealed with its signatures.
//! - [`read_snapshot`] / [`read_tables`]: the two together, for all tables of the schemas
//!   or for a visible-tables subset.

mod assemble;
mod connect;
mod objects;
mod raw;
mod wire;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use assemble::{assemble, assemble_json};
pub use connect::{connect, connect_pinned, TargetClient, UNIFORM_CONNECT_FAILURE};
pub use raw::{
    read_raw, read_raw_with, CatalogQueries, RawCatalog, RawColumn, RawConstraint, RawEnum,
    RawForeignKey, RawIndex, RawRelation, QUERY_COUNT,
};
pub use wire::{WireLimits, ALLOW_UNVERIFIED_PASSWORD};

/// Counts full or partial catalog reads started in this process (exposed on /healthz,
/// used by the single-flight test).
pub static CATALOG_READS: AtomicU64 = AtomicU64::new(0);

pub fn catalog_reads() -> u64 {
    CATALOG_READS.load(Ordering::Relaxed)
}

/// Bounds for talking to a target database.
#[derive(Debug, Clone)]
pub struct TargetOptions {
    pub connect_timeout: Duration,
    pub statement_timeout: Duration,
    pub application_name: String,
    /// How much one read may return.
    pub budget: ReadBudget,
    /// `lock_timeout` of the read's statements (`TARGET_LOCK_TIMEOUT_MS`): a catalog
    /// read waiting on a lock (a migration) gives up after this long.
    pub lock_timeout: Duration,
    /// What one connection may receive (see [`WireLimits`]).
    pub wire: WireLimits,
    /// Target connections this process holds at once (`TARGET_MAX_CONCURRENT_READS`).
    pub max_concurrent_reads: usize,
}

impl TargetOptions {
    /// Defaults for tools and tests: the given timeouts, no read budget, default wire
    /// limits, a 5 s lock timeout (or the statement timeout if shorter).
    pub fn with_timeouts(connect_timeout: Duration, statement_timeout: Duration) -> TargetOptions {
        TargetOptions {
            connect_timeout,
            statement_timeout,
            application_name: "catalog-snapshot".into(),
            budget: ReadBudget::UNLIMITED,
            lock_timeout: statement_timeout.min(Duration::from_secs(5)),
            wire: WireLimits::DEFAULT,
            max_concurrent_reads: 64,
        }
    }
}

/// How much one catalog read may return: counted in the read's first round trip
/// (`probe.sql`), before the column, index and constraint queries run, so an enormous
/// catalog is refused before its rows are fetched ([`IntrospectError::TooLarge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadBudget {
    /// Relations (tables, partitioned tables, views, materialized views, foreign
    /// tables) in the schemas read (`MAX_CATALOG_TABLES`).
    pub max_relations: u64,
    /// Live columns of the relations read (`MAX_CATALOG_COLUMNS`).
    pub max_columns: u64,
}

impl ReadBudget {
    /// No limit: for tools and tests that read catalogs directly.
    pub const UNLIMITED: ReadBudget = ReadBudget {
        max_relations: u64::MAX,
        max_columns: u64::MAX,
    };

    /// The error for a read of `relations` relations and `columns` columns, if that is
    /// over this budget (relations are checked first).
    pub fn exceeded(&self, relations: u64, columns: u64) -> Option<IntrospectError> {
        if relations > self.max_relations {
            Some(IntrospectError::TooLarge {
                what: Counted::Relations,
                count: relations,
                limit: self.max_relations,
            })
        } else if columns > self.max_columns {
            Some(IntrospectError::TooLarge {
                what: Counted::Columns,
                count: columns,
                limit: self.max_columns,
            })
        } else {
            None
        }
    }
}

/// What a [`ReadBudget`] counts, for [`IntrospectError::TooLarge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    Relations,
    Columns,
}

impl Counted {
    /// The configuration variable that sets the limit.
    pub fn variable(self) -> &'static str {
        match self {
            Counted::Relations => "MAX_CATALOG_TABLES",
            Counted::Columns => "MAX_CATALOG_COLUMNS",
        }
    }
}

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Counted::Relations => {
                "relations (tables, partitioned tables, views, materialized views, foreign tables)"
            }
            Counted::Columns => "columns",
        })
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum IntrospectError {
    /// The target refused the connection, or authentication failed. Message has no secrets.
    #[error("could not connect to the target database: {0}")]
    Connect(String),
    #[error("the target database did not answer within {0} ms")]
    Timeout(u64),
    #[error("catalog query failed: {0}")]
    Query(String),
    /// A wrong password, unknown role or database, or a missing privilege: the server's
    /// own message (it names the user or database, never the password).
    #[error("the target database refused the credentials or privileges: {0}")]
    AuthFailed(String),
    /// An unverified server asked for a cleartext or md5 password; it was not sent.
    #[error("{0}")]
    InsecurePassword(String),
    /// The server broke the protocol's bounds (a message over the size limit).
    #[error("{0}")]
    Protocol(String),
    /// The connection received more than the read's byte limit.
    #[error("the target sent more than {0} bytes for one read (TARGET_MAX_READ_BYTES)")]
    ReadTooLarge(u64),
    /// A statement waited on a lock for the whole `lock_timeout` (ms).
    #[error("a catalog query waited {0} ms for a lock held on the target (a migration or another long transaction) and gave up (TARGET_LOCK_TIMEOUT_MS)")]
    LockTimeout(u64),
    /// Every target connection slot of this process stayed taken for the connect timeout.
    #[error("this service is already reading {0} catalogs at once (TARGET_MAX_CONCURRENT_READS); retry shortly")]
    Busy(usize),
    /// Requested schemas that do not exist on the target (names as given).
    #[error("unknown schemas: {0:?}")]
    UnknownSchemas(Vec<String>),
    /// Requested visible tables that do not exist (keys as given).
    #[error("unknown tables: {0:?}")]
    UnknownTables(Vec<String>),
    /// The read would return more than its [`ReadBudget`] allows; nothing was read past
    /// the count.
    #[error("the schemas read hold {count} {what}, more than the limit of {limit} ({})", what.variable())]
    TooLarge {
        what: Counted,
        count: u64,
        limit: u64,
    },
}

/// Reads every table of `schemas` (unquoted schema names) and assembles the snapshot.
///
/// Counts one catalog read. Errors: [`IntrospectError::UnknownSchemas`] when a schema does
/// not exist, [`IntrospectError::TooLarge`] when the schemas hold more than
/// `opts.budget` allows, [`IntrospectError::Timeout`] when a statement or the whole read outlasts
/// its bound, [`IntrospectError::Query`] otherwise. After an error the client may be left
/// inside the read's transaction: drop it.
pub async fn read_snapshot(
    client: &mut tokio_postgres::Client,
    schemas: &[String],
    opts: &TargetOptions,
    captured_at: String,
) -> Result<model::Snapshot, IntrospectError> {
    CATALOG_READS.fetch_add(1, Ordering::Relaxed);
    let raw = read_raw(client, schemas, None, opts).await?;
    Ok(assemble(raw, schemas, captured_at))
}

/// [`read_snapshot`], also returning the snapshot's JSON, made in the same pass as its
/// signatures (what a fresh read serves and stores).
pub async fn read_snapshot_json(
    client: &mut tokio_postgres::Client,
    schemas: &[String],
    opts: &TargetOptions,
    captured_at: String,
) -> Result<(model::Snapshot, Vec<u8>), IntrospectError> {
    CATALOG_READS.fetch_add(1, Ordering::Relaxed);
    let raw = read_raw(client, schemas, None, opts).await?;
    Ok(assemble_json(raw, schemas, captured_at))
}

/// [`read_snapshot_json`], except that requested schemas that do not exist are read as
/// empty: the snapshot's `meta.schemas` still lists every requested schema and
/// `meta.missingSchemas` the missing ones (for a caller that knows the connection had
/// them: they were removed, with everything in them). The read that found them missing
/// committed before returning, so the same client reads the others.
pub async fn read_snapshot_json_removing_missing(
    client: &mut tokio_postgres::Client,
    schemas: &[String],
    opts: &TargetOptions,
    captured_at: String,
) -> Result<(model::Snapshot, Vec<u8>), IntrospectError> {
    match read_snapshot_json(client, schemas, opts, captured_at.clone()).await {
        Err(IntrospectError::UnknownSchemas(mut missing)) => {
            let present: Vec<String> = schemas
                .iter()
                .filter(|s| !missing.contains(s))
                .cloned()
                .collect();
            let (mut snapshot, _) = read_snapshot_json(client, &present, opts, captured_at).await?;
            let mut requested = schemas.to_vec();
            requested.sort_unstable();
            requested.dedup();
            missing.sort_unstable();
            missing.dedup();
            snapshot.meta.schemas = requested;
            snapshot.meta.missing_schemas = missing;
            let json = model::signature::seal_to_json(&mut snapshot);
            Ok((snapshot, json))
        }
        other => other,
    }
}

/// Reads only the tables whose keys (as a snapshot writes them, e.g.
/// `public."Order Items"`) are in `table_keys`, within `schemas`.
///
/// The snapshot holds those tables, their columns, indexes and constraints, every
/// relationship touching one of them on either side (including relationships declared on
/// tables of `schemas` that were not requested), and all enums of `schemas`. Its meta
/// signatures are computed over this subset only; a caller merging it into a full
/// snapshot must seal the merged result again.
///
/// Also returns the requested keys that name no table of `schemas` (in the order given,
/// without duplicates): the caller decides whether that is an error
/// ([`IntrospectError::UnknownTables`] is there for it). Counts one catalog read.
pub async fn read_tables(
    client: &mut tokio_postgres::Client,
    schemas: &[String],
    table_keys: &[String],
    opts: &TargetOptions,
    captured_at: String,
) -> Result<(model::Snapshot, Vec<String>), IntrospectError> {
    CATALOG_READS.fetch_add(1, Ordering::Relaxed);
    let mut raw = read_raw(client, schemas, Some(table_keys), opts).await?;
    let missing = std::mem::take(&mut raw.missing_tables);
    Ok((assemble(raw, schemas, captured_at), missing))
}

/// Whole milliseconds of a duration, for [`IntrospectError::Timeout`].
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
