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
    /// When and from what server it was read, its signatures and counts.
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
    /// `schema.table.trigger` -> trigger (internal and partition-clone triggers left out).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub triggers: BTreeMap<String, Trigger>,
    /// `schema.table.policy` -> row-level security policy.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, Policy>,
    /// `schema.table.rule` -> rewrite rule (a view's own `_RETURN` rule is left out).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, Rule>,
    /// `schema.statistics` -> extended statistics object (`CREATE STATISTICS`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub statistics: BTreeMap<String, Statistics>,
    /// `schema.name(identity argument types)` -> function, procedure, aggregate or window
    /// function, so overloads are distinct.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub functions: BTreeMap<String, Function>,
    /// `schema.sequence` -> sequence (identity sequences are on their column instead).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sequences: BTreeMap<String, Sequence>,
    /// `schema.type` -> domain, composite or range type (enums are in `enums`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub types: BTreeMap<String, UserType>,
    /// `extension` -> extension installed in the database (whatever schemas are read).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extensions: BTreeMap<String, Extension>,
    /// `schema.collation` -> user-defined collation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collations: BTreeMap<String, Collation>,
    /// `schema` -> each schema read that exists (owner, grants, comment). A requested
    /// schema that no longer exists is absent (see `meta.missingSchemas`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub schemas: BTreeMap<String, Schema>,
}

/// What a snapshot was read from and when, with its signatures and counts.
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
    /// Version of the deep signature's format ([`crate::signature::DEEP_VERSION`]); absent
    /// (read as 1) on snapshots stored before versions were recorded.
    #[serde(default = "deep_version_one")]
    pub deep_signature_version: u32,
    /// Requested schemas that no longer exist on the server (unquoted, sorted): read as
    /// removed, with everything in them, because an earlier snapshot had them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_schemas: Vec<String>,
    /// Number of entries in `tables`.
    pub table_count: usize,
    /// Number of entries in `columns`.
    pub column_count: usize,
    /// Number of entries in `relationships`.
    pub relationship_count: usize,
    /// The version of the key-quoting and definition-printing rules the snapshot was
    /// made under ([`crate::normalize::NORMAL_FORM`]); 0 (absent) for snapshots stored
    /// before the rules existed, which [`crate::normalize::migrate`] brings up to date
    /// before they are compared with a newer one.
    #[serde(default)]
    pub normal_form: u32,
    /// Set on a snapshot produced by a visible-tables refresh merged into an earlier one:
    /// the keys of the tables re-read, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_refresh: Option<PartialRefresh>,
}

/// Which tables a visible-tables refresh re-read into an earlier snapshot, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PartialRefresh {
    /// ISO-8601 UTC time of the visible-tables read.
    pub refreshed_at: String,
    /// Keys (`schema.table`) of the tables re-read.
    pub tables: Vec<String>,
}

/// What kind of relation a [`Table`] is (`pg_class.relkind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Default)]
#[serde(rename_all = "camelCase")]
pub enum TableKind {
    /// An ordinary table (`r`).
    #[default]
    Table,
    /// A partitioned table (`p`).
    Partitioned,
    /// A view (`v`).
    View,
    /// A materialized view (`m`).
    MaterializedView,
    /// A foreign table (`f`).
    ForeignTable,
}

impl TableKind {
    /// The kind in words, as people read it: "table", "materialized view"...
    pub fn words(self) -> &'static str {
        match self {
            TableKind::Table => "table",
            TableKind::Partitioned => "partitioned table",
            TableKind::View => "view",
            TableKind::MaterializedView => "materialized view",
            TableKind::ForeignTable => "foreign table",
        }
    }
}

