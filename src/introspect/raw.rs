//! The catalog queries and their rows.
//!
//! Owns the transaction a catalog read runs in and the decoding of each query's rows into
//! plain structs ([`RawCatalog`]), as little processed as possible. It must never issue a
//! query per table or per row, never write, and never leave the read half-done and look
//! successful: any failing query fails the whole read.
//!
//! The read is two pipelined round trips on one connection (tokio-postgres pipelines
//! requests that are in flight together; each query is sent with its parameter types, so
//! it costs no separate prepare round trip):
//!
//! 1. `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`, the pinned settings
//!    ([`PINNED_SETTINGS`]) and `SET LOCAL statement_timeout = N`, then `probe.sql` (server version, unknown
//!    schemas, and the relation and column counts the read budget is checked against),
//!    `tables.sql` (the relations of the schemas, filtered by name on `pg_namespace`,
//!    with their OIDs, at most one row past the relation budget) and `enums.sql`.
//! 2. Only when the schemas exist and the counts are within the budget:
//!    `columns.sql`, `indexes.sql`, `constraints.sql` and `foreign_keys.sql`, filtered by
//!    the OID arrays from step 1 (the visible relations, and for foreign keys also every
//!    relation of the schemas), then `COMMIT`.
//!
//! Resolving the relation set once (step 1) and passing OIDs, instead of repeating the
//! namespace and extension filters in each query, and returning attribute numbers that
//! [`super::assemble`] resolves against the column rows, instead of resolving names with
//! a sub-select per constraint or index, roughly halves the server time on a 2,000-table
//! catalog. Names are still resolved in SQL (`unnest ... WITH ORDINALITY`) for a foreign
//! key side whose columns this read does not return.
//!
//! Rows are decoded by column name: the `AS name` aliases in the `.sql` files are the
//! contract with the decoders here ([`CatalogQueries`]).
//!
//! OIDs appear in these rows only to join them; they never reach a snapshot key.

use super::connect::describe;
use super::objects::{self as obj, RawObjects};
use super::{millis, IntrospectError, TargetOptions};
use futures::TryStreamExt;
use std::borrow::Cow;
use std::collections::HashSet;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::{Client, Row};

/// The text of each catalog query a read runs, one `.sql` file per concern.
///
/// Rows are decoded by column name: the `AS name` aliases of each file are its contract
/// with the decoders below, so reordering a `SELECT` list (or adding a column) cannot
/// shift a value into the wrong field; a column that is missing fails the read naming it.
/// [`CatalogQueries::STANDARD`] is what the service runs; [`read_raw_with`] takes other
/// texts so a test can run the same read with each `SELECT` rewritten and prove it.
#[derive(Debug, Clone)]
pub struct CatalogQueries {
    pub probe: Cow<'static, str>,
    pub tables: Cow<'static, str>,
    pub enums: Cow<'static, str>,
    pub columns: Cow<'static, str>,
    pub indexes: Cow<'static, str>,
    pub constraints: Cow<'static, str>,
    pub foreign_keys: Cow<'static, str>,
    pub triggers: Cow<'static, str>,
    pub policies: Cow<'static, str>,
    pub rules: Cow<'static, str>,
    pub statistics: Cow<'static, str>,
    pub table_attributes: Cow<'static, str>,
    pub column_grants: Cow<'static, str>,
    pub object_comments: Cow<'static, str>,
    pub functions: Cow<'static, str>,
    pub sequences: Cow<'static, str>,
    pub types: Cow<'static, str>,
    pub extensions: Cow<'static, str>,
    pub collations: Cow<'static, str>,
    pub schemas: Cow<'static, str>,
}

