//! Turning catalog rows into a snapshot.
//!
//! Owns building the keyed maps from a [`RawCatalog`]: keys from the parts (already
//! quoted by the one rule of [`model::keys`]), column positions, attribute numbers
//! resolved to column names, partitions nested under their parents, primary-key and
//! foreign-key flags on columns, `oneToOne`, every server-printed definition in one
//! printing ([`model::normalize`]), a partition's columns carrying the identity of its
//! parent's (as 17 reports them; 13 to 16 report it on the parent only), then
//! [`model::signature::seal`]. It must never do I/O and never let an OID reach a key.

use super::raw::{RawCatalog, RawColumn, RawForeignKey, RawIndex};
use model::keys::{child_key, table_key};
use model::normalize;
use model::{
    Column, Constraint, ConstraintKind, EnumType, FkAction, Generated, Identity, Index, PrimaryKey,
    Relationship, Snapshot, SnapshotMeta, Table, TableKind,
};
use std::collections::{BTreeMap, HashMap};

/// Builds the snapshot from one read's rows. `schemas` is stored in the meta sorted and
/// without duplicates; `captured_at` as given.
///
/// Rows that cannot be placed (an index, constraint or foreign key of a relation the read
/// did not return, or one naming a column it did not return; impossible within one
/// transaction's consistent catalog, short of a bug) are left out with a warning rather
/// than failing the snapshot.
pub fn assemble(raw: RawCatalog, schemas: &[String], captured_at: String) -> Snapshot {
    let mut snapshot = assemble_unsealed(raw, schemas, captured_at);
    model::signature::seal(&mut snapshot);
    snapshot
}

/// [`assemble`] and its serialization in one pass (see
/// [`model::signature::seal_to_json`]): the snapshot, sealed, and its JSON.
pub fn assemble_json(
    raw: RawCatalog,
    schemas: &[String],
    captured_at: String,
) -> (Snapshot, Vec<u8>) {
    let mut snapshot = assemble_unsealed(raw, schemas, captured_at);
    let json = model::signature::seal_to_json(&mut snapshot);
    (snapshot, json)
}