/// A table, view, materialized view, foreign or partitioned table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    /// Schema name as `quote_ident` writes it.
    pub schema: String,
    /// Table name as `quote_ident` writes it.
    pub name: String,
    /// What kind of relation it is.
    pub kind: TableKind,
    /// `COMMENT ON` text, when set.
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
    /// Keys of the parents it inherits from (`INHERITS`, not partitioning), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<String>,
    /// `unlogged` for an unlogged table; absent for a permanent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<String>,
    /// Storage parameters (`WITH (fillfactor=70)`), as `name=value`, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reloptions: Vec<String>,
    /// `nothing`, `full` or `index <name>`; absent for the default (primary key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_identity: Option<String>,
    /// Table access method, when not `heap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_method: Option<String>,
    /// Row-level security is enabled (`ENABLE ROW LEVEL SECURITY`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub rls_enabled: bool,
    /// Row-level security applies to the owner too (`FORCE ROW LEVEL SECURITY`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub rls_forced: bool,
    /// Owner role (quoted as a key part).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Privileges granted beyond the defaults (see [`Grant`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// Default privileges (the owner's) that were revoked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_defaults: Vec<Grant>,
}

/// One privilege held by one role, normalized from an ACL: who holds it, which
/// privilege, and whether they may grant it on. The grantor is left out (it does not
/// change what anybody may do). Lists of grants are sorted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// Role name (quoted as a key part), or `PUBLIC`.
    pub grantee: String,
    /// `SELECT`, `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`, `REFERENCES`, `TRIGGER`,
    /// `MAINTAIN`, `USAGE`, `EXECUTE`, `CREATE`...
    pub privilege: String,
    /// Held `WITH GRANT OPTION`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub grantable: bool,
}

/// A table's primary key constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrimaryKey {
    /// Constraint name, quoted as a key part.
    pub name: String,
    /// Key columns in key order, quoted as key parts.
    pub columns: Vec<String>,
}

/// How an identity column generates values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Identity {
    /// `GENERATED ALWAYS AS IDENTITY`.
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    ByDefault,
}

/// How a generated column stores its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Generated {
    /// `GENERATED ALWAYS AS (...) STORED`.
    Stored,
    /// `GENERATED ALWAYS AS (...) VIRTUAL` (PostgreSQL 18).
    Virtual,
}

/// One column of a table or view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
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
    /// False when the column is `NOT NULL`.
    pub nullable: bool,
    /// Default expression as `pg_get_expr` prints it, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Set on an identity column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Generation expression of a generated column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    /// Set on a generated column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_kind: Option<Generated>,
    /// Collation, when it differs from the type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// `COMMENT ON COLUMN` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// PostgreSQL 18: the column's NOT NULL constraint was added `NOT VALID` and not yet
    /// validated, so NULL rows may exist and `nullable` is still true.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_null_not_valid: bool,
    /// PostgreSQL 18: the column's NOT NULL constraint is `NO INHERIT` (inheritance
    /// children do not get it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_null_no_inherit: bool,
    /// The column is part of the primary key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_primary_key: bool,
    /// The column is part of a foreign key.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_foreign_key: bool,
    /// Column-level privileges (`GRANT SELECT (col) ON ...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// For an identity column: its sequence (never its current value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_sequence: Option<Sequence>,
}

/// A foreign key's `ON DELETE` / `ON UPDATE` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum FkAction {
    /// `NO ACTION` (the default).
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl FkAction {
    /// The action in words, as SQL spells it in lower case: "no action", "set null"...
    pub fn words(self) -> &'static str {
        match self {
            FkAction::NoAction => "no action",
            FkAction::Restrict => "restrict",
            FkAction::Cascade => "cascade",
            FkAction::SetNull => "set null",
            FkAction::SetDefault => "set default",
        }
    }
}

