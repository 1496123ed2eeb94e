//! Tests of the snapshot diff: every change kind, renames, volatile fields, JSON shape.

use super::*;
use crate::keys::child_key;
use crate::testutil::*;
use crate::*;
use serde_json::json;

const FK: &str = "public.orders.orders_user_id_fkey";
const IX: &str = "public.orders.orders_user_id_idx";

fn only_change<'d>(k: &'d KindDiff, key: &str) -> &'d Change {
    assert!(k.added.is_empty(), "added: {:?}", k.added);
    assert!(k.removed.is_empty(), "removed: {:?}", k.removed);
    assert_eq!(k.changed.len(), 1, "changed: {:?}", k.changed);
    let c = &k.changed[0];
    assert_eq!(c.key, key);
    c
}

fn assert_attr(c: &Change, attribute: &str, before: Value, after: Value) {
    let a = c
        .attribute(attribute)
        .unwrap_or_else(|| panic!("{attribute} not reported in {c:?}"));
    assert_eq!(a.before, before, "{attribute} before");
    assert_eq!(a.after, after, "{attribute} after");
}

/// Applies `edit` to a copy of the sample, diffs, and checks that exactly one kind has
/// differences.
fn diff_after(edit: impl FnOnce(&mut Snapshot)) -> SnapshotDiff {
    let before = sample();
    let mut after = before.clone();
    edit(&mut after);
    let d = diff(&before, &after);
    assert!(!d.is_empty());
    assert_eq!(d.summary, d.compute_summary());
    d
}

fn others_empty(d: &SnapshotDiff, except: &str) {
    for (name, k) in d.kinds() {
        if name != except {
            assert!(k.is_empty(), "{name} should be empty: {k:?}");
        }
    }
}

#[test]
fn identical_snapshots_have_an_empty_diff() {
    let s = sample();
    let d = diff(&s, &s);
    assert!(d.is_empty());
    assert_eq!(d.summary.total, 0);
    assert_eq!(d, SnapshotDiff::default());
}

#[test]
fn volatile_fields_and_meta_are_not_reported() {
    let before = sample();
    let mut after = before.clone();
    for t in after.tables.values_mut() {
        t.row_estimate = Some(987_654);
        t.refreshed_at = Some("2030-01-01T00:00:00Z".into());
    }
    after.meta.captured_at = "2030-01-01T00:00:00Z".into();
    after.meta.server_version = "17.1".into();
    assert!(diff(&before, &after).is_empty());
    // A real change next to volatile ones reports only the real one.
    after.tables.get_mut("public.users").unwrap().comment = Some("people".into());
    let d = diff(&before, &after);
    let c = only_change(&d.tables, "public.users");
    assert_eq!(c.attributes.len(), 1);
    assert_attr(c, "comment", Value::Null, json!("people"));
}