/// The keyed maps without signatures or counts.
fn assemble_unsealed(raw: RawCatalog, schemas: &[String], captured_at: String) -> Snapshot {
    let RawCatalog {
        server_version,
        server_version_num,
        relations,
        mut columns,
        indexes,
        constraints,
        foreign_keys,
        enums,
        objects,
        missing_tables: _,
    } = raw;

    // Relations: key of every relation of the schemas; tables for the visible ones.
    let mut rel_index: HashMap<u32, usize> = HashMap::with_capacity(relations.len());
    let mut rel_keys: Vec<String> = Vec::with_capacity(relations.len());
    let mut tables: Vec<Option<(String, Table)>> = Vec::with_capacity(relations.len());
    for rel in relations {
        rel_index.insert(rel.oid, rel_keys.len());
        let key = table_key(&rel.schema, &rel.name);
        let table = if rel.visible {
            let mut partitions = rel.partitions.unwrap_or_default();
            partitions.sort_unstable();
            Some((
                key.clone(),
                Table {
                    schema: rel.schema,
                    name: rel.name,
                    kind: table_kind(rel.relkind),
                    comment: rel.comment,
                    row_estimate: rel.row_estimate.map(|t| t.round() as i64),
                    primary_key: None,
                    partition_of: rel.partition_of,
                    partition_bound: rel.partition_bound.map(normal),
                    partition_key: rel.partition_key.map(normal),
                    partitions,
                    view_definition: rel
                        .view_definition
                        .map(|v| normalize::view_definition(&v).into_owned()),
                    refreshed_at: None,
                    ..Table::default()
                },
            ))
        } else {
            None
        };
        rel_keys.push(key);
        tables.push(table);
    }
    let visible_key = |oid: u32| -> Option<&str> {
        let i = *rel_index.get(&oid)?;
        tables[i].as_ref().map(|(k, _)| k.as_str())
    };

    // Columns, ordered by (relation, attnum) so positions count live columns and
    // (relation, attnum) lookups are a binary search.
    columns.sort_unstable_by_key(|c| (c.relid, c.attnum));
    let ids: Vec<(u32, i16)> = columns.iter().map(|c| (c.relid, c.attnum)).collect();
    let mut cols: Vec<(String, Column)> = Vec::with_capacity(columns.len());
    let mut kept: Vec<bool> = Vec::with_capacity(columns.len());
    let mut position = 0;
    let mut last_rel = None;
    for c in columns {
        if last_rel != Some(c.relid) {
            last_rel = Some(c.relid);
            position = 0;
        }
        position += 1;
        match visible_key(c.relid) {
            Some(tkey) => {
                let tkey = tkey.to_owned();
                kept.push(true);
                cols.push((child_key(&tkey, &c.name), column(c, tkey, position)));
            }
            None => {
                tracing::warn!("catalog read: a column of an unread relation; left out");
                kept.push(false);
                cols.push((String::new(), column(c, String::new(), position)));
            }
        }
    }
    let find = |relid: u32, attnum: i16| ids.binary_search(&(relid, attnum)).ok();
    let names = |relid: u32, attnums: &[i16], cols: &[(String, Column)]| -> Option<Vec<String>> {
        attnums
            .iter()
            .filter(|&&n| n != 0)
            .map(|&n| find(relid, n).map(|i| cols[i].1.name.clone()))
            .collect()
    };

    // Unique column sets per relation, for one_to_one.
    let mut unique_sets: HashMap<u32, Vec<Vec<i16>>> = HashMap::new();
    for ix in &indexes {
        if ix.unique && ix.valid && ix.predicate.is_none() && !ix.has_expressions {
            let mut set = key_attnums(ix).to_vec();
            set.sort_unstable();
            set.dedup();
            unique_sets.entry(ix.relid).or_default().push(set);
        }
    }

    // Indexes.
    let mut index_map: Vec<(String, Index)> = Vec::with_capacity(indexes.len());
    for ix in indexes {
        let Some(tkey) = visible_key(ix.relid) else {
            tracing::warn!(index = %ix.name, "catalog read: an index of an unread relation; left out");
            continue;
        };
        let nkey = key_attnums(&ix).len();
        let mut key_cols = Vec::with_capacity(nkey);
        let mut ok = true;
        for &n in &ix.attnums[..nkey] {
            if n == 0 {
                key_cols.push(None);
            } else if let Some(i) = find(ix.relid, n) {
                key_cols.push(Some(cols[i].1.name.clone()));
            } else {
                ok = false;
            }
        }
        let include = names(ix.relid, &ix.attnums[nkey..], &cols);
        let (true, Some(include)) = (ok, include) else {
            tracing::warn!(index = %ix.name, "catalog read: an index on an unread column; left out");
            continue;
        };
        let tkey = tkey.to_owned();
        index_map.push((
            child_key(&tkey, &ix.name),
            Index {
                table: tkey,
                name: ix.name,
                definition: normal(ix.definition),
                unique: ix.unique,
                primary: ix.primary,
                method: ix.method,
                columns: key_cols,
                include,
                predicate: ix.predicate.map(normal),
                has_expressions: ix.has_expressions,
                comment: None,
                valid: ix.valid,
                ready: ix.ready,
            },
        ));
    }

    // Constraints; the primary key also goes on its table and its columns.
    let mut constraint_map: Vec<(String, Constraint)> = Vec::with_capacity(constraints.len());
    for con in constraints {
        let (Some(&ti), Some(con_cols)) = (
            rel_index.get(&con.relid),
            names(con.relid, &con.attnums, &cols),
        ) else {
            tracing::warn!(constraint = %con.name, "catalog read: a constraint on an unread column; left out");
            continue;
        };
        let Some((tkey, table)) = tables[ti].as_mut() else {
            continue;
        };
        let kind = match con.contype {
            b'p' => ConstraintKind::PrimaryKey,
            b'u' => ConstraintKind::Unique,
            b'x' => ConstraintKind::Exclusion,
            _ => ConstraintKind::Check,
        };
        if kind == ConstraintKind::PrimaryKey {
            for &n in &con.attnums {
                if let Some(i) = find(con.relid, n) {
                    cols[i].1.is_primary_key = true;
                }
            }
            table.primary_key = Some(PrimaryKey {
                name: con.name.clone(),
                columns: con_cols.clone(),
            });
        }
        constraint_map.push((
            child_key(tkey, &con.name),
            Constraint {
                table: tkey.clone(),
                name: con.name,
                kind,
                columns: con_cols,
                definition: normal(con.definition),
                deferrable: con.deferrable,
                initially_deferred: con.initially_deferred,
                validated: con.validated,
                comment: None,
                no_inherit: con.no_inherit,
            },
        ));
    }

    // Relationships.
    let mut rel_map: Vec<(String, Relationship)> = Vec::with_capacity(foreign_keys.len());
    for fk in foreign_keys {
        let Some(&fi) = rel_index.get(&fk.relid) else {
            tracing::warn!(constraint = %fk.name, "catalog read: a foreign key of an unread relation; left out");
            continue;
        };
        let from_names = fk
            .from_names
            .clone()
            .or_else(|| names(fk.relid, &fk.attnums, &cols));
        let to_names = fk
            .to_names
            .clone()
            .or_else(|| names(fk.ref_relid, &fk.ref_attnums, &cols));
        let (Some(from_columns), Some(to_columns)) = (from_names, to_names) else {
            tracing::warn!(constraint = %fk.name, "catalog read: a foreign key on an unread column; left out");
            continue;
        };
        if tables[fi].is_some() {
            for &n in &fk.attnums {
                if let Some(i) = find(fk.relid, n) {
                    cols[i].1.is_foreign_key = true;
                }
            }
        }
        let one_to_one = fk
            .one_to_one
            .unwrap_or_else(|| is_unique_set(&unique_sets, &fk));
        let from_table = rel_keys[fi].clone();
        rel_map.push((
            child_key(&from_table, &fk.name),
            Relationship {
                name: fk.name,
                from_table,
                from_columns,
                to_table: fk.to_table,
                to_columns,
                on_delete: fk_action(fk.on_delete),
                on_update: fk_action(fk.on_update),
                deferrable: fk.deferrable,
                initially_deferred: fk.initially_deferred,
                match_type: match_type(fk.match_type).to_owned(),
                validated: fk.validated,
                one_to_one,
                definition: normal(fk.definition),
                comment: None,
            },
        ));
    }

    let enum_map: BTreeMap<String, EnumType> = enums
        .into_iter()
        .map(|e| {
            (
                table_key(&e.schema, &e.name),
                EnumType {
                    schema: e.schema,
                    name: e.name,
                    labels: e.labels,
                },
            )
        })
        .collect();

    let mut meta_schemas = schemas.to_vec();
    meta_schemas.sort_unstable();
    meta_schemas.dedup();

    let visible_keys: HashMap<u32, String> = rel_index
        .iter()
        .filter_map(|(&oid, &i)| Some((oid, tables[i].as_ref()?.0.clone())))
        .collect();
    let column_names: HashMap<(u32, i16), String> = ids
        .iter()
        .zip(&cols)
        .zip(&kept)
        .filter(|(_, &keep)| keep)
        .map(|((&id, (_, c)), _)| (id, c.name.clone()))
        .collect();

    let mut snapshot = Snapshot {
        meta: SnapshotMeta {
            captured_at,
            schemas: meta_schemas,
            server_version,
            server_version_num,
            normal_form: normalize::NORMAL_FORM,
            ..SnapshotMeta::default()
        },
        tables: tables.into_iter().flatten().collect(),
        columns: cols
            .into_iter()
            .zip(kept)
            .filter_map(|(c, keep)| keep.then_some(c))
            .collect(),
        relationships: rel_map.into_iter().collect(),
        indexes: index_map.into_iter().collect(),
        constraints: constraint_map.into_iter().collect(),
        enums: enum_map,
        ..Snapshot::default()
    };
    let table_key_of = |oid: u32| visible_keys.get(&oid).cloned();
    let column_name_of = |oid: u32, attnum: i16| column_names.get(&(oid, attnum)).cloned();
    super::objects::attach(
        &mut snapshot,
        objects,
        &super::objects::Resolver {
            table_key: &table_key_of,
            column_name: &column_name_of,
        },
    );
    normalize::objects(&mut snapshot);
    normalize::inherit_partition_identity(&mut snapshot);
    snapshot
}

