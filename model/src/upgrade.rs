//! What a PostgreSQL major upgrade changes in a snapshot by itself.
//!
//! Owns the list of definition changes that arrive with a newer server although nobody
//! altered the schema, each with why ([`UpgradeEffect`]). [`crate::normalize`] already
//! removes what only prints differently and could be normalized; what is left here is
//! either a real change of meaning (14's `EXTRACT` returns numeric) or a printing the
//! text alone cannot bring back to one form. The diff marks a change these explain, so a
//! user can tell "PostgreSQL 14 now reports this" from "someone altered the view". It
//! must never do I/O, and never explain a change between two snapshots of the same major.

use serde_json::Value;

/// A change a major upgrade makes by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpgradeEffect {
    /// The first major that reports it.
    pub since: u32,
    /// A real change of meaning (true), or a printing that could not be normalized.
    pub changes_meaning: bool,
    /// Why, for a person.
    pub why: &'static str,
}

/// 14: `EXTRACT(field FROM x)` calls `extract()`, returning numeric; 13 parsed it into
/// `date_part()`, returning double precision.
pub const EXTRACT_RETURNS_NUMERIC: UpgradeEffect = UpgradeEffect {
    since: 14,
    changes_meaning: true,
    why: "from PostgreSQL 14, EXTRACT(field FROM x) calls extract() and returns numeric; 13 parsed it into date_part(), which returns double precision (a view's column type changes with it)",
};

/// 14: `SUBSTRING(x FROM a FOR b)`, `NORMALIZE(x, NFKC)`... print in SQL-standard syntax.
pub const SQL_STANDARD_SYNTAX: UpgradeEffect = UpgradeEffect {
    since: 14,
    changes_meaning: false,
    why: "PostgreSQL 14 prints SUBSTRING(x FROM a FOR b), NORMALIZE(x, NFKC), POSITION, OVERLAY, TRIM in SQL-standard syntax where 13 printed the function call with its implicit casts: same function, not normalized (that needs the argument types)",
};

/// 15: a sub-select's output column no longer prints its default alias.
pub const SUBSELECT_DEFAULT_ALIAS: UpgradeEffect = UpgradeEffect {
    since: 15,
    changes_meaning: false,
    why: "from PostgreSQL 15 a sub-select's output column prints without its default alias (SELECT true, not SELECT true AS bool): same query, not normalized",
};

/// 15: a new database's `public` schema is owned by `pg_database_owner`, and PUBLIC no
/// longer has CREATE on it.
pub const PUBLIC_SCHEMA_15: UpgradeEffect = UpgradeEffect {
    since: 15,
    changes_meaning: true,
    why: "a database created by PostgreSQL 15 or later has its public schema owned by pg_database_owner, without CREATE for PUBLIC; 13 and 14 gave it to the bootstrap superuser with CREATE for everyone (pg_upgrade keeps the old settings)",
};

/// Any major: `CREATE EXTENSION` installs the default version of the server's own
/// contrib, which newer majors raise (btree_gist 1.6 -> 1.7, pg_trgm 1.5 -> 1.6...). A
/// real difference (the extension's objects differ), kept in the deep signature: after a
/// `pg_upgrade` the installed version stays until `ALTER EXTENSION ... UPDATE`, which is
/// then drift like any other change.
pub const EXTENSION_DEFAULT_VERSION: UpgradeEffect = UpgradeEffect {
    since: 14,
    changes_meaning: true,
    why: "CREATE EXTENSION installs the server's default version of the extension, which newer majors raise; the objects it provides differ (pg_upgrade keeps the installed version until ALTER EXTENSION ... UPDATE, which is drift)",
};

/// 16: `CREATE COLLATION ... (provider = icu, locale = '@colNumeric=yes')` stores the
/// locale canonicalized to a BCP 47 language tag (`und-u-kn-true`); 15 stored it as
/// written. The same ICU collator (pg_upgrade keeps the stored text).
pub const ICU_LOCALE_TAG_16: UpgradeEffect = UpgradeEffect {
    since: 16,
    changes_meaning: false,
    why: "PostgreSQL 16 stores an ICU collation's locale canonicalized to a BCP 47 language tag (@colCaseFirst=lower;colNumeric=yes becomes und-u-kf-lower-kn-true); the same collator, not normalized (that needs ICU's canonicalization)",
};

