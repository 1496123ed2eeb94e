//! A pure diff between two snapshots: per object kind (tables, columns, relationships,
//! indexes, constraints, enums, triggers, policies, rules, statistics, functions,
//! sequences, types, extensions, collations, schemas) the keys added, removed and
//! changed, with the changed attributes' before and after values. Used by the diff
//! endpoint and the web app.
//!
//! Owns the diff's JSON shape (camelCase). It must never do I/O, never report volatile
//! facts (a table's `rowEstimate` and `refreshedAt`) or `meta`, and never depend on hash
//! order: output is sorted by key, attributes by name, so two runs give identical JSON.

use crate::{Index, Snapshot, Table, Trigger};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Attributes of a table that change without the definition changing; never reported.
pub const VOLATILE_TABLE_ATTRIBUTES: &[&str] = &["rowEstimate", "refreshedAt"];

/// The differences between two snapshots, kind by kind.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotDiff {
    /// Differences in tables, views and other relations.
    #[serde(default)]
    pub tables: KindDiff,
    /// Differences in columns.
    #[serde(default)]
    pub columns: KindDiff,
    /// Differences in foreign keys.
    #[serde(default)]
    pub relationships: KindDiff,
    /// Differences in indexes.
    #[serde(default)]
    pub indexes: KindDiff,
    /// Differences in primary key, unique, check and exclusion constraints.
    #[serde(default)]
    pub constraints: KindDiff,
    /// Differences in enum types.
    #[serde(default)]
    pub enums: KindDiff,
    /// Differences in triggers.
    #[serde(default)]
    pub triggers: KindDiff,
    /// Differences in row-level security policies.
    #[serde(default)]
    pub policies: KindDiff,
    /// Differences in rewrite rules.
    #[serde(default)]
    pub rules: KindDiff,
    /// Differences in extended statistics objects.
    #[serde(default)]
    pub statistics: KindDiff,
    /// Differences in functions, procedures and aggregates.
    #[serde(default)]
    pub functions: KindDiff,
    /// Differences in sequences.
    #[serde(default)]
    pub sequences: KindDiff,
    /// Differences in domain, composite and range types.
    #[serde(default)]
    pub types: KindDiff,
    /// Differences in extensions.
    #[serde(default)]
    pub extensions: KindDiff,
    /// Differences in collations.
    #[serde(default)]
    pub collations: KindDiff,
    /// Differences in schemas.
    #[serde(default)]
    pub schemas: KindDiff,
    /// Counts per kind, and their total.
    #[serde(default)]
    pub summary: DiffSummary,
    /// Set when the two snapshots were read from different PostgreSQL majors: their
    /// `server_version_num`s. Changes that the upgrade itself explains carry
    /// [`Change::upgrade`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_upgrade: Option<ServerUpgrade>,
}

/// The servers two snapshots were read from, when their majors differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerUpgrade {
    /// `server_version_num` of the `before` snapshot's server, e.g. 130023.
    pub from_version_num: i32,
    /// `server_version_num` of the `after` snapshot's server, e.g. 170010.
    pub to_version_num: i32,
}

/// Why a change arrived with a server upgrade rather than from someone altering the
/// schema (see [`crate::upgrade`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeMark {
    /// The first major that reports it, e.g. 14.
    pub since: u32,
    /// True when the meaning changed (e.g. a type), false when only the printing did.
    pub changes_meaning: bool,
    /// Why, for a person.
    pub why: String,
}

/// The differences for one kind of object. All lists are sorted by key (byte order).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindDiff {
    /// Keys present only in `after`.
    #[serde(default)]
    pub added: Vec<String>,
    /// Keys present only in `before`.
    #[serde(default)]
    pub removed: Vec<String>,
    /// Objects present in both (or renamed, see [`Change::renamed_from`]) whose
    /// definition differs.
    #[serde(default)]
    pub changed: Vec<Change>,
}

/// One changed object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The object's key in `after`.
    pub key: String,
    /// Set when the object was renamed (found under this key in `before`): a foreign
    /// key, index or constraint with a new name but the same definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
    /// The attributes that differ, sorted by name.
    pub attributes: Vec<AttrChange>,
    /// Set when the snapshots come from different majors and every differing attribute
    /// is what the newer server reports by itself: the change arrived with the upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeMark>,
}

