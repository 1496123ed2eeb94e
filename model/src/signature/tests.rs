//! Tests of the light and deep signatures: shared Node-computed vectors, a live
//! comparison with the Node reference script when available, and the deep signature's
//! sensitivity to definitions and insensitivity to volatile facts.

use super::*;
use crate::keys::child_key;
use crate::testutil::*;
use crate::*;
use serde::Deserialize;
use std::io::Write as _;
use std::process::{Command, Stdio};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Vector {
    name: String,
    table_keys: Vec<String>,
    column_keys: Vec<String>,
    relationship_keys: Vec<String>,
    signature: String,
}

fn snapshot_with_keys(t: &[String], c: &[String], r: &[String]) -> Snapshot {
    let mut s = Snapshot::default();
    for k in t {
        s.tables.insert(k.clone(), table("s", k));
    }
    for k in c {
        s.columns.insert(k.clone(), column("s.t", k, 1, "text"));
    }
    for k in r {
        s.relationships
            .insert(k.clone(), fk(k, "s.t", &["a"], "s.u", &["b"]));
    }
    s
}

#[test]
fn light_signature_matches_node_vectors() {
    let path = shared_dir().join("vectors/light-signature.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            skip(&format!("{} not found ({e})", path.display()));
            return;
        }
    };
    let vectors: Vec<Vector> = serde_json::from_str(&text).expect("vectors file parses");
    assert!(!vectors.is_empty());
    for v in &vectors {
        let got = light_signature(
            v.table_keys.iter().map(String::as_str),
            v.column_keys.iter().map(String::as_str),
            v.relationship_keys.iter().map(String::as_str),
        );
        assert_eq!(got, v.signature, "vector {:?}", v.name);
        // Through a snapshot (keys come out of BTreeMaps in byte order).
        let s = snapshot_with_keys(&v.table_keys, &v.column_keys, &v.relationship_keys);
        assert_eq!(
            light_signature_of(&s),
            v.signature,
            "vector {:?} via snapshot",
            v.name
        );
    }
    println!("checked {} light-signature vectors", vectors.len());
}

#[test]
fn known_empty_signature() {
    // sha256 of {"t":[],"c":[],"r":[]}
    assert_eq!(
        light_signature([], [], []),
        "b62406b1622e138b271572b928469e0d355ad08f42fa8120db27b5f2013c4964"
    );
}

const AWKWARD: &[&str] = &[
    "a",
    "B",
    "z",
    "0",
    "9",
    "_",
    ".",
    " ",
    "\"",
    "\"\"",
    "\\",
    "'",
    "\n",
    "\r",
    "\t",
    "\u{8}",
    "\u{c}",
    "\u{0}",
    "\u{1}",
    "\u{1f}",
    "\u{7f}",
    "é",
    "Ä",
    "ß",
    "日",
    "本",
    "名",
    "\u{2028}",
    "\u{d7ff}",
    "\u{e000}",
    "\u{ff5e}",
    "\u{ffff}",
    "\u{fffd}",
    "😀",
    "\u{10000}",
    "\u{10ffff}",
    "👩‍💻",
    "𝄞",
    "Order Items",
];

fn awkward_ident(rng: &mut Lcg) -> String {
    let n = 1 + rng.below(4);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(rng.pick::<&str>(AWKWARD));
    }
    s
}

#[test]
fn utf16_comparator_matches_reference() {
    let mut rng = Lcg::new(7);
    let words: Vec<String> = (0..400).map(|_| awkward_ident(&mut rng)).collect();
    for a in &words {
        for b in words.iter().step_by(7) {
            assert_eq!(
                cmp_utf16(a, b),
                a.encode_utf16().cmp(b.encode_utf16()),
                "{a:?} vs {b:?}"
            );
        }
    }
    assert_eq!(cmp_utf16("😀", "\u{ff5e}"), Ordering::Less);
    assert_eq!(cmp_utf16("😀", "\u{d7ff}"), Ordering::Greater);
    assert_eq!(cmp_utf16("ab", "abc"), Ordering::Less);
    assert_eq!(cmp_utf16("abc", "abc"), Ordering::Equal);
}

