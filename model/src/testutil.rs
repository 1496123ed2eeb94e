//! Test-only fixtures: a small hand-made snapshot, a large synthetic one, a tiny
//! deterministic generator, and the location of the shared test vectors. Compiled only
//! for tests; never part of the library.

use crate::keys::{child_key, table_key};
use crate::*;
use std::path::PathBuf;

/// A tiny deterministic linear congruential generator (no `rand` dependency).
pub(crate) struct Lcg(u64);

impl Lcg {
    pub(crate) fn new(seed: u64) -> Self {
        Lcg(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u32() as usize) % n.max(1)
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Says why a test cannot run here; the caller then returns. Locally a skip with its
/// reason printed; with `CI` set (where `../shared` and node are installed) a failure,
/// so a broken setup never passes as a skip.
#[track_caller]
pub(crate) fn skip(reason: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"));
    assert!(!ci, "cannot run under CI (CI is set): {reason}");
    println!("skipping: {reason}");
}

/// The shared directory (`CATSNAP_SHARED_DIR`, else `../../shared` from this crate).
pub(crate) fn shared_dir() -> PathBuf {
    match std::env::var_os("CATSNAP_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}

pub(crate) fn table(schema: &str, name: &str) -> Table {
    Table {
        schema: schema.into(),
        name: name.into(),
        kind: TableKind::Table,
        comment: None,
        row_estimate: None,
        primary_key: None,
        partition_of: None,
        partition_bound: None,
        partition_key: None,
        partitions: Vec::new(),
        view_definition: None,
        refreshed_at: None,
        inherits: Vec::new(),
        persistence: None,
        reloptions: Vec::new(),
        replica_identity: None,
        access_method: None,
        rls_enabled: false,
        rls_forced: false,
        owner: None,
        grants: Vec::new(),
        revoked_defaults: Vec::new(),
    }
}

pub(crate) fn column(table: &str, name: &str, position: i32, data_type: &str) -> Column {
    Column {
        table: table.into(),
        name: name.into(),
        position,
        data_type: data_type.into(),
        nullable: true,
        default: None,
        identity: None,
        generated: None,
        generated_kind: None,
        collation: None,
        comment: None,
        not_null_not_valid: false,
        not_null_no_inherit: false,
        is_primary_key: false,
        is_foreign_key: false,
        grants: Vec::new(),
        identity_sequence: None,
    }
}

pub(crate) fn fk(
    name: &str,
    from: &str,
    from_cols: &[&str],
    to: &str,
    to_cols: &[&str],
) -> Relationship {
    let list = |c: &[&str]| c.join(", ");
    Relationship {
        name: name.into(),
        from_table: from.into(),
        from_columns: from_cols.iter().map(|s| s.to_string()).collect(),
        to_table: to.into(),
        to_columns: to_cols.iter().map(|s| s.to_string()).collect(),
        on_delete: FkAction::NoAction,
        on_update: FkAction::NoAction,
        deferrable: false,
        initially_deferred: false,
        match_type: "simple".into(),
        validated: true,
        one_to_one: false,
        definition: format!(
            "FOREIGN KEY ({}) REFERENCES {}({})",
            list(from_cols),
            to,
            list(to_cols)
        ),
        comment: None,
    }
}

pub(crate) fn index(table: &str, name: &str, cols: &[&str], unique: bool) -> Index {
    Index {
        table: table.into(),
        name: name.into(),
        definition: format!(
            "CREATE {}INDEX {} ON {} USING btree ({})",
            if unique { "UNIQUE " } else { "" },
            name,
            table,
            cols.join(", ")
        ),
        unique,
        primary: false,
        method: "btree".into(),
        columns: cols.iter().map(|c| Some(c.to_string())).collect(),
        include: Vec::new(),
        predicate: None,
        has_expressions: false,
        comment: None,
        valid: true,
        ready: true,
    }
}

fn insert_column(s: &mut Snapshot, c: Column) {
    s.columns.insert(child_key(&c.table, &c.name), c);
}

/// users(id, email, status) <- orders(id, user_id, total), with a PK, an index, a unique
/// constraint, a check constraint and an enum.
pub(crate) fn sample() -> Snapshot {
    let mut s = Snapshot::default();
    s.meta.captured_at = "2024-01-01T00:00:00Z".into();
    s.meta.schemas = vec!["public".into()];
    s.meta.server_version = "16.2".into();
    s.meta.server_version_num = 160002;

    let users = table_key("public", "users");
    let orders = table_key("public", "orders");
    for (key, name) in [(&users, "users"), (&orders, "orders")] {
        let mut t = table("public", name);
        t.primary_key = Some(PrimaryKey {
            name: format!("{name}_pkey"),
            columns: vec!["id".into()],
        });
        t.row_estimate = Some(100);
        s.tables.insert(key.clone(), t);
    }

    let mut id = column(&users, "id", 1, "bigint");
    id.nullable = false;
    id.identity = Some(Identity::Always);
    id.is_primary_key = true;
    insert_column(&mut s, id);
    let mut email = column(&users, "email", 2, "text");
    email.nullable = false;
    insert_column(&mut s, email);
    let mut status = column(&users, "status", 3, "public.user_status");
    status.default = Some("'active'::public.user_status".into());
    insert_column(&mut s, status);

    let mut oid = column(&orders, "id", 1, "bigint");
    oid.nullable = false;
    oid.default = Some("nextval('public.orders_id_seq'::regclass)".into());
    oid.is_primary_key = true;
    insert_column(&mut s, oid);
    let mut user_id = column(&orders, "user_id", 2, "bigint");
    user_id.is_foreign_key = true;
    insert_column(&mut s, user_id);
    let mut total = column(&orders, "total", 3, "numeric(12,2)");
    total.generated = Some("(0)::numeric".into());
    total.generated_kind = Some(Generated::Stored);
    insert_column(&mut s, total);

    let rel = fk(
        "orders_user_id_fkey",
        &orders,
        &["user_id"],
        &users,
        &["id"],
    );
    s.relationships
        .insert(child_key(&orders, "orders_user_id_fkey"), rel);

    let ix = index(&orders, "orders_user_id_idx", &["user_id"], false);
    s.indexes
        .insert(child_key(&orders, "orders_user_id_idx"), ix);

    s.constraints.insert(
        child_key(&users, "users_email_key"),
        Constraint {
            table: users.clone(),
            name: "users_email_key".into(),
            kind: ConstraintKind::Unique,
            columns: vec!["email".into()],
            definition: "UNIQUE (email)".into(),
            deferrable: false,
            initially_deferred: false,
            validated: true,
            comment: None,
            no_inherit: false,
        },
    );
    s.constraints.insert(
        child_key(&orders, "orders_total_check"),
        Constraint {
            table: orders.clone(),
            name: "orders_total_check".into(),
            kind: ConstraintKind::Check,
            columns: vec!["total".into()],
            definition: "CHECK ((total >= (0)::numeric))".into(),
            deferrable: false,
            initially_deferred: false,
            validated: true,
            comment: None,
            no_inherit: false,
        },
    );

    s.enums.insert(
        table_key("public", "user_status"),
        EnumType {
            schema: "public".into(),
            name: "user_status".into(),
            labels: vec!["active".into(), "disabled".into()],
        },
    );
    s
}

/// `tables` tables of `cols` columns each, every table after the first with a foreign
/// key to its predecessor, a primary-key index and a secondary index.
pub(crate) fn synthetic(tables: usize, cols: usize) -> Snapshot {
    let types = [
        "bigint",
        "text",
        "integer",
        "timestamp with time zone",
        "boolean",
    ];
    let mut s = Snapshot::default();
    s.meta.captured_at = "2024-01-01T00:00:00Z".into();
    s.meta.schemas = vec!["app".into()];
    for t in 0..tables {
        let name = format!("table_{t:05}");
        let key = table_key("app", &name);
        let mut tb = table("app", &name);
        tb.row_estimate = Some((t * 1000) as i64);
        tb.comment = Some(format!("Synthetic table number {t}"));
        tb.primary_key = Some(PrimaryKey {
            name: format!("{name}_pkey"),
            columns: vec!["col_000".into()],
        });
        s.tables.insert(key.clone(), tb);
        for c in 0..cols {
            let cname = format!("col_{c:03}");
            let mut col = column(&key, &cname, c as i32 + 1, types[c % types.len()]);
            col.nullable = c != 0;
            if c == 0 {
                col.identity = Some(Identity::ByDefault);
                col.is_primary_key = true;
            }
            if c == 2 {
                col.default = Some("0".into());
            }
            insert_column(&mut s, col);
        }
        let pk = format!("{name}_pkey");
        let mut ix = index(&key, &pk, &["col_000"], true);
        ix.primary = true;
        s.indexes.insert(child_key(&key, &pk), ix);
        let sec = format!("{name}_col_001_idx");
        s.indexes.insert(
            child_key(&key, &sec),
            index(&key, &sec, &["col_001"], false),
        );
        if t > 0 {
            let prev = table_key("app", &format!("table_{:05}", t - 1));
            let fname = format!("{name}_parent_fkey");
            s.relationships.insert(
                child_key(&key, &fname),
                fk(&fname, &key, &["col_001"], &prev, &["col_000"]),
            );
        }
    }
    s
}

pub(crate) fn grant(grantee: &str, privilege: &str) -> Grant {
    Grant {
        grantee: grantee.into(),
        privilege: privilege.into(),
        grantable: false,
    }
}

/// [`sample`] with one object of every kind added in deep v2: a trigger, a policy (and
/// RLS), a rule, extended statistics, a function, a sequence, a domain, an extension,
/// a collation, the schema itself, and grants.
pub(crate) fn sample_every_kind() -> Snapshot {
    let mut s = sample();
    let users = table_key("public", "users");
    let orders = table_key("public", "orders");
    let t = s.tables.get_mut(&users).expect("users");
    t.rls_enabled = true;
    t.owner = Some("app".into());
    t.grants = vec![grant("reader", "SELECT")];
    s.triggers.insert(
        child_key(&users, "users_audit"),
        Trigger {
            table: users.clone(),
            name: "users_audit".into(),
            timing: TriggerTiming::After,
            events: vec![TriggerEvent::Insert, TriggerEvent::Update],
            update_columns: Vec::new(),
            level: TriggerLevel::Row,
            when: None,
            function: "public.audit()".into(),
            arguments: Vec::new(),
            enabled: EnabledState::Origin,
            constraint: false,
            deferrable: false,
            initially_deferred: false,
            comment: None,
            definition: "CREATE TRIGGER users_audit AFTER INSERT OR UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.audit()".into(),
        },
    );
    s.policies.insert(
        child_key(&users, "own_rows"),
        Policy {
            table: users.clone(),
            name: "own_rows".into(),
            command: PolicyCommand::Select,
            permissive: true,
            roles: vec!["PUBLIC".into()],
            using: Some("(email = CURRENT_USER)".into()),
            with_check: None,
        },
    );
    s.rules.insert(
        child_key(&orders, "no_delete"),
        Rule {
            table: orders.clone(),
            name: "no_delete".into(),
            event: "delete".into(),
            instead: true,
            enabled: EnabledState::Origin,
            definition: "CREATE RULE no_delete AS ON DELETE TO public.orders DO INSTEAD NOTHING;"
                .into(),
        },
    );
    s.statistics.insert(
        table_key("public", "orders_stats"),
        Statistics {
            schema: "public".into(),
            name: "orders_stats".into(),
            table: orders.clone(),
            kinds: vec!["ndistinct".into()],
            target: None,
            definition: "CREATE STATISTICS public.orders_stats (ndistinct) ON id, user_id FROM public.orders".into(),
            comment: None,
        },
    );
    s.functions.insert(
        "public.audit()".into(),
        Function {
            schema: "public".into(),
            name: "audit".into(),
            identity_arguments: String::new(),
            kind: FunctionKind::Function,
            language: "plpgsql".into(),
            arguments: String::new(),
            result: Some("trigger".into()),
            volatility: Volatility::Volatile,
            strict: false,
            security_definer: false,
            parallel: ParallelSafety::Unsafe,
            leakproof: false,
            config: Vec::new(),
            comment: None,
            definition: "BEGIN RETURN NEW; END".into(),
            owner: Some("app".into()),
            grants: Vec::new(),
            revoked_defaults: vec![grant("PUBLIC", "EXECUTE")],
        },
    );
    s.sequences.insert(
        table_key("public", "orders_id_seq"),
        Sequence {
            schema: "public".into(),
            name: "orders_id_seq".into(),
            data_type: "bigint".into(),
            start: 1,
            increment: 1,
            min: 1,
            max: i64::MAX,
            cache: 1,
            cycle: false,
            owned_by: Some(child_key(&orders, "id")),
            comment: None,
            owner: Some("app".into()),
            grants: Vec::new(),
            revoked_defaults: Vec::new(),
        },
    );
    s.types.insert(
        table_key("public", "email"),
        UserType {
            schema: "public".into(),
            name: "email".into(),
            kind: UserTypeKind::Domain,
            base_type: Some("text".into()),
            default: None,
            not_null: false,
            constraints: vec![DomainConstraint {
                name: "email_check".into(),
                definition: "CHECK ((VALUE ~~ '%@%'::text))".into(),
                validated: true,
            }],
            attributes: Vec::new(),
            subtype: None,
            collation: None,
            subtype_opclass: None,
            canonical: None,
            subtype_diff: None,
            comment: None,
            owner: Some("app".into()),
        },
    );
    s.extensions.insert(
        "pgcrypto".into(),
        Extension {
            name: "pgcrypto".into(),
            version: "1.3".into(),
            schema: "public".into(),
        },
    );
    s.collations.insert(
        table_key("public", "nocase"),
        Collation {
            schema: "public".into(),
            name: "nocase".into(),
            provider: "icu".into(),
            locale: Some("und-u-ks-level2".into()),
            ctype: None,
            deterministic: false,
            rules: None,
            comment: None,
        },
    );
    s.schemas.insert(
        "public".into(),
        Schema {
            name: "public".into(),
            owner: Some("pg_database_owner".into()),
            comment: Some("standard public schema".into()),
            grants: vec![grant("PUBLIC", "USAGE")],
            revoked_defaults: Vec::new(),
        },
    );
    s
}
