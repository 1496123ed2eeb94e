//! The catalog objects beyond tables and their shape: triggers, policies, rules,
//! extended statistics, table attributes and privileges (per table), and functions,
//! sequences, types, extensions, collations and schemas (per schema).
//!
//! Owns their queries (one `.sql` file per concern, beside this file), the decoding of
//! their rows by column name into plain structs ([`RawObjects`]), and turning those into
//! the snapshot's maps ([`attach`]). It must never issue a query per object (every
//! query takes the whole OID or schema-name array), never read a sequence's current
//! value, and never let an OID reach a key.

use model::keys::{child_key, table_key};
use model::{
    Collation, EnabledState, Extension, Function, FunctionKind, Grant, ParallelSafety, Policy,
    PolicyCommand, Rule, Schema, Sequence, Snapshot, Statistics, Trigger, TriggerEvent,
    TriggerLevel, TriggerTiming, UserType, UserTypeKind, Volatility,
};
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

pub(super) const TRIGGERS_SQL: &str = include_str!("triggers.sql");
pub(super) const POLICIES_SQL: &str = include_str!("policies.sql");
pub(super) const RULES_SQL: &str = include_str!("rules.sql");
pub(super) const STATISTICS_SQL: &str = include_str!("statistics.sql");
pub(super) const TABLE_ATTRIBUTES_SQL: &str = include_str!("table_attributes.sql");
pub(super) const COLUMN_GRANTS_SQL: &str = include_str!("column_grants.sql");
pub(super) const OBJECT_COMMENTS_SQL: &str = include_str!("object_comments.sql");
pub(super) const FUNCTIONS_SQL: &str = include_str!("functions.sql");
pub(super) const SEQUENCES_SQL: &str = include_str!("sequences.sql");
pub(super) const TYPES_SQL: &str = include_str!("types.sql");
pub(super) const EXTENSIONS_SQL: &str = include_str!("extensions.sql");
pub(super) const COLLATIONS_SQL: &str = include_str!("collations.sql");
pub(super) const SCHEMAS_SQL: &str = include_str!("schemas.sql");

/// The number of queries in this module (all sent in the read's second round trip).
pub(super) const OBJECT_QUERY_COUNT: usize = 13;

/// The rows of this module's queries.
#[derive(Debug, Clone, Default)]
pub struct RawObjects {
    pub triggers: Vec<RawTrigger>,
    pub policies: Vec<RawPolicy>,
    pub rules: Vec<RawRule>,
    pub statistics: Vec<RawStatistics>,
    pub table_attributes: Vec<RawTableAttributes>,
    pub column_grants: Vec<RawColumnGrants>,
    pub comments: Vec<RawObjectComment>,
    pub functions: Vec<RawFunction>,
    pub sequences: Vec<RawSequence>,
    pub types: Vec<RawType>,
    pub extensions: Vec<RawExtension>,
    pub collations: Vec<RawCollation>,
    pub schemas: Vec<RawSchema>,
}

type DecodeResult<T> = Result<T, tokio_postgres::Error>;

fn get<'a, T: FromSql<'a>>(row: &'a Row, name: &str) -> DecodeResult<T> {
    row.try_get(name)
}

/// An identifier the query quoted with the server's `quote_ident`, re-quoted by the
/// version-independent rule of [`model::keys`] (so a key does not change with the
/// server's keyword list).
fn ident(row: &Row, name: &str) -> DecodeResult<String> {
    let server: &str = get(row, name)?;
    Ok(model::keys::requote_key(server).into_owned())
}

/// A `"char"` catalog code as a byte (0 for NULL).
fn code(row: &Row, name: &str) -> DecodeResult<u8> {
    Ok(get::<Option<i8>>(row, name)?.map_or(0, |c| c as u8))
}

/// A jsonb array of `{grantee, privilege, grantable}` (NULL when empty), sorted.
fn grants(row: &Row, name: &str) -> DecodeResult<Vec<Grant>> {
    let value: Option<serde_json::Value> = get(row, name)?;
    let mut grants: Vec<Grant> = value
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    grants.sort();
    grants.dedup();
    Ok(grants)
}