#[test]
fn column_type_nullability_default_identity_generated() {
    let d = diff_after(|s| {
        let c = s.columns.get_mut("public.orders.user_id").unwrap();
        c.data_type = "integer".into();
        c.nullable = false;
    });
    others_empty(&d, "columns");
    let c = only_change(&d.columns, "public.orders.user_id");
    assert_eq!(c.attributes.len(), 2);
    assert_attr(c, "dataType", json!("bigint"), json!("integer"));
    assert_attr(c, "nullable", json!(true), json!(false));
    assert_eq!(c.renamed_from, None);

    let d = diff_after(|s| {
        s.columns.get_mut("public.users.status").unwrap().default = None;
    });
    let c = only_change(&d.columns, "public.users.status");
    assert_attr(
        c,
        "default",
        json!("'active'::public.user_status"),
        Value::Null,
    );

    let d = diff_after(|s| {
        s.columns.get_mut("public.users.email").unwrap().default = Some("''::text".into());
    });
    let c = only_change(&d.columns, "public.users.email");
    assert_attr(c, "default", Value::Null, json!("''::text"));

    let d = diff_after(|s| {
        s.columns.get_mut("public.users.id").unwrap().identity = Some(Identity::ByDefault);
    });
    let c = only_change(&d.columns, "public.users.id");
    assert_attr(c, "identity", json!("always"), json!("byDefault"));

    let d = diff_after(|s| {
        let c = s.columns.get_mut("public.orders.total").unwrap();
        c.generated = None;
        c.generated_kind = None;
    });
    let c = only_change(&d.columns, "public.orders.total");
    assert_attr(c, "generated", json!("(0)::numeric"), Value::Null);
    assert_attr(c, "generatedKind", json!("stored"), Value::Null);
    // Attributes come sorted by name.
    let names: Vec<&str> = c.attributes.iter().map(|a| a.attribute.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn column_added_and_removed() {
    let d = diff_after(|s| {
        s.columns.remove("public.users.email");
        s.columns.insert(
            "public.users.name".into(),
            column("public.users", "name", 4, "text"),
        );
    });
    others_empty(&d, "columns");
    assert_eq!(d.columns.added, vec!["public.users.name"]);
    assert_eq!(d.columns.removed, vec!["public.users.email"]);
    assert!(d.columns.changed.is_empty());
    assert_eq!(
        d.summary.columns,
        KindCounts {
            added: 1,
            removed: 1,
            changed: 0
        }
    );
    assert_eq!(d.summary.total, 2);
}

#[test]
fn foreign_key_columns_target_and_actions() {
    let d = diff_after(|s| {
        let r = s.relationships.get_mut(FK).unwrap();
        r.on_delete = FkAction::Cascade;
        r.on_update = FkAction::SetNull;
    });
    others_empty(&d, "relationships");
    let c = only_change(&d.relationships, FK);
    assert_eq!(c.attributes.len(), 2);
    assert_attr(c, "onDelete", json!("noAction"), json!("cascade"));
    assert_attr(c, "onUpdate", json!("noAction"), json!("setNull"));

    let d = diff_after(|s| {
        let r = s.relationships.get_mut(FK).unwrap();
        r.from_columns = vec!["user_id".into(), "id".into()];
        r.to_table = "public.accounts".into();
        r.to_columns = vec!["id".into(), "order_id".into()];
    });
    let c = only_change(&d.relationships, FK);
    assert_attr(
        c,
        "fromColumns",
        json!(["user_id"]),
        json!(["user_id", "id"]),
    );
    assert_attr(
        c,
        "toTable",
        json!("public.users"),
        json!("public.accounts"),
    );
    assert_attr(c, "toColumns", json!(["id"]), json!(["id", "order_id"]));
}

#[test]
fn foreign_key_rename_is_one_change() {
    let d = diff_after(|s| {
        let mut r = s.relationships.remove(FK).unwrap();
        r.name = "fk_orders_user".into();
        s.relationships
            .insert(child_key("public.orders", "fk_orders_user"), r);
    });
    others_empty(&d, "relationships");
    let c = only_change(&d.relationships, "public.orders.fk_orders_user");
    assert_eq!(c.renamed_from.as_deref(), Some(FK));
    assert_attr(
        c,
        "name",
        json!("orders_user_id_fkey"),
        json!("fk_orders_user"),
    );
    assert_eq!(c.attributes.len(), 1);
    assert_eq!(d.summary.relationships.changed, 1);
    assert_eq!(d.summary.total, 1);
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["relationships"]["changed"][0]["renamedFrom"], json!(FK));

    // Renamed and altered: nothing but the name may differ for a rename.
    let d = diff_after(|s| {
        let mut r = s.relationships.remove(FK).unwrap();
        r.name = "fk_orders_user".into();
        r.on_delete = FkAction::Cascade;
        s.relationships
            .insert(child_key("public.orders", "fk_orders_user"), r);
    });
    assert_eq!(d.relationships.added, vec!["public.orders.fk_orders_user"]);
    assert_eq!(d.relationships.removed, vec![FK]);
}

#[test]
fn foreign_key_to_another_target_is_removed_plus_added() {
    let d = diff_after(|s| {
        let mut r = s.relationships.remove(FK).unwrap();
        r.name = "other".into();
        r.to_table = "public.accounts".into();
        s.relationships
            .insert(child_key("public.orders", "other"), r);
    });
    assert_eq!(d.relationships.added, vec!["public.orders.other"]);
    assert_eq!(d.relationships.removed, vec![FK]);
    assert!(d.relationships.changed.is_empty());
}

#[test]
fn duplicate_foreign_keys_pair_up_once_each() {
    let before = sample();
    let mut after = before.clone();
    let r = after.relationships.remove(FK).unwrap();
    for n in ["a_fk", "b_fk"] {
        let mut r2 = r.clone();
        r2.name = n.into();
        after
            .relationships
            .insert(child_key("public.orders", n), r2);
    }
    let d = diff(&before, &after);
    assert_eq!(d.relationships.added, vec!["public.orders.b_fk"]);
    assert!(d.relationships.removed.is_empty());
    let without_added = KindDiff {
        added: vec![],
        ..d.relationships.clone()
    };
    let c = only_change(&without_added, "public.orders.a_fk");
    assert_eq!(c.renamed_from.as_deref(), Some(FK));
}

#[test]
fn index_definition_and_rename() {
    let d = diff_after(|s| {
        let ix = s.indexes.get_mut(IX).unwrap();
        ix.definition = ix.definition.replace("btree", "hash");
        ix.method = "hash".into();
    });
    others_empty(&d, "indexes");
    let c = only_change(&d.indexes, IX);
    assert_attr(c, "method", json!("btree"), json!("hash"));
    assert!(c.attribute("definition").is_some());

    let d = diff_after(|s| {
        s.indexes.remove(IX);
        s.indexes.insert(
            child_key("public.orders", "ix_user"),
            index("public.orders", "ix_user", &["user_id"], false),
        );
    });
    let c = only_change(&d.indexes, "public.orders.ix_user");
    assert_eq!(c.renamed_from.as_deref(), Some(IX));
    assert_attr(c, "name", json!("orders_user_id_idx"), json!("ix_user"));
    assert_eq!(c.attributes.len(), 2); // name and definition

    // Same columns but now unique: a different index, not a rename.
    let d = diff_after(|s| {
        s.indexes.remove(IX);
        s.indexes.insert(
            child_key("public.orders", "ix_user"),
            index("public.orders", "ix_user", &["user_id"], true),
        );
    });
    assert_eq!(d.indexes.added, vec!["public.orders.ix_user"]);
    assert_eq!(d.indexes.removed, vec![IX]);
}

#[test]
fn constraint_definition_and_rename() {
    let d = diff_after(|s| {
        s.constraints
            .get_mut("public.orders.orders_total_check")
            .unwrap()
            .definition = "CHECK ((total > (0)::numeric))".into();
    });
    others_empty(&d, "constraints");
    let c = only_change(&d.constraints, "public.orders.orders_total_check");
    assert_attr(
        c,
        "definition",
        json!("CHECK ((total >= (0)::numeric))"),
        json!("CHECK ((total > (0)::numeric))"),
    );

    let d = diff_after(|s| {
        let mut c = s
            .constraints
            .remove("public.users.users_email_key")
            .unwrap();
        c.name = "uq_email".into();
        s.constraints.insert("public.users.uq_email".into(), c);
    });
    let c = only_change(&d.constraints, "public.users.uq_email");
    assert_eq!(
        c.renamed_from.as_deref(),
        Some("public.users.users_email_key")
    );
    assert_eq!(c.attributes.len(), 1);
}

#[test]
fn enum_label_added() {
    let d = diff_after(|s| {
        s.enums
            .get_mut("public.user_status")
            .unwrap()
            .labels
            .insert(1, "pending".into());
    });
    others_empty(&d, "enums");
    let c = only_change(&d.enums, "public.user_status");
    assert_attr(
        c,
        "labels",
        json!(["active", "disabled"]),
        json!(["active", "pending", "disabled"]),
    );
}

#[test]
fn tables_added_removed_and_renamed() {
    let d = diff_after(|s| {
        s.tables
            .insert("public.audit".into(), table("public", "audit"));
    });
    others_empty(&d, "tables");
    assert_eq!(d.tables.added, vec!["public.audit"]);

    let d = diff_after(|s| {
        s.tables.remove("public.orders");
    });
    assert_eq!(d.tables.removed, vec!["public.orders"]);
    assert!(d.tables.added.is_empty() && d.tables.changed.is_empty());

    // A rename is removed + added, for the table and its columns.
    let d = diff_after(|s| {
        let mut t = s.tables.remove("public.users").unwrap();
        t.name = "people".into();
        s.tables.insert("public.people".into(), t);
        let keys: Vec<String> = s
            .columns
            .keys()
            .filter(|k| k.starts_with("public.users."))
            .cloned()
            .collect();
        for k in keys {
            let mut c = s.columns.remove(&k).unwrap();
            c.table = "public.people".into();
            s.columns.insert(child_key("public.people", &c.name), c);
        }
    });
    assert_eq!(d.tables.added, vec!["public.people"]);
    assert_eq!(d.tables.removed, vec!["public.users"]);
    assert!(d.tables.changed.is_empty());
    assert_eq!(d.columns.added.len(), 3);
    assert_eq!(d.columns.removed.len(), 3);
    assert_eq!(d.summary.total, 8);
}

#[test]
fn table_definition_change() {
    let d = diff_after(|s| {
        let t = s.tables.get_mut("public.orders").unwrap();
        t.kind = TableKind::Partitioned;
        t.partition_key = Some("RANGE (id)".into());
    });
    let c = only_change(&d.tables, "public.orders");
    assert_attr(c, "kind", json!("table"), json!("partitioned"));
    assert_attr(c, "partitionKey", Value::Null, json!("RANGE (id)"));
}

#[test]
fn diff_json_shape_round_trips() {
    let d = diff_after(|s| {
        s.columns.get_mut("public.users.email").unwrap().nullable = true;
        s.enums.clear();
    });
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["summary"]["total"], json!(2));
    assert_eq!(v["summary"]["enums"]["removed"], json!(1));
    assert_eq!(v["enums"]["removed"], json!(["public.user_status"]));
    let ch = &v["columns"]["changed"][0];
    assert_eq!(ch["key"], json!("public.users.email"));
    assert!(ch.get("renamedFrom").is_none());
    assert_eq!(
        ch["attributes"][0],
        json!({"attribute": "nullable", "before": false, "after": true})
    );
    let back: SnapshotDiff = serde_json::from_value(v).unwrap();
    assert_eq!(back, d);
}