/// 17: `GRANT ALL` on a table includes the new `MAINTAIN` privilege.
pub const GRANT_ALL_MAINTAIN_17: UpgradeEffect = UpgradeEffect {
    since: 17,
    changes_meaning: true,
    why: "from PostgreSQL 17 GRANT ALL on a table also grants MAINTAIN (VACUUM, ANALYZE, REINDEX, REFRESH, CLUSTER, LOCK): the grantee really may do more",
};

/// Every effect, oldest first.
pub const EFFECTS: [UpgradeEffect; 7] = [
    EXTRACT_RETURNS_NUMERIC,
    SQL_STANDARD_SYNTAX,
    SUBSELECT_DEFAULT_ALIAS,
    PUBLIC_SCHEMA_15,
    EXTENSION_DEFAULT_VERSION,
    ICU_LOCALE_TAG_16,
    GRANT_ALL_MAINTAIN_17,
];

/// The major of a `server_version_num` (130023 -> 13, 90624 -> 9).
pub fn major(server_version_num: i32) -> u32 {
    u32::try_from(server_version_num / 10_000).unwrap_or(0)
}

/// The effect that explains one changed attribute of an object of `kind` (`tables`,
/// `columns`...) between a snapshot from major `from` and one from major `to`, if any.
/// Only an upgrade (`from < to`, crossing the effect's major) is explained; a downgrade
/// the other way round.
pub fn explain(
    from: u32,
    to: u32,
    kind: &str,
    attribute: &str,
    before: &Value,
    after: &Value,
) -> Option<UpgradeEffect> {
    if from == to || from == 0 || to == 0 {
        return None;
    }
    // A downgrade is the same effect seen from the other side.
    let (lo, hi, old, new) = if from < to {
        (from, to, before, after)
    } else {
        (to, from, after, before)
    };
    let crosses = |e: &UpgradeEffect| lo < e.since && e.since <= hi;
    let (old_v, new_v) = (old, new);
    let (old, new) = (old.as_str().unwrap_or(""), new.as_str().unwrap_or(""));
    if crosses(&EXTRACT_RETURNS_NUMERIC) {
        if old.contains("date_part(") && new.contains("EXTRACT(") {
            return Some(EXTRACT_RETURNS_NUMERIC);
        }
        if kind == "columns"
            && attribute == "dataType"
            && old == "double precision"
            && new == "numeric"
        {
            return Some(EXTRACT_RETURNS_NUMERIC);
        }
    }
    if crosses(&SQL_STANDARD_SYNTAX) {
        let calls = [
            "\"substring\"(",
            "\"normalize\"(",
            "\"position\"(",
            "\"overlay\"(",
            "btrim(",
            "ltrim(",
            "rtrim(",
        ];
        let syntax = ["SUBSTRING(", "NORMALIZE(", "POSITION(", "OVERLAY(", "TRIM("];
        if calls.iter().any(|c| old.contains(c)) && syntax.iter().any(|s| new.contains(s)) {
            return Some(SQL_STANDARD_SYNTAX);
        }
    }
    if crosses(&PUBLIC_SCHEMA_15)
        && kind == "schemas"
        && public_schema_defaults(attribute, old_v, new_v)
    {
        return Some(PUBLIC_SCHEMA_15);
    }
    if kind == "extensions" && attribute == "version" && !old.is_empty() && !new.is_empty() {
        return Some(EXTENSION_DEFAULT_VERSION);
    }
    if crosses(&ICU_LOCALE_TAG_16)
        && kind == "collations"
        && attribute == "locale"
        && old.starts_with('@')
        && new.contains("-u-")
    {
        return Some(ICU_LOCALE_TAG_16);
    }
    if crosses(&GRANT_ALL_MAINTAIN_17) && kind == "tables" && attribute == "grants" {
        // Exactly MAINTAIN added, and only for grantees that held every other table
        // privilege (what GRANT ALL gave them before 17).
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let (o, n) = (list(old_v), list(new_v));
        let mut without: Vec<Value> = n.clone();
        without.retain(|g| g["privilege"] != "MAINTAIN");
        let added: Vec<&Value> = n.iter().filter(|g| g["privilege"] == "MAINTAIN").collect();
        let all_others = |grantee: &Value| {
            [
                "SELECT",
                "INSERT",
                "UPDATE",
                "DELETE",
                "TRUNCATE",
                "REFERENCES",
                "TRIGGER",
            ]
            .iter()
            .all(|p| {
                o.iter()
                    .any(|g| &g["grantee"] == grantee && g["privilege"] == *p)
            })
        };
        if !added.is_empty() && without == o && added.iter().all(|g| all_others(&g["grantee"])) {
            return Some(GRANT_ALL_MAINTAIN_17);
        }
    }
    if crosses(&SUBSELECT_DEFAULT_ALIAS) && old.contains(" AS ") && old.len() > new.len() {
        // Only the dropped ` AS name` of sub-select outputs differs.
        if strip_subselect_aliases(old) == new {
            return Some(SUBSELECT_DEFAULT_ALIAS);
        }
    }
    None
}

