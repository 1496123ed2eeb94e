//! The detail panel of one table: what the snapshot knows about it, in words and markup.
//! Columns with type, nullability, default, identity or generation and comment; keys;
//! indexes with their definitions; constraints; partitions and bounds; the view's SQL;
//! the row estimate; and the relationships both ways, each a button naming the table at
//! its other end (`data-key`), so the panel is a way to walk the schema.
//!
//! Pure string building from the model; every name is escaped. It must never show a
//! column, index or constraint of another table.

use crate::render::esc;
use model::{ConstraintKind, FkAction, Generated, Identity, Relationship, Snapshot};
use std::fmt::Write;

/// The row estimate in words: "about 1,200 rows", or that it was never analysed.
pub fn row_estimate_words(estimate: Option<i64>) -> String {
    match estimate {
        None => "row count not estimated yet (never analysed)".into(),
        Some(n) if n < 0 => "row count not estimated yet (never analysed)".into(),
        Some(1) => "about 1 row".into(),
        Some(n) => format!("about {} rows", thousands(n)),
    }
}

fn thousands(n: i64) -> String {
    let digits: Vec<char> = n.to_string().chars().collect();
    let groups: Vec<String> = digits
        .rchunks(3)
        .rev()
        .map(|g| g.iter().collect())
        .collect();
    groups.join(",")
}

/// How many rows on each side, from nullability and uniqueness: "many → one",
/// "zero or one → one" (a unique, nullable reference) and so on. The far side is "one"
/// (a foreign key references a key), or "zero or one" when a referencing column is
/// nullable (a row may point nowhere).
pub fn cardinality_words(snapshot: &Snapshot, r: &Relationship) -> String {
    let nullable = r.from_columns.iter().any(|c| {
        snapshot
            .columns
            .get(&format!("{}.{c}", r.from_table))
            .is_some_and(|col| col.nullable)
    });
    let near = if r.one_to_one { "zero or one" } else { "many" };
    let far = if nullable {
        "zero or one"
    } else {
        "exactly one"
    };
    format!("{near} → {far}")
}

fn rel_item(out: &mut String, snapshot: &Snapshot, r: &Relationship, outgoing: bool) {
    let other = if outgoing { &r.to_table } else { &r.from_table };
    let (near_cols, far_cols) = if outgoing {
        (&r.from_columns, &r.to_columns)
    } else {
        (&r.to_columns, &r.from_columns)
    };
    let _ = write!(
        out,
        r#"<li><button type="button" class="rel" data-key="{k}">{k}</button> <span class="cols">({near}) → ({far})</span> <span class="card">{card}</span>"#,
        k = esc(other),
        near = esc(&near_cols.join(", ")),
        far = esc(&far_cols.join(", ")),
        card = esc(&cardinality_words(snapshot, r)),
    );
    let mut notes = vec![format!("on delete {}", r.on_delete.words())];
    if r.on_update != FkAction::NoAction {
        notes.push(format!("on update {}", r.on_update.words()));
    }
    if r.deferrable {
        notes.push(
            if r.initially_deferred {
                "deferrable, initially deferred"
            } else {
                "deferrable"
            }
            .into(),
        );
    }
    if !r.validated {
        notes.push("not validated".into());
    }
    let _ = write!(
        out,
        r#"<div class="note"><code>{name}</code> · {notes}</div></li>"#,
        name = esc(&r.name),
        notes = esc(&notes.join(" · ")),
    );
}