impl CatalogQueries {
    /// The `.sql` files beside this module.
    pub const STANDARD: CatalogQueries = CatalogQueries {
        probe: Cow::Borrowed(include_str!("probe.sql")),
        tables: Cow::Borrowed(include_str!("tables.sql")),
        enums: Cow::Borrowed(include_str!("enums.sql")),
        columns: Cow::Borrowed(include_str!("columns.sql")),
        indexes: Cow::Borrowed(include_str!("indexes.sql")),
        constraints: Cow::Borrowed(include_str!("constraints.sql")),
        foreign_keys: Cow::Borrowed(include_str!("foreign_keys.sql")),
        triggers: Cow::Borrowed(obj::TRIGGERS_SQL),
        policies: Cow::Borrowed(obj::POLICIES_SQL),
        rules: Cow::Borrowed(obj::RULES_SQL),
        statistics: Cow::Borrowed(obj::STATISTICS_SQL),
        table_attributes: Cow::Borrowed(obj::TABLE_ATTRIBUTES_SQL),
        column_grants: Cow::Borrowed(obj::COLUMN_GRANTS_SQL),
        object_comments: Cow::Borrowed(obj::OBJECT_COMMENTS_SQL),
        functions: Cow::Borrowed(obj::FUNCTIONS_SQL),
        sequences: Cow::Borrowed(obj::SEQUENCES_SQL),
        types: Cow::Borrowed(obj::TYPES_SQL),
        extensions: Cow::Borrowed(obj::EXTENSIONS_SQL),
        collations: Cow::Borrowed(obj::COLLATIONS_SQL),
        schemas: Cow::Borrowed(obj::SCHEMAS_SQL),
    };

    /// Every query text, mutably (for tests that rewrite them).
    pub fn texts_mut(&mut self) -> [&mut Cow<'static, str>; QUERY_COUNT] {
        [
            &mut self.probe,
            &mut self.tables,
            &mut self.enums,
            &mut self.columns,
            &mut self.indexes,
            &mut self.constraints,
            &mut self.foreign_keys,
            &mut self.triggers,
            &mut self.policies,
            &mut self.rules,
            &mut self.statistics,
            &mut self.table_attributes,
            &mut self.column_grants,
            &mut self.object_comments,
            &mut self.functions,
            &mut self.sequences,
            &mut self.types,
            &mut self.extensions,
            &mut self.collations,
            &mut self.schemas,
        ]
    }
}

/// The number of catalog queries one read runs (besides BEGIN/SET and COMMIT).
pub const QUERY_COUNT: usize = 7 + super::objects::OBJECT_QUERY_COUNT;

/// Everything one catalog read returned. Identifiers are quoted by the one rule of
/// [`model::keys`] (the queries quote with the server's `quote_ident`; the decoders
/// re-quote); definitions are as the server printed them; `"char"` catalog codes are
/// kept as bytes.
#[derive(Debug, Clone, Default)]
pub struct RawCatalog {
    /// `server_version`, e.g. `15.18 (Debian 15.18-1.pgdg120+1)`.
    pub server_version: String,
    /// `server_version_num`, e.g. 150018.
    pub server_version_num: i32,
    /// Every relation of the schemas read; only those with `visible` set were read in full
    /// (all of them in a full read).
    pub relations: Vec<RawRelation>,
    /// Live columns of the visible relations, in no particular order.
    pub columns: Vec<RawColumn>,
    pub indexes: Vec<RawIndex>,
    pub constraints: Vec<RawConstraint>,
    pub foreign_keys: Vec<RawForeignKey>,
    pub enums: Vec<RawEnum>,
    /// Triggers, policies, rules, statistics, table attributes and privileges of the
    /// visible relations; functions, sequences, types, extensions, collations and
    /// schemas of the schemas read.
    pub objects: RawObjects,
    /// For a visible-tables read: requested keys that name no relation of the schemas
    /// read, in the order given, without duplicates. Empty for a full read.
    pub missing_tables: Vec<String>,
}

/// A row of `tables.sql`. Fields after `relkind` are filled for visible relations only.
#[derive(Debug, Clone)]
pub struct RawRelation {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub visible: bool,
    /// `pg_class.relkind`: `r`, `p`, `v`, `m` or `f`.
    pub relkind: u8,
    pub comment: Option<String>,
    /// `reltuples`, `None` when never analyzed (and for views).
    pub row_estimate: Option<f32>,
    pub partition_of: Option<String>,
    pub partition_bound: Option<String>,
    pub partition_key: Option<String>,
    /// Keys of the direct partitions of a partitioned table, unsorted.
    pub partitions: Option<Vec<String>>,
    pub view_definition: Option<String>,
}

/// A row of `columns.sql`.
#[derive(Debug, Clone)]
pub struct RawColumn {
    pub relid: u32,
    pub attnum: i16,
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    /// The default, or the generation expression when `generated` is not 0.
    pub expr: Option<String>,
    /// `attidentity`: `a`, `d` or 0.
    pub identity: u8,
    /// `attgenerated`: `s`, `v` (PostgreSQL 18) or 0.
    pub generated: u8,
    pub collation: Option<String>,
    pub comment: Option<String>,
    /// PostgreSQL 18: the column's NOT NULL constraint is NOT VALID (`nullable` is then
    /// true).
    pub not_null_not_valid: bool,
    /// PostgreSQL 18: the column's NOT NULL constraint is NO INHERIT.
    pub not_null_no_inherit: bool,
}

