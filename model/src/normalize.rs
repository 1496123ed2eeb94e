//! One printing for definitions the server deparses (`pg_get_viewdef`, `pg_get_indexdef`,
//! `pg_get_constraintdef`, `pg_get_expr`, `format_type`), so the same schema gives the
//! same snapshot whichever supported PostgreSQL (13 to 18) printed it and whether or not
//! it went through `pg_dump | psql`.
//!
//! Owns the rewrites, each of a spelling that only prints differently and means the same:
//!
//! - identifiers a server quotes only because its keyword list has them
//!   ([`crate::keys::VERSION_DEPENDENT_KEYWORDS`]: `"json"` on 17+, `"system_user"` on 16+)
//!   are written bare, as 13 to 15 print them;
//! - `EXTRACT(YEAR FROM x)` (the field as written) -> `EXTRACT(year FROM x)` (as a
//!   restore re-parses it);
//! - `(ARRAY['a'::t, 'b'::t])::u[]` (how `x IN ('a', 'b')` on a `t` column is stored) ->
//!   `ARRAY[('a'::t)::u, ('b'::t)::u]` (how a restore re-parses that text);
//! - in a view: the top-level query over a single relation with its columns qualified
//!   (`SELECT t.id FROM public.t`, 13 to 15) -> unqualified (`SELECT id FROM public.t`,
//!   as 16 prints it, having dropped the view's hidden OLD/NEW range entries).
//!
//! Spellings that mean something different are left alone (14's `EXTRACT` returns
//! numeric where 13's `date_part` returned double precision). It must never do I/O and
//! never change text inside string literals. Every rewrite is idempotent, so normalizing
//! a stored snapshot that is already normal changes nothing.

use crate::keys::{requote_key, VERSION_DEPENDENT_KEYWORDS};
use crate::Snapshot;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// The version of these rules (and of the key rule in [`crate::keys`]) a snapshot was
/// made under: `meta.normalForm`. Snapshots stored before it existed have 0; they are
/// brought to the current form with [`crate::keys::requote_key`] and these functions
/// before being compared with a newer one.
pub const NORMAL_FORM: u32 = 1;

/// An expression or constraint, index, partition or type definition in one printing.
/// Borrowed when nothing changes.
pub fn definition(text: &str) -> Cow<'_, str> {
    if !needs_rewrite(text) {
        return Cow::Borrowed(text);
    }
    let mut tokens = tokenize(text);
    let changed = rewrite_common(&mut tokens);
    if changed {
        Cow::Owned(join(&tokens))
    } else {
        Cow::Borrowed(text)
    }
}

/// A view's definition (`pg_get_viewdef`) in one printing: [`definition`], and the
/// single-relation qualification of its top-level query removed.
pub fn view_definition(text: &str) -> Cow<'_, str> {
    let mut tokens = tokenize(text);
    let mut changed = rewrite_common(&mut tokens);
    changed |= strip_single_relation_qualification(&mut tokens);
    changed |= strip_default_aliases_in_later_set_branches(&mut tokens);
    if changed {
        Cow::Owned(join(&tokens))
    } else {
        Cow::Borrowed(text)
    }
}

/// Gives a partition's column without an identity the identity of the same column of the
/// nearest ancestor that has one. PostgreSQL 17 reports it on partitions itself (a row
/// routed through the parent gets it on every version); 13 to 16 report it on the
/// partitioned table only.
pub fn inherit_partition_identity(s: &mut Snapshot) {
    let parent_of: HashMap<String, String> = s
        .tables
        .iter()
        .filter_map(|(k, t)| Some((k.clone(), t.partition_of.clone()?)))
        .collect();
    if parent_of.is_empty() {
        return;
    }
    let identity: HashMap<String, crate::Identity> = s
        .columns
        .iter()
        .filter_map(|(k, c)| Some((k.clone(), c.identity?)))
        .collect();
    for c in s.columns.values_mut() {
        if c.identity.is_some() {
            continue;
        }
        let mut table = c.table.clone();
        // Bounded: partition trees are shallow and cannot be cyclic.
        for _ in 0..32 {
            let Some(parent) = parent_of.get(&table) else {
                break;
            };
            if let Some(&found) = identity.get(&crate::keys::child_key(parent, &c.name)) {
                c.identity = Some(found);
                break;
            }
            table = parent.clone();
        }
    }
}