/// One attribute's before and after value (`null` when absent on that side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttrChange {
    /// The attribute's camelCase JSON name, e.g. `dataType`, `nullable`, `onDelete`.
    pub attribute: String,
    /// The value in `before`.
    pub before: Value,
    /// The value in `after`.
    pub after: Value,
}

/// How many objects of one kind were added, removed and changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KindCounts {
    /// Objects present only in `after`.
    pub added: usize,
    /// Objects present only in `before`.
    pub removed: usize,
    /// Objects in both whose definition differs.
    pub changed: usize,
}

impl KindCounts {
    /// Added + removed + changed.
    pub fn total(&self) -> usize {
        self.added + self.removed + self.changed
    }
}

/// Counts per kind, and the total number of differences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffSummary {
    /// Counts for tables, views and other relations.
    pub tables: KindCounts,
    /// Counts for columns.
    pub columns: KindCounts,
    /// Counts for foreign keys.
    pub relationships: KindCounts,
    /// Counts for indexes.
    pub indexes: KindCounts,
    /// Counts for primary key, unique, check and exclusion constraints.
    pub constraints: KindCounts,
    /// Counts for enum types.
    pub enums: KindCounts,
    /// Counts for triggers.
    #[serde(default)]
    pub triggers: KindCounts,
    /// Counts for row-level security policies.
    #[serde(default)]
    pub policies: KindCounts,
    /// Counts for rewrite rules.
    #[serde(default)]
    pub rules: KindCounts,
    /// Counts for extended statistics objects.
    #[serde(default)]
    pub statistics: KindCounts,
    /// Counts for functions, procedures and aggregates.
    #[serde(default)]
    pub functions: KindCounts,
    /// Counts for sequences.
    #[serde(default)]
    pub sequences: KindCounts,
    /// Counts for domain, composite and range types.
    #[serde(default)]
    pub types: KindCounts,
    /// Counts for extensions.
    #[serde(default)]
    pub extensions: KindCounts,
    /// Counts for collations.
    #[serde(default)]
    pub collations: KindCounts,
    /// Counts for schemas.
    #[serde(default)]
    pub schemas: KindCounts,
    /// The number of differences over every kind.
    pub total: usize,
}

impl KindDiff {
    /// Whether nothing differs in this kind.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// How many keys were added, removed and changed.
    pub fn counts(&self) -> KindCounts {
        KindCounts {
            added: self.added.len(),
            removed: self.removed.len(),
            changed: self.changed.len(),
        }
    }

    /// The change recorded for `key`, if any.
    pub fn change(&self, key: &str) -> Option<&Change> {
        self.changed
            .binary_search_by(|c| c.key.as_str().cmp(key))
            .ok()
            .and_then(|i| self.changed.get(i))
    }
}

impl Change {
    /// The change of `attribute`, if it changed.
    pub fn attribute(&self, attribute: &str) -> Option<&AttrChange> {
        self.attributes.iter().find(|a| a.attribute == attribute)
    }
}

impl SnapshotDiff {
    /// True when the two snapshots define the same objects the same way.
    pub fn is_empty(&self) -> bool {
        self.kinds().iter().all(|(_, k)| k.is_empty())
    }

