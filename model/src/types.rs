//! Snapshot types. Maps are `BTreeMap` so serialization is deterministic; keys are names
//! (quoted the way PostgreSQL's `quote_ident` quotes them), never OIDs.
//!
//! Owns the snapshot's camelCase JSON shape, a contract with the web app and with stored
//! snapshots: fields may be added (optional, with `#[serde(default)]`), never renamed or
//! removed. Holds data only: never I/O, never OIDs.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One read of one connection's catalog over a set of schemas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    /// `schema.table` -> table, view, materialized view, foreign or partitioned table.
    pub tables: BTreeMap<String, Table>,
    /// `schema.table.column` -> column.
    pub columns: BTreeMap<String, Column>,
    /// `schema.table.constraint` (the referencing side) -> foreign key.
    pub relationships: BTreeMap<String, Relationship>,
    /// `schema.table.index` -> index.
    #[serde(default)]
    pub indexes: BTreeMap<String, Index>,
    /// `schema.table.constraint` -> primary key, unique, check or exclusion constraint.
    #[serde(default)]
    pub constraints: BTreeMap<String, Constraint>,
    /// `schema.type` -> enum type with its labels in order.
    #[serde(default)]
    pub enums: BTreeMap<String, EnumType>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotMeta {
    /// ISO-8601 UTC time of the last full catalog read this snapshot reflects.
    pub captured_at: String,
    /// The schemas read, normalized (sorted, deduplicated), unquoted names.
    pub schemas: Vec<String>,
    /// `server_version` as the server reports it, e.g. "15.18 (Debian ...)".
    pub server_version: String,
    /// `server_version_num`, e.g. 150018.
    pub server_version_num: i32,
    /// Light v1 signature (see [`crate::signature::light_signature`]).
    pub signature: String,
    /// Deep definition signature (see [`crate::signature::deep_signature`]).
    pub deep_signature: String,
    pub table_count: usize,
    pub column_count: usize,
    pub relationship_count: usize,
    /// Set on a snapshot produced by a visible-tables refresh merged into an earlier one:
    /// the keys of the tables re-read, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_refresh: Option<PartialRefresh>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PartialRefresh {
    pub refreshed_at: String,
    pub tables: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub enum TableKind {
    Table,
    Partitioned,
    View,
    MaterializedView,
    ForeignTable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    /// Schema name as `quote_ident` writes it.
    pub schema: String,
    /// Table name as `quote_ident` writes it.
    pub name: String,
    pub kind: TableKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Planner's row estimate (`reltuples`); `None` when never analyzed. Volatile: not
    /// part of the deep signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_estimate: Option<i64>,
    /// Primary key, when the table has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    /// For a partition: the key of its parent table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<String>,
    /// For a partition: its bound, e.g. `FOR VALUES FROM ('2020-01-01') TO ('2020-02-01')`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_bound: Option<String>,
    /// For a partitioned table: its partition key, e.g. `RANGE (payment_date)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// For a partitioned table: keys of its direct partitions, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<String>,
    /// For a view or materialized view: its definition (`pg_get_viewdef`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_definition: Option<String>,
    /// When a visible-tables refresh last re-read this table (ISO-8601 UTC). Volatile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Identity {
    Always,
    ByDefault,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Generated {
    Stored,
    Virtual,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Column {
    /// Key of the table this column belongs to.
    pub table: String,
    /// Column name as `quote_ident` writes it.
    pub name: String,
    /// 1-based position among the table's live columns (not `attnum`, which keeps gaps
    /// left by dropped columns and so changes across dump and restore).
    pub position: i32,
    /// Exact type as `format_type` writes it, e.g. `numeric(12,2)`, `character varying(40)`.
    pub data_type: String,
    pub nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Generation expression of a generated column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_kind: Option<Generated>,
    /// Collation, when it differs from the type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_primary_key: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_foreign_key: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Relationship {
    /// Constraint name as `quote_ident` writes it.
    pub name: String,
    /// Key of the referencing table.
    pub from_table: String,
    /// Referencing column names, in constraint order.
    pub from_columns: Vec<String>,
    /// Key of the referenced table (may lie outside the schemas read).
    pub to_table: String,
    /// Referenced column names, pairwise with `from_columns`.
    pub to_columns: Vec<String>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
    pub deferrable: bool,
    pub initially_deferred: bool,
    /// `full`, `partial` or `simple`.
    pub match_type: String,
    pub validated: bool,
    /// True when the referencing columns are themselves unique (a primary key or a
    /// non-partial unique index on exactly those columns), so each target row has at
    /// most one referencing row.
    pub one_to_one: bool,
    /// `pg_get_constraintdef`.
    pub definition: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub table: String,
    pub name: String,
    /// `pg_get_indexdef`, schema-qualified.
    pub definition: String,
    pub unique: bool,
    pub primary: bool,
    /// Access method: btree, hash, gin, gist, brin, spgist...
    pub method: String,
    /// Key columns in order; `None` for an expression element.
    pub columns: Vec<Option<String>>,
    /// Non-key (INCLUDE) columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Partial index predicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// True when any key element is an expression.
    #[serde(default, skip_serializing_if = "is_false")]
    pub has_expressions: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    Exclusion,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Constraint {
    pub table: String,
    pub name: String,
    pub kind: ConstraintKind,
    /// Columns the constraint names (empty for a check on an expression of none).
    pub columns: Vec<String>,
    /// `pg_get_constraintdef`.
    pub definition: String,
    pub deferrable: bool,
    pub initially_deferred: bool,
    pub validated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnumType {
    pub schema: String,
    pub name: String,
    /// Labels in their sort order.
    pub labels: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}