#[test]
fn js_string_escaping_matches_serde_json() {
    // serde_json escapes exactly as JSON.stringify does for well-formed strings; both
    // must agree with our streaming escaper.
    let mut all = String::new();
    for c in (0u32..0x300).chain([0x2028, 0x2029, 0xfeff, 0xffff, 0x1f600]) {
        let ch = char::from_u32(c).expect("valid scalar");
        let one = ch.to_string();
        let mut sink = HashSink::new();
        put_js_string(&mut sink, &one);
        let expected = serde_json::to_string(&one).expect("serializes");
        assert_eq!(&sink.buf[..], expected.as_bytes(), "U+{c:04X}");
        all.push(ch);
    }
    let mut sink = HashSink::new();
    put_js_string(&mut sink, &all);
    let expected = serde_json::to_string(&all).expect("serializes");
    assert_eq!(&sink.buf[..], expected.as_bytes());
    let mut sink = HashSink::new();
    put_js_string(&mut sink, "\u{1}\u{1f}\"\\\u{8}\u{c}\n\r\t");
    assert_eq!(&sink.buf[..], br#""\u0001\u001f\"\\\b\f\n\r\t""#.as_slice());
}

#[test]
fn hash_sink_handles_writes_around_its_buffer_size() {
    // Keys larger than the sink's buffer, and many mid-sized keys crossing its boundary.
    let huge = "x".repeat(SINK_CAPACITY + 10);
    let mid: Vec<String> = (0..300)
        .map(|i| format!("{i:04}{}", "m".repeat(997)))
        .collect();
    let mut keys: Vec<&str> = vec![huge.as_str(), "a", huge.as_str()];
    keys.extend(mid.iter().map(String::as_str));
    let mut sorted = keys.clone();
    sorted.sort();
    let list = |v: &[&str]| {
        v.iter()
            .map(|k| serde_json::to_string(k).unwrap())
            .collect::<Vec<_>>()
            .join(",")
    };
    let payload = format!(
        "{{\"t\":[{}],\"c\":[{}],\"r\":[]}}",
        list(&sorted),
        list(&sorted[..2])
    );
    let expected = hex::encode(Sha256::digest(payload.as_bytes()));
    assert_eq!(
        light_signature(keys.iter().copied(), sorted[..2].iter().copied(), []),
        expected
    );
}

fn random_snapshot(rng: &mut Lcg) -> Snapshot {
    let schemas = ["public", "\"Sales\"", "\"a.b\"", "\"日本\""];
    let mut t = Vec::new();
    let mut c = Vec::new();
    let mut r = Vec::new();
    for _ in 0..(5 + rng.below(30)) {
        let tk = format!("{}.\"{}\"", rng.pick(&schemas), awkward_ident(rng));
        for _ in 0..rng.below(5) {
            c.push(child_key(&tk, &awkward_ident(rng)));
        }
        if rng.below(3) == 0 {
            r.push(child_key(&tk, &format!("{}_fkey", awkward_ident(rng))));
        }
        t.push(tk);
    }
    snapshot_with_keys(&t, &c, &r)
}

#[test]
fn light_signature_matches_node_on_random_awkward_keys() {
    let script = shared_dir().join("tools/seed-signature.mjs");
    if !script.exists() {
        skip(&format!("{} not found", script.display()));
        return;
    }
    let mut rng = Lcg::new(2024);
    for round in 0..8 {
        let s = random_snapshot(&mut rng);
        let json = serde_json::to_string(&s).expect("snapshot serializes");
        let child = Command::new("node")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                skip(&format!("cannot run node ({e})"));
                return;
            }
        };
        child
            .stdin
            .take()
            .expect("stdin piped")
            .write_all(json.as_bytes())
            .expect("write to node");
        let out = child.wait_with_output().expect("node finishes");
        assert!(
            out.status.success(),
            "node failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let node_sig = String::from_utf8(out.stdout).expect("utf8");
        assert_eq!(
            light_signature_of(&s),
            node_sig.trim(),
            "round {round}, {} tables, {} columns, {} relationships",
            s.tables.len(),
            s.columns.len(),
            s.relationships.len()
        );
    }
    println!("node agreed on 8 random snapshots");
}

#[test]
fn seal_fills_meta() {
    let mut s = sample();
    seal(&mut s);
    assert_eq!(s.meta.signature, light_signature_of(&s));
    assert_eq!(s.meta.deep_signature, deep_signature(&s));
    assert_eq!(s.meta.signature.len(), 64);
    assert_eq!(s.meta.deep_signature.len(), 64);
    assert_ne!(s.meta.signature, s.meta.deep_signature);
    assert_eq!(s.meta.table_count, 2);
    assert_eq!(s.meta.column_count, 6);
    assert_eq!(s.meta.relationship_count, 1);
    // Sealing is idempotent: meta is not covered by either signature.
    let before = s.clone();
    seal(&mut s);
    assert_eq!(s, before);
}