fn column(c: RawColumn, table: String, position: i32) -> Column {
    let (default, generated, generated_kind) = match c.generated {
        0 => (c.expr, None, None),
        b'v' => (None, c.expr, Some(Generated::Virtual)),
        _ => (None, c.expr, Some(Generated::Stored)),
    };
    Column {
        table,
        name: c.name,
        position,
        data_type: normal(c.data_type),
        nullable: c.nullable,
        default: default.map(normal),
        identity: match c.identity {
            b'a' => Some(Identity::Always),
            b'd' => Some(Identity::ByDefault),
            _ => None,
        },
        generated: generated.map(normal),
        generated_kind,
        collation: c.collation,
        comment: c.comment,
        not_null_not_valid: c.not_null_not_valid,
        not_null_no_inherit: c.not_null_no_inherit,
        is_primary_key: false,
        is_foreign_key: false,
        grants: Vec::new(),
        identity_sequence: None,
    }
}

/// A server-printed definition in one printing ([`normalize::definition`]).
fn normal(text: String) -> String {
    match normalize::definition(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(n) => n,
    }
}

/// The key (not INCLUDE) attribute numbers of an index.
fn key_attnums(ix: &RawIndex) -> &[i16] {
    let n = usize::try_from(ix.nkeyatts)
        .unwrap_or(0)
        .min(ix.attnums.len());
    &ix.attnums[..n]
}

/// Whether the referencing columns, as a set, are exactly a unique column set of the
/// referencing table.
fn is_unique_set(unique_sets: &HashMap<u32, Vec<Vec<i16>>>, fk: &RawForeignKey) -> bool {
    let Some(sets) = unique_sets.get(&fk.relid) else {
        return false;
    };
    let mut cols = fk.attnums.clone();
    cols.sort_unstable();
    cols.dedup();
    sets.contains(&cols)
}

fn table_kind(relkind: u8) -> TableKind {
    match relkind {
        b'p' => TableKind::Partitioned,
        b'v' => TableKind::View,
        b'm' => TableKind::MaterializedView,
        b'f' => TableKind::ForeignTable,
        _ => TableKind::Table,
    }
}

fn fk_action(code: u8) -> FkAction {
    match code {
        b'r' => FkAction::Restrict,
        b'c' => FkAction::Cascade,
        b'n' => FkAction::SetNull,
        b'd' => FkAction::SetDefault,
        _ => FkAction::NoAction,
    }
}

fn match_type(code: u8) -> &'static str {
    match code {
        b'f' => "full",
        b'p' => "partial",
        _ => "simple",
    }
}
