//! Conformance on real-world schemas (`../shared/schemas`) on every supported major
//! (13 to 18): each schema loads into its own database on each server, and its snapshot
//! is checked against `pg_catalog` ground truth computed here independently (tables and
//! views, columns in order, foreign keys, indexes); two reads must give the same
//! signatures; where pg_dump can dump the server, `pg_dump | psql` must give the same
//! deep signature; and across consecutive majors the keys, light and deep signatures
//! must be equal, every remaining difference being one this file names and explains.
//! The cross-version table is printed (run with `--nocapture`).

use crate::harness::{self, Pg, TestDb};
use crate::introspect::read;
use model::Snapshot;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

/// Ground truth from pg_catalog, by the rules the snapshot states: relkinds r/p/v/m/f,
/// no extension-owned relations, live user columns, no partition copies of FKs.
const TRUTH_RELATIONS: &str = r#"
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p','v','m','f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')"#;

const TRUTH_COLUMNS: &str = r#"
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
           array_agg(quote_ident(a.attname) ORDER BY a.attnum)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p','v','m','f')
      AND a.attnum > 0 AND NOT a.attisdropped
    GROUP BY 1"#;

const TRUTH_FKS: &str = r#"
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(k.conname)
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY($1) AND k.contype = 'f' AND k.conparentid = 0"#;

const TRUTH_INDEXES: &str = r#"
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(ic.relname)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p','v','m','f')"#;

const USER_SCHEMAS: &str = r#"
    SELECT n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
      AND EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid
                  AND c.relkind IN ('r','p','v','m','f'))
    ORDER BY 1"#;

/// A key or name as the server's quote_ident wrote it, in the snapshot's quoting (the
/// truth queries quote with the server's keyword list; snapshot keys with every
/// supported version's).
fn canonical(server: String) -> String {
    model::keys::requote_key(&server).into_owned()
}

/// Schemas that do not load on some majors, with the error that stops them and why. A
/// schema that fails any other way, or loads where this says it cannot, fails the test.
const NOT_LOADABLE: &[(&str, &[u32], &str, &str)] = &[
    (
        "musicbrainz",
        &[13, 14],
        "syntax error at or near \"NULLS\"",
        "uses UNIQUE NULLS NOT DISTINCT, new in 15",
    ),
    (
        "chado",
        &[17, 18],
        "function create_point(bigint, bigint) does not exist",
        "17 runs index expressions under search_path pg_catalog, and chado's boxrange() calls create_point unqualified",
    ),
];

/// Schemas whose restore of `pg_dump --schema-only` reports errors on every version
/// (so the restored database lacks those objects), and why.
const RESTORE_ERRORS: &[(&str, &str)] = &[
    (
        "chado",
        "the dump sets an empty search_path and boxrange() calls create_point unqualified: its index is not restored",
    ),
    (
        "postgrest_spec",
        "two self-referencing views (test.infinite_recursion, test.self_recursive_view) cannot be re-created",
    ),
];

