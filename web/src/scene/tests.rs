use super::*;
use crate::state::marks_from_diff;
use crate::testutil::shop;

#[test]
fn every_table_gets_a_box_with_its_columns_in_order() {
    let s = shop();
    let scene = Scene::build(&s, &Marks::default(), None);
    assert_eq!(scene.tables.len(), s.tables.len());
    let orders = &scene.tables[scene.find("public.orders").unwrap()];
    let names: Vec<&str> = orders.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["id", "customer_id", "total"]);
    assert!(orders.rows[0].pk && !orders.rows[0].fk);
    assert!(orders.rows[1].fk);
    assert_eq!(
        orders.rows[2].data_type, "numeric(12,2)?",
        "nullable types end in ?"
    );
    assert_eq!(orders.rows[1].data_type, "bigint");
    let view = &scene.tables[scene.find("public.order_totals").unwrap()];
    assert_eq!(view.kind, Some("view"));
    for t in &scene.tables {
        assert!(t.rect.w >= MIN_W && t.rect.w <= MAX_W);
        assert_eq!(t.rect.h, HEADER_H + ROW_H * t.rows.len() as f64 + 4.0);
        assert!(scene.bounds.contains(&t.rect));
    }
}

#[test]
fn edges_join_the_referencing_and_referenced_rows() {
    let scene = Scene::build(&shop(), &Marks::default(), None);
    assert_eq!(
        scene.edges.len(),
        4,
        "cross-schema relationships are drawn too"
    );
    let e = scene
        .edges
        .iter()
        .find(|e| e.key.ends_with("orders_customer_id_fkey"))
        .unwrap();
    assert_eq!(scene.tables[e.from].key, "public.orders");
    assert_eq!(scene.tables[e.to].key, "public.customers");
    assert_eq!((e.from_row, e.to_row), (Some(1), Some(0)));
    let q = scene
        .edges
        .iter()
        .find(|e| e.key.ends_with("order_items_order_id_fkey"))
        .unwrap();
    assert_eq!(scene.tables[q.from].key, "public.\"Order Items\"");
    assert_eq!(q.from_row, Some(1));
}

#[test]
fn removed_tables_and_columns_stay_visible_as_ghosts() {
    let before = shop();
    let mut after = shop();
    after.tables.remove("public.products");
    after.columns.retain(|_, c| c.table != "public.products");
    after
        .relationships
        .retain(|_, r| r.to_table != "public.products");
    after.columns.remove("public.customers.email");
    let marks = marks_from_diff(&model::diff::diff(&before, &after), &after);

    let scene = Scene::build(&after, &marks, Some(&before));
    let products = &scene.tables[scene.find("public.products").expect("ghost box")];
    assert_eq!(products.mark, Some(Mark::Removed));
    assert_eq!(products.rows.len(), 2);
    assert!(products.rows.iter().all(|r| r.mark == Some(Mark::Removed)));
    assert_eq!(
        products.rows[0].data_type, "bigint",
        "types come from the previous snapshot"
    );
    let customers = &scene.tables[scene.find("public.customers").unwrap()];
    assert_eq!(customers.mark, Some(Mark::Changed));
    let last = customers.rows.last().unwrap();
    assert_eq!(
        (last.name.as_str(), last.mark),
        ("email", Some(Mark::Removed))
    );

    // A visible refresh never asks for a ghost.
    let live = scene.live_keys_in(&scene.bounds);
    assert!(!live.contains(&"public.products".to_string()));
    assert_eq!(live.len(), after.tables.len());

    // Without the previous snapshot the names still come from the keys.
    let scene = Scene::build(&after, &marks, None);
    let products = &scene.tables[scene.find("public.products").unwrap()];
    assert_eq!(products.rows[0].name, "id");
}

#[test]
fn long_names_are_cut_to_fit_the_widest_box() {
    let mut s = shop();
    let mut c = s.columns["public.orders.total"].clone();
    c.name = "a_very_long_column_name_that_goes_on_and_on_and_on_forever".into();
    c.data_type = "character varying(4000) with a long domain name too".into();
    c.position = 9;
    s.columns.insert(format!("public.orders.{}", c.name), c);
    let scene = Scene::build(&s, &Marks::default(), None);
    let orders = &scene.tables[scene.find("public.orders").unwrap()];
    assert_eq!(orders.rect.w, MAX_W);
    let row = orders.rows.last().unwrap();
    assert!(row.name.ends_with('…') && row.data_type.ends_with('…'));
    let used = BADGE_W
        + 2.0 * PAD
        + NAME_TYPE_GAP
        + CHAR_W * (row.name.chars().count() + row.data_type.chars().count()) as f64;
    assert!(used <= MAX_W + 0.01, "row text needs {used} px");
    assert_eq!(truncate("abcdef", 4), "abc…");
    assert_eq!(truncate("abc", 4), "abc");
}

