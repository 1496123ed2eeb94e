use super::*;
use crate::testutil::shop;
use model::api::SnapshotResponse;
use model::diff::diff;

/// A request body as it goes on the wire.
fn wire<T: serde::Serialize>(body: Result<T, String>) -> Value {
    serde_json::to_value(body.unwrap()).unwrap()
}

fn form() -> Form {
    Form {
        api_base: "https://api.example.com/".into(),
        database_url: "postgres://u:secret@db/x".into(),
        connection_id: String::new(),
        schemas: "public, crm  public".into(),
    }
}

#[test]
fn schema_list_splits_and_deduplicates() {
    assert_eq!(form().schema_list(), vec!["public", "crm"]);
}

#[test]
fn bodies_carry_the_connection_and_refresh() {
    let f = form();
    assert_eq!(f.endpoint("/api/v1/x"), "https://api.example.com/api/v1/x");
    let b = wire(f.snapshot_body(Refresh::Force, &[]));
    assert_eq!(b["targetDatabaseUrl"], "postgres://u:secret@db/x");
    assert_eq!(b["refresh"], "force");
    assert_eq!(b["schemas"], serde_json::json!(["public", "crm"]));
    assert!(b.get("visibleTables").is_none());

    let v = wire(f.snapshot_body(Refresh::Visible, &["public.orders".into()]));
    assert_eq!(v["visibleTables"], serde_json::json!(["public.orders"]));
    assert!(f
        .snapshot_body(Refresh::Visible, &[])
        .err()
        .unwrap()
        .contains("No tables are in view"));

    // A connection id wins over a URL: the URL is then never sent.
    let with_id = Form {
        connection_id: "demo".into(),
        ..f.clone()
    };
    let b = wire(with_id.diff_body(SnapshotRef::Previous, SnapshotRef::Latest));
    assert_eq!(b["connectionId"], "demo");
    assert!(b.get("targetDatabaseUrl").is_none());
    assert_eq!(
        (b["from"].as_str(), b["to"].as_str()),
        (Some("previous"), Some("latest"))
    );
}

#[test]
fn missing_connection_or_schemas_is_said_plainly() {
    let none = Form {
        schemas: "public".into(),
        ..Form::default()
    };
    assert!(none
        .connection()
        .err()
        .unwrap()
        .contains("database URL or a connection id"));
    let no_schema = Form {
        connection_id: "x".into(),
        ..Form::default()
    };
    assert!(no_schema
        .connection()
        .err()
        .unwrap()
        .contains("at least one schema"));
}

#[test]
fn relative_times_read_naturally() {
    let t = parse_time_ms("2026-11-24T09:00:00.000Z").unwrap();
    assert_eq!(relative_time(t + 3_000.0, t), "just now");
    assert_eq!(
        relative_time(t - 5_000.0, t),
        "just now",
        "server clock ahead"
    );
    assert_eq!(relative_time(t + 45_000.0, t), "45 seconds ago");
    assert_eq!(relative_time(t + 60_000.0, t), "1 minute ago");
    assert_eq!(relative_time(t + 150_000.0, t), "2 minutes ago");
    assert_eq!(relative_time(t + 3_600_000.0, t), "1 hour ago");
    assert_eq!(relative_time(t + 3.0 * 86_400_000.0, t), "3 days ago");
    assert_eq!(
        exact_time("2026-11-24T09:13:44.123Z"),
        "2026-11-24 09:13:44 UTC"
    );
    assert_eq!(parse_time_ms("yesterday"), None);
}

#[test]
fn api_errors_become_plain_sentences() {
    let body = r#"{"error":{"code":"bad_request","message":"these schemas do not exist on the target database: nope","field":"schemas"}}"#;
    assert_eq!(
        api_error_message(400, body),
        "The request was not accepted (schemas): these schemas do not exist on the target database: nope"
    );
    let body = r#"{"error":{"code":"target_unavailable","message":"connection refused"}}"#;
    assert_eq!(
        api_error_message(502, body),
        "Could not connect to the database: connection refused"
    );
    assert!(api_error_message(504, "<html>gateway</html>").contains("unavailable right now"));
    assert!(api_error_message(418, "").contains("HTTP 418"));
    assert!(network_error_message("http://x", "TypeError")
        .contains("Could not reach the API at http://x"));
}

