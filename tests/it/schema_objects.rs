//! The schema objects beyond tables and columns (issue 13) against a real PostgreSQL:
//! what the snapshot carries for each kind, drift (and a diff naming the object) for
//! every create, alter and drop, and no false drift for re-created identical objects,
//! setval, VACUUM ANALYZE, row writes and dump/restore.

use crate::harness;
use crate::introspect::read;
use model::diff::{diff, SnapshotDiff};
use model::Snapshot;

/// Roles are cluster-wide: made once per test binary, under names no other test uses.
const ROLES: &str = r#"
    DO $$ BEGIN CREATE ROLE so_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
    DO $$ BEGIN CREATE ROLE so_writer; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
"#;

static ROLES_MADE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

const OBJECTS: &str = r#"
    CREATE SCHEMA app;
    CREATE TABLE app.parent (id int PRIMARY KEY, code text, n int GENERATED ALWAYS AS IDENTITY);
    CREATE TABLE app.child (extra int) INHERITS (app.parent);
    CREATE TABLE app.other (id int);
    CREATE UNLOGGED TABLE app.scratch (a int) WITH (fillfactor = 70);
    ALTER TABLE app.scratch REPLICA IDENTITY FULL;
    ALTER TABLE app.parent ENABLE ROW LEVEL SECURITY;
    CREATE POLICY readers ON app.parent FOR SELECT TO so_reader, so_writer USING (id > 0);
    GRANT SELECT ON app.parent TO so_reader;
    GRANT UPDATE (code) ON app.parent TO so_writer;
    CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
    CREATE TRIGGER parent_touch BEFORE UPDATE OF code ON app.parent FOR EACH ROW
        WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION app.touch('a', 'b');
    CREATE FUNCTION app.add(a int, b int DEFAULT 1) RETURNS int LANGUAGE sql IMMUTABLE STRICT
        AS 'SELECT a + b';
    CREATE FUNCTION app.add(a text) RETURNS text LANGUAGE sql AS 'SELECT a';
    CREATE AGGREGATE app.total(int) (SFUNC = int4pl, STYPE = int, INITCOND = '0');
    CREATE PROCEDURE app.reset(x int) LANGUAGE plpgsql SET search_path = pg_catalog
        AS $$BEGIN NULL; END$$;
    REVOKE EXECUTE ON FUNCTION app.add(int, int) FROM PUBLIC;
    CREATE SEQUENCE app.counter INCREMENT 5 OWNED BY app.parent.code;
    CREATE DOMAIN app.email AS text NOT NULL CONSTRAINT has_at CHECK (VALUE LIKE '%@%');
    CREATE TYPE app.pair AS (a int, b text COLLATE "C");
    CREATE TYPE app.floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
    CREATE COLLATION app.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
    CREATE RULE scratch_keep AS ON DELETE TO app.scratch DO INSTEAD NOTHING;
    CREATE STATISTICS app.parent_stats (ndistinct) ON id, code FROM app.parent;
    CREATE EXTENSION seg SCHEMA app;
    COMMENT ON INDEX app.parent_pkey IS 'pk index';
    COMMENT ON CONSTRAINT parent_pkey ON app.parent IS 'pk';
    COMMENT ON SCHEMA app IS 'the app';
"#;

async fn objects_db(prefix: &str) -> harness::TestDb {
    let db = harness::pg().await.create_db(prefix).await;
    ROLES_MADE.get_or_init(|| db.exec(ROLES)).await;
    db.exec(OBJECTS).await;
    db
}