#[test]
fn large_snapshot_diff_is_correct() {
    let before = synthetic(200, 10);
    let mut after = before.clone();
    for t in after.tables.values_mut() {
        t.row_estimate = Some(1);
    }
    after
        .columns
        .get_mut("app.table_00100.col_004")
        .unwrap()
        .data_type = "text".into();
    after.tables.remove("app.table_00000");
    let d = diff(&before, &after);
    assert_eq!(d.tables.removed, vec!["app.table_00000"]);
    assert!(d.tables.changed.is_empty());
    assert_eq!(d.columns.changed.len(), 1);
    assert_eq!(d.summary.total, 2);
}

#[test]
fn a_dropped_unique_index_does_not_pair_with_a_new_primary_key_index() {
    let before = sample();
    let mut after = before.clone();
    let mut unique = index("public.orders", "orders_user_uq", &["user_id"], true);
    let mut before_u = before.clone();
    before_u
        .indexes
        .insert(child_key("public.orders", "orders_user_uq"), unique.clone());
    // Same definition but for the name, yet a primary key: not a rename.
    unique.name = "orders_pk2".into();
    unique.definition = unique.definition.replace("orders_user_uq", "orders_pk2");
    unique.primary = true;
    after
        .indexes
        .insert(child_key("public.orders", "orders_pk2"), unique);
    let d = diff(&before_u, &after);
    assert_eq!(d.indexes.added, vec!["public.orders.orders_pk2"]);
    assert_eq!(d.indexes.removed, vec!["public.orders.orders_user_uq"]);
    assert!(d.indexes.changed.is_empty());
}

