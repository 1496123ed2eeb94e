//! Merging a visible-tables re-read into an earlier snapshot (refresh "visible").
//!
//! Owns the rule that makes a merged snapshot equal to a full read of the same state:
//! every object of a re-read table is replaced (relationships touching it on either
//! side, too), tables that no longer exist leave with their columns, indexes,
//! constraints and relationships, and derived facts (partition lists, PK/FK column
//! marks) are recomputed over the whole result. It must never do I/O and never move
//! `meta.capturedAt`: that stays the time of the last full read.

use crate::{PartialRefresh, Snapshot};
use std::collections::{BTreeSet, HashSet};

/// Merges `fresh` (a read of just the `reread` tables, holding their columns, indexes,
/// constraints, the relationships touching them on either side, and every enum of the
/// schemas) into `base`. `gone` are requested tables the read did not find: they are
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

    let reread: Vec<String> = fresh.tables.keys().cloned().collect();
    for (k, mut t) in fresh.tables {
        t.refreshed_at = Some(refreshed_at.to_string());
        base.tables.insert(k, t);
    }
    base.columns.extend(fresh.columns);
    base.indexes.extend(fresh.indexes);
    base.constraints.extend(fresh.constraints);
    base.relationships.extend(fresh.relationships);
    base.enums = fresh.enums;

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
}