    /// The kinds with their JSON names, in output order.
    pub fn kinds(&self) -> [(&'static str, &KindDiff); 16] {
        [
            ("tables", &self.tables),
            ("columns", &self.columns),
            ("relationships", &self.relationships),
            ("indexes", &self.indexes),
            ("constraints", &self.constraints),
            ("enums", &self.enums),
            ("triggers", &self.triggers),
            ("policies", &self.policies),
            ("rules", &self.rules),
            ("statistics", &self.statistics),
            ("functions", &self.functions),
            ("sequences", &self.sequences),
            ("types", &self.types),
            ("extensions", &self.extensions),
            ("collations", &self.collations),
            ("schemas", &self.schemas),
        ]
    }

    /// Counts computed from the lists (what `summary` holds after [`diff`]).
    pub fn compute_summary(&self) -> DiffSummary {
        let mut s = DiffSummary {
            tables: self.tables.counts(),
            columns: self.columns.counts(),
            relationships: self.relationships.counts(),
            indexes: self.indexes.counts(),
            constraints: self.constraints.counts(),
            enums: self.enums.counts(),
            triggers: self.triggers.counts(),
            policies: self.policies.counts(),
            rules: self.rules.counts(),
            statistics: self.statistics.counts(),
            functions: self.functions.counts(),
            sequences: self.sequences.counts(),
            types: self.types.counts(),
            extensions: self.extensions.counts(),
            collations: self.collations.counts(),
            schemas: self.schemas.counts(),
            total: 0,
        };
        s.total = self.kinds().iter().map(|(_, k)| k.counts().total()).sum();
        s
    }
}

/// Diffs two snapshots. Tables, columns and the other kinds keyed by name are matched by
/// key only (a renamed table is removed plus added); foreign keys, indexes, constraints,
/// triggers and policies whose only difference is their name are reported as one change
/// with `renamedFrom` and a `name` attribute (and nothing else may differ: a unique
/// index does not pair with a primary-key index of another name).
pub fn diff(before: &Snapshot, after: &Snapshot) -> SnapshotDiff {
    let mut d = SnapshotDiff {
        tables: diff_map(
            &before.tables,
            &after.tables,
            table_eq_ignoring_volatile,
            VOLATILE_TABLE_ATTRIBUTES,
        ),
        columns: diff_map(&before.columns, &after.columns, PartialEq::eq, &[]),
        relationships: diff_map(
            &before.relationships,
            &after.relationships,
            PartialEq::eq,
            &[],
        ),
        indexes: diff_map(&before.indexes, &after.indexes, PartialEq::eq, &[]),
        constraints: diff_map(&before.constraints, &after.constraints, PartialEq::eq, &[]),
        enums: diff_map(&before.enums, &after.enums, PartialEq::eq, &[]),
        triggers: diff_map(&before.triggers, &after.triggers, PartialEq::eq, &[]),
        policies: diff_map(&before.policies, &after.policies, PartialEq::eq, &[]),
        rules: diff_map(&before.rules, &after.rules, PartialEq::eq, &[]),
        statistics: diff_map(&before.statistics, &after.statistics, PartialEq::eq, &[]),
        functions: diff_map(&before.functions, &after.functions, PartialEq::eq, &[]),
        sequences: diff_map(&before.sequences, &after.sequences, PartialEq::eq, &[]),
        types: diff_map(&before.types, &after.types, PartialEq::eq, &[]),
        extensions: diff_map(&before.extensions, &after.extensions, PartialEq::eq, &[]),
        collations: diff_map(&before.collations, &after.collations, PartialEq::eq, &[]),
        schemas: diff_map(&before.schemas, &after.schemas, PartialEq::eq, &[]),
        summary: DiffSummary::default(),
        server_upgrade: None,
    };
    match_renames(
        &mut d.relationships,
        &before.relationships,
        &after.relationships,
        |r| identity_without_name(r, None),
    );
    match_renames(&mut d.indexes, &before.indexes, &after.indexes, |ix| {
        identity_without_name(ix, Some(index_definition_without_name(ix)?))
    });
    match_renames(
        &mut d.constraints,
        &before.constraints,
        &after.constraints,
        |c| identity_without_name(c, None),
    );
    match_renames(&mut d.triggers, &before.triggers, &after.triggers, |t| {
        identity_without_name(t, Some(trigger_definition_without_name(t)?))
    });
    match_renames(&mut d.policies, &before.policies, &after.policies, |p| {
        identity_without_name(p, None)
    });
    mark_upgrade(&mut d, before, after);
    d.summary = d.compute_summary();
    d
}

/// Marks the changes a major upgrade between the two snapshots explains by itself.
fn mark_upgrade(d: &mut SnapshotDiff, before: &Snapshot, after: &Snapshot) {
    let (from, to) = (
        crate::upgrade::major(before.meta.server_version_num),
        crate::upgrade::major(after.meta.server_version_num),
    );
    if from == to || from == 0 || to == 0 {
        return;
    }
    d.server_upgrade = Some(ServerUpgrade {
        from_version_num: before.meta.server_version_num,
        to_version_num: after.meta.server_version_num,
    });
    for (kind, k) in [
        ("tables", &mut d.tables),
        ("columns", &mut d.columns),
        ("relationships", &mut d.relationships),
        ("indexes", &mut d.indexes),
        ("constraints", &mut d.constraints),
        ("enums", &mut d.enums),
        ("triggers", &mut d.triggers),
        ("policies", &mut d.policies),
        ("rules", &mut d.rules),
        ("statistics", &mut d.statistics),
        ("functions", &mut d.functions),
        ("sequences", &mut d.sequences),
        ("types", &mut d.types),
        ("extensions", &mut d.extensions),
        ("collations", &mut d.collations),
        ("schemas", &mut d.schemas),
    ] {
        for c in &mut k.changed {
            let effects: Option<Vec<_>> = c
                .attributes
                .iter()
                .map(|a| crate::upgrade::explain(from, to, kind, &a.attribute, &a.before, &a.after))
                .collect();
            if let Some(first) = effects.as_ref().and_then(|e| e.first()) {
                let meaning = effects.iter().flatten().any(|e| e.changes_meaning);
                c.upgrade = Some(UpgradeMark {
                    since: first.since,
                    changes_meaning: meaning,
                    why: first.why.to_string(),
                });
            }
        }
    }
}

/// Equality of two tables' definitions, ignoring their volatile fields.
fn table_eq_ignoring_volatile(a: &Table, b: &Table) -> bool {
    let strip = |t: &Table| Table {
        row_estimate: None,
        refreshed_at: None,
        ..t.clone()
    };
    if a.row_estimate == b.row_estimate && a.refreshed_at == b.refreshed_at {
        a == b
    } else {
        strip(a) == strip(b)
    }
}

/// Walks both maps in merged key order (no hashing). Only entries that differ under `eq`
/// are converted to JSON values and compared attribute by attribute.
fn diff_map<T: Serialize>(
    before: &BTreeMap<String, T>,
    after: &BTreeMap<String, T>,
    eq: impl Fn(&T, &T) -> bool,
    volatile: &[&str],
) -> KindDiff {
    let mut d = KindDiff::default();
    let mut a = before.iter().peekable();
    let mut b = after.iter().peekable();
    loop {
        match (a.peek(), b.peek()) {
            (Some(&(ka, va)), Some(&(kb, vb))) => match ka.cmp(kb) {
                std::cmp::Ordering::Less => {
                    d.removed.push(ka.clone());
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    d.added.push(kb.clone());
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    if !eq(va, vb) {
                        let attributes = attr_changes(va, vb, volatile);
                        if !attributes.is_empty() {
                            d.changed.push(Change {
                                key: kb.clone(),
                                renamed_from: None,
                                attributes,
                                upgrade: None,
                            });
                        }
                    }
                    a.next();
                    b.next();
                }
            },
            (Some(&(ka, _)), None) => {
                d.removed.push(ka.clone());
                a.next();
            }
            (None, Some(&(kb, _))) => {
                d.added.push(kb.clone());
                b.next();
            }
            (None, None) => break,
        }
    }
    d
}

/// Attribute-by-attribute comparison through each value's JSON form, so fields added to
/// the model later are covered without touching this code. Absent attributes compare as
/// `null`; `volatile` attributes are skipped. Sorted by attribute name.
fn attr_changes<T: Serialize>(before: &T, after: &T, volatile: &[&str]) -> Vec<AttrChange> {
    // Cannot fail for the model's types (all structs with string-keyed maps); a failure
    // would show as `null`.
    let bv = serde_json::to_value(before).unwrap_or_default();
    let av = serde_json::to_value(after).unwrap_or_default();
    let (bo, ao) = match (bv, av) {
        (Value::Object(bo), Value::Object(ao)) => (bo, ao),
        (bv, av) if bv == av => return Vec::new(),
        (bv, av) => {
            return vec![AttrChange {
                attribute: "value".into(),
                before: bv,
                after: av,
            }]
        }
    };
    let mut names: Vec<&String> = bo.keys().chain(ao.keys()).collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        if volatile.contains(&name.as_str()) {
            continue;
        }
        let b = bo.get(name).unwrap_or(&Value::Null);
        let a = ao.get(name).unwrap_or(&Value::Null);
        if b != a {
            out.push(AttrChange {
                attribute: name.clone(),
                before: b.clone(),
                after: a.clone(),
            });
        }
    }
    out
}