#[test]
fn every_new_kind_is_added_removed_and_changed_with_before_and_after() {
    let base = sample();
    let every = sample_every_kind();
    let added = diff(&base, &every);
    for (kind, key) in [
        ("triggers", "public.users.users_audit"),
        ("policies", "public.users.own_rows"),
        ("rules", "public.orders.no_delete"),
        ("statistics", "public.orders_stats"),
        ("functions", "public.audit()"),
        ("sequences", "public.orders_id_seq"),
        ("types", "public.email"),
        ("extensions", "pgcrypto"),
        ("collations", "public.nocase"),
        ("schemas", "public"),
    ] {
        let k = added
            .kinds()
            .into_iter()
            .find(|(n, _)| *n == kind)
            .unwrap()
            .1;
        assert_eq!(k.added, vec![key.to_string()], "{kind}");
    }
    let users = added.tables.change("public.users").expect("users changed");
    assert_attr(users, "rlsEnabled", Value::Null, json!(true));
    assert_attr(
        users,
        "grants",
        Value::Null,
        json!([{"grantee": "reader", "privilege": "SELECT"}]),
    );
    assert_attr(users, "owner", Value::Null, json!("app"));
    let removed = diff(&every, &base);
    assert_eq!(removed.functions.removed, vec!["public.audit()"]);
    assert_eq!(removed.summary.total, added.summary.total);

    let mut changed = every.clone();
    changed
        .functions
        .get_mut("public.audit()")
        .unwrap()
        .volatility = Volatility::Stable;
    changed
        .sequences
        .get_mut("public.orders_id_seq")
        .unwrap()
        .increment = 10;
    changed
        .triggers
        .get_mut("public.users.users_audit")
        .unwrap()
        .enabled = EnabledState::Disabled;
    changed.extensions.get_mut("pgcrypto").unwrap().version = "1.4".into();
    let d = diff(&every, &changed);
    assert_attr(
        only_change(&d.functions, "public.audit()"),
        "volatility",
        json!("volatile"),
        json!("stable"),
    );
    assert_attr(
        only_change(&d.sequences, "public.orders_id_seq"),
        "increment",
        json!(1),
        json!(10),
    );
    assert_attr(
        only_change(&d.triggers, "public.users.users_audit"),
        "enabled",
        json!("origin"),
        json!("disabled"),
    );
    assert_attr(
        only_change(&d.extensions, "pgcrypto"),
        "version",
        json!("1.3"),
        json!("1.4"),
    );
    assert_eq!(d.summary.total, 4);
    assert_eq!(d.summary.functions.changed, 1);
    assert!(diff(&every, &every.clone()).is_empty());
}

