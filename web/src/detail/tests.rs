use super::*;
use crate::testutil::shop;
use model::TableKind;

fn shop_with_indexes() -> Snapshot {
    let mut s = shop();
    s.indexes.insert(
        "public.orders.orders_customer".into(),
        model::Index {
            table: "public.orders".into(),
            name: "orders_customer".into(),
            definition: "CREATE INDEX orders_customer ON public.orders USING btree (customer_id)"
                .into(),
            unique: false,
            primary: false,
            method: "btree".into(),
            columns: vec![Some("customer_id".into())],
            include: vec![],
            predicate: None,
            has_expressions: false,
            ..Default::default()
        },
    );
    s.indexes.insert(
        "public.customers.customers_pkey".into(),
        model::Index {
            table: "public.customers".into(),
            name: "customers_pkey".into(),
            definition: "CREATE UNIQUE INDEX customers_pkey ON public.customers USING btree (id)"
                .into(),
            unique: true,
            primary: true,
            method: "btree".into(),
            columns: vec![Some("id".into())],
            include: vec![],
            predicate: None,
            has_expressions: false,
            ..Default::default()
        },
    );
    s.constraints.insert(
        "public.orders.total_positive".into(),
        model::Constraint {
            table: "public.orders".into(),
            name: "total_positive".into(),
            kind: ConstraintKind::Check,
            columns: vec!["total".into()],
            definition: "CHECK ((total > (0)::numeric))".into(),
            deferrable: false,
            initially_deferred: false,
            validated: false,
            ..Default::default()
        },
    );
    let orders = s.tables.get_mut("public.orders").unwrap();
    orders.row_estimate = Some(12_345);
    orders.comment = Some("one per <checkout>".into());
    let total = s.columns.get_mut("public.orders.total").unwrap();
    total.default = Some("0".into());
    s.columns.get_mut("public.orders.id").unwrap().identity = Some(Identity::Always);
    s
}

#[test]
fn the_panel_shows_the_tables_columns_indexes_and_constraints_only() {
    let s = shop_with_indexes();
    let html = detail_html(&s, "public.orders").unwrap();
    assert!(html.contains(r#"<h2 id="detail-title" data-key="public.orders">public.orders</h2>"#));
    assert!(html.contains("about 12,345 rows"));
    assert!(
        html.contains("one per &lt;checkout&gt;"),
        "comments escaped"
    );
    assert!(html.contains("Columns (3)"));
    let id = html.find("<code>id</code>").unwrap();
    let cust = html.find("<code>customer_id</code>").unwrap();
    let total = html.find("<code>total</code>").unwrap();
    assert!(id < cust && cust < total, "columns in position order");
    assert!(html.contains("generated always as identity"));
    assert!(
        html.contains(r#"<td><code>numeric(12,2)</code></td><td>null</td><td><code>0</code></td>"#)
    );
    assert!(html.contains("Indexes (1)") && html.contains("orders_customer"));
    assert!(
        html.contains("CREATE INDEX orders_customer ON public.orders USING btree (customer_id)")
    );
    assert!(
        !html.contains("customers_pkey"),
        "another table's index is not shown"
    );
    assert!(html.contains("total_positive") && html.contains("check, not validated"));
}

#[test]
fn relationships_are_buttons_to_the_table_at_the_other_end() {
    let s = shop_with_indexes();
    let html = detail_html(&s, "public.orders").unwrap();
    assert!(html.contains("References (1)") && html.contains("Referenced by (1)"));
    assert!(html.contains(r#"<button type="button" class="rel" data-key="public.customers">"#));
    assert!(html.contains(
        r#"<button type="button" class="rel" data-key="public.&quot;Order Items&quot;">"#
    ));
    assert!(html.contains("(customer_id) → (id)"));
    assert!(html.contains("many → exactly one"));
    let notes = detail_html(&s, "crm.notes").unwrap();
    assert!(
        notes.contains("many → zero or one"),
        "a nullable reference may point nowhere"
    );
    let view = detail_html(&s, "public.order_totals").unwrap();
    assert!(view.contains("view") && view.contains("No foreign key leads to or from this table."));
    assert!(view.contains("row count not estimated yet"));
    assert_eq!(detail_html(&s, "public.nope"), None);
}

#[test]
fn partitions_list_their_bounds_and_parent() {
    let mut s = shop();
    let parent = s.tables.get_mut("public.orders").unwrap();
    parent.kind = TableKind::Partitioned;
    parent.partition_key = Some("RANGE (placed_at)".into());
    parent.partitions = vec!["public.products".into()];
    let child = s.tables.get_mut("public.products").unwrap();
    child.partition_of = Some("public.orders".into());
    child.partition_bound = Some("FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')".into());
    let html = detail_html(&s, "public.orders").unwrap();
    assert!(html.contains("partitioned table"));
    assert!(html.contains("partitioned by <code>RANGE (placed_at)</code>"));
    assert!(html.contains(r#"data-key="public.products">public.products</button> <code>FOR VALUES FROM (&#39;2025-01-01&#39;) TO (&#39;2026-01-01&#39;)</code>"#));
    let child = detail_html(&s, "public.products").unwrap();
    assert!(child
        .contains(r#"a partition of <button type="button" class="rel" data-key="public.orders">"#));
}

#[test]
fn numbers_read_with_thousands_separators() {
    assert_eq!(row_estimate_words(Some(1)), "about 1 row");
    assert_eq!(row_estimate_words(Some(999)), "about 999 rows");
    assert_eq!(row_estimate_words(Some(1_000)), "about 1,000 rows");
    assert_eq!(row_estimate_words(Some(1_234_567)), "about 1,234,567 rows");
    assert_eq!(row_estimate_words(Some(-1)), row_estimate_words(None));
}