/// Turns pairs of (removed, added) objects with the same identity into one change with
/// `renamed_from`. Within one identity, removed and added keys pair up in key order.
fn match_renames<'a, T: Serialize, K: Ord>(
    d: &mut KindDiff,
    before: &'a BTreeMap<String, T>,
    after: &'a BTreeMap<String, T>,
    identity: impl Fn(&'a T) -> Option<K>,
) {
    if d.removed.is_empty() || d.added.is_empty() {
        return;
    }
    // identity -> removed keys, reversed so `pop` yields the smallest key first.
    let mut candidates: BTreeMap<K, Vec<&'a str>> = BTreeMap::new();
    for key in d.removed.iter().rev() {
        if let Some((k, v)) = before.get_key_value(key.as_str()) {
            if let Some(id) = identity(v) {
                candidates.entry(id).or_default().push(k.as_str());
            }
        }
    }
    if candidates.is_empty() {
        return;
    }
    let mut renamed_old: Vec<&str> = Vec::new();
    let mut still_added = Vec::with_capacity(d.added.len());
    for key in std::mem::take(&mut d.added) {
        let found = after.get(key.as_str()).and_then(|new| {
            let old_key = candidates.get_mut(&identity(new)?)?.pop()?;
            Some((old_key, before.get(old_key)?, new))
        });
        match found {
            Some((old_key, old, new)) => {
                renamed_old.push(old_key);
                let attributes = attr_changes(old, new, &[]);
                d.changed.push(Change {
                    key,
                    renamed_from: Some(old_key.to_string()),
                    attributes,
                    upgrade: None,
                });
            }
            None => still_added.push(key),
        }
    }
    d.added = still_added;
    if !renamed_old.is_empty() {
        renamed_old.sort_unstable();
        d.removed
            .retain(|k| renamed_old.binary_search(&k.as_str()).is_err());
        d.changed.sort_by(|x, y| x.key.cmp(&y.key));
    }
}