/// A foreign key, seen from the referencing table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
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
    /// `ON DELETE` action.
    pub on_delete: FkAction,
    /// `ON UPDATE` action.
    pub on_update: FkAction,
    /// `DEFERRABLE`.
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`.
    pub initially_deferred: bool,
    /// `full`, `partial` or `simple`.
    pub match_type: String,
    /// False while the key is `NOT VALID`.
    pub validated: bool,
    /// True when the referencing columns are themselves unique (a primary key or a
    /// non-partial unique index on exactly those columns), so each target row has at
    /// most one referencing row.
    pub one_to_one: bool,
    /// `pg_get_constraintdef`.
    pub definition: String,
    /// `COMMENT ON CONSTRAINT` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An index on a table or materialized view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Key of the indexed table (`schema.table`).
    pub table: String,
    /// Index name, quoted as a key part.
    pub name: String,
    /// `pg_get_indexdef`, schema-qualified.
    pub definition: String,
    /// A unique index.
    pub unique: bool,
    /// The index behind the primary key.
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
    /// `COMMENT ON INDEX` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `indisvalid`: false for an index a failed `CREATE INDEX CONCURRENTLY` left
    /// behind, which queries do not use (and which enforces no uniqueness). Written only
    /// when false.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub valid: bool,
    /// `indisready`: false while writes do not yet maintain the index. Written only when
    /// false.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ready: bool,
}

/// An index that is valid and ready (what a plain `CREATE INDEX` leaves), otherwise empty.
impl Default for Index {
    fn default() -> Self {
        Index {
            table: String::new(),
            name: String::new(),
            definition: String::new(),
            unique: false,
            primary: false,
            method: String::new(),
            columns: Vec::new(),
            include: Vec::new(),
            predicate: None,
            has_expressions: false,
            comment: None,
            valid: true,
            ready: true,
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
/// What a [`Constraint`] enforces (`pg_constraint.contype`).
#[serde(rename_all = "camelCase")]
pub enum ConstraintKind {
    /// `PRIMARY KEY`.
    PrimaryKey,
    /// `UNIQUE`.
    Unique,
    /// `CHECK`.
    #[default]
    Check,
    /// `EXCLUDE`.
    Exclusion,
}

/// A primary key, unique, check or exclusion constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Constraint {
    /// Key of the constrained table (`schema.table`).
    pub table: String,
    /// Constraint name, quoted as a key part.
    pub name: String,
    /// What the constraint enforces.
    pub kind: ConstraintKind,
    /// Columns the constraint names (empty for a check on an expression of none).
    pub columns: Vec<String>,
    /// `pg_get_constraintdef`.
    pub definition: String,
    /// `DEFERRABLE`.
    pub deferrable: bool,
    /// `INITIALLY DEFERRED`.
    pub initially_deferred: bool,
    /// False while the constraint is `NOT VALID`.
    pub validated: bool,
    /// `COMMENT ON CONSTRAINT` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// A check constraint that is `NO INHERIT` (inheritance children do not get it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_inherit: bool,
}

/// An enum type with its labels in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnumType {
    /// Schema name, quoted as a key part.
    pub schema: String,
    /// Type name, quoted as a key part.
    pub name: String,
    /// Labels in their sort order.
    pub labels: Vec<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn deep_version_one() -> u32 {
    1
}

/// When a trigger fires relative to the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TriggerTiming {
    /// `BEFORE`.
    Before,
    /// `AFTER`.
    After,
    /// `INSTEAD OF`.
    InsteadOf,
}

/// An event that fires a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TriggerEvent {
    /// `INSERT`.
    Insert,
    /// `UPDATE` (optionally `OF` columns).
    Update,
    /// `DELETE`.
    Delete,
    /// `TRUNCATE`.
    Truncate,
}

/// Whether a trigger fires per row or per statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TriggerLevel {
    /// `FOR EACH ROW`.
    Row,
    /// `FOR EACH STATEMENT`.
    Statement,
}

/// `pg_trigger.tgenabled` (and `pg_rewrite.ev_enabled`): fires in `origin` and `local`
/// sessions (the default), `always`, only in `replica` sessions, or never (`disabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EnabledState {
    /// Fires in origin and local mode (`O`, the default).
    Origin,
    /// Fires always (`A`).
    Always,
    /// Fires in replica mode only (`R`).
    Replica,
    /// Disabled (`D`).
    Disabled,
}