/// A function reference `schema.name(argument types)` (a function's key, a trigger's
/// function): the name re-quoted by [`requote_key`], the argument types in one printing.
/// A reference without parentheses is treated as a plain key.
pub fn function_ref(text: &str) -> Cow<'_, str> {
    let mut in_quotes = false;
    let open = text.char_indices().find_map(|(i, c)| match c {
        '"' => {
            in_quotes = !in_quotes;
            None
        }
        '(' if !in_quotes => Some(i),
        _ => None,
    });
    let Some(open) = open else {
        return requote_key(text);
    };
    let (name, rest) = text.split_at(open);
    let args = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest);
    let (n, a) = (requote_key(name), definition(args));
    if matches!((&n, &a), (Cow::Borrowed(_), Cow::Borrowed(_))) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!("{n}({a})"))
}

/// `pg_get_functiondef` in one printing: the header (name, arguments, result) and a
/// SQL-standard body (which the server deparses) through [`definition`]; a body given
/// as a string (`AS $function$...$function$`, kept verbatim by the server) is left alone,
/// so the function's own text is never rewritten.
pub fn function_definition(text: &str) -> Cow<'_, str> {
    match text.find("\nAS ") {
        Some(at) => {
            let (head, body) = text.split_at(at);
            match definition(head) {
                Cow::Borrowed(_) => Cow::Borrowed(text),
                Cow::Owned(h) => Cow::Owned(h + body),
            }
        }
        None => definition(text),
    }
}

/// The issue-13 kinds (triggers, policies, rules, statistics, functions, sequences,
/// types, extensions, collations, schemas) and the table attributes that name other
/// objects under the one key rule, their server-deparsed text in one printing. Run by
/// every read after the objects are attached and by [`migrate`]; idempotent.
pub fn objects(s: &mut Snapshot) {
    let k = |key: &mut String| {
        if let Cow::Owned(new) = requote_key(key) {
            *key = new;
        }
    };
    let d = |text: &mut String| {
        if let Cow::Owned(new) = definition(text) {
            *text = new;
        }
    };
    fn rekey<T>(map: &mut BTreeMap<String, T>, key: impl Fn(&str) -> Cow<'_, str>) {
        if map.keys().all(|x| matches!(key(x), Cow::Borrowed(_))) {
            return;
        }
        let old = std::mem::take(map);
        *map = old
            .into_iter()
            .map(|(x, v)| (key(&x).into_owned(), v))
            .collect();
    }
    for t in s.tables.values_mut() {
        t.inherits.iter_mut().for_each(k);
        if let Some(r) = t.replica_identity.as_mut() {
            if let Some(ix) = r.strip_prefix("index ") {
                if let Cow::Owned(new) = requote_key(ix) {
                    *r = format!("index {new}");
                }
            }
        }
    }
    rekey(&mut s.triggers, requote_key);
    for t in s.triggers.values_mut() {
        k(&mut t.table);
        k(&mut t.name);
        t.update_columns.iter_mut().for_each(k);
        if let Cow::Owned(new) = function_ref(&t.function) {
            t.function = new;
        }
        t.when.as_mut().map(d);
        d(&mut t.definition);
    }
    rekey(&mut s.policies, requote_key);
    for p in s.policies.values_mut() {
        k(&mut p.table);
        k(&mut p.name);
        p.using.as_mut().map(d);
        p.with_check.as_mut().map(d);
    }
    rekey(&mut s.rules, requote_key);
    for r in s.rules.values_mut() {
        k(&mut r.table);
        k(&mut r.name);
        d(&mut r.definition);
    }
    rekey(&mut s.statistics, requote_key);
    for st in s.statistics.values_mut() {
        k(&mut st.schema);
        k(&mut st.name);
        k(&mut st.table);
        d(&mut st.definition);
    }
    rekey(&mut s.functions, function_ref);
    for f in s.functions.values_mut() {
        k(&mut f.schema);
        k(&mut f.name);
        d(&mut f.identity_arguments);
        d(&mut f.arguments);
        f.result.as_mut().map(d);
        if f.kind == crate::FunctionKind::Aggregate {
            d(&mut f.definition);
        } else if let Cow::Owned(new) = function_definition(&f.definition) {
            f.definition = new;
        }
    }
    rekey(&mut s.sequences, requote_key);
    for q in s.sequences.values_mut() {
        k(&mut q.schema);
        k(&mut q.name);
        q.owned_by.as_mut().map(k);
    }
    for c in s.columns.values_mut() {
        if let Some(q) = c.identity_sequence.as_mut() {
            k(&mut q.schema);
            k(&mut q.name);
            q.owned_by.as_mut().map(k);
        }
    }
    rekey(&mut s.types, requote_key);
    for t in s.types.values_mut() {
        k(&mut t.schema);
        k(&mut t.name);
        t.base_type.as_mut().map(d);
        t.default.as_mut().map(d);
        for c in &mut t.constraints {
            k(&mut c.name);
            d(&mut c.definition);
        }
        for a in &mut t.attributes {
            k(&mut a.name);
            d(&mut a.data_type);
            a.collation.as_mut().map(k);
        }
        t.subtype.as_mut().map(d);
        t.collation.as_mut().map(k);
        t.subtype_opclass.as_mut().map(k);
        t.canonical.as_mut().map(d);
        t.subtype_diff.as_mut().map(d);
    }
    rekey(&mut s.extensions, requote_key);
    for x in s.extensions.values_mut() {
        k(&mut x.name);
        k(&mut x.schema);
    }
    rekey(&mut s.collations, requote_key);
    for c in s.collations.values_mut() {
        k(&mut c.schema);
        k(&mut c.name);
    }
    rekey(&mut s.schemas, requote_key);
    for n in s.schemas.values_mut() {
        k(&mut n.name);
    }
}