/// The panel's markup for table `key`, or `None` when the snapshot has no such table.
pub fn detail_html(snapshot: &Snapshot, key: &str) -> Option<String> {
    let t = snapshot.tables.get(key)?;
    let mut out = String::with_capacity(4096);
    let _ = write!(
        out,
        r#"<div class="detail-head"><h2 id="detail-title" data-key="{k}">{k}</h2><button id="detail-close" type="button" aria-label="Close the details" title="Close">×</button></div><p class="meta"><span class="kind">{kind}</span> · {rows}</p>"#,
        k = esc(key),
        kind = t.kind.words(),
        rows = esc(&row_estimate_words(t.row_estimate)),
    );
    if let Some(c) = &t.comment {
        let _ = write!(out, r#"<p class="comment">{}</p>"#, esc(c));
    }
    out.push_str(concat!(
        r#"<div class="actions" role="group" aria-label="Reduce the diagram">"#,
        r#"<button type="button" data-action="neighbours" data-hops="1">Only its neighbours</button>"#,
        r#"<button type="button" data-action="neighbours" data-hops="2">Within 2 hops</button>"#,
        r#"<button type="button" data-action="hide">Hide it</button></div>"#
    ));

    // Columns, in position order.
    let mut cols: Vec<(&String, &model::Column)> = snapshot
        .columns
        .iter()
        .filter(|(_, c)| c.table == key)
        .collect();
    cols.sort_by_key(|(_, c)| c.position);
    let _ = write!(
        out,
        r#"<section class="columns"><h3>Columns ({n})</h3><table><thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Null</th><th scope="col">Default</th></tr></thead><tbody>"#,
        n = cols.len()
    );
    for (ck, c) in &cols {
        let mut badges = String::new();
        if c.is_primary_key {
            badges.push_str(r#"<abbr class="badge" title="primary key">PK</abbr>"#);
        }
        if c.is_foreign_key {
            badges.push_str(r#"<abbr class="badge" title="foreign key">FK</abbr>"#);
        }
        let default = match (&c.identity, &c.generated) {
            (Some(Identity::Always), _) => "generated always as identity".to_string(),
            (Some(Identity::ByDefault), _) => "generated by default as identity".to_string(),
            (None, Some(expr)) => format!(
                "generated always as ({expr}){}",
                match c.generated_kind {
                    Some(Generated::Virtual) => " virtual",
                    _ => " stored",
                }
            ),
            (None, None) => c.default.clone().unwrap_or_default(),
        };
        let _ = write!(
            out,
            r#"<tr data-key="{ck}"><td>{badges}<code>{name}</code></td><td><code>{ty}</code>{coll}</td><td>{null}</td><td><code>{default}</code></td></tr>"#,
            ck = esc(ck),
            name = esc(&c.name),
            ty = esc(&c.data_type),
            coll = c
                .collation
                .as_ref()
                .map(|x| format!(" collate {}", esc(x)))
                .unwrap_or_default(),
            null = if c.nullable { "null" } else { "not null" },
            default = esc(&default),
        );
        if let Some(comment) = &c.comment {
            let _ = write!(
                out,
                r#"<tr class="col-comment"><td colspan="4">{}</td></tr>"#,
                esc(comment)
            );
        }
    }
    out.push_str("</tbody></table></section>");

    // Keys and constraints.
    let mut constraints: Vec<&model::Constraint> = snapshot
        .constraints
        .values()
        .filter(|c| c.table == key)
        .collect();
    constraints.sort_by_key(|c| (c.kind, c.name.clone()));
    if let Some(pk) = &t.primary_key {
        let _ = write!(
            out,
            r#"<section class="keys"><h3>Primary key</h3><p><code>{name}</code> ({cols})</p></section>"#,
            name = esc(&pk.name),
            cols = esc(&pk.columns.join(", ")),
        );
    }
    let others: Vec<&&model::Constraint> = constraints
        .iter()
        .filter(|c| c.kind != ConstraintKind::PrimaryKey)
        .collect();
    if !others.is_empty() {
        let _ = write!(
            out,
            r#"<section class="constraints"><h3>Constraints ({n})</h3><ul>"#,
            n = others.len()
        );
        for c in others {
            let kind = match c.kind {
                ConstraintKind::PrimaryKey => "primary key",
                ConstraintKind::Unique => "unique",
                ConstraintKind::Check => "check",
                ConstraintKind::Exclusion => "exclusion",
            };
            let _ = write!(
                out,
                r#"<li><code>{name}</code> <span class="what">{kind}{nv}</span><div class="def"><code>{def}</code></div></li>"#,
                name = esc(&c.name),
                nv = if c.validated { "" } else { ", not validated" },
                def = esc(&c.definition),
            );
        }
        out.push_str("</ul></section>");
    }

    // Indexes.
    let indexes: Vec<&model::Index> = snapshot
        .indexes
        .values()
        .filter(|i| i.table == key)
        .collect();
    if !indexes.is_empty() {
        let _ = write!(
            out,
            r#"<section class="indexes"><h3>Indexes ({n})</h3><ul>"#,
            n = indexes.len()
        );
        for i in indexes {
            let mut what = vec![i.method.clone()];
            if i.primary {
                what.push("primary".into());
            } else if i.unique {
                what.push("unique".into());
            }
            if i.predicate.is_some() {
                what.push("partial".into());
            }
            let _ = write!(
                out,
                r#"<li data-index="{name}"><code>{name}</code> <span class="what">{what}</span><div class="def"><code>{def}</code></div></li>"#,
                name = esc(&i.name),
                what = esc(&what.join(", ")),
                def = esc(&i.definition),
            );
        }
        out.push_str("</ul></section>");
    }

    // Partitions.
    if t.partition_key.is_some() || !t.partitions.is_empty() || t.partition_of.is_some() {
        out.push_str(r#"<section class="partitions"><h3>Partitions</h3>"#);
        if let Some(pk) = &t.partition_key {
            let _ = write!(out, r#"<p>partitioned by <code>{}</code></p>"#, esc(pk));
        }
        if let Some(parent) = &t.partition_of {
            let _ = write!(
                out,
                r#"<p>a partition of <button type="button" class="rel" data-key="{k}">{k}</button>{bound}</p>"#,
                k = esc(parent),
                bound = t
                    .partition_bound
                    .as_ref()
                    .map(|b| format!(r#" <code>{}</code>"#, esc(b)))
                    .unwrap_or_default(),
            );
        }
        if !t.partitions.is_empty() {
            out.push_str("<ul>");
            for p in &t.partitions {
                let bound = snapshot
                    .tables
                    .get(p)
                    .and_then(|pt| pt.partition_bound.as_ref())
                    .map(|b| format!(r#" <code>{}</code>"#, esc(b)))
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    r#"<li><button type="button" class="rel" data-key="{k}">{k}</button>{bound}</li>"#,
                    k = esc(p),
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</section>");
    }

    if let Some(sql) = &t.view_definition {
        let _ = write!(
            out,
            r#"<section class="view-sql"><h3>Definition</h3><pre><code>{}</code></pre></section>"#,
            esc(sql)
        );
    }

    // Relationships, both ways.
    let outgoing: Vec<&Relationship> = snapshot
        .relationships
        .values()
        .filter(|r| r.from_table == key)
        .collect();
    let incoming: Vec<&Relationship> = snapshot
        .relationships
        .values()
        .filter(|r| r.to_table == key)
        .collect();
    for (title, rels, out_going, class) in [
        ("References", &outgoing, true, "outgoing"),
        ("Referenced by", &incoming, false, "incoming"),
    ] {
        if rels.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            r#"<section class="{class}"><h3>{title} ({n})</h3><ul>"#,
            n = rels.len()
        );
        for r in rels {
            rel_item(&mut out, snapshot, r, out_going);
        }
        out.push_str("</ul></section>");
    }
    if outgoing.is_empty() && incoming.is_empty() {
        out.push_str(r#"<p class="meta">No foreign key leads to or from this table.</p>"#);
    }
    Some(out)
}

#[cfg(test)]
mod tests;