#[tokio::test]
async fn the_snapshot_carries_every_schema_object() {
    let db = objects_db("objects").await;
    let s = read(&db.url, &["app"]).await;

    let t = &s.triggers["app.parent.parent_touch"];
    assert_eq!(t.timing, model::TriggerTiming::Before);
    assert_eq!(t.events, vec![model::TriggerEvent::Update]);
    assert_eq!(t.update_columns, vec!["code"]);
    assert_eq!(t.level, model::TriggerLevel::Row);
    assert_eq!(t.function, "app.touch()");
    assert_eq!(t.arguments, vec!["a", "b"]);
    assert_eq!(
        t.when.as_deref(),
        Some("(old.code IS DISTINCT FROM new.code)")
    );
    assert_eq!(t.enabled, model::EnabledState::Origin);
    // The inheriting child has no clone of it; internal FK triggers never appear.
    assert_eq!(s.triggers.len(), 1, "{:?}", s.triggers.keys());

    let parent = &s.tables["app.parent"];
    assert!(parent.rls_enabled && !parent.rls_forced);
    assert_eq!(
        parent.grants,
        vec![model::Grant {
            grantee: "so_reader".into(),
            privilege: "SELECT".into(),
            grantable: false
        }]
    );
    assert!(parent.revoked_defaults.is_empty());
    assert_eq!(parent.owner.as_deref(), Some("postgres"));
    assert_eq!(s.tables["app.child"].inherits, vec!["app.parent"]);
    let scratch = &s.tables["app.scratch"];
    assert_eq!(scratch.persistence.as_deref(), Some("unlogged"));
    assert_eq!(scratch.reloptions, vec!["fillfactor=70"]);
    assert_eq!(scratch.replica_identity.as_deref(), Some("full"));
    assert!(scratch.access_method.is_none(), "heap is not reported");
    assert_eq!(
        s.columns["app.parent.code"].grants[0].privilege, "UPDATE",
        "column grant"
    );

    let p = &s.policies["app.parent.readers"];
    assert_eq!(p.command, model::PolicyCommand::Select);
    assert!(p.permissive);
    assert_eq!(p.roles, vec!["so_reader", "so_writer"]);
    assert_eq!(p.using.as_deref(), Some("(id > 0)"));

    let add = &s.functions["app.add(integer, integer)"];
    assert_eq!(add.volatility, model::Volatility::Immutable);
    assert!(add.strict);
    assert_eq!(add.arguments, "a integer, b integer DEFAULT 1");
    assert_eq!(add.result.as_deref(), Some("integer"));
    assert!(add.definition.contains("SELECT a + b"));
    assert_eq!(add.revoked_defaults[0].grantee, "PUBLIC");
    assert!(
        s.functions.contains_key("app.add(text)"),
        "overloads are distinct"
    );
    assert_eq!(
        s.functions["app.total(integer)"].kind,
        model::FunctionKind::Aggregate
    );
    assert!(s.functions["app.total(integer)"]
        .definition
        .contains("SFUNC = int4pl"));
    let reset = &s.functions["app.reset(integer)"];
    assert_eq!(reset.kind, model::FunctionKind::Procedure);
    assert_eq!(reset.config, vec!["search_path=pg_catalog"]);
    assert!(
        !s.functions.keys().any(|k| k.starts_with("app.floatrange")),
        "range constructors are the type's, not functions: {:?}",
        s.functions.keys()
    );
    assert!(
        !s.functions.keys().any(|k| k.contains("seg_")),
        "extension functions are left out"
    );

    let counter = &s.sequences["app.counter"];
    assert_eq!(counter.increment, 5);
    assert_eq!(counter.owned_by.as_deref(), Some("app.parent.code"));
    assert!(
        !s.sequences.contains_key("app.parent_n_seq"),
        "an identity sequence is its column's"
    );
    let ident = s.columns["app.parent.n"]
        .identity_sequence
        .as_ref()
        .expect("identity sequence on its column");
    assert_eq!((ident.name.as_str(), ident.increment), ("parent_n_seq", 1));

    let email = &s.types["app.email"];
    assert_eq!(email.kind, model::UserTypeKind::Domain);
    assert_eq!(email.base_type.as_deref(), Some("text"));
    assert!(email.not_null);
    assert_eq!(email.constraints[0].name, "has_at");
    let pair = &s.types["app.pair"];
    assert_eq!(pair.attributes.len(), 2);
    assert_eq!(
        pair.attributes[1].collation.as_deref(),
        Some(r#"pg_catalog."C""#)
    );
    let range = &s.types["app.floatrange"];
    assert_eq!(range.subtype.as_deref(), Some("double precision"));
    assert!(range.subtype_diff.as_deref().unwrap().contains("float8mi"));

    assert_eq!(s.extensions["seg"].version, "1.4");
    assert_eq!(s.extensions["seg"].schema, "app");
    assert!(s.extensions.contains_key("plpgsql"));
    let nocase = &s.collations["app.nocase"];
    assert_eq!(nocase.provider, "icu");
    assert_eq!(nocase.locale.as_deref(), Some("und-u-ks-level2"));
    assert!(!nocase.deterministic);

    assert!(s.rules["app.scratch.scratch_keep"].instead);
    assert_eq!(s.statistics["app.parent_stats"].table, "app.parent");
    assert_eq!(s.statistics["app.parent_stats"].kinds, vec!["ndistinct"]);
    assert_eq!(
        s.indexes["app.parent.parent_pkey"].comment.as_deref(),
        Some("pk index")
    );
    assert_eq!(
        s.constraints["app.parent.parent_pkey"].comment.as_deref(),
        Some("pk")
    );
    assert_eq!(s.schemas["app"].comment.as_deref(), Some("the app"));
    assert_eq!(
        s.meta.deep_signature_version,
        model::signature::DEEP_VERSION
    );
}

/// Whether `key` appears in `kind` of the diff (added, removed, changed or renamed).
fn names(d: &SnapshotDiff, kind: &str, key: &str) -> bool {
    d.kinds().into_iter().any(|(name, k)| {
        name == kind
            && (k.added.iter().any(|a| a == key)
                || k.removed.iter().any(|r| r == key)
                || k.changed
                    .iter()
                    .any(|c| c.key == key || c.renamed_from.as_deref() == Some(key)))
    })
}

#[tokio::test]
async fn each_ddl_of_every_schema_object_is_drift_named_in_the_diff() {
    let db = objects_db("objddl").await;
    // (DDL, kind, key the diff must name)
    let cases: &[(&str, &str, &str)] = &[
        // Triggers: create, every attribute that matters, rename, comment, drop.
        ("CREATE TRIGGER other_touch AFTER INSERT ON app.other FOR EACH STATEMENT EXECUTE FUNCTION app.touch()", "triggers", "app.other.other_touch"),
        ("ALTER TABLE app.other DISABLE TRIGGER other_touch", "triggers", "app.other.other_touch"),
        ("ALTER TABLE app.other ENABLE ALWAYS TRIGGER other_touch", "triggers", "app.other.other_touch"),
        ("ALTER TABLE app.other ENABLE REPLICA TRIGGER other_touch", "triggers", "app.other.other_touch"),
        ("CREATE OR REPLACE TRIGGER other_touch BEFORE INSERT OR DELETE ON app.other FOR EACH ROW EXECUTE FUNCTION app.touch('x')", "triggers", "app.other.other_touch"),
        ("COMMENT ON TRIGGER other_touch ON app.other IS 'audit'", "triggers", "app.other.other_touch"),
        ("ALTER TRIGGER other_touch ON app.other RENAME TO other_audit", "triggers", "app.other.other_audit"),
        ("DROP TRIGGER other_audit ON app.other", "triggers", "app.other.other_audit"),
        ("CREATE CONSTRAINT TRIGGER other_check AFTER INSERT ON app.other DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION app.touch()", "triggers", "app.other.other_check"),
        // Row-level security and policies.
        ("ALTER TABLE app.other ENABLE ROW LEVEL SECURITY", "tables", "app.other"),
        ("ALTER TABLE app.other FORCE ROW LEVEL SECURITY", "tables", "app.other"),
        ("CREATE POLICY mine ON app.other AS RESTRICTIVE FOR UPDATE TO so_writer USING (id = 1) WITH CHECK (id = 1)", "policies", "app.other.mine"),
        ("ALTER POLICY mine ON app.other USING (id = 2)", "policies", "app.other.mine"),
        ("ALTER POLICY mine ON app.other WITH CHECK (id = 2)", "policies", "app.other.mine"),
        ("ALTER POLICY mine ON app.other TO so_reader, so_writer", "policies", "app.other.mine"),
        ("ALTER POLICY mine ON app.other RENAME TO theirs", "policies", "app.other.theirs"),
        ("DROP POLICY theirs ON app.other", "policies", "app.other.theirs"),
        ("ALTER TABLE app.other NO FORCE ROW LEVEL SECURITY", "tables", "app.other"),
        ("ALTER TABLE app.other DISABLE ROW LEVEL SECURITY", "tables", "app.other"),
        // Functions: body, volatility, strictness, security, parallel, leakproof, SET, comment.
        ("CREATE FUNCTION app.twice(x int) RETURNS int LANGUAGE sql AS 'SELECT 2 * x'", "functions", "app.twice(integer)"),
        ("CREATE OR REPLACE FUNCTION app.twice(x int) RETURNS int LANGUAGE sql AS 'SELECT x + x'", "functions", "app.twice(integer)"),
        ("ALTER FUNCTION app.twice(int) STABLE", "functions", "app.twice(integer)"),
        ("ALTER FUNCTION app.twice(int) STRICT", "functions", "app.twice(integer)"),
        ("ALTER FUNCTION app.twice(int) SECURITY DEFINER", "functions", "app.twice(integer)"),
        ("ALTER FUNCTION app.twice(int) PARALLEL SAFE", "functions", "app.twice(integer)"),
        ("ALTER FUNCTION app.twice(int) LEAKPROOF", "functions", "app.twice(integer)"),
        ("ALTER FUNCTION app.twice(int) SET search_path = pg_catalog", "functions", "app.twice(integer)"),
        ("COMMENT ON FUNCTION app.twice(int) IS 'doubles'", "functions", "app.twice(integer)"),
        ("CREATE FUNCTION app.twice(x bigint) RETURNS bigint LANGUAGE sql AS 'SELECT 2 * x'", "functions", "app.twice(bigint)"),
        ("DROP FUNCTION app.twice(bigint)", "functions", "app.twice(bigint)"),
        ("REVOKE EXECUTE ON FUNCTION app.twice(int) FROM PUBLIC", "functions", "app.twice(integer)"),
        ("GRANT EXECUTE ON FUNCTION app.twice(int) TO so_reader", "functions", "app.twice(integer)"),
        ("ALTER FUNCTION app.twice(int) OWNER TO so_writer", "functions", "app.twice(integer)"),
        ("DROP FUNCTION app.twice(int)", "functions", "app.twice(integer)"),
        ("ALTER PROCEDURE app.reset(int) RESET search_path", "functions", "app.reset(integer)"),
        // Sequences: every option, OWNED BY, grants; identity sequences on their column.
        ("CREATE SEQUENCE app.tickets", "sequences", "app.tickets"),
        ("ALTER SEQUENCE app.tickets INCREMENT BY 3", "sequences", "app.tickets"),
        ("ALTER SEQUENCE app.tickets MINVALUE 0 MAXVALUE 1000 START WITH 10", "sequences", "app.tickets"),
        ("ALTER SEQUENCE app.tickets CACHE 20 CYCLE", "sequences", "app.tickets"),
        ("ALTER SEQUENCE app.tickets AS integer", "sequences", "app.tickets"),
        ("ALTER SEQUENCE app.tickets OWNED BY app.other.id", "sequences", "app.tickets"),
        ("GRANT USAGE ON SEQUENCE app.tickets TO so_reader", "sequences", "app.tickets"),
        ("DROP SEQUENCE app.tickets", "sequences", "app.tickets"),
        ("ALTER TABLE app.parent ALTER COLUMN n SET INCREMENT BY 2", "columns", "app.parent.n"),
        // Types: domains, composite, range.
        ("CREATE DOMAIN app.positive AS int", "types", "app.positive"),
        ("ALTER DOMAIN app.positive ADD CONSTRAINT positive_check CHECK (VALUE > 0)", "types", "app.positive"),
        ("ALTER DOMAIN app.positive SET DEFAULT 1", "types", "app.positive"),
        ("ALTER DOMAIN app.positive SET NOT NULL", "types", "app.positive"),
        ("ALTER DOMAIN app.positive DROP CONSTRAINT positive_check", "types", "app.positive"),
        ("COMMENT ON DOMAIN app.positive IS 'n > 0'", "types", "app.positive"),
        ("DROP DOMAIN app.positive", "types", "app.positive"),
        ("ALTER TYPE app.pair ADD ATTRIBUTE c date", "types", "app.pair"),
        ("ALTER TYPE app.pair ALTER ATTRIBUTE c TYPE timestamp", "types", "app.pair"),
        ("ALTER TYPE app.pair DROP ATTRIBUTE c", "types", "app.pair"),
        ("CREATE TYPE app.intrange AS RANGE (subtype = int8)", "types", "app.intrange"),
        ("DROP TYPE app.intrange", "types", "app.intrange"),
        // Extensions and collations.
        ("CREATE EXTENSION cube VERSION '1.4' SCHEMA app", "extensions", "cube"),
        ("ALTER EXTENSION cube UPDATE TO '1.5'", "extensions", "cube"),
        ("ALTER EXTENSION cube SET SCHEMA public", "extensions", "cube"),
        ("DROP EXTENSION cube", "extensions", "cube"),
        ("CREATE EXTENSION isn SCHEMA app", "extensions", "isn"),
        ("DROP EXTENSION isn", "extensions", "isn"),
        ("CREATE COLLATION app.german (provider = libc, locale = 'C')", "collations", "app.german"),
        ("COMMENT ON COLLATION app.german IS 'de'", "collations", "app.german"),
        ("DROP COLLATION app.german", "collations", "app.german"),
        // Table attributes.
        ("ALTER TABLE app.child NO INHERIT app.parent", "tables", "app.child"),
        ("ALTER TABLE app.child INHERIT app.parent", "tables", "app.child"),
        ("ALTER TABLE app.other SET UNLOGGED", "tables", "app.other"),
        ("ALTER TABLE app.other SET LOGGED", "tables", "app.other"),
        ("ALTER TABLE app.other SET (fillfactor = 50)", "tables", "app.other"),
        ("ALTER TABLE app.other RESET (fillfactor)", "tables", "app.other"),
        ("ALTER TABLE app.other REPLICA IDENTITY FULL", "tables", "app.other"),
        ("ALTER TABLE app.parent REPLICA IDENTITY USING INDEX parent_pkey", "tables", "app.parent"),
        ("ALTER TABLE app.other REPLICA IDENTITY NOTHING", "tables", "app.other"),
        // Rules and statistics.
        ("CREATE RULE other_log AS ON INSERT TO app.other DO ALSO NOTIFY other", "rules", "app.other.other_log"),
        ("ALTER TABLE app.other DISABLE RULE other_log", "rules", "app.other.other_log"),
        ("DROP RULE other_log ON app.other", "rules", "app.other.other_log"),
        ("CREATE STATISTICS app.other_stats (dependencies) ON id, code FROM app.parent", "statistics", "app.other_stats"),
        ("ALTER STATISTICS app.other_stats SET STATISTICS 500", "statistics", "app.other_stats"),
        ("DROP STATISTICS app.other_stats", "statistics", "app.other_stats"),
        // Comments on indexes and constraints.
        ("COMMENT ON INDEX app.parent_pkey IS 'the pk index'", "indexes", "app.parent.parent_pkey"),
        ("COMMENT ON CONSTRAINT parent_pkey ON app.parent IS NULL", "constraints", "app.parent.parent_pkey"),
        // Privileges and owners.
        ("GRANT INSERT ON app.other TO so_writer WITH GRANT OPTION", "tables", "app.other"),
        ("REVOKE INSERT ON app.other FROM so_writer", "tables", "app.other"),
        ("REVOKE TRUNCATE ON app.other FROM postgres", "tables", "app.other"),
        ("ALTER TABLE app.other OWNER TO so_writer", "tables", "app.other"),
        ("GRANT SELECT (id) ON app.other TO so_reader", "columns", "app.other.id"),
        ("REVOKE SELECT (id) ON app.other FROM so_reader", "columns", "app.other.id"),
        ("GRANT USAGE ON SCHEMA app TO so_reader", "schemas", "app"),
        ("ALTER SCHEMA app OWNER TO so_writer", "schemas", "app"),
        ("COMMENT ON SCHEMA app IS 'renamed app'", "schemas", "app"),
    ];
    let mut before: Snapshot = read(&db.url, &["app"]).await;
    let mut failures = Vec::new();
    for (ddl, kind, key) in cases {
        db.exec(ddl).await;
        let after = read(&db.url, &["app"]).await;
        let d = diff(&before, &after);
        if after.meta.deep_signature == before.meta.deep_signature {
            failures.push(format!("{ddl}: no drift"));
        } else if !names(&d, kind, key) {
            failures.push(format!(
                "{ddl}: the diff does not name {kind} {key}: {}",
                serde_json::to_string(&d.summary).unwrap_or_default()
            ));
        }
        if after.meta.signature != before.meta.signature {
            failures.push(format!("{ddl}: the light signature moved (keys only)"));
        }
        before = after;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn no_false_drift_for_identical_recreation_values_and_dump_restore() {
    let pg = harness::pg().await;
    let db = objects_db("objnodrift").await;
    let first = read(&db.url, &["app"]).await;
    let same = |what: &str, s: &Snapshot| {
        if s.meta.deep_signature != first.meta.deep_signature {
            panic!(
                "false drift after {what}: {}",
                serde_json::to_string_pretty(&diff(&first, s)).unwrap_or_default()
            );
        }
        assert_eq!(s.meta.signature, first.meta.signature, "{what}");
    };
    db.exec(
        "DROP POLICY readers ON app.parent;
         CREATE POLICY readers ON app.parent FOR SELECT TO so_writer, so_reader USING (id > 0);
         CREATE OR REPLACE FUNCTION app.add(a int, b int DEFAULT 1) RETURNS int LANGUAGE sql
             IMMUTABLE STRICT AS 'SELECT a + b';
         DROP TRIGGER parent_touch ON app.parent;
         CREATE TRIGGER parent_touch BEFORE UPDATE OF code ON app.parent FOR EACH ROW
             WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION app.touch('a', 'b');",
    )
    .await;
    same(
        "re-creating a policy, a function and a trigger identically",
        &read(&db.url, &["app"]).await,
    );
    db.exec(
        "SELECT setval('app.counter', 500); SELECT nextval('app.counter');
         INSERT INTO app.parent (id, code) SELECT g, 'c' || g FROM generate_series(1, 300) g;
         UPDATE app.parent SET code = code || 'x'; DELETE FROM app.parent WHERE id > 200;
         INSERT INTO app.other SELECT generate_series(1, 50);",
    )
    .await;
    same(
        "setval, nextval and row writes",
        &read(&db.url, &["app"]).await,
    );
    db.exec("VACUUM ANALYZE").await;
    same("VACUUM ANALYZE", &read(&db.url, &["app"]).await);

    let restored = pg.create_db("objrestored").await;
    let dump = pg
        .client_command("pg_dump")
        .args(["--schema-only", "-d", &db.name])
        .output()
        .expect("pg_dump");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &dump.stdout).expect("write dump");
    pg.psql_file(&restored.name, file.path()).expect("restore");
    let again = read(&restored.url, &["app"]).await;
    same("dump and restore", &again);
}
