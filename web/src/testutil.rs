//! Test snapshots, built from JSON the way the API sends them.

use model::Snapshot;
use serde_json::{json, Value};

fn col(
    table: &str,
    name: &str,
    pos: i32,
    ty: &str,
    nullable: bool,
    pk: bool,
    fk: bool,
) -> (String, Value) {
    (
        format!("{table}.{name}"),
        json!({"table": table, "name": name, "position": pos, "dataType": ty, "nullable": nullable,
               "isPrimaryKey": pk, "isForeignKey": fk}),
    )
}

fn table(schema: &str, name: &str, kind: &str) -> (String, Value) {
    (
        format!("{schema}.{name}"),
        json!({"schema": schema, "name": name, "kind": kind}),
    )
}

fn rel(from: &str, name: &str, fc: &str, to: &str, tc: &str) -> (String, Value) {
    (
        format!("{from}.{name}"),
        json!({"name": name, "fromTable": from, "fromColumns": [fc], "toTable": to, "toColumns": [tc],
               "onDelete": "noAction", "onUpdate": "noAction", "deferrable": false,
               "initiallyDeferred": false, "matchType": "simple", "validated": true,
               "oneToOne": false, "definition": format!("FOREIGN KEY ({fc}) REFERENCES {to}({tc})")}),
    )
}

/// A small shop: customers <- orders <- "Order Items" -> products, a view, and a table
/// in a second schema referencing public.customers.
pub(crate) fn shop() -> Snapshot {
    let tables: serde_json::Map<String, Value> = [
        table("public", "customers", "table"),
        table("public", "orders", "table"),
        table("public", "\"Order Items\"", "table"),
        table("public", "products", "table"),
        table("public", "order_totals", "view"),
        table("crm", "notes", "table"),
    ]
    .into_iter()
    .collect();
    let columns: serde_json::Map<String, Value> = [
        col("public.customers", "id", 1, "bigint", false, true, false),
        col("public.customers", "email", 2, "text", false, false, false),
        col("public.orders", "id", 1, "bigint", false, true, false),
        col(
            "public.orders",
            "customer_id",
            2,
            "bigint",
            false,
            false,
            true,
        ),
        col(
            "public.orders",
            "total",
            3,
            "numeric(12,2)",
            true,
            false,
            false,
        ),
        col(
            "public.\"Order Items\"",
            "\"Item ID\"",
            1,
            "bigint",
            false,
            true,
            false,
        ),
        col(
            "public.\"Order Items\"",
            "order_id",
            2,
            "bigint",
            false,
            false,
            true,
        ),
        col(
            "public.\"Order Items\"",
            "product_id",
            3,
            "bigint",
            false,
            false,
            true,
        ),
        col("public.products", "id", 1, "bigint", false, true, false),
        col("public.products", "name", 2, "text", false, false, false),
        col(
            "public.order_totals",
            "order_id",
            1,
            "bigint",
            true,
            false,
            false,
        ),
        col("crm.notes", "id", 1, "bigint", false, true, false),
        col("crm.notes", "customer_id", 2, "bigint", true, false, true),
    ]
    .into_iter()
    .collect();
    let relationships: serde_json::Map<String, Value> = [
        rel(
            "public.orders",
            "orders_customer_id_fkey",
            "customer_id",
            "public.customers",
            "id",
        ),
        rel(
            "public.\"Order Items\"",
            "order_items_order_id_fkey",
            "order_id",
            "public.orders",
            "id",
        ),
        rel(
            "public.\"Order Items\"",
            "order_items_product_id_fkey",
            "product_id",
            "public.products",
            "id",
        ),
        rel(
            "crm.notes",
            "notes_customer_id_fkey",
            "customer_id",
            "public.customers",
            "id",
        ),
    ]
    .into_iter()
    .collect();
    let v = json!({
        "meta": {"capturedAt": "2026-11-24T09:00:00.000Z", "schemas": ["crm", "public"],
                 "serverVersion": "15", "serverVersionNum": 150000, "signature": "s",
                 "deepSignature": "d", "tableCount": 6, "columnCount": 13, "relationshipCount": 4},
        "tables": tables, "columns": columns, "relationships": relationships,
    });
    serde_json::from_value(v).expect("the shop fixture is a valid snapshot")
}