#[test]
fn responses_parse_as_the_api_sends_them() {
    let s = serde_json::to_value(shop()).unwrap();
    let body = serde_json::json!({
        "snapshot": s,
        "cache": {"hit": false, "source": "fresh", "key": "ck_1:public", "ttlMs": 60000, "ageMs": 0},
        "lastRefreshedAt": "2026-11-24T09:00:00.000Z",
        "drift": {"changedSinceLast": true, "previousSignature": "a", "currentSignature": "b",
                  "previousDeepSignature": "c", "currentDeepSignature": "d", "previousCapturedAt": null},
        "persistence": {"store": "postgres", "saved": true, "snapshotId": "42"},
        "refresh": {"requested": "force", "performed": "full"},
        "somethingNew": 1
    });
    let r: SnapshotResponse = serde_json::from_value(body).unwrap();
    assert!(r.served.drift.changed_since_last);
    assert_eq!(r.served.persistence.snapshot_id.as_deref(), Some("42"));
    assert_eq!(source_label(r.served.cache.source), "fresh catalog read");
    assert_eq!(source_attr(r.served.cache.source), "fresh");
    assert_eq!(r.snapshot.tables.len(), 6);
}

/// The shop after: orders.total changed type, orders.note added, customers.email
/// dropped, products dropped (with its FK), a new table added.
fn changed_shop() -> Snapshot {
    let mut s = shop();
    s.columns.get_mut("public.orders.total").unwrap().data_type = "numeric(14,2)".into();
    let mut note = s.columns["public.orders.total"].clone();
    note.name = "note".into();
    note.position = 4;
    s.columns.insert("public.orders.note".into(), note);
    s.columns.remove("public.customers.email");
    s.tables.remove("public.products");
    s.columns.retain(|_, c| c.table != "public.products");
    s.relationships
        .remove("public.\"Order Items\".order_items_product_id_fkey");
    let mut t = s.tables["public.customers"].clone();
    t.name = "invoices".into();
    s.tables.insert("public.invoices".into(), t);
    s
}

#[test]
fn marks_follow_the_diff() {
    let (before, after) = (shop(), changed_shop());
    let d = diff(&before, &after);
    let m = marks_from_diff(&d, &after);
    assert_eq!(m.tables.get("public.invoices"), Some(&Mark::Added));
    assert_eq!(m.tables.get("public.products"), Some(&Mark::Removed));
    assert_eq!(m.tables.get("public.orders"), Some(&Mark::Changed));
    assert_eq!(
        m.tables.get("public.customers"),
        Some(&Mark::Changed),
        "a dropped column changes its table"
    );
    assert_eq!(
        m.tables.get("public.\"Order Items\""),
        Some(&Mark::Changed),
        "a dropped FK changes its table"
    );
    assert_eq!(m.tables.get("crm.notes"), None);
    assert_eq!(m.columns.get("public.orders.total"), Some(&Mark::Changed));
    assert_eq!(m.columns.get("public.orders.note"), Some(&Mark::Added));
    assert_eq!(
        m.removed_columns["public.customers"],
        vec!["public.customers.email".to_string()]
    );
    assert_eq!(m.removed_tables, vec!["public.products".to_string()]);
    assert!(marks_from_diff(&diff(&after, &after), &after).is_empty());
}

