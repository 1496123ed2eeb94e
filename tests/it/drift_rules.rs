//! Drift across a change of the service's own rules and of the server: a snapshot stored
//! before the version-independent key rule (and definition printing) raises no drift and
//! keeps its history, and the drift answer carries the server versions.

use crate::harness::{self, Server};
use model::api;
use serde_json::{json, Value};

/// `"json"` -> `json` in every key and string: what 15's `quote_ident` (which does not
/// list `json` as a keyword) wrote under the old rule.
fn unquote_json(v: Value) -> Value {
    let fix = |s: &str| s.replace("\"json\"", "json");
    match v {
        Value::String(s) => Value::String(fix(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(unquote_json).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (fix(&k), unquote_json(v)))
                .collect(),
        ),
        other => other,
    }
}

/// The snapshot as the code before the key rule stored it from this server (Debian's
/// 15): keys and names of every kind (column, trigger, sequence, function) by that
/// server's quote_ident (`json` bare), the view definition as the server printed it
/// (qualified), no `normalForm`, and the signatures of that.
fn legacy_form(s: model::Snapshot, raw_view: &str) -> Value {
    let v = unquote_json(serde_json::to_value(&s).expect("snapshot JSON"));
    let mut s: model::Snapshot = serde_json::from_value(v).expect("legacy snapshot");
    for (kind, key) in [
        ("columns", s.columns.contains_key("public.t.json")),
        ("triggers", s.triggers.contains_key("public.t.json")),
        ("sequences", s.sequences.contains_key("public.json")),
        ("functions", s.functions.contains_key("public.json()")),
    ] {
        assert!(key, "the legacy fixture keys its {kind} json bare");
    }
    s.tables
        .get_mut("public.v")
        .expect("the view")
        .view_definition = Some(raw_view.into());
    s.meta.normal_form = 0;
    model::signature::seal(&mut s);
    let mut v = serde_json::to_value(&s).expect("snapshot JSON");
    v["meta"]
        .as_object_mut()
        .expect("meta")
        .remove("normalForm");
    v
}

#[tokio::test]
async fn a_snapshot_stored_under_the_old_key_rule_raises_no_drift() {
    let pg = harness::pg().await;
    let target = pg.create_db("oldrule").await;
    target
        .exec(
            "CREATE TABLE public.t (id int PRIMARY KEY, json json);
             CREATE VIEW public.v AS SELECT id, json FROM public.t;
             CREATE SEQUENCE public.json;
             CREATE FUNCTION public.json() RETURNS trigger LANGUAGE plpgsql
               AS $$BEGIN RETURN NEW; END$$;
             CREATE TRIGGER json BEFORE INSERT ON public.t
               FOR EACH ROW EXECUTE FUNCTION public.json();",
        )
        .await;
    let app = pg.create_db("app").await;
    let server = Server::start(&[("APP_DATABASE_URL", &app.url)]).await;
    let body =
        json!({ "targetDatabaseUrl": target.url, "schemas": ["public"], "refresh": "force" });
    let (status, first) = server.post(api::SNAPSHOT_PATH, &body).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        first["drift"]["currentServerVersionNum"],
        first["snapshot"]["meta"]["serverVersionNum"]
    );

    // Rewrite the stored row as the old code wrote it.
    // As the old read printed it: under an empty search_path, names qualified.
    let client = target.client().await;
    client
        .batch_execute("SET search_path = ''")
        .await
        .expect("search_path");
    let raw_view: String = client
        .query_one("SELECT pg_get_viewdef('public.v'::regclass)", &[])
        .await
        .expect("viewdef")
        .get(0);
    assert!(raw_view.contains("t.json"), "{raw_view}");
    let current: model::Snapshot =
        serde_json::from_value(first["snapshot"].clone()).expect("snapshot");
    let legacy = legacy_form(current.clone(), &raw_view);
    let (signature, deep) = (
        legacy["meta"]["signature"].as_str().unwrap().to_string(),
        legacy["meta"]["deepSignature"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    assert_ne!(
        signature, current.meta.signature,
        "the old rule keyed json bare"
    );
    let store = app.client().await;
    let updated = store
        .execute(
            "UPDATE catalog_snapshots SET snapshot = $1::text::json, signature = $2, deep_signature = $3",
            &[&legacy.to_string(), &signature, &deep],
        )
        .await
        .expect("rewrite the stored snapshot");
    assert_eq!(updated, 1);

    // A new read of the unchanged database: no drift, and the history goes on.
    let (status, second) = server.post(api::SNAPSHOT_PATH, &body).await;
    assert_eq!(status, 200, "{second}");
    let drift = &second["drift"];
    let conn = json!({ "targetDatabaseUrl": target.url, "schemas": ["public"] });
    let mut diff_req = conn.clone();
    diff_req["from"] = json!("previous");
    diff_req["to"] = json!("latest");
    let (status, diff) = server.post(api::DIFF_PATH, &diff_req).await;
    assert_eq!(status, 200, "{diff}");
    assert_eq!(drift["changedSinceLast"], false, "{drift}\n{diff}");
    assert_eq!(drift["previousNormalized"], true, "{drift}");
    assert_eq!(
        drift["previousSignature"],
        second["snapshot"]["meta"]["signature"]
    );
    assert_eq!(
        drift["previousServerVersionNum"],
        second["snapshot"]["meta"]["serverVersionNum"]
    );
    assert!(
        drift.get("serverUpgraded").is_none(),
        "same server: {drift}"
    );
    assert_eq!(diff["diff"]["summary"]["total"], 0, "{diff}");
    let mut history_req = conn.clone();
    history_req["limit"] = json!(10);
    let (_, history) = server.post(api::HISTORY_PATH, &history_req).await;
    assert_eq!(
        history["items"].as_array().map(Vec::len),
        Some(2),
        "{history}"
    );

    // A real change after it is still drift.
    target
        .exec("ALTER TABLE public.t ADD COLUMN extra int")
        .await;
    let (_, third) = server.post(api::SNAPSHOT_PATH, &body).await;
    assert_eq!(third["drift"]["changedSinceLast"], true);
    assert!(third["drift"].get("previousNormalized").is_none());
}
