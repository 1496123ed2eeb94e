//! Stable keys, and the one quoting rule every identifier in a snapshot follows.
//!
//! A key is the identifier parts joined with dots (`schema.table`, `schema.table.column`),
//! each part quoted by [`quote_ident`]: left bare when it is lower-case simple
//! (`[a-z_][a-z0-9_]*`) and not in [`KEYWORDS`], else double-quoted with inner quotes
//! doubled. [`KEYWORDS`] is every word that some supported PostgreSQL (13 to 18) lists in
//! `pg_get_keywords()` with a category other than unreserved, so a key does not depend
//! on the server version it was read from (a server's own `quote_ident` quotes `json` from
//! 17 on and `system_user` from 16 on; these keys quote them on every version).
//!
//! The catalog queries still quote with the server's `quote_ident`; the decoder turns
//! every such part into this rule with [`requote_key`], which parses any server's quoting
//! (and keys stored under the old, server-dependent rule) back to the name and quotes it
//! again. Never builds a key from an OID.

use std::borrow::Cow;

/// Words that are a keyword other than unreserved (column-name, type-function-name or
/// reserved) in at least one supported PostgreSQL major, 13 to 18: the union of
/// `SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'` over those versions, sorted.
/// 151 words on 13, 14 and 15; 16 adds five, 17 adds eight more; 18 adds none. Checked
/// against each server by the integration suite (`tests/it/keys.rs`).
pub const KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// The words of [`KEYWORDS`] that are not a non-unreserved keyword on every supported
/// version, so servers disagree on quoting them: quoted by 16 on (`system_user`,
/// `json_array`, `json_arrayagg`, `json_object`, `json_objectagg`) or by 17 on (the
/// rest), bare before. Definitions printed by the server are normalized to the bare
/// spelling of these (see `crate::normalize`).
pub const VERSION_DEPENDENT_KEYWORDS: &[&str] = &[
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "merge_action",
    "system_user",
];

/// True when `word` is in [`KEYWORDS`].
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.binary_search(&word).is_ok()
}

/// True when `name` needs no quotes: lower-case simple and not in [`KEYWORDS`]. The same
/// test as PostgreSQL's `quote_identifier` (only `a-z`, `0-9` and `_`, not starting with
/// a digit), with the keyword list of every supported version instead of one server's.
pub fn is_bare(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        && !is_keyword(name)
}

/// `name` as a key part: bare when [`is_bare`], else in double quotes with `"` doubled.
pub fn quote_ident(name: &str) -> Cow<'_, str> {
    if is_bare(name) {
        return Cow::Borrowed(name);
    }
    let mut q = String::with_capacity(name.len() + 2);
    q.push('"');
    for c in name.chars() {
        if c == '"' {
            q.push('"');
        }
        q.push(c);
    }
    q.push('"');
    Cow::Owned(q)
}

/// The name a quoted or bare part stands for: `"a""b"` -> `a"b`, `abc` -> `abc`. `None`
/// for a part with unbalanced quotes.
pub fn unquote_part(part: &str) -> Option<Cow<'_, str>> {
    let Some(inner) = part.strip_prefix('"') else {
        return (!part.contains('"')).then_some(Cow::Borrowed(part));
    };
    let inner = inner.strip_suffix('"')?;
    if !inner.contains('"') {
        return Some(Cow::Borrowed(inner));
    }
    let mut name = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            // Inside quotes a quote only comes doubled.
            if chars.next() != Some('"') {
                return None;
            }
        }
        name.push(c);
    }
    Some(Cow::Owned(name))
}

/// One part quoted by any server's `quote_ident` (or by any earlier rule), quoted again by
/// [`quote_ident`]. Borrowed when it does not change (almost always). A malformed part is
/// returned as given.
pub fn requote_part(part: &str) -> Cow<'_, str> {
    // Fast path: a bare part stays bare unless it is one of the keywords.
    if !part.starts_with('"') {
        return if is_bare(part) || !is_bare_shape(part) {
            Cow::Borrowed(part)
        } else {
            quote_ident(part)
        };
    }
    match unquote_part(part) {
        Some(name) if is_bare(&name) => Cow::Owned(name.into_owned()),
        _ => Cow::Borrowed(part),
    }
}

/// `[a-z_][a-z0-9_]*`, keyword or not.
fn is_bare_shape(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// A key of parts quoted by any server (`public.json`, `public."json"`), with every part
/// re-quoted by [`quote_ident`] (`public."json"`). Borrowed when nothing changes. A key
/// that does not split ([`split_key`]) is returned as given.
pub fn requote_key(key: &str) -> Cow<'_, str> {
    let Some(parts) = split_key(key) else {
        return Cow::Borrowed(key);
    };
    let requoted: Vec<Cow<'_, str>> = parts.iter().map(|p| requote_part(p)).collect();
    if requoted
        .iter()
        .zip(&parts)
        .all(|(r, p)| r.as_ref() == p.as_str())
    {
        return Cow::Borrowed(key);
    }
    Cow::Owned(requoted.join("."))
}