/// A diff that only touches the new object kinds of `shop()`'s tables: a trigger, a
/// policy, a rule and a statistics object, plus a function, a sequence and a schema.
fn object_diff(current: &mut Snapshot) -> SnapshotDiff {
    current.statistics.insert(
        "crm.notes_stats".into(),
        model::Statistics {
            schema: "crm".into(),
            name: "notes_stats".into(),
            table: "crm.notes".into(),
            kinds: vec!["ndistinct".into()],
            target: None,
            definition: "CREATE STATISTICS crm.notes_stats ON a, b FROM crm.notes".into(),
            comment: None,
        },
    );
    let mut d = SnapshotDiff::default();
    d.triggers.added.push("public.orders.orders_audit".into());
    d.policies
        .removed
        .push("public.customers.customers_own_rows".into());
    d.rules
        .added
        .push("public.\"Order Items\".no_delete".into());
    d.statistics.added.push("crm.notes_stats".into());
    d.functions.added.push("public.audit()".into());
    d.sequences.removed.push("public.invoice_no".into());
    d.schemas.added.push("audit".into());
    d
}

#[test]
fn a_changed_trigger_policy_rule_or_statistics_object_marks_its_table() {
    let mut current = shop();
    let d = object_diff(&mut current);
    let m = marks_from_diff(&d, &current);
    assert_eq!(
        m.tables.get("public.orders"),
        Some(&Mark::Changed),
        "trigger"
    );
    assert_eq!(
        m.tables.get("public.customers"),
        Some(&Mark::Changed),
        "policy"
    );
    assert_eq!(
        m.tables.get("public.\"Order Items\""),
        Some(&Mark::Changed),
        "rule"
    );
    assert_eq!(
        m.tables.get("crm.notes"),
        Some(&Mark::Changed),
        "statistics"
    );
    assert_eq!(
        m.tables.len(),
        4,
        "a function, sequence or schema marks no table"
    );
    assert!(m.columns.is_empty());
}

#[test]
fn the_change_list_shows_every_kind_and_the_summary_counts_them() {
    let mut current = shop();
    let d = object_diff(&mut current);
    let lines = change_lines(&d, &current);
    let kinds: Vec<&str> = lines.iter().map(|l| l.kind).collect();
    assert_eq!(
        kinds,
        [
            "trigger",
            "policy",
            "rule",
            "statistics",
            "function",
            "sequence",
            "schema"
        ]
    );
    let table = |kind: &str| {
        lines
            .iter()
            .find(|l| l.kind == kind)
            .and_then(|l| l.table.clone())
    };
    assert_eq!(table("trigger").as_deref(), Some("public.orders"));
    assert_eq!(table("policy").as_deref(), Some("public.customers"));
    assert_eq!(table("statistics").as_deref(), Some("crm.notes"));
    assert_eq!(table("function"), None);
    assert_eq!(
        diff_summary(&d),
        "1 trigger, 1 policy, 1 rule, 1 statistics, 1 function, 1 sequence, 1 schema changed"
    );
    let mut two = d.clone();
    two.policies.added.push("public.orders.p2".into());
    assert!(
        diff_summary(&two).contains("2 policies"),
        "{}",
        diff_summary(&two)
    );
    assert_eq!(diff_summary(&SnapshotDiff::default()), "no differences");
}

#[test]
fn owner_table_handles_quoted_dots() {
    let tables: BTreeSet<String> = ["public.a".to_string(), "public.\"a.b\"".to_string()]
        .into_iter()
        .collect();
    assert_eq!(
        owner_table("public.\"a.b\".c", &tables).map(String::as_str),
        Some("public.\"a.b\"")
    );
    assert_eq!(
        owner_table("public.a.c", &tables).map(String::as_str),
        Some("public.a")
    );
    assert_eq!(owner_table("public.ab", &tables), None);
}