/// A row of `indexes.sql`.
#[derive(Debug, Clone)]
pub struct RawIndex {
    pub relid: u32,
    pub name: String,
    pub definition: String,
    pub unique: bool,
    pub primary: bool,
    pub valid: bool,
    pub ready: bool,
    pub method: String,
    /// The first `nkeyatts` of `attnums` are key columns, the rest INCLUDE columns.
    pub nkeyatts: i16,
    /// 0 for an expression element.
    pub attnums: Vec<i16>,
    pub predicate: Option<String>,
    pub has_expressions: bool,
}

/// A row of `constraints.sql`.
#[derive(Debug, Clone)]
pub struct RawConstraint {
    pub relid: u32,
    pub name: String,
    /// `contype`: `p`, `u`, `c` or `x`.
    pub contype: u8,
    /// `conkey`; 0 for an expression element of an exclusion constraint.
    pub attnums: Vec<i16>,
    pub definition: String,
    pub deferrable: bool,
    pub initially_deferred: bool,
    pub validated: bool,
    pub no_inherit: bool,
}

/// A row of `foreign_keys.sql`.
#[derive(Debug, Clone)]
pub struct RawForeignKey {
    pub relid: u32,
    pub ref_relid: u32,
    pub name: String,
    pub attnums: Vec<i16>,
    pub ref_attnums: Vec<i16>,
    /// Names of the referencing columns when the referencing table is not visible.
    pub from_names: Option<Vec<String>>,
    /// Names of the referenced columns when the referenced table is not visible.
    pub to_names: Option<Vec<String>>,
    pub to_table: String,
    /// `confdeltype`, `confupdtype`: `a`, `r`, `c`, `n`, `d`.
    pub on_delete: u8,
    pub on_update: u8,
    /// `confmatchtype`: `f`, `p`, `s`.
    pub match_type: u8,
    pub deferrable: bool,
    pub initially_deferred: bool,
    pub validated: bool,
    pub definition: String,
    /// Computed in SQL when the referencing table is not visible; else `None`.
    pub one_to_one: Option<bool>,
}

/// A row of `enums.sql`.
#[derive(Debug, Clone)]
pub struct RawEnum {
    pub schema: String,
    pub name: String,
    pub labels: Vec<String>,
}

/// Every setting that changes how the catalog prints, pinned for the read's own
/// transaction (`SET LOCAL`), whatever the database, role or server defaults are:
/// timestamps, dates and intervals in defaults, partition bounds, index predicates and
/// view definitions (`TimeZone`, `DateStyle`, `IntervalStyle`), floating-point constants
/// (`extra_float_digits`), `bytea` and `money` constants (`bytea_output`, `lc_monetary`),
/// string literals with backslashes (`standard_conforming_strings`), and identifier
/// quoting (`quote_all_identifiers`); names in expressions are schema-qualified under
/// the empty `search_path`.
pub(super) const PINNED_SETTINGS: &str = "SET LOCAL search_path = ''; SET LOCAL TimeZone = 'UTC'; \
    SET LOCAL DateStyle = 'ISO, MDY'; SET LOCAL IntervalStyle = 'postgres'; \
    SET LOCAL extra_float_digits = 1; SET LOCAL bytea_output = 'hex'; \
    SET LOCAL lc_monetary = 'C'; SET LOCAL standard_conforming_strings = on; \
    SET LOCAL quote_all_identifiers = off;";

/// The schema and table names (unquoted) of a table key, `None` when it is not two parts.
fn split_table_key(key: &str) -> Option<(String, String)> {
    let parts = model::keys::split_key(key)?;
    let [schema, table] = parts.as_slice() else {
        return None;
    };
    Some((
        model::keys::unquote_part(schema)?.into_owned(),
        model::keys::unquote_part(table)?.into_owned(),
    ))
}

