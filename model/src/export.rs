//! A snapshot written out as text other tools read: Mermaid `erDiagram`, DBML and
//! Markdown documentation, for `POST .../export` and the web app's export menu.
//!
//! Owns the three text formats: which objects each shows and how names, types and
//! comments are escaped so the output parses in its tool. Output is deterministic (tables
//! by key, columns by position), so a pipeline that publishes it sees a change only when
//! the schema changed. It must never do I/O, and never print anything of the connection
//! (URL, credentials, keys): only what the catalog says.

use crate::{Column, FkAction, Relationship, Snapshot, Table, TableKind};
use std::collections::BTreeMap;
use std::fmt::Write;

/// An identifier part as the catalog spells it: `"Weird ""x"""` -> `Weird "x"`, plain
/// parts unchanged.
pub fn unquote(part: &str) -> String {
    match part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => part.to_string(),
    }
}

/// The columns of each table key, in column order.
fn columns_by_table(s: &Snapshot) -> BTreeMap<&str, Vec<&Column>> {
    let mut by: BTreeMap<&str, Vec<&Column>> = BTreeMap::new();
    for c in s.columns.values() {
        by.entry(c.table.as_str()).or_default().push(c);
    }
    for cols in by.values_mut() {
        cols.sort_by_key(|c| c.position);
    }
    by
}

/// Whether `column` of `table` is in a unique constraint or index of its own (a single-
/// column unique key), for the `UK` / `unique` marks.
fn single_column_unique(s: &Snapshot, table: &str, column: &str) -> bool {
    let by_constraint = s.constraints.values().any(|c| {
        c.table == table
            && c.kind == crate::ConstraintKind::Unique
            && c.columns.len() == 1
            && c.columns[0] == column
    });
    by_constraint
        || s.indexes.values().any(|i| {
            i.table == table
                && i.unique
                && !i.primary
                && i.predicate.is_none()
                && i.columns.len() == 1
                && i.columns[0].as_deref() == Some(column)
        })
}

/// The table's name for people: `schema.table` with each part unquoted.
fn display_name(t: &Table) -> String {
    format!("{}.{}", unquote(&t.schema), unquote(&t.name))
}

/// A table key for people when the table is not in the snapshot (a reference outside the
/// schemas read).
fn display_key(key: &str) -> String {
    match crate::keys::split_key(key) {
        Some(parts) => parts
            .iter()
            .map(|p| unquote(p))
            .collect::<Vec<_>>()
            .join("."),
        None => key.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Mermaid

/// Mermaid `erDiagram`: one entity per table, view or foreign table with its columns
/// (type, `PK`/`FK`/`UK`, comment), and one relationship per foreign key with
/// crow's-foot ends from nullability and uniqueness. Entity ids are the key reduced to
/// letters, digits and `_` (made unique), with the real name as the entity's label.
pub fn mermaid(s: &Snapshot) -> String {
    let mut ids = MermaidIds::default();
    let by_table = columns_by_table(s);
    let mut out = String::from("erDiagram\n");
    for (key, t) in &s.tables {
        let id = ids.id(key);
        let _ = writeln!(out, "    {id}[\"{}\"] {{", mermaid_text(&display_name(t)));
        for c in by_table.get(key.as_str()).into_iter().flatten() {
            let mut marks = Vec::new();
            if c.is_primary_key {
                marks.push("PK");
            }
            if c.is_foreign_key {
                marks.push("FK");
            }
            if single_column_unique(s, key, &c.name) {
                marks.push("UK");
            }
            let _ = write!(
                out,
                "        {} {}",
                mermaid_word(&c.data_type),
                mermaid_word(&unquote(&c.name))
            );
            if !marks.is_empty() {
                let _ = write!(out, " {}", marks.join(", "));
            }
            if let Some(comment) = &c.comment {
                let _ = write!(out, " \"{}\"", mermaid_text(comment));
            }
            out.push('\n');
        }
        out.push_str("    }\n");
    }
    for r in s.relationships.values() {
        let parent = ids.id(&r.to_table);
        let child = ids.id(&r.from_table);
        let optional = referencing_nullable(s, r);
        let parent_end = if optional { "|o" } else { "||" };
        let child_end = if r.one_to_one { "o|" } else { "o{" };
        let _ = writeln!(
            out,
            "    {parent} {parent_end}--{child_end} {child} : \"{}\"",
            mermaid_text(&unquote(&r.name))
        );
    }
    out
}

/// Whether any referencing column of `r` may be null (then the referenced row is
/// optional).
fn referencing_nullable(s: &Snapshot, r: &Relationship) -> bool {
    r.from_columns.iter().any(|c| {
        s.columns
            .get(&crate::keys::child_key(&r.from_table, c))
            .map_or(true, |col| col.nullable)
    })
}

/// Mermaid entity ids, unique per key.
#[derive(Default)]
struct MermaidIds {
    by_key: BTreeMap<String, String>,
    taken: BTreeMap<String, usize>,
}

impl MermaidIds {
    fn id(&mut self, key: &str) -> String {
        if let Some(id) = self.by_key.get(key) {
            return id.clone();
        }
        let base = mermaid_word(&display_key(key)).replace(['(', ')', '[', ']', '-'], "_");
        let base = if base.starts_with(|c: char| c.is_ascii_alphabetic()) {
            base
        } else {
            format!("t_{base}")
        };
        let n = self.taken.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}_{n}") };
        self.by_key.insert(key.to_string(), id.clone());
        id
    }
}

/// One Mermaid word (an attribute type or name): letters, digits, `_`, `-`, `()`, `[]`;
/// anything else becomes `_`.
fn mermaid_word(s: &str) -> String {
    let w: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-()[]".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if w.is_empty() {
        "_".into()
    } else {
        w
    }
}