#[test]
fn change_lines_say_what_changed() {
    let (before, after) = (shop(), changed_shop());
    let d = diff(&before, &after);
    let lines = change_lines(&d, &after);
    let total = lines
        .iter()
        .find(|l| l.key == "public.orders.total")
        .unwrap();
    assert_eq!(total.mark, Mark::Changed);
    assert_eq!(total.kind, "column");
    assert_eq!(total.table.as_deref(), Some("public.orders"));
    assert_eq!(total.detail, "dataType: numeric(12,2) → numeric(14,2)");
    assert!(lines
        .iter()
        .any(|l| l.kind == "table" && l.mark == Mark::Removed && l.key == "public.products"));
    assert_eq!(lines[0].kind, "table", "tables come first");
    let summary = diff_summary(&d);
    assert!(summary.starts_with("2 tables, "), "{summary}");
    assert!(summary.contains("1 relationship"), "{summary}");
}

#[test]
fn identity_tells_connections_apart_without_credentials() {
    let f = form();
    let who = identity(&f);
    assert_eq!(who, "url:db/x|public,crm");
    assert!(!who.contains("secret"), "no password in an identity");
    let by_id = Form {
        connection_id: " demo ".into(),
        ..f.clone()
    };
    assert_eq!(identity(&by_id), "id:demo|public,crm");
    let other_schemas = Form {
        schemas: "public".into(),
        ..f
    };
    assert_ne!(identity(&other_schemas), who);
}

