//! Merging a visible-tables re-read into an earlier snapshot (refresh "visible").
//!
//! Owns the rule that makes a merged snapshot equal to a full read of the same state:
//! every object of a re-read table is replaced (its columns, indexes, constraints,
//! triggers, policies, rules and statistics, and relationships touching it on either
//! side), tables that no longer exist leave with all of those, the schema-wide kinds
//! (enums, functions, sequences, types, extensions, collations, schemas) are taken whole
//! from the re-read, and derived facts (partition lists, PK/FK column marks) are
//! recomputed over the whole result. It must never do I/O and never move
//! `meta.capturedAt`: that stays the time of the last full read.

use crate::{PartialRefresh, Snapshot};
use std::collections::{BTreeSet, HashSet};

/// Merges `fresh` (a read of just the `reread` tables, holding their columns, indexes,
/// constraints, triggers, policies, rules and statistics, the relationships touching
/// them on either side, and every schema-wide object of the schemas) into `base`. `gone` are requested tables the read did not find: they are
/// removed. Sets each re-read table's `refreshedAt`, records the partial refresh in
/// `meta`, and re-seals the signatures.
pub fn merge_visible(
    base: Snapshot,
    fresh: Snapshot,
    gone: &[String],
    refreshed_at: &str,
) -> Snapshot {
    let mut merged = merge_visible_unsealed(base, fresh, gone, refreshed_at);
    crate::signature::seal(&mut merged);
    merged
}

/// [`merge_visible`] without computing the signatures and counts: for a caller that seals
/// while serializing ([`crate::signature::seal_to_json`]).
pub fn merge_visible_unsealed(
    mut base: Snapshot,
    fresh: Snapshot,
    gone: &[String],
    refreshed_at: &str,
) -> Snapshot {
    let touched: HashSet<&str> = fresh
        .tables
        .keys()
        .map(String::as_str)
        .chain(gone.iter().map(String::as_str))
        .collect();
    base.tables.retain(|k, _| !touched.contains(k.as_str()));
    base.columns
        .retain(|_, c| !touched.contains(c.table.as_str()));
    base.indexes
        .retain(|_, i| !touched.contains(i.table.as_str()));
    base.constraints
        .retain(|_, c| !touched.contains(c.table.as_str()));
    base.relationships.retain(|_, r| {
        !touched.contains(r.from_table.as_str()) && !touched.contains(r.to_table.as_str())
    });
    base.triggers
        .retain(|_, t| !touched.contains(t.table.as_str()));
    base.policies
        .retain(|_, p| !touched.contains(p.table.as_str()));
    base.rules
        .retain(|_, r| !touched.contains(r.table.as_str()));
    base.statistics
        .retain(|_, st| !touched.contains(st.table.as_str()));

    let reread: Vec<String> = fresh.tables.keys().cloned().collect();
    for (k, mut t) in fresh.tables {
        t.refreshed_at = Some(refreshed_at.to_string());
        base.tables.insert(k, t);
    }
    base.columns.extend(fresh.columns);
    base.indexes.extend(fresh.indexes);
    base.constraints.extend(fresh.constraints);
    base.relationships.extend(fresh.relationships);
    base.triggers.extend(fresh.triggers);
    base.policies.extend(fresh.policies);
    base.rules.extend(fresh.rules);
    base.statistics.extend(fresh.statistics);
    base.enums = fresh.enums;
    base.functions = fresh.functions;
    base.sequences = fresh.sequences;
    base.types = fresh.types;
    base.extensions = fresh.extensions;
    base.collations = fresh.collations;
    base.schemas = fresh.schemas;
    base.meta.missing_schemas = fresh.meta.missing_schemas;

    recompute_derived(&mut base);
    let mut tables: BTreeSet<String> = base
        .meta
        .partial_refresh
        .take()
        .map(|p| p.tables.into_iter().collect())
        .unwrap_or_default();
    tables.extend(reread);
    tables.retain(|t| base.tables.contains_key(t));
    base.meta.partial_refresh = Some(PartialRefresh {
        refreshed_at: refreshed_at.to_string(),
        tables: tables.into_iter().collect(),
    });
    base
}