/// A difference a restore by Debian's pg_dump 15 really makes on an older server, and
/// why; the snapshot is right to report it, so the test names it instead of failing.
/// Only the `public` schema losing a revoke of PUBLIC's CREATE, on 13 and 14: pg_dump 15
/// dumps the public schema's ACL relative to 15's default (no CREATE for PUBLIC), so
/// the `REVOKE CREATE ON SCHEMA public FROM PUBLIC` the source ran is not in the dump,
/// and the restored public schema on 13/14 (whose default grants it) lets PUBLIC create.
fn known_restore_difference(
    major: u32,
    kind: &str,
    c: &model::diff::Change,
) -> Option<&'static str> {
    let public_create = |v: &serde_json::Value| {
        v.as_array().map(|a| {
            a.iter()
                .filter(|g| !(g["grantee"] == "PUBLIC" && g["privilege"] == "CREATE"))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    (major < 15
        && kind == "schemas"
        && c.key == "public"
        && c.attributes.iter().all(|a| {
            a.attribute == "grants"
                && a.before.as_array().map(Vec::len) < a.after.as_array().map(Vec::len)
                && public_create(&a.after) == a.before.as_array().cloned()
        }))
    .then_some("pg_dump 15 leaves out the source's REVOKE CREATE ON SCHEMA public FROM PUBLIC on a 13/14 server, so the restore really lets PUBLIC create in public")
}

/// One schema on one server.
struct Loaded {
    name: String,
    major: u32,
    line: String,
    snapshot: Snapshot,
}

enum Outcome {
    Loaded(Box<Loaded>),
    /// Did not load, as [`NOT_LOADABLE`] says.
    NotLoadable(&'static str),
}

/// [`check_schema_in`], then drops the databases it made (six majors of 14 schemas,
/// loaded and restored, are several GB), whatever the outcome.
async fn check_schema(pg: &'static Pg, file: PathBuf) -> Result<Outcome, String> {
    let mut made = Vec::new();
    let outcome = check_schema_in(pg, file, &mut made).await;
    for db in made {
        pg.drop_db(&db).await;
    }
    outcome
}

async fn check_schema_in(
    pg: &'static Pg,
    file: PathBuf,
    made: &mut Vec<String>,
) -> Result<Outcome, String> {
    let name = file.file_stem().unwrap().to_string_lossy().to_string();
    let expected_failure = NOT_LOADABLE
        .iter()
        .find(|(n, majors, _, _)| *n == name && majors.contains(&pg.major));
    let started = Instant::now();
    let db: TestDb = pg
        .create_db(&format!("conf_{}", name.replace(['-', '.'], "_")))
        .await;
    made.push(db.name.clone());
    let path = file.clone();
    let dbname = db.name.clone();
    let loaded = tokio::task::spawn_blocking(move || pg.psql_file(&dbname, &path))
        .await
        .map_err(|e| e.to_string())?;
    match (loaded, expected_failure) {
        (Err(e), Some((_, _, error, why))) if e.contains(error) => {
            return Ok(Outcome::NotLoadable(why));
        }
        (Err(e), _) => return Err(format!("{name} on {}: loading failed: {e}", pg.major)),
        (Ok(()), Some(_)) => {
            return Err(format!(
                "{name} on {}: loaded, but NOT_LOADABLE says it cannot",
                pg.major
            ))
        }
        (Ok(()), None) => {}
    }
    let loaded = started.elapsed();
    let client = db.client().await;
    let schemas: Vec<String> = client
        .query(USER_SCHEMAS, &[])
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let schema_refs: Vec<&str> = schemas.iter().map(String::as_str).collect();
    let t = Instant::now();
    let s = read(&db.url, &schema_refs).await;
    let read_time = t.elapsed();

    let mut problems = Vec::new();
    let rels: BTreeMap<String, String> = client
        .query(TRUTH_RELATIONS, &[&schemas])
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|r| (canonical(r.get(0)), r.get(1)))
        .collect();
    let got: BTreeSet<&String> = s.tables.keys().collect();
    let want: BTreeSet<&String> = rels.keys().collect();
    if got != want {
        problems.push(format!(
            "tables: missing {:?}, extra {:?}",
            want.difference(&got).take(5).collect::<Vec<_>>(),
            got.difference(&want).take(5).collect::<Vec<_>>()
        ));
    }
    let views = rels.values().filter(|k| *k == "v" || *k == "m").count();
    let got_views = s
        .tables
        .values()
        .filter(|t| {
            matches!(
                t.kind,
                model::TableKind::View | model::TableKind::MaterializedView
            )
        })
        .count();
    if views != got_views {
        problems.push(format!(
            "views: {got_views} in the snapshot, {views} in pg_catalog"
        ));
    }

    let mut by_table: BTreeMap<&str, Vec<(i32, &str)>> = BTreeMap::new();
    for c in s.columns.values() {
        by_table
            .entry(&c.table)
            .or_default()
            .push((c.position, &c.name));
    }
    let truth_cols = client
        .query(TRUTH_COLUMNS, &[&schemas])
        .await
        .map_err(|e| e.to_string())?;
    let mut column_total = 0;
    for row in &truth_cols {
        let table = canonical(row.get(0));
        let cols: Vec<String> = row
            .get::<_, Vec<String>>(1)
            .into_iter()
            .map(canonical)
            .collect();
        column_total += cols.len();
        let mut mine = by_table.remove(table.as_str()).unwrap_or_default();
        mine.sort();
        let mine: Vec<&str> = mine.iter().map(|(_, n)| *n).collect();
        if mine != cols {
            problems.push(format!("{table}: columns {mine:?} != {cols:?}"));
        }
    }
    if s.columns.len() != column_total {
        problems.push(format!("columns: {} != {column_total}", s.columns.len()));
    }

    let fks: BTreeSet<String> = client
        .query(TRUTH_FKS, &[&schemas])
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|r| canonical(r.get(0)))
        .collect();
    let got_fks: BTreeSet<String> = s.relationships.keys().cloned().collect();
    if fks != got_fks {
        problems.push(format!(
            "foreign keys: missing {:?}, extra {:?}",
            fks.difference(&got_fks).take(5).collect::<Vec<_>>(),
            got_fks.difference(&fks).take(5).collect::<Vec<_>>()
        ));
    }
    let idx: BTreeSet<String> = client
        .query(TRUTH_INDEXES, &[&schemas])
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|r| canonical(r.get(0)))
        .collect();
    let got_idx: BTreeSet<String> = s.indexes.keys().cloned().collect();
    if idx != got_idx {
        problems.push(format!(
            "indexes: missing {:?}, extra {:?}",
            idx.difference(&got_idx).take(5).collect::<Vec<_>>(),
            got_idx.difference(&idx).take(5).collect::<Vec<_>>()
        ));
    }
    // Every relationship names columns that exist on its side of the snapshot.
    for (k, r) in &s.relationships {
        if r.from_columns.len() != r.to_columns.len() || r.from_columns.is_empty() {
            problems.push(format!(
                "{k}: column pairs {:?} -> {:?}",
                r.from_columns, r.to_columns
            ));
        }
        for c in &r.from_columns {
            if !s
                .columns
                .contains_key(&model::keys::child_key(&r.from_table, c))
            {
                problems.push(format!("{k}: from column {c} not in the snapshot"));
            }
        }
    }

    let again = read(&db.url, &schema_refs).await;
    if again.meta.signature != s.meta.signature
        || again.meta.deep_signature != s.meta.deep_signature
    {
        problems.push("two reads gave different signatures".into());
    }

    // Dump and restore, where this pg_dump can dump the server.
    let mut restore_note = String::new();
    let mut known_notes_out = Vec::new();
    if pg.can_dump() {
        let restored = pg
            .create_db(&format!("rest_{}", name.replace(['-', '.'], "_")))
            .await;
        made.push(restored.name.clone());
        let dump = pg
            .client_command("pg_dump")
            .args(["--schema-only", "-d", &db.name])
            .output()
            .map_err(|e| e.to_string())?;
        if !dump.status.success() {
            return Err(format!(
                "{name}: pg_dump: {}",
                String::from_utf8_lossy(&dump.stderr)
            ));
        }
        let file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        std::fs::write(file.path(), &dump.stdout).map_err(|e| e.to_string())?;
        let path = file.path().to_path_buf();
        let rname = restored.name.clone();
        let errors = tokio::task::spawn_blocking(move || pg.psql_file_lenient(&rname, &path))
            .await
            .map_err(|e| e.to_string())??;
        let after = read(&restored.url, &schema_refs).await;
        let mut d = model::diff::diff(&s, &after);
        d.schemas
            .changed
            .retain(|c| match known_restore_difference(pg.major, "schemas", c) {
                Some(why) => {
                    known_notes_out.push(format!("schema {}: {why}", c.key));
                    false
                }
                None => true,
            });
        let known_differs = !known_notes_out.is_empty();
        let known = RESTORE_ERRORS.iter().find(|(n, _)| *n == name);
        match (errors.is_empty(), known) {
            (true, None) => {
                let same = after.meta.deep_signature == s.meta.deep_signature
                    && after.meta.signature == s.meta.signature;
                if !same && (!known_differs || d.kinds().iter().any(|(_, k)| !k.is_empty())) {
                    problems.push(format!(
                        "dump/restore changed the snapshot: {}",
                        describe_diff(&d)
                    ));
                }
                restore_note = "; dump/restore: same signatures".into();
            }
            (false, Some((_, why))) => {
                // The restore lacks what failed; nothing else may differ.
                let only_removed = d
                    .kinds()
                    .iter()
                    .all(|(_, k)| k.added.is_empty() && k.changed.is_empty());
                if !only_removed {
                    problems.push(format!(
                        "dump/restore (with {} errors: {why}) changed more than the objects it failed to create: {}",
                        errors.len(),
                        describe_diff(&d)
                    ));
                }
                restore_note = format!(
                    "; dump/restore: {} objects not re-created ({} restore errors: {why}), nothing else differs",
                    d.kinds().iter().map(|(_, k)| k.removed.len()).sum::<usize>(),
                    errors.len()
                );
            }
            (true, Some(_)) => {
                problems.push("restored without the errors RESTORE_ERRORS expects".into())
            }
            (false, None) => problems.push(format!(
                "restore errors: {}",
                errors
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    }

    if problems.is_empty() {
        for n in &known_notes_out {
            restore_note.push_str(&format!("; known restore difference: {n}"));
        }
        Ok(Outcome::Loaded(Box::new(Loaded {
            line: format!(
                "{name} on {}: {} tables, {} columns, {} FKs, {} indexes in {} schemas; load {:.1}s, read {} ms{restore_note}",
                pg.major,
                s.tables.len(),
                s.columns.len(),
                s.relationships.len(),
                s.indexes.len(),
                schemas.len(),
                loaded.as_secs_f64(),
                read_time.as_millis()
            ),
            name,
            major: pg.major,
            snapshot: s,
        })))
    } else {
        problems.truncate(10);
        Err(format!(
            "{name} on {}:\n  {}",
            pg.major,
            problems.join("\n  ")
        ))
    }
}

/// A diff in one line: per kind, the changed attributes and the added/removed counts.
fn describe_diff(d: &model::diff::SnapshotDiff) -> String {
    let mut parts = Vec::new();
    for (kind, k) in d.kinds() {
        if k.is_empty() {
            continue;
        }
        let mut attrs: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &k.changed {
            for a in &c.attributes {
                *attrs.entry(a.attribute.as_str()).or_default() += 1;
            }
        }
        let example = k
            .changed
            .first()
            .and_then(|c| {
                c.attributes
                    .first()
                    .map(|a| format!(" e.g. {}: {} -> {}", c.key, a.before, a.after))
            })
            .unwrap_or_default();
        parts.push(format!(
            "{kind}: +{} -{} changed {:?}{}",
            k.added.len(),
            k.removed.len(),
            attrs,
            example.chars().take(400).collect::<String>()
        ));
    }
    parts.join("; ")
}

/// The letter of an upgrade effect in the table's legend.
fn letter(e: &model::upgrade::UpgradeEffect) -> char {
    let i = model::upgrade::EFFECTS
        .iter()
        .position(|x| x == e)
        .unwrap_or(0);
    char::from(b'A' + i as u8)
}

/// All keys of a snapshot, per kind.
fn keys(s: &Snapshot) -> Vec<(&'static str, BTreeSet<&str>)> {
    vec![
        ("tables", s.tables.keys().map(String::as_str).collect()),
        ("columns", s.columns.keys().map(String::as_str).collect()),
        (
            "relationships",
            s.relationships.keys().map(String::as_str).collect(),
        ),
        ("indexes", s.indexes.keys().map(String::as_str).collect()),
        (
            "constraints",
            s.constraints.keys().map(String::as_str).collect(),
        ),
        ("enums", s.enums.keys().map(String::as_str).collect()),
        ("triggers", s.triggers.keys().map(String::as_str).collect()),
        ("policies", s.policies.keys().map(String::as_str).collect()),
        ("rules", s.rules.keys().map(String::as_str).collect()),
        (
            "statistics",
            s.statistics.keys().map(String::as_str).collect(),
        ),
        (
            "functions",
            s.functions.keys().map(String::as_str).collect(),
        ),
        (
            "sequences",
            s.sequences.keys().map(String::as_str).collect(),
        ),
        ("types", s.types.keys().map(String::as_str).collect()),
        (
            "extensions",
            s.extensions.keys().map(String::as_str).collect(),
        ),
        (
            "collations",
            s.collations.keys().map(String::as_str).collect(),
        ),
        ("schemas", s.schemas.keys().map(String::as_str).collect()),
    ]
}

/// Compares each schema across consecutive majors; returns the table (markdown) and the
/// unexplained differences.
fn cross_version_table(
    names: &[String],
    majors: &[u32],
    loaded: &BTreeMap<(String, u32), Loaded>,
    not_loadable: &BTreeMap<(String, u32), &'static str>,
) -> (String, Vec<String>) {
    let mut failures = Vec::new();
    let mut reasons: BTreeMap<char, usize> = BTreeMap::new();
    let mut table = String::from("| schema |");
    for w in majors.windows(2) {
        table.push_str(&format!(" {} → {} |", w[0], w[1]));
    }
    table.push_str("\n|---|");
    for _ in majors.windows(2) {
        table.push_str("---|");
    }
    table.push('\n');
    for name in names {
        table.push_str(&format!("| {name} |"));
        for w in majors.windows(2) {
            let (from, to) = (w[0], w[1]);
            let (Some(a), Some(b)) = (
                loaded.get(&(name.clone(), from)),
                loaded.get(&(name.clone(), to)),
            ) else {
                let why = [from, to]
                    .iter()
                    .find_map(|m| {
                        not_loadable
                            .get(&(name.clone(), *m))
                            .map(|w| format!("does not load on {m}: {w}"))
                    })
                    .unwrap_or_else(|| "not compared".into());
                table.push_str(&format!(" – ({why}) |"));
                continue;
            };
            let (sa, sb) = (&a.snapshot, &b.snapshot);
            let keys_equal = keys(sa) == keys(sb);
            let light = sa.meta.signature == sb.meta.signature;
            let deep = sa.meta.deep_signature == sb.meta.deep_signature;
            let mut cell = format!(
                " keys {} · light {} · deep {}",
                if keys_equal { "=" } else { "≠" },
                if light { "=" } else { "≠" },
                if deep { "=" } else { "≠" }
            );
            if !keys_equal || !light {
                failures.push(format!(
                    "{name} {from} → {to}: keys differ: {}",
                    describe_diff(&model::diff::diff(sa, sb))
                ));
            }
            if !deep {
                let d = model::diff::diff(sa, sb);
                let mut here: BTreeMap<char, usize> = BTreeMap::new();
                for (kind, k) in d.kinds() {
                    if !k.added.is_empty() || !k.removed.is_empty() {
                        failures.push(format!(
                            "{name} {from} → {to}: {kind} added {:?} removed {:?}",
                            k.added, k.removed
                        ));
                    }
                    for c in &k.changed {
                        for at in &c.attributes {
                            match model::upgrade::explain(
                                from,
                                to,
                                kind,
                                &at.attribute,
                                &at.before,
                                &at.after,
                            ) {
                                Some(e) => *here.entry(letter(&e)).or_default() += 1,
                                None => failures.push(format!(
                                    "{name} {from} → {to}: {kind} {} {}: {} -> {}",
                                    c.key,
                                    at.attribute,
                                    at.before.to_string().chars().take(300).collect::<String>(),
                                    at.after.to_string().chars().take(300).collect::<String>()
                                )),
                            }
                        }
                    }
                }
                for (l, n) in &here {
                    cell.push_str(&format!(" ({l}: {n})"));
                    *reasons.entry(*l).or_default() += n;
                }
            }
            table.push_str(&cell);
            table.push_str(" |");
        }
        table.push('\n');
    }
    table.push('\n');
    for e in &model::upgrade::EFFECTS {
        let l = letter(e);
        table.push_str(&format!(
            "- {l} ({}, since {}): {} ({} attributes)\n",
            if e.changes_meaning {
                "real change of meaning"
            } else {
                "prints differently, not normalized"
            },
            e.since,
            e.why,
            reasons.get(&l).copied().unwrap_or(0)
        ));
    }
    (table, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_world_schemas_on_every_version() {
    let Some(shared) = harness::shared_dir() else {
        harness::skip("conformance: ../shared/schemas not found");
        return;
    };
    let dir = shared.join("schemas");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        harness::skip(&format!("conformance: {} not found", dir.display()));
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no schemas in {}", dir.display());
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    let clusters = harness::clusters().await;
    let majors: Vec<u32> = clusters.iter().map(|p| p.major).collect();
    let mut loaded = BTreeMap::new();
    let mut not_loadable = BTreeMap::new();
    let mut failures = Vec::new();
    for pg in clusters {
        let started = Instant::now();
        // Two at a time: loading is the slow part and the machine has two cores.
        for pair in files.chunks(2) {
            let tasks: Vec<_> = pair
                .iter()
                .cloned()
                .map(|f| tokio::spawn(check_schema(pg, f)))
                .collect();
            for (t, f) in tasks.into_iter().zip(pair) {
                let name = f.file_stem().unwrap().to_string_lossy().to_string();
                match t.await.unwrap_or_else(|e| Err(e.to_string())) {
                    Ok(Outcome::Loaded(l)) => {
                        eprintln!("conformance ok: {}", l.line);
                        loaded.insert((l.name.clone(), l.major), *l);
                    }
                    Ok(Outcome::NotLoadable(why)) => {
                        eprintln!("conformance: {name} does not load on {}: {why}", pg.major);
                        not_loadable.insert((name, pg.major), why);
                    }
                    Err(e) => failures.push(e),
                }
            }
        }
        eprintln!(
            "conformance on {}: {:.1} s",
            pg.major,
            started.elapsed().as_secs_f64()
        );
    }
    let (table, unexplained) = cross_version_table(&names, &majors, &loaded, &not_loadable);
    eprintln!("\nkeys, light and deep signatures across consecutive majors:\n\n{table}");
    failures.extend(unexplained);
    failures.truncate(60);
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
}