#[test]
fn search_finds_exact_then_prefix_then_substring() {
    let scene = Scene::build(&shop(), &Marks::default(), None);
    let keys = |q: &str| -> Vec<String> {
        scene
            .search(q)
            .into_iter()
            .map(|i| scene.tables[i].key.clone())
            .collect()
    };
    assert_eq!(keys("ORDERS")[0], "public.orders");
    assert_eq!(
        keys("order"),
        [
            "public.\"Order Items\"",
            "public.order_totals",
            "public.orders"
        ]
    );
    assert_eq!(keys("crm."), ["crm.notes"]);
    assert!(keys("  ").is_empty());
    assert!(keys("zzz").is_empty());
}

#[test]
fn split_table_key_respects_quotes() {
    assert_eq!(
        split_table_key("public.orders"),
        ("public".into(), "orders".into())
    );
    assert_eq!(
        split_table_key("\"my.schema\".\"a.b\""),
        ("\"my.schema\"".into(), "\"a.b\"".into())
    );
}

#[test]
fn natural_order_reads_numbers_as_numbers() {
    let mut keys = vec![
        "public.t10",
        "public.t2",
        "public.t1",
        "public.t100",
        "public.t02",
        "public.a",
    ];
    keys.sort_by(|a, b| natural_cmp(a, b));
    assert_eq!(
        keys,
        [
            "public.a",
            "public.t1",
            "public.t02",
            "public.t2",
            "public.t10",
            "public.t100"
        ]
    );
}

#[test]
fn reducing_leaves_out_what_was_asked_and_keeps_the_rest_whole() {
    let s = shop();
    let keys = Scene::build_reduced(
        &s,
        &Marks::default(),
        None,
        &Reduce {
            keys_only: true,
            ..Reduce::default()
        },
    );
    let orders = &keys.tables[keys.find("public.orders").unwrap()];
    let names: Vec<&str> = orders.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["id", "customer_id"], "keys only drops `total`");
    assert_eq!(
        keys.edges.len(),
        4,
        "every relationship still joins its rows"
    );
    assert!(keys
        .edges
        .iter()
        .all(|e| e.from_row.is_some() && e.to_row.is_some()));

    let hidden = Scene::build_reduced(
        &s,
        &Marks::default(),
        None,
        &Reduce {
            hidden: ["public.orders".to_string()].into(),
            ..Reduce::default()
        },
    );
    assert_eq!(hidden.find("public.orders"), None);
    assert_eq!(hidden.tables.len(), s.tables.len() - 1);
    assert_eq!(hidden.edges.len(), 2, "its two relationships go with it");

    let near = Scene::build_reduced(
        &s,
        &Marks::default(),
        None,
        &Reduce {
            neighbours: Some(("public.orders".into(), 1)),
            ..Reduce::default()
        },
    );
    let mut keys: Vec<&str> = near.tables.iter().map(|t| t.key.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "public.\"Order Items\"",
            "public.customers",
            "public.orders"
        ]
    );
    assert_eq!(
        within_hops(&s, "public.orders", 2).len(),
        5,
        "two hops reach products and crm.notes"
    );
}

#[test]
fn partitions_fold_into_their_parent() {
    let mut s = shop();
    s.tables.get_mut("public.orders").unwrap().partitions =
        vec!["public.products".into(), "public.order_totals".into()];
    for p in ["public.products", "public.order_totals"] {
        s.tables.get_mut(p).unwrap().partition_of = Some("public.orders".into());
    }
    s.tables.get_mut("public.orders").unwrap().kind = TableKind::Partitioned;
    let folded = Scene::build_reduced(
        &s,
        &Marks::default(),
        None,
        &Reduce {
            fold_partitions: true,
            ..Reduce::default()
        },
    );
    assert_eq!(folded.tables.len(), s.tables.len() - 2);
    let orders = &folded.tables[folded.find("public.orders").unwrap()];
    assert_eq!(orders.folded, 2);
    assert_eq!(
        kind_text(orders.kind.unwrap(), orders.folded),
        "partitioned +2"
    );
    let drawn = Scene::build(&s, &Marks::default(), None);
    assert_eq!(
        drawn.tables.len(),
        s.tables.len(),
        "unfolded, every partition is drawn"
    );
}

#[test]
fn search_finds_tables_by_name_then_by_column() {
    let scene = Scene::build(&shop(), &Marks::default(), None);
    let hits = scene.search_hits("customer");
    let keys: Vec<&str> = hits
        .iter()
        .map(|h| scene.tables[h.table].key.as_str())
        .collect();
    assert_eq!(keys, ["public.customers", "crm.notes", "public.orders"]);
    assert!(hits[0].rows.is_empty(), "a name hit");
    let orders = &scene.tables[hits[2].table];
    assert_eq!(
        hits[2]
            .rows
            .iter()
            .map(|&r| orders.rows[r].name.as_str())
            .collect::<Vec<_>>(),
        ["customer_id"]
    );
    assert_eq!(
        scene.listed("customer").len(),
        3,
        "the side list shows them all"
    );
    assert!(scene.search_hits("  ").is_empty());
    let quoted = scene.search_hits("item id");
    assert_eq!(quoted.len(), 1, "quoted column names are found too");
}