/// Runs the catalog queries for `schemas` (unquoted names) in one read-only REPEATABLE
/// READ transaction under an empty `search_path`, with `opts.statement_timeout` per
/// statement and, as a backstop against a stalled network, statement plus connect
/// timeout for the whole read.
///
/// `tables`: `None` reads every table; `Some(keys)` reads only the tables with those keys
/// (as a snapshot writes them), plus every foreign key touching them on either side and
/// all enums. Requested keys that name no table come back in
/// [`RawCatalog::missing_tables`] rather than as an error.
///
/// Takes the client by `&mut` so nothing else runs on it inside the transaction. After an
/// error the client may still be inside the transaction: drop it.
pub async fn read_raw(
    client: &mut Client,
    schemas: &[String],
    tables: Option<&[String]>,
    opts: &TargetOptions,
) -> Result<RawCatalog, IntrospectError> {
    read_raw_with(client, &CatalogQueries::STANDARD, schemas, tables, opts).await
}

/// [`read_raw`] with the given query texts instead of [`CatalogQueries::STANDARD`]. Each
/// text must return the columns its file declares, by name, in any order.
pub async fn read_raw_with(
    client: &mut Client,
    queries: &CatalogQueries,
    schemas: &[String],
    tables: Option<&[String]>,
    opts: &TargetOptions,
) -> Result<RawCatalog, IntrospectError> {
    let limit = opts.statement_timeout + opts.connect_timeout;
    let read = read_in_transaction(client, queries, schemas, tables, opts);
    match tokio::time::timeout(limit, read).await {
        Ok(result) => result,
        Err(_) => Err(IntrospectError::Timeout(millis(limit))),
    }
}

async fn read_in_transaction(
    client: &Client,
    queries: &CatalogQueries,
    schemas: &[String],
    tables: Option<&[String]>,
    opts: &TargetOptions,
) -> Result<RawCatalog, IntrospectError> {
    let result = read_queries(client, queries, schemas, tables, opts).await;
    if result.is_err() {
        // Best effort: the transaction may still be open (an error in the first round
        // trip). Harmless when it is not.
        let _ = client.batch_execute("ROLLBACK").await;
    }
    result
}