#[test]
fn deep_signature_ignores_volatile_facts_and_meta() {
    let base = sample();
    let sig = deep_signature(&base);
    let mut s = base.clone();
    for t in s.tables.values_mut() {
        t.row_estimate = Some(123_456);
        t.refreshed_at = Some("2030-01-01T00:00:00Z".into());
    }
    s.meta.captured_at = "2031-05-05T05:05:05Z".into();
    s.meta.server_version = "17.0".into();
    s.meta.server_version_num = 170000;
    s.meta.table_count = 99;
    s.meta.signature = "x".into();
    s.meta.partial_refresh = Some(PartialRefresh {
        refreshed_at: "2031-05-05T05:05:05Z".into(),
        tables: vec!["public.users".into()],
    });
    assert_eq!(deep_signature(&s), sig);
    let mut s = base.clone();
    for t in s.tables.values_mut() {
        t.row_estimate = None;
    }
    assert_eq!(deep_signature(&s), sig);
}

#[test]
fn deep_signature_covers_definitions() {
    let base = sample();
    let sig = deep_signature(&base);
    let users_email = "public.users.email";
    let orders_uid = "public.orders.user_id";
    let fk_key = "public.orders.orders_user_id_fkey";
    type Edit = Box<dyn Fn(&mut Snapshot)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "column type",
            Box::new(|s| s.columns.get_mut(orders_uid).unwrap().data_type = "integer".into()),
        ),
        (
            "nullability",
            Box::new(|s| s.columns.get_mut(users_email).unwrap().nullable = true),
        ),
        (
            "default",
            Box::new(|s| s.columns.get_mut(users_email).unwrap().default = Some("''".into())),
        ),
        (
            "identity",
            Box::new(|s| {
                s.columns.get_mut("public.users.id").unwrap().identity = Some(Identity::ByDefault)
            }),
        ),
        (
            "generated",
            Box::new(|s| {
                s.columns.get_mut("public.orders.total").unwrap().generated =
                    Some("(1)::numeric".into())
            }),
        ),
        (
            "fk on delete",
            Box::new(|s| s.relationships.get_mut(fk_key).unwrap().on_delete = FkAction::Cascade),
        ),
        (
            "fk on update",
            Box::new(|s| s.relationships.get_mut(fk_key).unwrap().on_update = FkAction::SetNull),
        ),
        (
            "index definition",
            Box::new(|s| {
                let ix = s
                    .indexes
                    .get_mut("public.orders.orders_user_id_idx")
                    .unwrap();
                ix.definition = ix.definition.replace("btree", "hash");
            }),
        ),
        (
            "enum label",
            Box::new(|s| {
                s.enums
                    .get_mut("public.user_status")
                    .unwrap()
                    .labels
                    .push("banned".into())
            }),
        ),
        (
            "constraint definition",
            Box::new(|s| {
                s.constraints
                    .get_mut("public.orders.orders_total_check")
                    .unwrap()
                    .definition = "CHECK ((total > (0)::numeric))".into()
            }),
        ),
        (
            "table comment",
            Box::new(|s| s.tables.get_mut("public.users").unwrap().comment = Some("hi".into())),
        ),
        (
            "primary key",
            Box::new(|s| s.tables.get_mut("public.users").unwrap().primary_key = None),
        ),
        (
            "view definition",
            Box::new(|s| {
                let t = s.tables.get_mut("public.users").unwrap();
                t.kind = TableKind::View;
                t.view_definition = Some(" SELECT 1;".into());
            }),
        ),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (what, edit) in &edits {
        let mut s = base.clone();
        edit(&mut s);
        let changed = deep_signature(&s);
        assert_ne!(changed, sig, "deep signature must change on {what}");
        assert!(seen.insert(changed), "{what} collides with another edit");
    }
}

#[test]
fn deep_table_view_matches_table_serialization_minus_volatile_fields() {
    let mut t = table("public", "users");
    t.comment = Some("c".into());
    t.primary_key = Some(PrimaryKey {
        name: "p".into(),
        columns: vec!["id".into()],
    });
    t.partition_of = Some("public.parent".into());
    t.partition_bound = Some("DEFAULT".into());
    t.partition_key = Some("RANGE (id)".into());
    t.partitions = vec!["public.p1".into()];
    t.view_definition = Some("SELECT 1".into());
    t.row_estimate = Some(5);
    t.refreshed_at = Some("now".into());
    let mut full = serde_json::to_value(&t).unwrap();
    let obj = full.as_object_mut().unwrap();
    obj.remove("rowEstimate");
    obj.remove("refreshedAt");
    let view = serde_json::to_value(StableTable(&t)).unwrap();
    assert_eq!(view, full);
    // Field order too (the hash sees bytes, not values).
    t.row_estimate = None;
    t.refreshed_at = None;
    assert_eq!(
        serde_json::to_string(&StableTable(&t)).unwrap(),
        serde_json::to_string(&t).unwrap()
    );
    let bare = table("public", "x");
    assert_eq!(
        serde_json::to_string(&StableTable(&bare)).unwrap(),
        serde_json::to_string(&bare).unwrap()
    );
}