/// A trigger on a table or view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    /// Key of the table (or view) it is on.
    pub table: String,
    /// Trigger name, quoted as a key part.
    pub name: String,
    /// When it fires relative to the event.
    pub timing: TriggerTiming,
    /// Events in the order insert, update, delete, truncate.
    pub events: Vec<TriggerEvent>,
    /// `UPDATE OF` columns, in the trigger's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_columns: Vec<String>,
    /// Per row or per statement.
    pub level: TriggerLevel,
    /// The `WHEN` condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Key of the function called, `schema.name()` (trigger functions take no
    /// declared arguments).
    pub function: String,
    /// Arguments passed to the function, as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// `ENABLE` / `DISABLE` state.
    pub enabled: EnabledState,
    /// A `CREATE CONSTRAINT TRIGGER`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub constraint: bool,
    /// A deferrable constraint trigger.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deferrable: bool,
    /// A constraint trigger `INITIALLY DEFERRED`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub initially_deferred: bool,
    /// `COMMENT ON TRIGGER` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `pg_get_triggerdef`, schema-qualified.
    pub definition: String,
}

/// The command a policy applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PolicyCommand {
    /// `FOR ALL`.
    All,
    /// `FOR SELECT`.
    Select,
    /// `FOR INSERT`.
    Insert,
    /// `FOR UPDATE`.
    Update,
    /// `FOR DELETE`.
    Delete,
}

/// A row-level security policy on a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Key of the table (`schema.table`).
    pub table: String,
    /// Policy name, quoted as a key part.
    pub name: String,
    /// The command it applies to.
    pub command: PolicyCommand,
    /// `true` for `AS PERMISSIVE` (the default), `false` for `AS RESTRICTIVE`.
    pub permissive: bool,
    /// Roles it applies to, sorted; `PUBLIC` for all.
    pub roles: Vec<String>,
    /// `USING` expression, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// `WITH CHECK` expression, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
}

/// A rewrite rule on a table or view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Key of the table (`schema.table`).
    pub table: String,
    /// Rule name, quoted as a key part.
    pub name: String,
    /// `select`, `insert`, `update` or `delete`.
    pub event: String,
    /// `DO INSTEAD`.
    pub instead: bool,
    /// `ENABLE` / `DISABLE` state.
    pub enabled: EnabledState,
    /// `pg_get_ruledef`.
    pub definition: String,
}

/// An extended statistics object (`CREATE STATISTICS`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    /// Schema name, quoted as a key part.
    pub schema: String,
    /// Statistics object name, quoted as a key part.
    pub name: String,
    /// Key of the table the statistics are on.
    pub table: String,
    /// `ndistinct`, `dependencies`, `mcv`, `expressions`, as built.
    pub kinds: Vec<String>,
    /// Statistics target set with `ALTER STATISTICS ... SET STATISTICS`; absent for the
    /// default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<i32>,
    /// `pg_get_statisticsobjdef`.
    pub definition: String,
    /// `COMMENT ON STATISTICS` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// What a [`Function`] is (`pg_proc.prokind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FunctionKind {
    /// A plain function (`f`).
    Function,
    /// A procedure (`p`).
    Procedure,
    /// An aggregate (`a`).
    Aggregate,
    /// A window function (`w`).
    Window,
}

/// A function's volatility class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Volatility {
    /// `IMMUTABLE`.
    Immutable,
    /// `STABLE`.
    Stable,
    /// `VOLATILE` (the default).
    Volatile,
}

/// A function's parallel safety.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ParallelSafety {
    /// `PARALLEL SAFE`.
    Safe,
    /// `PARALLEL RESTRICTED`.
    Restricted,
    /// `PARALLEL UNSAFE` (the default).
    Unsafe,
}

/// A function, procedure, aggregate or window function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    /// Schema name, quoted as a key part.
    pub schema: String,
    /// Function name, quoted as a key part (without arguments).
    pub name: String,
    /// The input argument types that identify it among overloads, e.g. `integer, text`.
    pub identity_arguments: String,
    /// Function, procedure, aggregate or window function.
    pub kind: FunctionKind,
    /// Implementation language, e.g. `plpgsql`, `sql`, `c`.
    pub language: String,
    /// Full argument list (`pg_get_function_arguments`: names, modes, defaults).
    pub arguments: String,
    /// Result type (`pg_get_function_result`); absent for a procedure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Volatility class.
    pub volatility: Volatility,
    /// `STRICT` (returns null on null input).
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict: bool,
    /// `SECURITY DEFINER`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub security_definer: bool,
    /// Parallel safety.
    pub parallel: ParallelSafety,
    /// `LEAKPROOF`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub leakproof: bool,
    /// `SET` options (`search_path=pg_catalog`), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// `COMMENT ON FUNCTION` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// `pg_get_functiondef` (the whole `CREATE FUNCTION`, body included); for an
    /// aggregate, its transition function, state type, final function and initial
    /// condition.
    pub definition: String,
    /// Owning role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Privileges granted beyond the defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// Default privileges that were revoked (e.g. `EXECUTE` from `PUBLIC`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_defaults: Vec<Grant>,
}