#[derive(Debug, Clone)]
pub struct RawTrigger {
    pub relid: u32,
    pub name: String,
    pub tgtype: i16,
    pub enabled: u8,
    pub update_attnums: Vec<i16>,
    pub nargs: i16,
    pub args: Vec<u8>,
    pub function: String,
    pub is_constraint: bool,
    pub deferrable: bool,
    pub initially_deferred: bool,
    pub comment: Option<String>,
    pub definition: String,
}

pub(super) fn decode_trigger(row: &Row) -> DecodeResult<RawTrigger> {
    Ok(RawTrigger {
        relid: get(row, "relid")?,
        name: ident(row, "name")?,
        tgtype: get(row, "tgtype")?,
        enabled: code(row, "enabled")?,
        update_attnums: get::<Option<Vec<i16>>>(row, "update_attnums")?.unwrap_or_default(),
        nargs: get(row, "nargs")?,
        args: get(row, "args")?,
        function: get(row, "function")?,
        is_constraint: get(row, "is_constraint")?,
        deferrable: get(row, "deferrable")?,
        initially_deferred: get(row, "initially_deferred")?,
        comment: get(row, "comment")?,
        definition: get(row, "definition")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawPolicy {
    pub relid: u32,
    pub name: String,
    pub command: u8,
    pub permissive: bool,
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
}

pub(super) fn decode_policy(row: &Row) -> DecodeResult<RawPolicy> {
    Ok(RawPolicy {
        relid: get(row, "relid")?,
        name: ident(row, "name")?,
        command: code(row, "command")?,
        permissive: get(row, "permissive")?,
        roles: get(row, "roles")?,
        using: get(row, "using")?,
        with_check: get(row, "with_check")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawRule {
    pub relid: u32,
    pub name: String,
    pub event: u8,
    pub instead: bool,
    pub enabled: u8,
    pub definition: String,
}

pub(super) fn decode_rule(row: &Row) -> DecodeResult<RawRule> {
    Ok(RawRule {
        relid: get(row, "relid")?,
        name: ident(row, "name")?,
        event: code(row, "event")?,
        instead: get(row, "instead")?,
        enabled: code(row, "enabled")?,
        definition: get(row, "definition")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawStatistics {
    pub relid: u32,
    pub schema: String,
    pub name: String,
    pub kinds: Vec<String>,
    pub target: Option<i32>,
    pub definition: String,
    pub comment: Option<String>,
}

pub(super) fn decode_statistics(row: &Row) -> DecodeResult<RawStatistics> {
    Ok(RawStatistics {
        relid: get(row, "relid")?,
        schema: ident(row, "schema")?,
        name: ident(row, "name")?,
        kinds: get(row, "kinds")?,
        target: get(row, "target")?,
        definition: get(row, "definition")?,
        comment: get(row, "comment")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawTableAttributes {
    pub relid: u32,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    pub persistence: u8,
    pub reloptions: Vec<String>,
    pub replica_identity: u8,
    pub replica_index: Option<String>,
    pub access_method: Option<String>,
    pub owner: String,
    pub inherits: Vec<String>,
    pub grants: Vec<Grant>,
    pub revoked: Vec<Grant>,
}

pub(super) fn decode_table_attributes(row: &Row) -> DecodeResult<RawTableAttributes> {
    Ok(RawTableAttributes {
        relid: get(row, "relid")?,
        rls_enabled: get(row, "rls_enabled")?,
        rls_forced: get(row, "rls_forced")?,
        persistence: code(row, "persistence")?,
        reloptions: get(row, "reloptions")?,
        replica_identity: code(row, "replica_identity")?,
        replica_index: get(row, "replica_index")?,
        access_method: get(row, "access_method")?,
        owner: get(row, "owner")?,
        inherits: get(row, "inherits")?,
        grants: grants(row, "grants")?,
        revoked: grants(row, "revoked")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawColumnGrants {
    pub relid: u32,
    pub attnum: i16,
    pub grants: Vec<Grant>,
}

pub(super) fn decode_column_grants(row: &Row) -> DecodeResult<RawColumnGrants> {
    Ok(RawColumnGrants {
        relid: get(row, "relid")?,
        attnum: get(row, "attnum")?,
        grants: grants(row, "grants")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawObjectComment {
    pub relid: u32,
    pub name: String,
    /// `i` for an index, `c` for a constraint.
    pub kind: String,
    pub comment: String,
}

pub(super) fn decode_object_comment(row: &Row) -> DecodeResult<RawObjectComment> {
    Ok(RawObjectComment {
        relid: get(row, "relid")?,
        name: ident(row, "name")?,
        kind: get(row, "kind")?,
        comment: get(row, "comment")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawFunction {
    pub schema: String,
    pub name: String,
    pub identity_arguments: String,
    pub kind: u8,
    pub language: String,
    pub arguments: String,
    pub result: Option<String>,
    pub volatility: u8,
    pub strict: bool,
    pub security_definer: bool,
    pub parallel: u8,
    pub leakproof: bool,
    pub config: Vec<String>,
    pub comment: Option<String>,
    pub definition: Option<String>,
    pub owner: String,
    pub grants: Vec<Grant>,
    pub revoked: Vec<Grant>,
}

pub(super) fn decode_function(row: &Row) -> DecodeResult<RawFunction> {
    Ok(RawFunction {
        schema: ident(row, "schema")?,
        name: ident(row, "name")?,
        identity_arguments: get(row, "identity_arguments")?,
        kind: code(row, "kind")?,
        language: get(row, "language")?,
        arguments: get(row, "arguments")?,
        result: get(row, "result")?,
        volatility: code(row, "volatility")?,
        strict: get(row, "strict")?,
        security_definer: get(row, "security_definer")?,
        parallel: code(row, "parallel")?,
        leakproof: get(row, "leakproof")?,
        config: get::<Option<Vec<String>>>(row, "config")?.unwrap_or_default(),
        comment: get(row, "comment")?,
        definition: get(row, "definition")?,
        owner: get(row, "owner")?,
        grants: grants(row, "grants")?,
        revoked: grants(row, "revoked")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawSequence {
    pub schema: String,
    pub name: String,
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    pub owned_table: Option<String>,
    pub owned_column: Option<String>,
    pub identity_relid: Option<u32>,
    pub identity_attnum: Option<i16>,
    pub comment: Option<String>,
    pub owner: String,
    pub grants: Vec<Grant>,
    pub revoked: Vec<Grant>,
}

pub(super) fn decode_sequence(row: &Row) -> DecodeResult<RawSequence> {
    Ok(RawSequence {
        schema: ident(row, "schema")?,
        name: ident(row, "name")?,
        data_type: get(row, "data_type")?,
        start: get(row, "start")?,
        increment: get(row, "increment")?,
        min: get(row, "min")?,
        max: get(row, "max")?,
        cache: get(row, "cache")?,
        cycle: get(row, "cycle")?,
        owned_table: get(row, "owned_table")?,
        owned_column: get(row, "owned_column")?,
        identity_relid: get(row, "identity_relid")?,
        identity_attnum: get(row, "identity_attnum")?,
        comment: get(row, "comment")?,
        owner: get(row, "owner")?,
        grants: grants(row, "grants")?,
        revoked: grants(row, "revoked")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawType {
    pub schema: String,
    pub name: String,
    pub typtype: u8,
    pub base_type: Option<String>,
    pub default: Option<String>,
    pub not_null: bool,
    pub collation: Option<String>,
    pub constraints: Option<serde_json::Value>,
    pub attributes: Option<serde_json::Value>,
    pub subtype: Option<String>,
    pub subtype_opclass: Option<String>,
    pub canonical: Option<String>,
    pub subtype_diff: Option<String>,
    pub comment: Option<String>,
    pub owner: String,
}

pub(super) fn decode_type(row: &Row) -> DecodeResult<RawType> {
    Ok(RawType {
        schema: ident(row, "schema")?,
        name: ident(row, "name")?,
        typtype: code(row, "typtype")?,
        base_type: get(row, "base_type")?,
        default: get(row, "default")?,
        not_null: get(row, "not_null")?,
        collation: get(row, "collation")?,
        constraints: get(row, "constraints")?,
        attributes: get(row, "attributes")?,
        subtype: get(row, "subtype")?,
        subtype_opclass: get(row, "subtype_opclass")?,
        canonical: get(row, "canonical")?,
        subtype_diff: get(row, "subtype_diff")?,
        comment: get(row, "comment")?,
        owner: get(row, "owner")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawExtension {
    pub name: String,
    pub version: String,
    pub schema: String,
}

pub(super) fn decode_extension(row: &Row) -> DecodeResult<RawExtension> {
    Ok(RawExtension {
        name: ident(row, "name")?,
        version: get(row, "version")?,
        schema: ident(row, "schema")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawCollation {
    pub schema: String,
    pub name: String,
    pub provider: u8,
    pub collate: Option<String>,
    pub ctype: Option<String>,
    pub locale: Option<String>,
    pub deterministic: bool,
    pub rules: Option<String>,
    pub comment: Option<String>,
}

pub(super) fn decode_collation(row: &Row) -> DecodeResult<RawCollation> {
    Ok(RawCollation {
        schema: ident(row, "schema")?,
        name: ident(row, "name")?,
        provider: code(row, "provider")?,
        collate: get(row, "collate")?,
        ctype: get(row, "ctype")?,
        locale: get(row, "locale")?,
        deterministic: get(row, "deterministic")?,
        rules: get(row, "rules")?,
        comment: get(row, "comment")?,
    })
}

#[derive(Debug, Clone)]
pub struct RawSchema {
    pub name: String,
    pub owner: String,
    pub comment: Option<String>,
    pub grants: Vec<Grant>,
    pub revoked: Vec<Grant>,
}

pub(super) fn decode_schema(row: &Row) -> DecodeResult<RawSchema> {
    Ok(RawSchema {
        name: ident(row, "name")?,
        owner: get(row, "owner")?,
        comment: get(row, "comment")?,
        grants: grants(row, "grants")?,
        revoked: grants(row, "revoked")?,
    })
}

/// What [`attach`] needs from the shape assembly: the key of each visible relation by
/// OID, and the name of each of their columns by (relation OID, attribute number).
pub(super) struct Resolver<'a> {
    pub table_key: &'a dyn Fn(u32) -> Option<String>,
    pub column_name: &'a dyn Fn(u32, i16) -> Option<String>,
}

/// Puts the objects into a snapshot whose tables, columns, indexes, constraints and
/// relationships are already assembled. Rows of relations the read did not return are
/// left out (impossible within one transaction, short of a bug).
pub(super) fn attach(s: &mut Snapshot, raw: RawObjects, r: &Resolver<'_>) {
    let RawObjects {
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
        schemas,
    } = raw;

    for a in table_attributes {
        let Some(key) = (r.table_key)(a.relid) else {
            continue;
        };
        let Some(t) = s.tables.get_mut(&key) else {
            continue;
        };
        t.rls_enabled = a.rls_enabled;
        t.rls_forced = a.rls_forced;
        t.persistence = match a.persistence {
            b'u' => Some("unlogged".into()),
            b't' => Some("temporary".into()),
            _ => None,
        };
        t.reloptions = a.reloptions;
        t.replica_identity = match a.replica_identity {
            b'n' => Some("nothing".into()),
            b'f' => Some("full".into()),
            b'i' => Some(format!("index {}", a.replica_index.unwrap_or_default())),
            _ => None,
        };
        t.access_method = a.access_method.filter(|m| m != "heap");
        t.owner = Some(a.owner);
        t.inherits = a.inherits;
        t.grants = a.grants;
        t.revoked_defaults = a.revoked;
    }

    for g in column_grants {
        let (Some(tkey), Some(col)) = ((r.table_key)(g.relid), (r.column_name)(g.relid, g.attnum))
        else {
            continue;
        };
        if let Some(c) = s.columns.get_mut(&child_key(&tkey, &col)) {
            c.grants = g.grants;
        }
    }

    for c in comments {
        let Some(tkey) = (r.table_key)(c.relid) else {
            continue;
        };
        let key = child_key(&tkey, &c.name);
        if c.kind == "i" {
            if let Some(ix) = s.indexes.get_mut(&key) {
                ix.comment = Some(c.comment);
            }
        } else if let Some(con) = s.constraints.get_mut(&key) {
            con.comment = Some(c.comment);
        } else if let Some(fk) = s.relationships.get_mut(&key) {
            fk.comment = Some(c.comment);
        }
    }

    for t in triggers {
        let Some(tkey) = (r.table_key)(t.relid) else {
            continue;
        };
        let update_columns: Option<Vec<String>> = t
            .update_attnums
            .iter()
            .map(|&n| (r.column_name)(t.relid, n))
            .collect();
        let Some(update_columns) = update_columns else {
            tracing::warn!(trigger = %t.name, "catalog read: a trigger on an unread column; left out");
            continue;
        };
        let trigger = trigger(t, tkey.clone(), update_columns);
        s.triggers.insert(child_key(&tkey, &trigger.name), trigger);
    }

    for p in policies {
        let Some(tkey) = (r.table_key)(p.relid) else {
            continue;
        };
        let mut roles = p.roles;
        roles.sort();
        s.policies.insert(
            child_key(&tkey, &p.name),
            Policy {
                table: tkey,
                name: p.name,
                command: match p.command {
                    b'r' => PolicyCommand::Select,
                    b'a' => PolicyCommand::Insert,
                    b'w' => PolicyCommand::Update,
                    b'd' => PolicyCommand::Delete,
                    _ => PolicyCommand::All,
                },
                permissive: p.permissive,
                roles,
                using: p.using,
                with_check: p.with_check,
            },
        );
    }

    for rw in rules {
        let Some(tkey) = (r.table_key)(rw.relid) else {
            continue;
        };
        s.rules.insert(
            child_key(&tkey, &rw.name),
            Rule {
                table: tkey,
                name: rw.name,
                event: match rw.event {
                    b'1' => "select",
                    b'2' => "update",
                    b'3' => "insert",
                    _ => "delete",
                }
                .into(),
                instead: rw.instead,
                enabled: enabled_state(rw.enabled),
                definition: rw.definition,
            },
        );
    }

    for st in statistics {
        let Some(tkey) = (r.table_key)(st.relid) else {
            continue;
        };
        let kinds = st
            .kinds
            .iter()
            .map(|k| {
                match k.as_str() {
                    "d" => "ndistinct",
                    "f" => "dependencies",
                    "m" => "mcv",
                    "e" => "expressions",
                    other => other,
                }
                .to_string()
            })
            .collect();
        s.statistics.insert(
            table_key(&st.schema, &st.name),
            Statistics {
                schema: st.schema,
                name: st.name,
                table: tkey,
                kinds,
                target: st.target,
                definition: st.definition,
                comment: st.comment,
            },
        );
    }

    for f in functions {
        let key = function_key(&f.schema, &f.name, &f.identity_arguments);
        s.functions.insert(key, function(f));
    }

    for q in sequences {
        let identity = q.identity_relid.zip(q.identity_attnum);
        let seq = sequence(&q);
        match identity {
            // An identity column's sequence is part of that column.
            Some((relid, attnum)) => {
                let (Some(tkey), Some(col)) =
                    ((r.table_key)(relid), (r.column_name)(relid, attnum))
                else {
                    continue;
                };
                if let Some(c) = s.columns.get_mut(&child_key(&tkey, &col)) {
                    c.identity_sequence = Some(seq);
                }
            }
            None => {
                s.sequences.insert(table_key(&q.schema, &q.name), seq);
            }
        }
    }

    for t in types {
        if let Some(ut) = user_type(t) {
            s.types.insert(table_key(&ut.schema, &ut.name), ut);
        }
    }

    for x in extensions {
        s.extensions.insert(
            x.name.clone(),
            Extension {
                name: x.name,
                version: x.version,
                schema: x.schema,
            },
        );
    }

    for c in collations {
        let (locale, ctype) = match c.provider {
            b'c' => {
                let ctype = c.ctype.filter(|t| Some(t) != c.collate.as_ref());
                (c.collate, ctype)
            }
            _ => (c.locale.or(c.collate), None),
        };
        s.collations.insert(
            table_key(&c.schema, &c.name),
            Collation {
                schema: c.schema,
                name: c.name,
                provider: match c.provider {
                    b'c' => "libc",
                    b'i' => "icu",
                    b'b' => "builtin",
                    _ => "default",
                }
                .into(),
                locale,
                ctype,
                deterministic: c.deterministic,
                rules: c.rules,
                comment: c.comment,
            },
        );
    }

    for n in schemas {
        s.schemas.insert(
            n.name.clone(),
            Schema {
                name: n.name,
                owner: Some(n.owner),
                comment: n.comment,
                grants: n.grants,
                revoked_defaults: n.revoked,
            },
        );
    }
}

/// `schema.name(identity argument types)`.
pub(super) fn function_key(schema: &str, name: &str, identity_arguments: &str) -> String {
    let mut k = table_key(schema, name);
    k.push('(');
    k.push_str(identity_arguments);
    k.push(')');
    k
}

fn enabled_state(code: u8) -> EnabledState {
    match code {
        b'A' => EnabledState::Always,
        b'R' => EnabledState::Replica,
        b'D' => EnabledState::Disabled,
        _ => EnabledState::Origin,
    }
}

fn trigger(t: RawTrigger, table: String, update_columns: Vec<String>) -> Trigger {
    const ROW: i16 = 1;
    const BEFORE: i16 = 2;
    const INSERT: i16 = 4;
    const DELETE: i16 = 8;
    const UPDATE: i16 = 16;
    const TRUNCATE: i16 = 32;
    const INSTEAD: i16 = 64;
    let bits = t.tgtype;
    let timing = if bits & INSTEAD != 0 {
        TriggerTiming::InsteadOf
    } else if bits & BEFORE != 0 {
        TriggerTiming::Before
    } else {
        TriggerTiming::After
    };
    let events = [
        (INSERT, TriggerEvent::Insert),
        (UPDATE, TriggerEvent::Update),
        (DELETE, TriggerEvent::Delete),
        (TRUNCATE, TriggerEvent::Truncate),
    ]
    .into_iter()
    .filter(|(bit, _)| bits & bit != 0)
    .map(|(_, e)| e)
    .collect();
    let mut arguments: Vec<String> = t
        .args
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    arguments.truncate(usize::try_from(t.nargs).unwrap_or(0));
    Trigger {
        when: when_clause(&t.definition),
        table,
        name: t.name,
        timing,
        events,
        update_columns,
        level: if bits & ROW != 0 {
            TriggerLevel::Row
        } else {
            TriggerLevel::Statement
        },
        function: t.function,
        arguments,
        enabled: enabled_state(t.enabled),
        constraint: t.is_constraint,
        deferrable: t.deferrable,
        initially_deferred: t.initially_deferred,
        comment: t.comment,
        definition: t.definition,
    }
}

/// The `WHEN (...)` condition of a `pg_get_triggerdef` text, without its outer
/// parentheses. (`tgqual` cannot be deparsed on its own: it refers to OLD and NEW.)
fn when_clause(definition: &str) -> Option<String> {
    let start = definition.find(" WHEN (")? + " WHEN (".len();
    let end = definition.rfind(") EXECUTE ")?;
    (end >= start).then(|| definition[start..end].to_string())
}

fn function(f: RawFunction) -> Function {
    Function {
        schema: f.schema,
        name: f.name,
        identity_arguments: f.identity_arguments,
        kind: match f.kind {
            b'p' => FunctionKind::Procedure,
            b'a' => FunctionKind::Aggregate,
            b'w' => FunctionKind::Window,
            _ => FunctionKind::Function,
        },
        language: f.language,
        arguments: f.arguments,
        result: f.result,
        volatility: match f.volatility {
            b'i' => Volatility::Immutable,
            b's' => Volatility::Stable,
            _ => Volatility::Volatile,
        },
        strict: f.strict,
        security_definer: f.security_definer,
        parallel: match f.parallel {
            b's' => ParallelSafety::Safe,
            b'r' => ParallelSafety::Restricted,
            _ => ParallelSafety::Unsafe,
        },
        leakproof: f.leakproof,
        config: f.config,
        comment: f.comment,
        definition: f.definition.unwrap_or_default(),
        owner: Some(f.owner),
        grants: f.grants,
        revoked_defaults: f.revoked,
    }
}

fn sequence(q: &RawSequence) -> Sequence {
    Sequence {
        schema: q.schema.clone(),
        name: q.name.clone(),
        data_type: q.data_type.clone(),
        start: q.start,
        increment: q.increment,
        min: q.min,
        max: q.max,
        cache: q.cache,
        cycle: q.cycle,
        owned_by: q
            .owned_table
            .as_ref()
            .zip(q.owned_column.as_ref())
            .map(|(t, c)| child_key(t, c)),
        comment: q.comment.clone(),
        owner: Some(q.owner.clone()),
        grants: q.grants.clone(),
        revoked_defaults: q.revoked.clone(),
    }
}

fn user_type(t: RawType) -> Option<UserType> {
    let kind = match t.typtype {
        b'd' => UserTypeKind::Domain,
        b'c' => UserTypeKind::Composite,
        b'r' => UserTypeKind::Range,
        _ => return None,
    };
    let constraints = t
        .constraints
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let attributes = t
        .attributes
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    Some(UserType {
        schema: t.schema,
        name: t.name,
        kind,
        base_type: t.base_type,
        default: t.default,
        not_null: t.not_null,
        constraints,
        attributes,
        subtype: t.subtype,
        collation: t.collation,
        subtype_opclass: t.subtype_opclass,
        canonical: t.canonical,
        subtype_diff: t.subtype_diff,
        comment: t.comment,
        owner: Some(t.owner),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_when_clause_comes_out_of_the_definition() {
        let def = "CREATE TRIGGER t1 BEFORE UPDATE OF code ON public.p FOR EACH ROW WHEN ((old.code IS DISTINCT FROM new.code)) EXECUTE FUNCTION public.trg('a', 'b')";
        assert_eq!(
            when_clause(def).as_deref(),
            Some("(old.code IS DISTINCT FROM new.code)")
        );
        assert_eq!(
            when_clause("CREATE TRIGGER t AFTER INSERT ON public.p FOR EACH ROW EXECUTE FUNCTION public.f()"),
            None
        );
    }

    #[test]
    fn trigger_bits_and_arguments_decode() {
        let t = trigger(
            RawTrigger {
                relid: 1,
                name: "t1".into(),
                tgtype: 1 | 2 | 16 | 4,
                enabled: b'D',
                update_attnums: vec![],
                nargs: 2,
                args: b"a\0b\0".to_vec(),
                function: "public.trg()".into(),
                is_constraint: false,
                deferrable: false,
                initially_deferred: false,
                comment: None,
                definition: String::new(),
            },
            "public.p".into(),
            vec![],
        );
        assert_eq!(t.timing, TriggerTiming::Before);
        assert_eq!(t.level, TriggerLevel::Row);
        assert_eq!(t.events, vec![TriggerEvent::Insert, TriggerEvent::Update]);
        assert_eq!(t.arguments, vec!["a", "b"]);
        assert_eq!(t.enabled, EnabledState::Disabled);
    }
}