#[test]
fn the_remembered_form_never_holds_the_database_url() {
    let f = Form {
        connection_id: "demo".into(),
        ..form()
    };
    let saved = remembered_form(&f);
    assert!(!saved.contains("secret") && !saved.contains("postgres://"));
    let mut back = Form {
        schemas: "public".into(),
        ..Form::default()
    };
    restore_form(&saved, &mut back).unwrap();
    assert_eq!(
        (back.api_base.as_str(), back.connection_id.as_str()),
        ("https://api.example.com/", "demo")
    );
    assert_eq!(back.schemas, "public, crm  public");
    assert!(back.database_url.is_empty());
    // An empty remembered schema list keeps the page's default; garbage changes nothing.
    let mut keep = Form {
        schemas: "public".into(),
        ..Form::default()
    };
    restore_form(r#"{"schemas": ""}"#, &mut keep).unwrap();
    assert_eq!(keep.schemas, "public");
    assert!(restore_form("not json", &mut keep).is_none());
    assert_eq!(
        configured_api_base(r#"{"apiBase": "https://api.example.com"}"#).as_deref(),
        Some("https://api.example.com")
    );
    assert_eq!(configured_api_base("{}"), None);
}

#[test]
fn progress_says_what_runs_and_for_how_long() {
    assert_eq!(progress_text(Refresh::Cache), "Loading the schema…");
    assert_eq!(progress_text(Refresh::Force), "Reading the catalog…");
    assert_eq!(
        progress_text(Refresh::Visible),
        "Re-reading the visible tables…"
    );
    assert_eq!(
        progress_line("Reading the catalog…", 1_900.0),
        "Reading the catalog…"
    );
    assert_eq!(
        progress_line("Reading the catalog…", 12_400.0),
        "Reading the catalog… 12 s"
    );
}

#[test]
fn the_table_count_line_reads_naturally() {
    assert_eq!(table_count_line(12, "", 12), "12 tables");
    assert_eq!(table_count_line(12, " cust ", 3), "3 of 12 tables match");
    assert_eq!(table_count_line(12, " zzz ", 0), "No table matches “zzz”");
}

fn response(json: Value) -> SnapshotResponse {
    serde_json::from_value(json).unwrap()
}

#[test]
fn the_status_bar_names_the_source_and_what_the_refresh_did() {
    let base = serde_json::json!({
        "snapshot": serde_json::to_value(shop()).unwrap(),
        "cache": {"hit": false, "source": "fresh", "key": "k", "ttlMs": 1, "ageMs": 0},
        "lastRefreshedAt": "2026-11-24T09:00:00.000Z",
        "drift": {"changedSinceLast": true, "currentSignature": "a", "currentDeepSignature": "b"},
        "persistence": {"store": "postgres", "saved": true, "snapshotId": "s-1"},
        "refresh": {"requested": "force", "performed": "full"},
    });
    let served = Served::of(&response(base.clone()));
    assert!(served.drifted);
    assert_eq!(served.snapshot_id.as_deref(), Some("s-1"));
    assert_eq!(served.source_line(), "from the fresh catalog read");
    let t = parse_time_ms("2026-11-24T09:00:00.000Z").unwrap();
    assert_eq!(
        served.last_refreshed_line(t + 120_000.0),
        "Last refreshed 2 minutes ago"
    );

    let mut visible = base.clone();
    visible["cache"]["source"] = "db".into();
    visible["refresh"] = serde_json::json!({"requested": "visible", "performed": "visible", "refreshedTables": ["public.orders"]});
    assert_eq!(
        Served::of(&response(visible)).source_line(),
        "from the snapshot store · 1 visible table re-read"
    );

    let mut memory_only = base.clone();
    memory_only["persistence"] = serde_json::json!({"store": "none", "saved": false});
    let s = Served::of(&response(memory_only));
    assert_eq!(s.snapshot_id, None);
    assert_eq!(
        s.source_line(),
        "from the fresh catalog read · not saved (the service runs memory-only)"
    );

    let mut failed = base;
    failed["persistence"] =
        serde_json::json!({"store": "postgres", "saved": false, "error": "store timed out"});
    assert_eq!(
        Served::of(&response(failed)).note.as_deref(),
        Some("not saved: store timed out")
    );
}

#[test]
fn what_the_diagram_leaves_out_is_said() {
    assert_eq!(reduced_line(0, 0, false), "");
    assert_eq!(
        reduced_line(2, 1, true),
        "2 partitions folded into their parents · 1 table hidden · key columns only"
    );
    assert_eq!(
        reduced_line(1, 3, false),
        "1 partition folded into their parents · 3 tables hidden"
    );
    assert_eq!(
        neighbours_line(5, 1, "public.orders"),
        "5 tables within 1 hop of public.orders"
    );
    assert_eq!(neighbours_line(1, 2, "x.y"), "1 table within 2 hops of x.y");
}

#[test]
fn the_page_names_what_is_on_screen_without_credentials() {
    let meta = model::SnapshotMeta {
        schemas: vec!["inventory".into(), "public".into()],
        server_version: "15.8 (Debian 15.8-1)".into(),
        ..model::SnapshotMeta::default()
    };
    let by_url = Form {
        database_url: "postgres://app:s3cret@db.internal:5432/shop?sslmode=require&password=x"
            .into(),
        ..Form::default()
    };
    let line = on_screen_line(&by_url, &meta);
    assert_eq!(
        line,
        "db.internal:5432/shop · inventory, public · PostgreSQL 15.8"
    );
    assert!(!line.contains("s3cret") && !line.contains("app:") && !line.contains("password"));
    let by_id = Form {
        connection_id: "demo".into(),
        ..by_url
    };
    assert!(on_screen_line(&by_id, &meta).starts_with("demo · "));
}

#[test]
fn an_error_over_an_old_diagram_says_so_and_a_visible_refresh_is_told_apart() {
    assert_eq!(
        stale_error("Could not connect to the database: refused", "Last refreshed 3 minutes ago"),
        "Could not connect to the database: refused. The diagram below is still the one loaded before (refreshed 3 minutes ago)."
    );
    let t = parse_time_ms("2026-11-24T09:00:00.000Z").unwrap();
    let served = Served {
        last_refreshed_at: "2026-11-24T09:00:00.000Z".into(),
        partial_at: Some("2026-11-24T09:05:00.000Z".into()),
        source: Source::Db,
        drifted: false,
        snapshot_id: None,
        note: None,
    };
    assert_eq!(
        served.last_refreshed_line(t + 305_000.0),
        "Visible tables re-read just now · whole catalog 5 minutes ago"
    );
}