/// `schema.table`
pub fn table_key(schema: &str, table: &str) -> String {
    let mut k = String::with_capacity(schema.len() + table.len() + 1);
    k.push_str(schema);
    k.push('.');
    k.push_str(table);
    k
}

/// `schema.table.child` for a column, constraint or index of the table `table_key`.
pub fn child_key(table_key: &str, child: &str) -> String {
    let mut k = String::with_capacity(table_key.len() + child.len() + 1);
    k.push_str(table_key);
    k.push('.');
    k.push_str(child);
    k
}

/// Splits a key into its identifier parts, honouring double-quoted parts (`""` inside
/// quotes is a literal quote). Returns `None` when quotes are unbalanced or a part is
/// empty.
pub fn split_key(key: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = key.chars().peekable();
    let mut quoted_part = false;
    loop {
        match chars.next() {
            None => break,
            Some('"') if cur.is_empty() && !quoted_part => {
                quoted_part = true;
                cur.push('"');
                loop {
                    match chars.next() {
                        None => return None,
                        Some('"') => {
                            if chars.peek() == Some(&'"') {
                                chars.next();
                                cur.push_str("\"\"");
                            } else {
                                cur.push('"');
                                break;
                            }
                        }
                        Some(c) => cur.push(c),
                    }
                }
                match chars.peek() {
                    None | Some('.') => {}
                    Some(_) => return None,
                }
            }
            Some('.') => {
                if cur.is_empty() {
                    return None;
                }
                parts.push(std::mem::take(&mut cur));
                quoted_part = false;
            }
            Some('"') => return None,
            Some(c) => cur.push(c),
        }
    }
    if cur.is_empty() {
        return None;
    }
    parts.push(cur);
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_and_plain_parts() {
        assert_eq!(
            split_key(r#"public."Order Items""#).unwrap(),
            vec!["public", r#""Order Items""#]
        );
        assert_eq!(
            split_key(r#""a.b"."c""d".x"#).unwrap(),
            vec![r#""a.b""#, r#""c""d""#, "x"]
        );
        assert!(split_key("public.").is_none());
        assert!(split_key(r#"public."open"#).is_none());
        assert!(split_key(r#"pub"lic.x"#).is_none());
    }

    #[test]
    fn builds_keys() {
        let t = table_key("public", r#""Order Items""#);
        assert_eq!(t, r#"public."Order Items""#);
        assert_eq!(child_key(&t, "qty"), r#"public."Order Items".qty"#);
    }

    #[test]
    fn the_keyword_list_is_sorted_and_holds_the_version_dependent_words() {
        assert!(KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(KEYWORDS.len(), 164);
        for w in VERSION_DEPENDENT_KEYWORDS {
            assert!(is_keyword(w), "{w}");
        }
    }

    #[test]
    fn quotes_like_quote_ident_with_every_versions_keywords() {
        for (name, quoted) in [
            ("users", "users"),
            ("_x1", "_x1"),
            ("json", r#""json""#),
            ("system_user", r#""system_user""#),
            ("user", r#""user""#),
            ("Users", r#""Users""#),
            ("a.b", r#""a.b""#),
            ("café", r#""café""#),
            ("1st", r#""1st""#),
            ("a$b", r#""a$b""#),
            (r#"say "hi""#, r#""say ""hi""""#),
            ("", r#""""#),
        ] {
            assert_eq!(quote_ident(name), quoted, "{name}");
            assert_eq!(unquote_part(quoted).as_deref(), Some(name), "{quoted}");
        }
    }

    #[test]
    fn requotes_what_any_server_quoted() {
        // A 16 server leaves json bare, a 17 server quotes it: the same key either way.
        assert_eq!(requote_key("public.t.json"), r#"public.t."json""#);
        assert_eq!(requote_key(r#"public.t."json""#), r#"public.t."json""#);
        assert_eq!(requote_key("public.system_user"), r#"public."system_user""#);
        // quote_all_identifiers = on quotes everything; the key is the same.
        assert_eq!(requote_key(r#""public"."users""#), "public.users");
        // Unchanged keys are borrowed.
        assert!(matches!(
            requote_key(r#"public."Order Items".qty"#),
            Cow::Borrowed(_)
        ));
        assert!(matches!(requote_key("public.users"), Cow::Borrowed(_)));
        assert_eq!(requote_key(r#""a.b"."c""d".x"#), r#""a.b"."c""d".x"#);
        assert_eq!(requote_part("json"), r#""json""#);
        assert_eq!(requote_part(r#""user""#), r#""user""#);
    }
}