/// An object's identity apart from its name: every attribute but `name` (with
/// `definition` replaced by `definition`, when given: the definition with the name cut
/// out), as canonical JSON. Two objects pair as a rename only when these are equal, so
/// nothing but the name may differ.
fn identity_without_name<T: Serialize>(obj: &T, definition: Option<String>) -> Option<String> {
    let Value::Object(mut m) = serde_json::to_value(obj).ok()? else {
        return None;
    };
    m.remove("name");
    if let Some(def) = definition {
        m.insert("definition".into(), Value::String(def));
    }
    serde_json::to_string(&m).ok()
}

/// An index definition with its name cut out (`CREATE [UNIQUE] INDEX <name> ON [ONLY]
/// ...`). `None` when the definition does not carry the name where expected, so no
/// rename is guessed.
fn index_definition_without_name(ix: &Index) -> Option<String> {
    cut_name(
        &ix.definition,
        &format!(" INDEX {} ON ", ix.name),
        " INDEX ON ",
    )
}

/// A trigger definition with its name cut out (`CREATE [CONSTRAINT] TRIGGER <name> ...`).
fn trigger_definition_without_name(t: &Trigger) -> Option<String> {
    cut_name(&t.definition, &format!(" TRIGGER {} ", t.name), " TRIGGER ")
}

fn cut_name(definition: &str, marker: &str, replacement: &str) -> Option<String> {
    let at = definition.find(marker)?;
    let mut def = String::with_capacity(definition.len());
    def.push_str(&definition[..at]);
    def.push_str(replacement);
    def.push_str(&definition[at + marker.len()..]);
    Some(def)
}

#[cfg(test)]
mod tests;