async fn read_queries(
    client: &Client,
    queries: &CatalogQueries,
    schemas: &[String],
    tables: Option<&[String]>,
    opts: &TargetOptions,
) -> Result<RawCatalog, IntrospectError> {
    let err = |e: tokio_postgres::Error| map_error(e, opts);
    let begin = format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {PINNED_SETTINGS} \
         SET LOCAL statement_timeout = {}; SET LOCAL lock_timeout = {}",
        millis(opts.statement_timeout),
        millis(opts.lock_timeout).max(1)
    );
    let budget = opts.budget;
    let max_relations = i64::try_from(budget.max_relations).unwrap_or(i64::MAX);
    let max_columns = i64::try_from(budget.max_columns).unwrap_or(i64::MAX);
    // tables.sql fetches at most one row past the relation budget.
    let row_limit: Option<i64> = max_relations.checked_add(1);
    let schemas_param: &(dyn ToSql + Sync) = &schemas;
    // A visible-tables read matches relations by name: the keys, split into their
    // schema and table names, as two parallel arrays (NULL for a full read).
    let (table_schemas, table_names): (Option<Vec<String>>, Option<Vec<String>>) = match tables {
        None => (None, None),
        Some(keys) => {
            let (s, t) = keys.iter().filter_map(|k| split_table_key(k)).unzip();
            (Some(s), Some(t))
        }
    };
    let table_schemas_param: &(dyn ToSql + Sync) = &table_schemas;
    let table_names_param: &(dyn ToSql + Sync) = &table_names;
    let limit_param: &(dyn ToSql + Sync) = &row_limit;
    let max_relations_param: &(dyn ToSql + Sync) = &max_relations;
    let max_columns_param: &(dyn ToSql + Sync) = &max_columns;
    let by_schemas = [(schemas_param, Type::TEXT_ARRAY)];
    let by_schemas_tables_budget = [
        (schemas_param, Type::TEXT_ARRAY),
        (table_schemas_param, Type::TEXT_ARRAY),
        (table_names_param, Type::TEXT_ARRAY),
        (max_relations_param, Type::INT8),
        (max_columns_param, Type::INT8),
    ];
    let by_schemas_tables_limit = [
        (schemas_param, Type::TEXT_ARRAY),
        (table_schemas_param, Type::TEXT_ARRAY),
        (table_names_param, Type::TEXT_ARRAY),
        (limit_param, Type::INT8),
    ];

    // Round trip 1.
    let (_, probe, relations, enums) = futures::try_join!(
        async { client.batch_execute(&begin).await.map_err(err) },
        fetch(
            client,
            &queries.probe,
            &by_schemas_tables_budget,
            1,
            decode_probe,
            opts
        ),
        fetch(
            client,
            &queries.tables,
            &by_schemas_tables_limit,
            256,
            decode_relation,
            opts
        ),
        fetch(client, &queries.enums, &by_schemas, 16, decode_enum, opts),
    )?;
    let Some(probe) = probe.into_iter().next() else {
        return Err(IntrospectError::Query(
            "the version probe returned no row".into(),
        ));
    };
    if !probe.missing_schemas.is_empty() {
        client.batch_execute("COMMIT").await.map_err(err)?;
        return Err(IntrospectError::UnknownSchemas(probe.missing_schemas));
    }
    // The budget, before the heavy queries are sent.
    if let Some(over) = budget.exceeded(probe.relation_count, probe.column_count) {
        client.batch_execute("COMMIT").await.map_err(err)?;
        return Err(over);
    }
    let (server_version, server_version_num) = (probe.server_version, probe.server_version_num);

    // Round trip 2.
    let all: Vec<u32> = relations.iter().map(|r| r.oid).collect();
    let visible: Vec<u32> = relations
        .iter()
        .filter(|r| r.visible)
        .map(|r| r.oid)
        .collect();
    let all_param: &(dyn ToSql + Sync) = &all;
    let visible_param: &(dyn ToSql + Sync) = &visible;
    let by_visible = [(visible_param, Type::OID_ARRAY)];
    let by_all_visible = [
        (all_param, Type::OID_ARRAY),
        (visible_param, Type::OID_ARRAY),
    ];
    let (columns, indexes, constraints, foreign_keys, objects, _) = futures::try_join!(
        fetch(
            client,
            &queries.columns,
            &by_visible,
            visible.len() * 8,
            decode_column,
            opts
        ),
        fetch(
            client,
            &queries.indexes,
            &by_visible,
            visible.len() * 2,
            decode_index,
            opts
        ),
        fetch(
            client,
            &queries.constraints,
            &by_visible,
            visible.len() * 2,
            decode_constraint,
            opts
        ),
        fetch(
            client,
            &queries.foreign_keys,
            &by_all_visible,
            visible.len(),
            decode_foreign_key,
            opts
        ),
        // Boxed: thirteen pipelined queries make a large future, and the request's
        // future would otherwise outgrow a runtime worker's stack.
        Box::pin(read_objects(client, queries, schemas, &visible, opts)),
        async { client.batch_execute("COMMIT").await.map_err(err) },
    )?;

    let missing_tables = match tables {
        None => Vec::new(),
        Some(keys) => {
            let found: HashSet<String> = relations
                .iter()
                .filter(|r| r.visible)
                .map(|r| model::keys::table_key(&r.schema, &r.name))
                .collect();
            let mut seen = HashSet::new();
            // A key in another quoting (a server's own, stored before the key rule)
            // names the same table.
            keys.iter()
                .filter(|k| {
                    !found.contains(model::keys::requote_key(k).as_ref()) && seen.insert(k.as_str())
                })
                .cloned()
                .collect()
        }
    };

    Ok(RawCatalog {
        server_version,
        server_version_num,
        relations,
        columns,
        indexes,
        constraints,
        foreign_keys,
        enums,
        objects,
        missing_tables,
    })
}