/// Brings a snapshot made under an older normal form (`meta.normalForm` below
/// [`NORMAL_FORM`], e.g. one stored before the version-independent key rule) to the
/// current one: every key and name re-quoted ([`requote_key`]), every definition in one
/// printing, partition identities inherited, signatures and counts sealed again. The
/// result is what a read under the current rules would have given for the same catalog
/// on the same server, so comparing it with a new read raises no drift for a change of
/// rules. A snapshot already in the current form is left alone.
pub fn migrate(s: &mut Snapshot) {
    if s.meta.normal_form >= NORMAL_FORM {
        return;
    }
    let k = |key: &mut String| {
        if let Cow::Owned(new) = requote_key(key) {
            *key = new;
        }
    };
    let d = |text: &mut String| {
        if let Cow::Owned(new) = definition(text) {
            *text = new;
        }
    };
    fn rekey<T>(map: &mut BTreeMap<String, T>) {
        let old = std::mem::take(map);
        *map = old
            .into_iter()
            .map(|(key, v)| (requote_key(&key).into_owned(), v))
            .collect();
    }
    rekey(&mut s.tables);
    rekey(&mut s.columns);
    rekey(&mut s.relationships);
    rekey(&mut s.indexes);
    rekey(&mut s.constraints);
    rekey(&mut s.enums);
    for t in s.tables.values_mut() {
        k(&mut t.schema);
        k(&mut t.name);
        t.partition_of.as_mut().map(k);
        t.partitions.iter_mut().for_each(k);
        t.partitions.sort_unstable();
        if let Some(pk) = t.primary_key.as_mut() {
            k(&mut pk.name);
            pk.columns.iter_mut().for_each(k);
        }
        t.partition_bound.as_mut().map(d);
        t.partition_key.as_mut().map(d);
        if let Some(v) = t.view_definition.as_mut() {
            if let Cow::Owned(new) = view_definition(v) {
                *v = new;
            }
        }
    }
    for c in s.columns.values_mut() {
        k(&mut c.table);
        k(&mut c.name);
        c.collation.as_mut().map(k);
        d(&mut c.data_type);
        c.default.as_mut().map(d);
        c.generated.as_mut().map(d);
    }
    for r in s.relationships.values_mut() {
        k(&mut r.name);
        k(&mut r.from_table);
        k(&mut r.to_table);
        r.from_columns.iter_mut().for_each(k);
        r.to_columns.iter_mut().for_each(k);
        d(&mut r.definition);
    }
    for ix in s.indexes.values_mut() {
        k(&mut ix.table);
        k(&mut ix.name);
        ix.columns.iter_mut().flatten().for_each(k);
        ix.include.iter_mut().for_each(k);
        d(&mut ix.definition);
        ix.predicate.as_mut().map(d);
    }
    for c in s.constraints.values_mut() {
        k(&mut c.table);
        k(&mut c.name);
        c.columns.iter_mut().for_each(k);
        d(&mut c.definition);
    }
    for e in s.enums.values_mut() {
        k(&mut e.schema);
        k(&mut e.name);
    }
    if let Some(p) = s.meta.partial_refresh.as_mut() {
        p.tables.iter_mut().for_each(k);
    }
    objects(s);
    inherit_partition_identity(s);
    s.meta.normal_form = NORMAL_FORM;
    crate::signature::seal(s);
}