/// A sequence (identity sequences are on their column instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sequence {
    /// Schema name, quoted as a key part.
    pub schema: String,
    /// Sequence name, quoted as a key part.
    pub name: String,
    /// `smallint`, `integer` or `bigint`.
    pub data_type: String,
    /// `START WITH`.
    pub start: i64,
    /// `INCREMENT BY`.
    pub increment: i64,
    /// `MINVALUE`.
    pub min: i64,
    /// `MAXVALUE`.
    pub max: i64,
    /// `CACHE`.
    pub cache: i64,
    /// `CYCLE`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cycle: bool,
    /// Key of the column that owns it (`OWNED BY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// `COMMENT ON SEQUENCE` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Owning role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Privileges granted beyond the defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// Default privileges that were revoked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_defaults: Vec<Grant>,
}

/// What a [`UserType`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UserTypeKind {
    /// `CREATE DOMAIN`.
    Domain,
    /// `CREATE TYPE ... AS (...)`.
    Composite,
    /// `CREATE TYPE ... AS RANGE`.
    Range,
}

/// A named constraint of a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainConstraint {
    /// Constraint name, quoted as a key part.
    pub name: String,
    /// `pg_get_constraintdef`.
    pub definition: String,
    /// False while the constraint is `NOT VALID`.
    pub validated: bool,
}

/// An attribute of a composite type, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeAttribute {
    /// Attribute name, quoted as a key part.
    pub name: String,
    /// Attribute type as `format_type` prints it.
    pub data_type: String,
    /// Attribute collation, when not the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// A domain, composite or range type. Fields beyond `kind` belong to one kind each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserType {
    /// Schema name, quoted as a key part.
    pub schema: String,
    /// Type name, quoted as a key part.
    pub name: String,
    /// Domain, composite or range.
    pub kind: UserTypeKind,
    /// Domain: its base type (`format_type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_type: Option<String>,
    /// Domain: default expression, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Domain: `NOT NULL`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_null: bool,
    /// Domain: named check constraints, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<DomainConstraint>,
    /// Composite: attributes in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<TypeAttribute>,
    /// Range: subtype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// Domain or range: collation, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Range: subtype operator class, canonical and subtype-difference functions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype_opclass: Option<String>,
    /// Range: canonical function, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    /// Range: subtype-difference function, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype_diff: Option<String>,
    /// `COMMENT ON TYPE` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Owning role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// An extension installed in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// Extension name.
    pub name: String,
    /// Installed version (`ALTER EXTENSION ... UPDATE` changes it).
    pub version: String,
    /// Schema its objects live in.
    pub schema: String,
}

/// A user-defined collation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collation {
    /// Schema name, quoted as a key part.
    pub schema: String,
    /// Collation name, quoted as a key part.
    pub name: String,
    /// `libc`, `icu`, `builtin` or `default`.
    pub provider: String,
    /// The locale (ICU/builtin) or `LC_COLLATE` (libc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// libc: `LC_CTYPE`, when it differs from `locale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctype: Option<String>,
    /// False for a nondeterministic collation.
    pub deterministic: bool,
    /// ICU tailoring rules (PostgreSQL 16+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    /// `COMMENT ON COLLATION` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A schema that was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// Schema name, quoted as a key part.
    pub name: String,
    /// Owning role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `COMMENT ON SCHEMA` text, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Privileges granted beyond the defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<Grant>,
    /// Default privileges that were revoked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_defaults: Vec<Grant>,
}

fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
}