/// The queries of [`super::objects`], pipelined with the rest of the second round trip
/// (each is sent when first polled, before the COMMIT that follows them).
async fn read_objects(
    client: &Client,
    queries: &CatalogQueries,
    schemas: &[String],
    visible: &[u32],
    opts: &TargetOptions,
) -> Result<RawObjects, IntrospectError> {
    let schemas_param: &(dyn ToSql + Sync) = &schemas;
    let visible_param: &(dyn ToSql + Sync) = &visible;
    let by_visible = [(visible_param, Type::OID_ARRAY)];
    let by_schemas = [(schemas_param, Type::TEXT_ARRAY)];
    let n = visible.len();
    let (
        triggers,
        policies,
        rules,
        statistics,
        table_attributes,
        column_grants,
        comments,
        functions,
        sequences,
        types,
        extensions,
        collations,
        schema_rows,
    ) = futures::try_join!(
        fetch(
            client,
            &queries.triggers,
            &by_visible,
            n,
            obj::decode_trigger,
            opts
        ),
        fetch(
            client,
            &queries.policies,
            &by_visible,
            16,
            obj::decode_policy,
            opts
        ),
        fetch(
            client,
            &queries.rules,
            &by_visible,
            16,
            obj::decode_rule,
            opts
        ),
        fetch(
            client,
            &queries.statistics,
            &by_visible,
            16,
            obj::decode_statistics,
            opts
        ),
        fetch(
            client,
            &queries.table_attributes,
            &by_visible,
            n,
            obj::decode_table_attributes,
            opts
        ),
        fetch(
            client,
            &queries.column_grants,
            &by_visible,
            16,
            obj::decode_column_grants,
            opts
        ),
        fetch(
            client,
            &queries.object_comments,
            &by_visible,
            16,
            obj::decode_object_comment,
            opts
        ),
        fetch(
            client,
            &queries.functions,
            &by_schemas,
            64,
            obj::decode_function,
            opts
        ),
        fetch(
            client,
            &queries.sequences,
            &by_schemas,
            n,
            obj::decode_sequence,
            opts
        ),
        fetch(
            client,
            &queries.types,
            &by_schemas,
            16,
            obj::decode_type,
            opts
        ),
        fetch(
            client,
            &queries.extensions,
            &[],
            8,
            obj::decode_extension,
            opts
        ),
        fetch(
            client,
            &queries.collations,
            &by_schemas,
            4,
            obj::decode_collation,
            opts
        ),
        fetch(
            client,
            &queries.schemas,
            &by_schemas,
            4,
            obj::decode_schema,
            opts
        ),
    )?;
    Ok(RawObjects {
        triggers,
        policies,
        rules,
        statistics,
        table_attributes,
        column_grants,
        comments,
        functions,
        sequences,
        types,
        extensions,
        collations,
        schemas: schema_rows,
    })
}

/// Sends one query with typed parameters and decodes its rows as they arrive.
async fn fetch<T>(
    client: &Client,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
    capacity: usize,
    decode: fn(&Row) -> Result<T, tokio_postgres::Error>,
    opts: &TargetOptions,
) -> Result<Vec<T>, IntrospectError> {
    let err = |e: tokio_postgres::Error| map_error(e, opts);
    let stream = client
        .query_typed_raw(sql, params.iter().map(|(p, t)| (*p, t.clone())))
        .await
        .map_err(err)?;
    let mut stream = std::pin::pin!(stream);
    let mut out = Vec::with_capacity(capacity);
    while let Some(row) = stream.try_next().await.map_err(err)? {
        out.push(decode(&row).map_err(err)?);
    }
    Ok(out)
}

/// A statement timeout (SQLSTATE 57014) is [`IntrospectError::Timeout`]; anything else
/// is [`IntrospectError::Query`].
fn map_error(e: tokio_postgres::Error, opts: &TargetOptions) -> IntrospectError {
    if let Some(known) = super::connect::classify(&e, opts) {
        known
    } else if e.code() == Some(&SqlState::QUERY_CANCELED) {
        IntrospectError::Timeout(millis(opts.statement_timeout))
    } else {
        IntrospectError::Query(describe(&e))
    }
}

/// The value of the column named `name` (its `AS` alias in the query file).
fn get<'a, T: FromSql<'a>>(row: &'a Row, name: &str) -> Result<T, tokio_postgres::Error> {
    row.try_get(name)
}

/// An identifier or key the query quoted with the server's `quote_ident`, re-quoted by
/// the version-independent rule of [`model::keys`].
fn ident(row: &Row, name: &str) -> Result<String, tokio_postgres::Error> {
    let server: &str = get(row, name)?;
    Ok(model::keys::requote_key(server).into_owned())
}

/// [`ident`] for a nullable column.
fn opt_ident(row: &Row, name: &str) -> Result<Option<String>, tokio_postgres::Error> {
    let server: Option<&str> = get(row, name)?;
    Ok(server.map(|s| model::keys::requote_key(s).into_owned()))
}

/// [`ident`] for a nullable array of identifiers or keys.
fn idents(row: &Row, name: &str) -> Result<Option<Vec<String>>, tokio_postgres::Error> {
    let server: Option<Vec<&str>> = get(row, name)?;
    Ok(server.map(|v| {
        v.into_iter()
            .map(|s| model::keys::requote_key(s).into_owned())
            .collect()
    }))
}

/// A `"char"` catalog code as a byte (0 for none).
fn code(row: &Row, name: &str) -> Result<u8, tokio_postgres::Error> {
    Ok(get::<i8>(row, name)? as u8)
}