/// Text inside Mermaid double quotes: no double quotes or line breaks.
fn mermaid_text(s: &str) -> String {
    s.replace('"', "'").replace(['\r', '\n'], " ")
}

// ---------------------------------------------------------------------------------------
// DBML

/// DBML (dbdiagram.io, dbdocs): enums, tables with columns (type, `pk`, `not null`,
/// `unique`, `default`, `note`), table notes, and one `Ref` per foreign key with its
/// actions. Names are double-quoted, `schema.table` qualified.
pub fn dbml(s: &Snapshot) -> String {
    let mut out = String::new();
    for e in s.enums.values() {
        let _ = writeln!(
            out,
            "Enum {}.{} {{",
            dbml_ident(&unquote(&e.schema)),
            dbml_ident(&unquote(&e.name))
        );
        for label in &e.labels {
            let _ = writeln!(out, "  {}", dbml_ident(label));
        }
        out.push_str("}\n\n");
    }
    let by_table = columns_by_table(s);
    for (key, t) in &s.tables {
        let _ = writeln!(
            out,
            "Table {}.{} {{",
            dbml_ident(&unquote(&t.schema)),
            dbml_ident(&unquote(&t.name))
        );
        for c in by_table.get(key.as_str()).into_iter().flatten() {
            let mut settings = Vec::new();
            if c.is_primary_key && t.primary_key.as_ref().is_some_and(|p| p.columns.len() == 1) {
                settings.push("pk".to_string());
            }
            if !c.nullable {
                settings.push("not null".into());
            }
            if single_column_unique(s, key, &c.name) {
                settings.push("unique".into());
            }
            if let Some(d) = &c.default {
                settings.push(format!("default: `{}`", d.replace('`', "\\`")));
            }
            if let Some(note) = &c.comment {
                settings.push(format!("note: {}", dbml_string(note)));
            }
            let _ = write!(
                out,
                "  {} {}",
                dbml_ident(&unquote(&c.name)),
                dbml_ident(&c.data_type)
            );
            if !settings.is_empty() {
                let _ = write!(out, " [{}]", settings.join(", "));
            }
            out.push('\n');
        }
        if let Some(pk) = t.primary_key.as_ref().filter(|p| p.columns.len() > 1) {
            let cols: Vec<String> = pk.columns.iter().map(|c| dbml_ident(&unquote(c))).collect();
            let _ = writeln!(out, "\n  indexes {{\n    ({}) [pk]\n  }}", cols.join(", "));
        }
        let mut note = String::new();
        if t.kind != TableKind::Table {
            note.push_str(t.kind.words());
        }
        if let Some(comment) = &t.comment {
            if !note.is_empty() {
                note.push_str(": ");
            }
            note.push_str(comment);
        }
        if !note.is_empty() {
            let _ = writeln!(out, "  Note: {}", dbml_string(&note));
        }
        out.push_str("}\n\n");
    }
    for r in s.relationships.values() {
        let cols = |cols: &[String]| -> String {
            let c: Vec<String> = cols.iter().map(|c| dbml_ident(&unquote(c))).collect();
            if c.len() == 1 {
                c[0].clone()
            } else {
                format!("({})", c.join(", "))
            }
        };
        let table = |key: &str| -> String {
            match crate::keys::split_key(key) {
                Some(parts) => parts
                    .iter()
                    .map(|p| dbml_ident(&unquote(p)))
                    .collect::<Vec<_>>()
                    .join("."),
                None => dbml_ident(key),
            }
        };
        let arrow = if r.one_to_one { "-" } else { ">" };
        let _ = write!(
            out,
            "Ref {}: {}.{} {arrow} {}.{}",
            dbml_ident(&unquote(&r.name)),
            table(&r.from_table),
            cols(&r.from_columns),
            table(&r.to_table),
            cols(&r.to_columns)
        );
        let mut settings = Vec::new();
        if r.on_delete != FkAction::NoAction {
            settings.push(format!("delete: {}", r.on_delete.words()));
        }
        if r.on_update != FkAction::NoAction {
            settings.push(format!("update: {}", r.on_update.words()));
        }
        if !settings.is_empty() {
            let _ = write!(out, " [{}]", settings.join(", "));
        }
        out.push('\n');
    }
    out
}