/// Partition lists and PK/FK column marks, from the tables and relationships present.
fn recompute_derived(s: &mut Snapshot) {
    let mut children: Vec<(String, String)> = s
        .tables
        .iter()
        .filter_map(|(k, t)| Some((t.partition_of.clone()?, k.clone())))
        .collect();
    children.sort();
    for t in s.tables.values_mut() {
        t.partitions.clear();
    }
    for (parent, child) in children {
        if let Some(p) = s.tables.get_mut(&parent) {
            p.partitions.push(child);
        }
    }
    let fk_cols: HashSet<(&str, &str)> = s
        .relationships
        .values()
        .flat_map(|r| {
            r.from_columns
                .iter()
                .map(move |c| (r.from_table.as_str(), c.as_str()))
        })
        .collect();
    let pk_cols: HashSet<(&str, &str)> = s
        .tables
        .iter()
        .filter_map(|(k, t)| Some((k.as_str(), t.primary_key.as_ref()?)))
        .flat_map(|(k, pk)| pk.columns.iter().map(move |c| (k, c.as_str())))
        .collect();
    let marks: Vec<(String, bool, bool)> = s
        .columns
        .iter()
        .map(|(key, c)| {
            let id = (c.table.as_str(), c.name.as_str());
            (key.clone(), pk_cols.contains(&id), fk_cols.contains(&id))
        })
        .collect();
    for (key, pk, fk) in marks {
        if let Some(c) = s.columns.get_mut(&key) {
            c.is_primary_key = pk;
            c.is_foreign_key = fk;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::child_key;
    use crate::testutil::{column, fk, sample, table};

    fn only(s: &Snapshot, tables: &[&str]) -> Snapshot {
        let keep: HashSet<&str> = tables.iter().copied().collect();
        let mut p = s.clone();
        p.tables.retain(|k, _| keep.contains(k.as_str()));
        p.columns.retain(|_, c| keep.contains(c.table.as_str()));
        p.indexes.retain(|_, i| keep.contains(i.table.as_str()));
        p.constraints.retain(|_, c| keep.contains(c.table.as_str()));
        p.relationships.retain(|_, r| {
            keep.contains(r.from_table.as_str()) || keep.contains(r.to_table.as_str())
        });
        p.triggers.retain(|_, t| keep.contains(t.table.as_str()));
        p.policies.retain(|_, x| keep.contains(x.table.as_str()));
        p.rules.retain(|_, x| keep.contains(x.table.as_str()));
        p.statistics.retain(|_, x| keep.contains(x.table.as_str()));
        p
    }

    #[test]
    fn merging_a_reread_of_the_same_state_gives_the_same_signatures() {
        let mut full = sample();
        crate::signature::seal(&mut full);
        let first = full.tables.keys().next().unwrap().clone();
        let partial = only(&full, &[&first]);
        let merged = merge_visible(full.clone(), partial, &[], "2030-01-01T00:00:00.000Z");
        assert_eq!(merged.meta.signature, full.meta.signature);
        assert_eq!(merged.meta.deep_signature, full.meta.deep_signature);
        assert_eq!(merged.meta.captured_at, full.meta.captured_at);
        assert_eq!(
            merged.tables[&first].refreshed_at.as_deref(),
            Some("2030-01-01T00:00:00.000Z")
        );
        assert_eq!(
            merged.meta.partial_refresh.as_ref().unwrap().tables,
            vec![first]
        );
    }

    #[test]
    fn a_change_in_a_visible_table_is_picked_up_and_others_are_untouched() {
        let mut base = sample();
        crate::signature::seal(&mut base);
        let mut now = base.clone();
        let target = now.columns.values_mut().next().unwrap();
        target.data_type = "numeric(31,7)".into();
        let t = target.table.clone();
        let partial = only(&now, &[&t]);
        let merged = merge_visible(base.clone(), partial, &[], "t1");
        let mut expected = now.clone();
        crate::signature::seal(&mut expected);
        assert_eq!(merged.meta.deep_signature, expected.meta.deep_signature);
        assert_ne!(merged.meta.deep_signature, base.meta.deep_signature);
        for (k, tb) in &merged.tables {
            if k != &t {
                assert!(tb.refreshed_at.is_none(), "{k} was not re-read");
            }
        }
    }

    #[test]
    fn a_dropped_visible_table_leaves_with_its_objects_and_fk_marks() {
        let mut s = Snapshot::default();
        let (a, b) = ("public.a".to_string(), "public.b".to_string());
        s.tables.insert(a.clone(), table("public", "a"));
        s.tables.insert(b.clone(), table("public", "b"));
        let mut id = column(&a, "id", 1, "int");
        id.is_primary_key = true;
        s.columns.insert(child_key(&a, "id"), id);
        let mut aid = column(&b, "a_id", 1, "int");
        aid.is_foreign_key = true;
        s.columns.insert(child_key(&b, "a_id"), aid);
        s.relationships.insert(
            child_key(&b, "b_a_fk"),
            fk("b_a_fk", &b, &["a_id"], &a, &["id"]),
        );
        crate::signature::seal(&mut s);

        // Table a is dropped (CASCADE drops the FK from hidden table b).
        let merged = merge_visible(s, Snapshot::default(), std::slice::from_ref(&a), "t");
        assert!(!merged.tables.contains_key(&a));
        assert!(merged.columns.keys().all(|k| !k.starts_with("public.a.")));
        assert!(
            merged.relationships.is_empty(),
            "FK to the dropped table is gone"
        );
        assert!(!merged.columns[&child_key(&b, "a_id")].is_foreign_key);
        assert_eq!(merged.meta.table_count, 1);
    }

    #[test]
    fn a_visible_reread_with_every_kind_equals_a_full_read() {
        let mut full = crate::testutil::sample_every_kind();
        crate::signature::seal(&mut full);
        // Re-read users (its trigger and policy come back) into a base that lacks them.
        let mut stale = full.clone();
        stale.triggers.clear();
        stale.policies.clear();
        stale.functions.clear();
        crate::signature::seal(&mut stale);
        let partial = only(&full, &["public.users"]);
        let merged = merge_visible(stale, partial, &[], "t");
        assert_eq!(merged.meta.deep_signature, full.meta.deep_signature);
        assert_eq!(merged.triggers, full.triggers);
        // A dropped table's rule and statistics leave with it.
        let gone = vec!["public.orders".to_string()];
        let partial = only(&full, &[]);
        let merged = merge_visible(full.clone(), partial, &gone, "t");
        assert!(merged.rules.is_empty() && merged.statistics.is_empty());
        assert_eq!(merged.triggers.len(), 1, "users' trigger stays");
    }
}