#[test]
fn a_renamed_trigger_is_one_change_and_a_changed_one_is_not_a_rename() {
    let every = sample_every_kind();
    let rename = |s: &mut Snapshot, new: &str| {
        let mut t = s.triggers.remove("public.users.users_audit").unwrap();
        t.definition = t.definition.replace("users_audit", new);
        t.name = new.into();
        s.triggers.insert(child_key("public.users", new), t);
    };
    let mut after = every.clone();
    rename(&mut after, "audit_users");
    let d = diff(&every, &after);
    let c = only_change(&d.triggers, "public.users.audit_users");
    assert_eq!(c.renamed_from.as_deref(), Some("public.users.users_audit"));
    assert_attr(c, "name", json!("users_audit"), json!("audit_users"));

    let mut after = every.clone();
    rename(&mut after, "audit_users");
    after
        .triggers
        .get_mut("public.users.audit_users")
        .unwrap()
        .level = TriggerLevel::Statement;
    let d = diff(&every, &after);
    assert_eq!(d.triggers.added, vec!["public.users.audit_users"]);
    assert_eq!(d.triggers.removed, vec!["public.users.users_audit"]);
}

#[test]
fn a_diff_of_every_kind_round_trips_through_json() {
    let d = diff(&sample(), &sample_every_kind());
    let back: SnapshotDiff = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
    assert_eq!(back, d);
    // A diff stored before the new kinds existed still reads.
    let old: SnapshotDiff = serde_json::from_value(json!({
        "tables": {"added": [], "removed": [], "changed": []},
        "summary": {"tables": {"added": 0, "removed": 0, "changed": 0},
                    "columns": {"added": 0, "removed": 0, "changed": 0},
                    "relationships": {"added": 0, "removed": 0, "changed": 0},
                    "indexes": {"added": 0, "removed": 0, "changed": 0},
                    "constraints": {"added": 0, "removed": 0, "changed": 0},
                    "enums": {"added": 0, "removed": 0, "changed": 0},
                    "total": 0}
    }))
    .unwrap();
    assert!(old.is_empty());
}

/// Across majors the diff names both servers and marks the changes the upgrade explains
/// (14's EXTRACT), not the ones someone made.
#[test]
fn changes_an_upgrade_explains_are_marked() {
    let mut before = sample();
    let mut view = table("public", "years");
    view.kind = TableKind::View;
    view.view_definition = Some(" SELECT date_part('year'::text, now()) AS y;".into());
    before.tables.insert("public.years".into(), view);
    before.meta.server_version_num = 130023;
    let mut after = before.clone();
    after.meta.server_version_num = 140023;
    after
        .tables
        .get_mut("public.years")
        .unwrap()
        .view_definition = Some(" SELECT EXTRACT(year FROM now()) AS y;".into());
    after
        .columns
        .get_mut(&child_key("public.users", "email"))
        .unwrap()
        .nullable = true;
    let d = diff(&before, &after);
    assert_eq!(
        d.server_upgrade,
        Some(ServerUpgrade {
            from_version_num: 130023,
            to_version_num: 140023
        })
    );
    let mark = d
        .tables
        .change("public.years")
        .and_then(|c| c.upgrade.clone());
    assert!(mark.is_some_and(|m| m.since == 14 && m.changes_meaning));
    let email = d
        .columns
        .change(&child_key("public.users", "email"))
        .unwrap();
    assert!(email.upgrade.is_none(), "someone altered it");
    // Same major: nothing is marked.
    before.meta.server_version_num = 140023;
    let same = diff(&before, &after);
    assert!(same.server_upgrade.is_none());
    assert!(same.tables.changed.iter().all(|c| c.upgrade.is_none()));
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["serverUpgrade"]["fromVersionNum"], json!(130023));
}