#[test]
fn light_signature_ignores_definitions_but_not_keys() {
    let base = sample();
    let sig = light_signature_of(&base);
    let mut s = base.clone();
    s.columns
        .get_mut("public.orders.user_id")
        .unwrap()
        .data_type = "integer".into();
    s.relationships
        .get_mut("public.orders.orders_user_id_fkey")
        .unwrap()
        .on_delete = FkAction::Cascade;
    assert_eq!(light_signature_of(&s), sig);
    assert_ne!(deep_signature(&s), deep_signature(&base));
    let mut s = base.clone();
    s.columns.insert(
        "public.users.name".into(),
        column("public.users", "name", 4, "text"),
    );
    assert_ne!(light_signature_of(&s), sig);
    // Indexes, constraints and enums are not part of the light v1 signature.
    let mut s = base.clone();
    s.indexes.clear();
    s.enums.clear();
    assert_eq!(light_signature_of(&s), sig);
}

#[test]
fn seal_to_json_equals_seal_then_serialize() {
    for mut s in [sample(), synthetic(50, 7), Snapshot::default()] {
        s.tables.values_mut().for_each(|t| t.row_estimate = Some(7));
        let mut expected = s.clone();
        seal(&mut expected);
        let json = seal_to_json(&mut s);
        assert_eq!(s, expected);
        assert_eq!(
            String::from_utf8(json).unwrap(),
            serde_json::to_string(&expected).unwrap()
        );
    }
}

/// The deep v1 bytes as version 1 wrote them, from today's derives: for a snapshot that
/// uses none of the v2 attributes the derived JSON of each map is exactly v1's.
fn v1_reference(s: &Snapshot) -> String {
    let mut bytes = DEEP_V1_TAG.as_bytes().to_vec();
    bytes.extend_from_slice(b"{\"tables\":");
    bytes.extend_from_slice(
        serde_json::to_string(&StableTables(&s.tables))
            .unwrap()
            .as_bytes(),
    );
    for (name, json) in [
        ("columns", serde_json::to_string(&s.columns).unwrap()),
        (
            "relationships",
            serde_json::to_string(&s.relationships).unwrap(),
        ),
        ("indexes", serde_json::to_string(&s.indexes).unwrap()),
        (
            "constraints",
            serde_json::to_string(&s.constraints).unwrap(),
        ),
        ("enums", serde_json::to_string(&s.enums).unwrap()),
    ] {
        bytes.extend_from_slice(format!(",\"{name}\":{json}").as_bytes());
    }
    bytes.push(b'}');
    hex::encode(Sha256::digest(&bytes))
}

#[test]
fn deep_v1_is_the_version_1_format() {
    for s in [sample(), synthetic(40, 6), Snapshot::default()] {
        assert_eq!(deep_signature_v1(&s), v1_reference(&s));
    }
    // Pinned: the version 1 signature of the sample, as the version 1 code computed it.
    assert_eq!(deep_signature_v1(&sample()), SAMPLE_DEEP_V1);
}

/// `deep_signature` of `testutil::sample()` computed by the deep-v1 code (commit aed08f7).
const SAMPLE_DEEP_V1: &str = "4b908508d6aeabf5fd599abdf465384cb39a9ab5b348c75c299938916adff09d";

