//! Conformance on real-world schemas (`../shared/schemas`): each loads into its own
//! database, and the snapshot is checked against `pg_catalog` ground truth computed here
//! independently (tables and views, columns in order, foreign keys, indexes), and two
//! reads must give the same signatures.

use crate::harness::{self, TestDb};
use crate::introspect::read;
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

async fn check_schema(file: PathBuf) -> Result<String, String> {
    let name = file.file_stem().unwrap().to_string_lossy().to_string();
    let pg = harness::pg().await;
    let started = Instant::now();
    let db: TestDb = pg
        .create_db(&format!("conf_{}", name.replace(['-', '.'], "_")))
        .await;
    let path = file.clone();
    let dbname = db.name.clone();
    tokio::task::spawn_blocking(move || pg.psql_file(&dbname, &path))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{name}: loading failed: {e}"))?;
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
        .map(|r| (r.get(0), r.get(1)))
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
        let table: String = row.get(0);
        let cols: Vec<String> = row.get(1);
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
        .map(|r| r.get(0))
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
        .map(|r| r.get(0))
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
    if problems.is_empty() {
        Ok(format!(
            "{name}: {} tables, {} columns, {} FKs, {} indexes in {} schemas; load {:.1}s, read {} ms",
            s.tables.len(),
            s.columns.len(),
            s.relationships.len(),
            s.indexes.len(),
            schemas.len(),
            loaded.as_secs_f64(),
            read_time.as_millis()
        ))
    } else {
        problems.truncate(10);
        Err(format!("{name}:\n  {}", problems.join("\n  ")))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_world_schemas_match_pg_catalog() {
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
    // Two at a time: loading is the slow part and the machine has two cores.
    let mut results = Vec::new();
    for pair in files.chunks(2) {
        let tasks: Vec<_> = pair
            .iter()
            .cloned()
            .map(|f| tokio::spawn(check_schema(f)))
            .collect();
        for t in tasks {
            results.push(t.await.unwrap_or_else(|e| Err(e.to_string())));
        }
    }
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(line) => eprintln!("conformance ok: {line}"),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
}