/// Exactly what 15 changed in a new database's schema defaults: the owner became
/// `pg_database_owner`, and PUBLIC's CREATE (a grant beyond the defaults before, with
/// the owner's defaults otherwise unchanged) is gone. Any other owner or grant change is
/// someone's.
fn public_schema_defaults(attribute: &str, old: &Value, new: &Value) -> bool {
    let public_create = |g: &Value| g["grantee"] == "PUBLIC" && g["privilege"] == "CREATE";
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    match attribute {
        "owner" => new.as_str() == Some("pg_database_owner"),
        // PUBLIC's CREATE gone, and/or one role (the old owner, whose own privileges
        // were defaults before and are grants now) holding exactly a schema owner's
        // CREATE and USAGE; nothing else.
        "grants" => {
            let (o, n) = (list(old), list(new));
            let mut kept = o.clone();
            kept.retain(|g| !public_create(g));
            let added: Vec<&Value> = n.iter().filter(|g| !o.contains(g)).collect();
            let removed_ok = o.iter().filter(|g| !n.contains(g)).all(public_create);
            let one_owner = added.is_empty()
                || (added.len() == 2
                    && added[0]["grantee"] == added[1]["grantee"]
                    && added[0]["grantee"] != "PUBLIC"
                    && added.iter().any(|g| g["privilege"] == "CREATE")
                    && added.iter().any(|g| g["privilege"] == "USAGE"));
            old != new && removed_ok && one_owner && kept.iter().all(|g| n.contains(g))
        }
        // 13/14 listed the owner's revoked defaults differently only because the owner
        // changed: both sides grant nothing beyond PUBLIC USAGE/CREATE.
        "revokedDefaults" => list(old)
            .iter()
            .chain(list(new).iter())
            .all(|g| g["grantee"] == "PUBLIC" || g["grantee"] == "pg_database_owner"),
        _ => false,
    }
}

