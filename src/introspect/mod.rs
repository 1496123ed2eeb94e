//! Reading the target catalog (DESIGN.md §5).
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
#[cfg(test)]
mod bench;
mod connect;
mod raw;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use assemble::{assemble, assemble_json};
pub use connect::{connect, connect_pinned};
pub use raw::{
    read_raw, RawCatalog, RawColumn, RawConstraint, RawEnum, RawForeignKey, RawIndex, RawRelation,
    QUERY_COUNT,
};

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
    /// Requested schemas that do not exist on the target (names as given).
    #[error("unknown schemas: {0:?}")]
    UnknownSchemas(Vec<String>),
    /// Requested visible tables that do not exist (keys as given).
    #[error("unknown tables: {0:?}")]
    UnknownTables(Vec<String>),
}

/// Reads every table of `schemas` (unquoted schema names) and assembles the snapshot.
///
/// Counts one catalog read. Errors: [`IntrospectError::UnknownSchemas`] when a schema does
/// not exist, [`IntrospectError::Timeout`] when a statement or the whole read outlasts
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