/// The row of `probe.sql`.
struct Probe {
    server_version: String,
    server_version_num: i32,
    missing_schemas: Vec<String>,
    relation_count: u64,
    column_count: u64,
}

fn decode_probe(row: &Row) -> Result<Probe, tokio_postgres::Error> {
    Ok(Probe {
        server_version: get(row, "server_version")?,
        server_version_num: get(row, "server_version_num")?,
        missing_schemas: get(row, "missing_schemas")?,
        relation_count: get::<i64>(row, "relation_count")?.max(0) as u64,
        column_count: get::<i64>(row, "column_count")?.max(0) as u64,
    })
}

fn decode_relation(row: &Row) -> Result<RawRelation, tokio_postgres::Error> {
    Ok(RawRelation {
        oid: get(row, "oid")?,
        schema: ident(row, "schema")?,
        name: ident(row, "name")?,
        visible: get(row, "visible")?,
        relkind: code(row, "relkind")?,
        comment: get(row, "comment")?,
        row_estimate: get(row, "row_estimate")?,
        partition_of: opt_ident(row, "partition_of")?,
        partition_bound: get(row, "partition_bound")?,
        partition_key: get(row, "partition_key")?,
        partitions: idents(row, "partitions")?,
        view_definition: get(row, "view_definition")?,
    })
}

fn decode_column(row: &Row) -> Result<RawColumn, tokio_postgres::Error> {
    Ok(RawColumn {
        relid: get(row, "relid")?,
        attnum: get(row, "attnum")?,
        name: ident(row, "name")?,
        data_type: get(row, "data_type")?,
        nullable: get(row, "nullable")?,
        expr: get(row, "expr")?,
        identity: code(row, "identity")?,
        generated: code(row, "generated")?,
        collation: opt_ident(row, "collation")?,
        comment: get(row, "comment")?,
        not_null_not_valid: get(row, "not_null_not_valid")?,
        not_null_no_inherit: get(row, "not_null_no_inherit")?,
    })
}

fn decode_index(row: &Row) -> Result<RawIndex, tokio_postgres::Error> {
    Ok(RawIndex {
        relid: get(row, "relid")?,
        name: ident(row, "name")?,
        definition: get(row, "definition")?,
        unique: get(row, "unique")?,
        primary: get(row, "primary")?,
        valid: get(row, "valid")?,
        ready: get(row, "ready")?,
        method: get(row, "method")?,
        nkeyatts: get(row, "nkeyatts")?,
        attnums: get(row, "attnums")?,
        predicate: get(row, "predicate")?,
        has_expressions: get(row, "has_expressions")?,
    })
}

fn decode_constraint(row: &Row) -> Result<RawConstraint, tokio_postgres::Error> {
    Ok(RawConstraint {
        relid: get(row, "relid")?,
        name: ident(row, "name")?,
        contype: code(row, "contype")?,
        attnums: get::<Option<Vec<i16>>>(row, "attnums")?.unwrap_or_default(),
        definition: get(row, "definition")?,
        deferrable: get(row, "deferrable")?,
        initially_deferred: get(row, "initially_deferred")?,
        validated: get(row, "validated")?,
        no_inherit: get(row, "no_inherit")?,
    })
}

fn decode_foreign_key(row: &Row) -> Result<RawForeignKey, tokio_postgres::Error> {
    Ok(RawForeignKey {
        relid: get(row, "relid")?,
        ref_relid: get(row, "ref_relid")?,
        name: ident(row, "name")?,
        attnums: get(row, "attnums")?,
        ref_attnums: get(row, "ref_attnums")?,
        from_names: idents(row, "from_names")?,
        to_names: idents(row, "to_names")?,
        to_table: ident(row, "to_table")?,
        on_delete: code(row, "on_delete")?,
        on_update: code(row, "on_update")?,
        match_type: code(row, "match_type")?,
        deferrable: get(row, "deferrable")?,
        initially_deferred: get(row, "initially_deferred")?,
        validated: get(row, "validated")?,
        definition: get(row, "definition")?,
        one_to_one: get(row, "one_to_one")?,
    })
}

fn decode_enum(row: &Row) -> Result<RawEnum, tokio_postgres::Error> {
    Ok(RawEnum {
        schema: ident(row, "schema")?,
        name: ident(row, "name")?,
        labels: get(row, "labels")?,
    })
}