#[test]
fn deep_v1_ignores_every_v2_attribute_and_v2_sees_each() {
    let base = sample();
    let v1 = deep_signature_v1(&base);
    let v2 = deep_signature(&base);
    let every = sample_every_kind();
    assert_eq!(deep_signature_v1(&every), v1, "v1 sees only v1 attributes");
    assert_ne!(deep_signature(&every), v2);
    type Edit = Box<dyn Fn(&mut Snapshot)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "trigger",
            Box::new(|s| {
                s.triggers
                    .values_mut()
                    .for_each(|t| t.enabled = EnabledState::Disabled)
            }),
        ),
        (
            "policy",
            Box::new(|s| s.policies.values_mut().for_each(|p| p.permissive = false)),
        ),
        (
            "rls forced",
            Box::new(|s| s.tables.values_mut().for_each(|t| t.rls_forced = true)),
        ),
        (
            "rule",
            Box::new(|s| s.rules.values_mut().for_each(|r| r.instead = false)),
        ),
        (
            "statistics",
            Box::new(|s| s.statistics.values_mut().for_each(|x| x.target = Some(500))),
        ),
        (
            "function",
            Box::new(|s| {
                s.functions
                    .values_mut()
                    .for_each(|f| f.volatility = Volatility::Stable)
            }),
        ),
        (
            "sequence",
            Box::new(|s| s.sequences.values_mut().for_each(|q| q.increment = 5)),
        ),
        (
            "type",
            Box::new(|s| s.types.values_mut().for_each(|t| t.not_null = true)),
        ),
        (
            "extension",
            Box::new(|s| {
                s.extensions
                    .values_mut()
                    .for_each(|e| e.version = "1.4".into())
            }),
        ),
        (
            "collation",
            Box::new(|s| {
                s.collations
                    .values_mut()
                    .for_each(|c| c.deterministic = true)
            }),
        ),
        (
            "schema grant",
            Box::new(|s| s.schemas.values_mut().for_each(|x| x.grants.clear())),
        ),
        (
            "table owner",
            Box::new(|s| {
                s.tables
                    .values_mut()
                    .for_each(|t| t.owner = Some("other".into()))
            }),
        ),
        (
            "column grant",
            Box::new(|s| {
                s.columns
                    .values_mut()
                    .for_each(|c| c.grants = vec![grant("r", "SELECT")])
            }),
        ),
        (
            "index comment",
            Box::new(|s| {
                s.indexes
                    .values_mut()
                    .for_each(|i| i.comment = Some("c".into()))
            }),
        ),
        (
            "constraint comment",
            Box::new(|s| {
                s.constraints
                    .values_mut()
                    .for_each(|c| c.comment = Some("c".into()))
            }),
        ),
        (
            "unlogged",
            Box::new(|s| {
                s.tables
                    .values_mut()
                    .for_each(|t| t.persistence = Some("unlogged".into()))
            }),
        ),
    ];
    let every_sig = deep_signature(&every);
    for (what, edit) in edits {
        let mut s = every.clone();
        edit(&mut s);
        assert_ne!(deep_signature(&s), every_sig, "deep v2 must see {what}");
        assert_eq!(deep_signature_v1(&s), v1, "deep v1 must not see {what}");
        assert_eq!(light_signature_of(&s), light_signature_of(&every), "{what}");
    }
}

#[test]
fn compare_deep_is_like_with_like() {
    let mut old = sample();
    seal(&mut old);
    // A snapshot stored by version 1 carries the v1 signature.
    let stored_v1 = deep_signature_v1(&old);
    let mut now = sample_every_kind();
    seal(&mut now);
    assert_eq!(now.meta.deep_signature_version, DEEP_VERSION);
    assert_eq!(
        compare_deep(&stored_v1, &now),
        DeepComparison::BaselineReestablished
    );
    assert_eq!(
        compare_deep(&now.meta.deep_signature, &now),
        DeepComparison::Same
    );
    // A v1-covered change is still drift across the format change.
    let mut altered = now.clone();
    altered.columns.values_mut().next().unwrap().nullable ^= true;
    seal(&mut altered);
    assert_eq!(compare_deep(&stored_v1, &altered), DeepComparison::Changed);
    // And a v2-only change is drift between two v2 snapshots.
    let mut v2_change = now.clone();
    v2_change.triggers.clear();
    seal(&mut v2_change);
    assert_eq!(
        compare_deep(&now.meta.deep_signature, &v2_change),
        DeepComparison::Changed
    );
}

#[test]
fn seal_to_json_equals_seal_then_serialize_with_every_kind() {
    let mut s = sample_every_kind();
    let mut expected = s.clone();
    seal(&mut expected);
    let json = seal_to_json(&mut s);
    assert_eq!(s, expected);
    assert_eq!(
        String::from_utf8(json).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
    let back: Snapshot = serde_json::from_str(&serde_json::to_string(&expected).unwrap()).unwrap();
    assert_eq!(back, expected);
}

#[test]
fn a_stored_v1_snapshot_reads_as_version_one() {
    let mut s = sample();
    seal(&mut s);
    let mut v = serde_json::to_value(&s).unwrap();
    v["meta"]
        .as_object_mut()
        .unwrap()
        .remove("deepSignatureVersion");
    let back: Snapshot = serde_json::from_value(v).unwrap();
    assert_eq!(back.meta.deep_signature_version, 1);
}