/// `( SELECT expr AS name` -> `( SELECT expr` for every sub-select's single output.
fn strip_subselect_aliases(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("( SELECT ") {
        let (head, tail) = rest.split_at(at + "( SELECT ".len());
        out.push_str(head);
        // The output expression runs to the next line break (ruleutils' layout).
        let line_end = tail.find('\n').unwrap_or(tail.len());
        let line = &tail[..line_end];
        match line.rfind(" AS ") {
            Some(p) if !line[p + 4..].contains(' ') => out.push_str(&line[..p]),
            _ => out.push_str(line),
        }
        rest = &tail[line_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn explains_what_an_upgrade_changes_and_nothing_else() {
        let b = json!("SELECT (date_part('year'::text, now()))::text AS y;");
        let a = json!("SELECT (EXTRACT(year FROM now()))::text AS y;");
        assert_eq!(
            explain(13, 14, "tables", "viewDefinition", &b, &a),
            Some(EXTRACT_RETURNS_NUMERIC)
        );
        assert_eq!(
            explain(
                13,
                17,
                "columns",
                "dataType",
                &json!("double precision"),
                &json!("numeric")
            ),
            Some(EXTRACT_RETURNS_NUMERIC)
        );
        // Downgrade: the same effect.
        assert_eq!(
            explain(14, 13, "tables", "viewDefinition", &a, &b),
            Some(EXTRACT_RETURNS_NUMERIC)
        );
        // Same major, or not crossing 14: someone altered it.
        assert_eq!(explain(14, 14, "tables", "viewDefinition", &b, &a), None);
        assert_eq!(explain(15, 16, "tables", "viewDefinition", &b, &a), None);
        assert_eq!(
            explain(
                13,
                14,
                "columns",
                "dataType",
                &json!("integer"),
                &json!("bigint")
            ),
            None
        );
        let old = json!(" SELECT x.id,\n    COALESCE(( SELECT true AS bool\n           FROM t\n          LIMIT 1), false) AS b\n   FROM x;");
        let new = json!(" SELECT x.id,\n    COALESCE(( SELECT true\n           FROM t\n          LIMIT 1), false) AS b\n   FROM x;");
        assert_eq!(
            explain(14, 15, "tables", "viewDefinition", &old, &new),
            Some(SUBSELECT_DEFAULT_ALIAS)
        );
        assert_eq!(
            explain(
                13,
                14,
                "indexes",
                "definition",
                &json!("lower(\"normalize\"((n)::text, 'nfkc'::text))"),
                &json!("lower(NORMALIZE(n, NFKC))")
            ),
            Some(SQL_STANDARD_SYNTAX)
        );
        assert_eq!(major(170010), 17);
    }

    #[test]
    fn explains_extension_versions_icu_tags_and_maintain_but_not_look_alikes() {
        let v = |s: &str| json!(s);
        assert_eq!(
            explain(13, 14, "extensions", "version", &v("1.5"), &v("1.6")),
            Some(EXTENSION_DEFAULT_VERSION)
        );
        assert_eq!(
            explain(15, 15, "extensions", "version", &v("1.5"), &v("1.6")),
            None,
            "ALTER EXTENSION UPDATE on one server is someone's change"
        );
        assert_eq!(
            explain(
                15,
                16,
                "collations",
                "locale",
                &v("@colCaseFirst=lower;colNumeric=yes"),
                &v("und-u-kf-lower-kn-true")
            ),
            Some(ICU_LOCALE_TAG_16)
        );
        assert_eq!(
            explain(15, 16, "collations", "locale", &v("en-US"), &v("de-DE")),
            None
        );
        let g = |who: &str, p: &str| json!({"grantee": who, "privilege": p});
        let all: Vec<_> = [
            "DELETE",
            "INSERT",
            "REFERENCES",
            "SELECT",
            "TRIGGER",
            "TRUNCATE",
            "UPDATE",
        ]
        .iter()
        .map(|p| g("app", p))
        .collect();
        let mut with_maintain = all.clone();
        with_maintain.push(g("app", "MAINTAIN"));
        assert_eq!(
            explain(
                16,
                17,
                "tables",
                "grants",
                &json!(all),
                &json!(with_maintain)
            ),
            Some(GRANT_ALL_MAINTAIN_17)
        );
        // MAINTAIN for a role that did not hold ALL is someone's GRANT.
        let select = json!([g("app", "SELECT")]);
        let select_maintain = json!([g("app", "MAINTAIN"), g("app", "SELECT")]);
        assert_eq!(
            explain(16, 17, "tables", "grants", &select, &select_maintain),
            None
        );
        // 15's public schema: PUBLIC's CREATE gone, the old owner's CREATE/USAGE shown.
        let old = json!([g("PUBLIC", "CREATE"), g("PUBLIC", "USAGE")]);
        let new = json!([
            g("PUBLIC", "CREATE"),
            g("PUBLIC", "USAGE"),
            g("postgres", "CREATE"),
            g("postgres", "USAGE")
        ]);
        assert_eq!(
            explain(14, 15, "schemas", "grants", &old, &new),
            Some(PUBLIC_SCHEMA_15)
        );
        assert_eq!(
            explain(
                14,
                15,
                "schemas",
                "grants",
                &old,
                &json!([g("PUBLIC", "USAGE")])
            ),
            Some(PUBLIC_SCHEMA_15)
        );
        // A new grant to some role is not what 15 did.
        let granted = json!([
            g("PUBLIC", "CREATE"),
            g("PUBLIC", "USAGE"),
            g("app", "USAGE")
        ]);
        assert_eq!(explain(14, 15, "schemas", "grants", &old, &granted), None);
        assert_eq!(
            explain(14, 15, "schemas", "owner", &v("postgres"), &v("app")),
            None
        );
        assert_eq!(
            explain(
                14,
                15,
                "schemas",
                "owner",
                &v("postgres"),
                &v("pg_database_owner")
            ),
            Some(PUBLIC_SCHEMA_15)
        );
    }
}