fn needs_rewrite(text: &str) -> bool {
    text.contains('"') || text.contains("EXTRACT(") || text.contains("(ARRAY[")
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    /// Spaces, tabs, newlines.
    Space(&'a str),
    /// A bare word (keyword or identifier), as written.
    Word(Cow<'a, str>),
    /// A double-quoted identifier, with its quotes.
    Quoted(&'a str),
    /// A string literal with its quotes (and an `E` prefix).
    Literal(&'a str),
    /// `::`
    Cast,
    /// Any other character (punctuation, operators, digits).
    Other(&'a str),
}

impl Tok<'_> {
    fn text(&self) -> &str {
        match self {
            Tok::Space(s) | Tok::Quoted(s) | Tok::Literal(s) | Tok::Other(s) => s,
            Tok::Word(w) => w,
            Tok::Cast => "::",
        }
    }

    fn is(&self, s: &str) -> bool {
        matches!(self, Tok::Other(o) if *o == s)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self, Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }

    fn is_name(&self) -> bool {
        matches!(self, Tok::Word(_) | Tok::Quoted(_))
    }
}

fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 3);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c == b' ' || c == b'\n' || c == b'\t' || c == b'\r' {
            while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\t' | b'\r') {
                i += 1;
            }
            out.push(Tok::Space(&text[start..i]));
        } else if c == b'\'' || ((c == b'E' || c == b'e') && b.get(i + 1) == Some(&b'\'')) {
            let escapes = c != b'\'';
            i += if escapes { 2 } else { 1 };
            while i < b.len() {
                if escapes && b[i] == b'\\' {
                    i += 2;
                } else if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            let end = i.min(b.len());
            out.push(Tok::Literal(&text[start..end]));
            i = end;
        } else if c == b'"' {
            i += 1;
            while i < b.len() {
                if b[i] == b'"' {
                    if b.get(i + 1) == Some(&b'"') {
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            let end = i.min(b.len());
            out.push(Tok::Quoted(&text[start..end]));
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            out.push(Tok::Word(Cow::Borrowed(&text[start..i])));
        } else if c == b':' && b.get(i + 1) == Some(&b':') {
            i += 2;
            out.push(Tok::Cast);
        } else {
            // One character (a digit run stays one token per digit: never rewritten).
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            i += len;
            out.push(Tok::Other(&text[start..i]));
        }
    }
    out
}

fn join(tokens: &[Tok<'_>]) -> String {
    let mut s = String::with_capacity(tokens.len() * 4);
    for t in tokens {
        s.push_str(t.text());
    }
    s
}

/// The rewrites every definition gets. True when something changed.
fn rewrite_common(tokens: &mut Vec<Tok<'_>>) -> bool {
    let mut changed = false;
    // Version-dependent keywords as identifiers: bare.
    for t in tokens.iter_mut() {
        if let Tok::Quoted(q) = t {
            let inner = &q[1..q.len().saturating_sub(1).max(1)];
            if VERSION_DEPENDENT_KEYWORDS.contains(&inner) {
                *t = Tok::Word(Cow::Owned(inner.to_string()));
                changed = true;
            }
        }
    }
    // EXTRACT(<field> FROM: the field in lower case.
    let mut i = 0;
    while i + 3 < tokens.len() {
        if tokens[i].is_word("EXTRACT") && tokens[i + 1].is("(") {
            if let (Tok::Word(field), true) = (&tokens[i + 2], is_space_then_from(tokens, i + 3)) {
                if field.bytes().any(|c| c.is_ascii_uppercase()) {
                    let lower = field.to_ascii_lowercase();
                    tokens[i + 2] = Tok::Word(Cow::Owned(lower));
                    changed = true;
                }
            }
        }
        i += 1;
    }
    changed |= push_array_casts_into_elements(tokens);
    changed
}

fn is_space_then_from(tokens: &[Tok<'_>], i: usize) -> bool {
    matches!(tokens.get(i), Some(Tok::Space(_)))
        && tokens.get(i + 1).is_some_and(|t| t.is_word("FROM"))
}

/// Index of the token closing the bracket opened at `open` (`(` or `[`), if any.
fn closing(tokens: &[Tok<'_>], open: usize) -> Option<usize> {
    let (o, c) = if tokens[open].is("(") {
        ("(", ")")
    } else {
        ("[", "]")
    };
    let mut depth = 0usize;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        if t.is(o) {
            depth += 1;
        } else if t.is(c) {
            depth -= 1;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// `(ARRAY[e1, e2])::t[]` with each element a cast string literal -> `ARRAY[(e1)::t, (e2)::t]`.
fn push_array_casts_into_elements(tokens: &mut Vec<Tok<'_>>) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i + 3 < tokens.len() {
        if !(tokens[i].is("(") && tokens[i + 1].is_word("ARRAY") && tokens[i + 2].is("[")) {
            i += 1;
            continue;
        }
        let (Some(close_bracket), Some(close_paren)) = (closing(tokens, i + 2), closing(tokens, i))
        else {
            i += 1;
            continue;
        };
        if close_paren != close_bracket + 1
            || !matches!(tokens.get(close_paren + 1), Some(Tok::Cast))
        {
            i += 1;
            continue;
        }
        // The target type: names, dots, spaces and a typmod, then `[` `]`.
        let type_start = close_paren + 2;
        let mut j = type_start;
        while j < tokens.len() && !tokens[j].is("[") {
            let t = &tokens[j];
            let typmod = t.is("(");
            if typmod {
                match closing(tokens, j) {
                    Some(c) => j = c + 1,
                    None => break,
                }
                continue;
            }
            if !(t.is_name() || t.is(".") || matches!(t, Tok::Space(_))) {
                break;
            }
            j += 1;
        }
        if j == type_start || j + 1 >= tokens.len() || !tokens[j].is("[") || !tokens[j + 1].is("]")
        {
            i += 1;
            continue;
        }
        let elem_type: Vec<Tok<'_>> = tokens[type_start..j].to_vec();
        // Elements: split on top-level commas; each must be `'...'::type`.
        let mut elements: Vec<Vec<Tok<'_>>> = vec![Vec::new()];
        let mut depth = 0usize;
        for t in &tokens[i + 3..close_bracket] {
            if t.is("(") || t.is("[") {
                depth += 1;
            } else if t.is(")") || t.is("]") {
                depth = depth.saturating_sub(1);
            }
            if depth == 0 && t.is(",") {
                elements.push(Vec::new());
            } else if let Some(last) = elements.last_mut() {
                last.push(t.clone());
            }
        }
        let literal_cast = |e: &Vec<Tok<'_>>| {
            let mut it = e.iter().filter(|t| !matches!(t, Tok::Space(_)));
            matches!(it.next(), Some(Tok::Literal(_))) && matches!(it.next(), Some(Tok::Cast))
        };
        if elements.iter().any(|e| !literal_cast(e)) {
            i += 1;
            continue;
        }
        let mut replacement: Vec<Tok<'_>> =
            vec![Tok::Word(Cow::Borrowed("ARRAY")), Tok::Other("[")];
        for (n, e) in elements.iter().enumerate() {
            if n > 0 {
                replacement.push(Tok::Other(","));
                replacement.push(Tok::Space(" "));
            }
            let trimmed: Vec<Tok<'_>> = trim_spaces(e);
            replacement.push(Tok::Other("("));
            replacement.extend(trimmed);
            replacement.push(Tok::Other(")"));
            replacement.push(Tok::Cast);
            replacement.extend(elem_type.iter().cloned());
        }
        replacement.push(Tok::Other("]"));
        let end = j + 2;
        let len = replacement.len();
        tokens.splice(i..end, replacement);
        changed = true;
        i += len;
    }
    changed
}

fn trim_spaces<'a>(e: &[Tok<'a>]) -> Vec<Tok<'a>> {
    let start = e
        .iter()
        .position(|t| !matches!(t, Tok::Space(_)))
        .unwrap_or(e.len());
    let end = e
        .iter()
        .rposition(|t| !matches!(t, Tok::Space(_)))
        .map_or(start, |p| p + 1);
    e[start..end].to_vec()
}

/// The name PostgreSQL gives an output column that is only a cast (`NULL::integer` is
/// named `int4`), per printed type.
const DEFAULT_CAST_NAMES: &[(&str, &str)] = &[
    ("integer", "int4"),
    ("bigint", "int8"),
    ("smallint", "int2"),
    ("boolean", "bool"),
    ("text", "text"),
    ("character varying", "varchar"),
    ("numeric", "numeric"),
    ("double precision", "float8"),
    ("real", "float4"),
    ("date", "date"),
    ("timestamp with time zone", "timestamptz"),
    ("timestamp without time zone", "timestamp"),
    ("uuid", "uuid"),
    ("json", "json"),
    ("jsonb", "jsonb"),
    ("bytea", "bytea"),
];

/// In the second and later branches of a UNION, INTERSECT or EXCEPT (whose output names
/// come from the first branch and mean nothing), `NULL::integer AS int4` -> `NULL::integer`:
/// a restore re-parses the dumped branch and prints the cast's default name, the
/// original does not.
fn strip_default_aliases_in_later_set_branches(tokens: &mut Vec<Tok<'_>>) -> bool {
    // Per paren depth: has a set operation been seen at this depth?
    let mut after_setop: Vec<bool> = vec![false];
    let mut remove: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if t.is("(") {
            after_setop.push(false);
        } else if t.is(")") {
            after_setop.pop();
            if after_setop.is_empty() {
                after_setop.push(false);
            }
        } else if t.is_word("UNION") || t.is_word("INTERSECT") || t.is_word("EXCEPT") {
            if let Some(last) = after_setop.last_mut() {
                *last = true;
            }
        } else if after_setop.last() == Some(&true)
            && t.is_word("NULL")
            && matches!(tokens.get(i + 1), Some(Tok::Cast))
        {
            // The type: words and spaces up to ` AS `.
            let mut j = i + 2;
            let mut type_words = Vec::new();
            while j < tokens.len() {
                match &tokens[j] {
                    Tok::Word(w) if !w.eq_ignore_ascii_case("AS") => type_words.push(w.to_string()),
                    Tok::Space(_) => {}
                    _ => break,
                }
                if tokens[j].is_word("AS") {
                    break;
                }
                j += 1;
            }
            // tokens[j] should be AS, preceded by a space, followed by a space and a name.
            if j < tokens.len()
                && tokens[j].is_word("AS")
                && matches!(tokens.get(j - 1), Some(Tok::Space(_)))
                && matches!(tokens.get(j + 1), Some(Tok::Space(_)))
            {
                let ty = type_words.join(" ");
                let default = DEFAULT_CAST_NAMES
                    .iter()
                    .find(|(t, _)| *t == ty)
                    .map(|(_, n)| *n);
                if let (Some(default), Some(Tok::Word(name))) = (default, tokens.get(j + 2)) {
                    if name == default {
                        remove.push((j - 1, j + 3));
                    }
                }
            }
        }
        i += 1;
    }
    if remove.is_empty() {
        return false;
    }
    for &(a, b) in remove.iter().rev() {
        tokens.drain(a..b);
    }
    true
}

/// Words that end the FROM clause of a query.
const AFTER_FROM: &[&str] = &[
    "WHERE", "GROUP", "HAVING", "WINDOW", "ORDER", "LIMIT", "OFFSET", "FETCH", "FOR",
];

/// Removes `ref.` before column names in the top-level query of a view when its FROM
/// clause is one relation, subquery or function and the query is no set operation and
/// no WITH query: what 16 prints. Sub-queries keep their qualification (every version
/// qualifies them).
fn strip_single_relation_qualification(tokens: &mut Vec<Tok<'_>>) -> bool {
    let first = tokens.iter().position(|t| !matches!(t, Tok::Space(_)));
    if !first.is_some_and(|f| tokens[f].is_word("SELECT")) {
        return false;
    }
    // Top-level tokens: depth 0. Find the FROM, and refuse set operations.
    let mut depth = 0usize;
    let mut from = None;
    for (i, t) in tokens.iter().enumerate() {
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            if t.is_word("UNION") || t.is_word("INTERSECT") || t.is_word("EXCEPT") {
                return false;
            }
            if from.is_none() && t.is_word("FROM") {
                from = Some(i);
            }
        }
    }
    let Some(from) = from else {
        return false;
    };
    // The FROM item.
    let mut i = from + 1;
    let skip_space = |i: &mut usize, tokens: &[Tok<'_>]| {
        while *i < tokens.len() && matches!(tokens[*i], Tok::Space(_)) {
            *i += 1;
        }
    };
    skip_space(&mut i, tokens);
    if i < tokens.len() && tokens[i].is_word("ONLY") {
        i += 1;
        skip_space(&mut i, tokens);
    }
    let item_start = i;
    let mut refname: Option<String> = None;
    if i < tokens.len() && tokens[i].is("(") {
        // A subquery: it must have an alias.
        let Some(c) = closing(tokens, i) else {
            return false;
        };
        i = c + 1;
    } else {
        // A possibly qualified name, maybe a function call.
        let mut last = None;
        while i < tokens.len() && tokens[i].is_name() {
            last = Some(tokens[i].text().to_string());
            i += 1;
            if i < tokens.len() && tokens[i].is(".") {
                i += 1;
            } else {
                break;
            }
        }
        if last.is_none() {
            return false;
        }
        if i < tokens.len() && tokens[i].is("(") {
            let Some(c) = closing(tokens, i) else {
                return false;
            };
            i = c + 1;
        }
        refname = last;
    }
    skip_space(&mut i, tokens);
    // An alias, with or without AS (and maybe a column alias list).
    if i < tokens.len() && tokens[i].is_word("AS") {
        i += 1;
        skip_space(&mut i, tokens);
    }
    if i < tokens.len() && tokens[i].is_name() && !is_clause_word(&tokens[i]) {
        refname = Some(tokens[i].text().to_string());
        i += 1;
        if i < tokens.len() && tokens[i].is("(") {
            let Some(c) = closing(tokens, i) else {
                return false;
            };
            i = c + 1;
        }
    }
    let item_end = i;
    skip_space(&mut i, tokens);
    // Nothing but a clause word or the end may follow: no join, no second item.
    if i < tokens.len() && !is_clause_word(&tokens[i]) && !tokens[i].is(";") {
        return false;
    }
    let Some(refname) = refname else {
        return false;
    };
    // Remove `refname .` before a column, outside sub-queries and the FROM item.
    let mut remove = Vec::new();
    let mut stack: Vec<bool> = Vec::new(); // per open paren: is it a sub-query?
    for j in 0..tokens.len() {
        let t = &tokens[j];
        if t.is("(") {
            let next = tokens[j + 1..].iter().find(|t| !matches!(t, Tok::Space(_)));
            stack.push(
                next.is_some_and(|n| {
                    n.is_word("SELECT") || n.is_word("WITH") || n.is_word("VALUES")
                }),
            );
            continue;
        }
        if t.is(")") {
            stack.pop();
            continue;
        }
        if stack.iter().any(|q| *q) || (item_start..item_end).contains(&j) {
            continue;
        }
        if t.is_name()
            && t.text() == refname
            && tokens.get(j + 1).is_some_and(|d| d.is("."))
            && tokens.get(j + 2).is_some_and(Tok::is_name)
            && !tokens.get(j + 3).is_some_and(|n| n.is("(") || n.is("."))
            && !(j > 0 && (tokens[j - 1].is(".") || matches!(tokens[j - 1], Tok::Cast)))
        {
            remove.push(j);
        }
    }
    if remove.is_empty() {
        return false;
    }
    for &j in remove.iter().rev() {
        tokens.drain(j..j + 2);
    }
    true
}

fn is_clause_word(t: &Tok<'_>) -> bool {
    AFTER_FROM.iter().any(|w| t.is_word(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_plain_definitions_alone() {
        for s in [
            "CHECK ((qty > 0))",
            "CREATE INDEX a ON public.t USING btree (lower(email)) WHERE (mood <> 'sad'::public.mood)",
            "'1970-01-01 00:00:00+00'::timestamp with time zone",
            "nextval('public.\"Seq\"'::regclass)",
        ] {
            assert!(matches!(definition(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn version_dependent_keywords_go_bare_outside_literals() {
        assert_eq!(
            definition(
                r#"CREATE INDEX i ON public.t USING btree ((("json")::text)) WHERE ("json" IS NOT NULL)"#
            ),
            "CREATE INDEX i ON public.t USING btree (((json)::text)) WHERE (json IS NOT NULL)"
        );
        assert_eq!(
            definition(r#"CHECK (("system_user" <> '"json"'::text))"#),
            r#"CHECK ((system_user <> '"json"'::text))"#
        );
        // Other quoted names stay quoted.
        assert_eq!(
            definition(r#"CHECK (("user" > 0))"#),
            r#"CHECK (("user" > 0))"#
        );
    }

    #[test]
    fn extract_fields_print_in_lower_case() {
        let original = "((EXTRACT(YEAR FROM now()) - (1)::numeric))::text";
        assert_eq!(
            definition(original),
            "((EXTRACT(year FROM now()) - (1)::numeric))::text"
        );
        assert_eq!(definition(&definition(original)), definition(original));
    }

    #[test]
    fn array_casts_print_as_a_restore_reparses_them() {
        let stored = "CHECK (((s)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))";
        let restored = "CHECK (((s)::text = ANY (ARRAY[('a'::character varying)::text, ('b'::character varying)::text])))";
        assert_eq!(definition(stored), restored);
        assert_eq!(definition(restored), restored);
        // Elements that are not cast literals are left alone.
        let other = "CHECK ((x = ANY ((ARRAY[a, b])::integer[])))";
        assert_eq!(definition(other), other);
    }

    #[test]
    fn single_relation_views_print_unqualified() {
        let v15 = " SELECT t.id,\n    t.json,\n    EXTRACT(YEAR FROM t.d) AS y\n   FROM public.t\n  WHERE (t.id > 1);";
        let v16 = " SELECT id,\n    json,\n    EXTRACT(year FROM d) AS y\n   FROM public.t\n  WHERE (id > 1);";
        assert_eq!(view_definition(v15), v16);
        assert_eq!(view_definition(v16), v16);
        // An alias is the reference name; sub-queries keep their qualification.
        let aliased = " SELECT x.id,\n    (x.id IN ( SELECT u.id\n           FROM public.u)) AS b\n   FROM public.t x;";
        assert_eq!(
            view_definition(aliased),
            " SELECT id,\n    (id IN ( SELECT u.id\n           FROM public.u)) AS b\n   FROM public.t x;"
        );
        let sub = " SELECT q.release,\n    q.n\n   FROM ( SELECT r.release,\n            r.n\n           FROM m.r) q;";
        assert_eq!(
            view_definition(sub),
            " SELECT release,\n    n\n   FROM ( SELECT r.release,\n            r.n\n           FROM m.r) q;"
        );
    }

    #[test]
    fn later_set_branches_lose_default_cast_names() {
        let original = " SELECT a.x,\n    a.y\n   FROM m.a\nUNION ALL\n SELECT b.x,\n    NULL::integer\n   FROM m.b;";
        let restored = " SELECT a.x,\n    a.y\n   FROM m.a\nUNION ALL\n SELECT b.x,\n    NULL::integer AS int4\n   FROM m.b;";
        assert_eq!(view_definition(restored), original);
        // In the first branch the name is the column's: kept.
        let first = " SELECT NULL::integer AS int4\n   FROM m.a;";
        assert_eq!(view_definition(first), first);
    }

    #[test]
    fn joins_and_set_operations_stay_qualified() {
        for v in [
            " SELECT a.id,\n    b.id AS bid\n   FROM (public.a\n     JOIN public.b ON ((a.id = b.id)));",
            " SELECT a.id\n   FROM public.a,\n    public.b;",
            " SELECT a.id\n   FROM public.a\nUNION\n SELECT b.id\n   FROM public.b;",
        ] {
            assert_eq!(view_definition(v), v);
        }
    }

    /// A snapshot as the code before the key rule stored it from a 16 server (keys by
    /// that server's quote_ident: `json` bare; view definitions qualified as 15 prints
    /// them) and one read under the current rules from 17: the migrated old one has the
    /// same keys and signatures, so no false drift and the same history key set.
    #[test]
    fn an_old_snapshot_migrates_to_what_a_new_read_gives() {
        use crate::testutil::{column, table};
        let build = |json: &str, view: &str, form: u32| {
            let mut s = Snapshot::default();
            s.tables.insert("public.t".into(), table("public", "t"));
            let mut v = table("public", "v");
            v.kind = crate::TableKind::View;
            v.view_definition = Some(view.into());
            s.tables.insert("public.v".into(), v);
            s.columns.insert(
                format!("public.t.{json}"),
                column("public.t", json, 1, "json"),
            );
            s.meta.normal_form = form;
            crate::signature::seal(&mut s);
            s
        };
        let mut old = build("json", " SELECT t.json\n   FROM public.t;", 0);
        let new = build(r#""json""#, " SELECT json\n   FROM public.t;", NORMAL_FORM);
        assert_ne!(
            old.meta.signature, new.meta.signature,
            "the key rule changed"
        );
        migrate(&mut old);
        assert_eq!(old.meta.signature, new.meta.signature);
        assert_eq!(old.meta.deep_signature, new.meta.deep_signature);
        assert_eq!(old, new);
        // Idempotent.
        let again = old.clone();
        migrate(&mut old);
        assert_eq!(old, again);
    }

    #[test]
    fn function_references_and_definitions_follow_the_key_rule() {
        // 15 quotes json nowhere, 17 everywhere: both give one key.
        assert_eq!(
            function_ref("public.json(integer)"),
            r#"public."json"(integer)"#
        );
        assert_eq!(
            function_ref(r#"public."json"(integer)"#),
            r#"public."json"(integer)"#
        );
        assert_eq!(
            function_ref(r#"app."f(x)"(app."json", text)"#),
            r#"app."f(x)"(app.json, text)"#,
            "a name with a parenthesis stays one part; argument types print bare"
        );
        // A string body is the user's text: never rewritten.
        let def = "CREATE OR REPLACE FUNCTION public.\"json\"()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$BEGIN PERFORM \"json\"; END$function$\n";
        let out = function_definition(def);
        assert!(
            out.starts_with("CREATE OR REPLACE FUNCTION public.json()"),
            "{out}"
        );
        assert!(out.contains(r#"PERFORM "json";"#), "{out}");
    }

    #[test]
    fn partitions_carry_their_parents_identity() {
        use crate::testutil::{column, table};
        let mut s = Snapshot::default();
        s.tables.insert("public.p".into(), table("public", "p"));
        let mut p1 = table("public", "p1");
        p1.partition_of = Some("public.p".into());
        s.tables.insert("public.p1".into(), p1);
        let mut id = column("public.p", "id", 1, "integer");
        id.identity = Some(crate::Identity::ByDefault);
        s.columns.insert("public.p.id".into(), id);
        s.columns.insert(
            "public.p1.id".into(),
            column("public.p1", "id", 1, "integer"),
        );
        inherit_partition_identity(&mut s);
        assert_eq!(
            s.columns["public.p1.id"].identity,
            Some(crate::Identity::ByDefault)
        );
    }
}