/// A DBML double-quoted identifier.
fn dbml_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A DBML single-quoted string (a note), on one line.
fn dbml_string(s: &str) -> String {
    format!(
        "'{}'",
        s.replace('\\', "\\\\")
            .replace('\'', "\\'")
            .replace(['\r', '\n'], " ")
    )
}

// ---------------------------------------------------------------------------------------
// Markdown

/// Markdown documentation: what was read and when, a table of contents, then per table
/// its kind, comment, columns (type, nullability, default, key, comment), indexes,
/// constraints, foreign keys and the tables that reference it.
pub fn markdown(s: &Snapshot) -> String {
    let mut out = String::from("# Database schema\n\n");
    let _ = writeln!(
        out,
        "Schemas {} on PostgreSQL {}, read at {}: {} tables, {} columns, {} foreign keys.\n",
        s.meta
            .schemas
            .iter()
            .map(|x| format!("`{}`", md_code(x)))
            .collect::<Vec<_>>()
            .join(", "),
        md_cell(&s.meta.server_version),
        md_cell(&s.meta.captured_at),
        s.tables.len(),
        s.columns.len(),
        s.relationships.len()
    );
    for t in s.tables.values() {
        let name = display_name(t);
        let _ = writeln!(out, "- [{}](#{})", md_cell(&name), anchor(&name));
    }
    out.push('\n');
    let by_table = columns_by_table(s);
    for (key, t) in &s.tables {
        let name = display_name(t);
        let _ = writeln!(out, "## {}\n", md_cell(&name));
        let _ = writeln!(out, "_{}_", t.kind.words());
        if let Some(c) = &t.comment {
            let _ = writeln!(out, "\n{}", md_cell(c));
        }
        out.push_str("\n| Column | Type | Null | Default | Key | Comment |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for c in by_table.get(key.as_str()).into_iter().flatten() {
            let mut keys = Vec::new();
            if c.is_primary_key {
                keys.push("PK");
            }
            if c.is_foreign_key {
                keys.push("FK");
            }
            if single_column_unique(s, key, &c.name) {
                keys.push("UK");
            }
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} | {} |",
                md_code(&unquote(&c.name)),
                md_code(&c.data_type),
                if c.nullable { "yes" } else { "no" },
                c.default
                    .as_deref()
                    .map(|d| format!("`{}`", md_code(d)))
                    .unwrap_or_default(),
                keys.join(", "),
                c.comment.as_deref().map(md_cell).unwrap_or_default()
            );
        }
        let indexes: Vec<_> = s.indexes.values().filter(|i| &i.table == key).collect();
        if !indexes.is_empty() {
            out.push_str("\nIndexes:\n\n");
            for i in indexes {
                let _ = writeln!(out, "- `{}`", md_code(&i.definition));
            }
        }
        let constraints: Vec<_> = s.constraints.values().filter(|c| &c.table == key).collect();
        if !constraints.is_empty() {
            out.push_str("\nConstraints:\n\n");
            for c in constraints {
                let _ = writeln!(
                    out,
                    "- `{}`: `{}`",
                    md_code(&unquote(&c.name)),
                    md_code(&c.definition)
                );
            }
        }
        let outgoing: Vec<_> = s
            .relationships
            .values()
            .filter(|r| &r.from_table == key)
            .collect();
        if !outgoing.is_empty() {
            out.push_str("\nReferences:\n\n");
            for r in outgoing {
                let _ = writeln!(
                    out,
                    "- ({}) → {} ({}), `{}`",
                    names(&r.from_columns),
                    table_link(s, &r.to_table),
                    names(&r.to_columns),
                    md_code(&unquote(&r.name))
                );
            }
        }
        let incoming: Vec<_> = s
            .relationships
            .values()
            .filter(|r| &r.to_table == key)
            .collect();
        if !incoming.is_empty() {
            out.push_str("\nReferenced by:\n\n");
            for r in incoming {
                let _ = writeln!(
                    out,
                    "- {} ({}), `{}`",
                    table_link(s, &r.from_table),
                    names(&r.from_columns),
                    md_code(&unquote(&r.name))
                );
            }
        }
        out.push('\n');
    }
    out
}

fn names(cols: &[String]) -> String {
    cols.iter()
        .map(|c| format!("`{}`", md_code(&unquote(c))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A link to the table's section when it is in the snapshot, else its name.
fn table_link(s: &Snapshot, key: &str) -> String {
    match s.tables.get(key) {
        Some(t) => {
            let name = display_name(t);
            format!("[{}](#{})", md_cell(&name), anchor(&name))
        }
        None => md_cell(&display_key(key)),
    }
}

/// GitHub's heading anchor: lower case, spaces to `-`, punctuation but `-` and `_` out.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Text in a table cell or a line: `|` escaped, line breaks as `<br>`, and `<` `>` `&`
/// as entities so a comment cannot inject markup.
fn md_cell(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\r', '\n'], "<br>")
}

/// Text inside backticks in a table cell: on one line, `|` escaped, backticks replaced.
fn md_code(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('`', "'")
        .replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests;
