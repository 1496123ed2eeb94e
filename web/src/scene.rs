//! The drawable diagram of one snapshot: a box per table (its rows sized for a monospace
//! font and truncated to fit), an edge per foreign key between the right rows, schema
//! frames from the layout, and the drift marks. Removed tables and columns (from the diff)
//! are kept as ghost boxes and struck-through rows, so a change is visible in place.
//!
//! Pure: built from the model and the marks, never from the DOM; it must not drop a table
//! or a relationship whose both ends are drawn.

use crate::layout::{self, Link, Node, Rect, SchemaFrame};
use crate::state::{Mark, Marks};
use model::{Snapshot, TableKind};
use std::collections::{BTreeSet, HashMap};

/// Header band height, row height and the width of one character of the 12 px
/// monospace font the diagram is drawn with (CSS keeps them in step).
pub const HEADER_H: f64 = 26.0;
pub const ROW_H: f64 = 18.0;
pub const CHAR_W: f64 = 7.25;
pub const PAD: f64 = 8.0;
/// Room for the PK / FK badge at the start of a row.
pub const BADGE_W: f64 = 26.0;
const NAME_TYPE_GAP: f64 = 14.0;
const MIN_W: f64 = 150.0;
const MAX_W: f64 = 400.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: String,
    /// The column name as shown (quoted like `quote_ident`, truncated to fit).
    pub name: String,
    /// The type as shown, with `?` when nullable (truncated to fit).
    pub data_type: String,
    pub pk: bool,
    pub fk: bool,
    pub nullable: bool,
    pub mark: Option<Mark>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableBox {
    pub key: String,
    pub schema: String,
    /// The table name as shown (truncated to fit).
    pub title: String,
    /// "view", "materialized view", "partitioned", "foreign": shown beside the title.
    pub kind: Option<&'static str>,
    pub comment: Option<String>,
    pub rect: Rect,
    pub rows: Vec<Row>,
    pub mark: Option<Mark>,
    /// Partitions folded into this box (not drawn on their own).
    pub folded: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub key: String,
    pub from: usize,
    pub from_row: Option<usize>,
    pub to: usize,
    pub to_row: Option<usize>,
    pub one_to_one: bool,
    /// A referencing column is nullable: a row may reference nothing.
    pub optional: bool,
}

impl Edge {
    /// The marker id at the referencing end (crow's foot): how many rows may reference
    /// one referenced row — "zero or many", or "zero or one" when the reference is unique.
    pub fn from_marker(&self) -> &'static str {
        if self.one_to_one {
            "cf-zero-one"
        } else {
            "cf-zero-many"
        }
    }

    /// The marker id at the referenced end: "exactly one", or "zero or one" when the
    /// reference may be null.
    pub fn to_marker(&self) -> &'static str {
        if self.optional {
            "cf-zero-one"
        } else {
            "cf-one"
        }
    }

    /// The cardinality in words: "many → exactly one".
    pub fn cardinality(&self) -> &'static str {
        match (self.one_to_one, self.optional) {
            (false, false) => "many → exactly one",
            (false, true) => "many → zero or one",
            (true, false) => "zero or one → exactly one",
            (true, true) => "zero or one → zero or one",
        }
    }
}

/// What the user chose to leave out of the diagram.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reduce {
    /// Only key columns (primary and foreign key members) in the boxes.
    pub keys_only: bool,
    /// Partitions are not drawn: their parent's box says how many it holds.
    pub fold_partitions: bool,
    /// Tables hidden by the user.
    pub hidden: BTreeSet<String>,
    /// The neighbours view: only the tables within `hops` relationships of `center`.
    pub neighbours: Option<(String, usize)>,
}

impl Reduce {
    /// True when something is left out by choice (so the page says so).
    pub fn is_reducing(&self) -> bool {
        self.keys_only || !self.hidden.is_empty() || self.neighbours.is_some()
    }
}

/// The tables within `hops` foreign keys (either way) of `center`, `center` included.
pub fn within_hops(snapshot: &Snapshot, center: &str, hops: usize) -> BTreeSet<String> {
    let mut adjacent: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in snapshot.relationships.values() {
        adjacent.entry(&r.from_table).or_default().push(&r.to_table);
        adjacent.entry(&r.to_table).or_default().push(&r.from_table);
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    if !snapshot.tables.contains_key(center) {
        return seen;
    }
    seen.insert(center.to_string());
    let mut frontier = vec![center];
    for _ in 0..hops {
        let mut next = Vec::new();
        for t in frontier {
            for &n in adjacent.get(t).into_iter().flatten() {
                if seen.insert(n.to_string()) {
                    next.push(n);
                }
            }
        }
        frontier = next;
    }
    seen
}

/// A search hit: the table, and the rows whose column name matched (empty when the
/// table's own name did).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub table: usize,
    pub rows: Vec<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct Scene {
    pub tables: Vec<TableBox>,
    pub edges: Vec<Edge>,
    pub schemas: Vec<SchemaFrame>,
    pub bounds: Rect,
    index: HashMap<String, usize>,
}

fn kind_label(kind: TableKind) -> Option<&'static str> {
    match kind {
        TableKind::Table => None,
        TableKind::Partitioned => Some("partitioned"),
        TableKind::View => Some("view"),
        TableKind::MaterializedView => Some("materialized view"),
        TableKind::ForeignTable => Some("foreign"),
    }
}

/// The kind beside a box's title, with the partitions folded into it: "partitioned +12".
pub fn kind_text(kind: &str, folded: usize) -> String {
    if folded > 0 {
        format!("{kind} +{folded}")
    } else {
        kind.to_string()
    }
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn chars(s: &str) -> f64 {
    s.chars().count() as f64
}

struct RowIn {
    key: String,
    name: String,
    data_type: String,
    pk: bool,
    fk: bool,
    nullable: bool,
    mark: Option<Mark>,
}

/// Sizes a box for its title and rows, and truncates what does not fit in `MAX_W`.
fn sized(
    title: &str,
    kind: Option<&'static str>,
    folded: usize,
    rows: Vec<RowIn>,
) -> (f64, f64, String, Vec<Row>) {
    let kind_text = kind.map(|k| kind_text(k, folded));
    let kind = kind_text.as_deref();
    let title_w =
        chars(title) * CHAR_W + kind.map_or(0.0, |k| (chars(k) + 2.0) * CHAR_W) + 2.0 * PAD;
    let row_w = |name: &str, ty: &str| {
        BADGE_W + 2.0 * PAD + chars(name) * CHAR_W + NAME_TYPE_GAP + chars(ty) * CHAR_W
    };
    let widest = rows
        .iter()
        .map(|r| row_w(&r.name, &r.data_type))
        .fold(title_w, f64::max);
    let w = widest.clamp(MIN_W, MAX_W).ceil();
    let title_max = ((w - 2.0 * PAD - kind.map_or(0.0, |k| (chars(k) + 2.0) * CHAR_W)) / CHAR_W)
        .floor()
        .max(4.0) as usize;
    let text_chars = ((w - BADGE_W - 2.0 * PAD - NAME_TYPE_GAP) / CHAR_W + 1e-6).floor() as usize;
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|r| {
            let (n, t) = (r.name.chars().count(), r.data_type.chars().count());
            let (name_max, type_max) = if n + t <= text_chars {
                (n, t)
            } else if n <= text_chars * 3 / 5 {
                (n, text_chars - n)
            } else if t <= text_chars * 2 / 5 {
                (text_chars - t, t)
            } else {
                (text_chars * 3 / 5, text_chars - text_chars * 3 / 5)
            };
            Row {
                key: r.key,
                name: truncate(&r.name, name_max.max(4)),
                data_type: truncate(&r.data_type, type_max.max(4)),
                pk: r.pk,
                fk: r.fk,
                nullable: r.nullable,
                mark: r.mark,
            }
        })
        .collect();
    let h = HEADER_H + ROW_H * rows.len() as f64 + 4.0;
    (w, h, truncate(title, title_max), rows)
}

impl Scene {
    /// The scene of `snapshot` with `marks`; `previous` (when the app holds it) gives the
    /// removed tables' and columns' types.
    pub fn build(snapshot: &Snapshot, marks: &Marks, previous: Option<&Snapshot>) -> Scene {
        Scene::build_reduced(snapshot, marks, previous, &Reduce::default())
    }

    /// The scene of `snapshot` without what `reduce` leaves out.
    pub fn build_reduced(
        snapshot: &Snapshot,
        marks: &Marks,
        previous: Option<&Snapshot>,
        reduce: &Reduce,
    ) -> Scene {
        let only = reduce
            .neighbours
            .as_ref()
            .map(|(center, hops)| within_hops(snapshot, center, *hops));
        let shown = |key: &str| {
            !reduce.hidden.contains(key) && only.as_ref().is_none_or(|o| o.contains(key))
        };
        // Columns (with their keys) grouped by table.
        let mut by_table: HashMap<&str, Vec<(&str, &model::Column)>> = HashMap::new();
        for (k, c) in &snapshot.columns {
            by_table
                .entry(c.table.as_str())
                .or_default()
                .push((k.as_str(), c));
        }
        let mut tables: Vec<TableBox> = Vec::with_capacity(snapshot.tables.len());
        let mut nodes: Vec<Node> = Vec::with_capacity(snapshot.tables.len());
        let mut row_index: Vec<HashMap<String, usize>> = Vec::new();

        let mut push = |key: &str,
                        schema: &str,
                        name: &str,
                        kind: Option<&'static str>,
                        comment: Option<String>,
                        rows: Vec<RowIn>,
                        mark: Option<Mark>,
                        folded: usize| {
            let names: HashMap<String, usize> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| (r.name.clone(), i))
                .collect();
            let (w, h, title, rows) = sized(name, kind, folded, rows);
            nodes.push(Node {
                key: key.to_string(),
                schema: schema.to_string(),
                w,
                h,
            });
            tables.push(TableBox {
                key: key.to_string(),
                schema: schema.to_string(),
                title,
                kind,
                comment,
                rect: Rect::default(),
                rows,
                mark,
                folded,
            });
            row_index.push(names);
        };

        let row_of = |key: &str, c: &model::Column, mark: Option<Mark>| RowIn {
            key: key.to_string(),
            name: c.name.clone(),
            data_type: if c.nullable {
                format!("{}?", c.data_type)
            } else {
                c.data_type.clone()
            },
            pk: c.is_primary_key,
            fk: c.is_foreign_key,
            nullable: c.nullable,
            mark,
        };
        for (key, t) in &snapshot.tables {
            if !shown(key) {
                continue;
            }
            let folded_away = reduce.fold_partitions
                && t.partition_of
                    .as_ref()
                    .is_some_and(|p| snapshot.tables.contains_key(p));
            if folded_away {
                continue;
            }
            let folded = if reduce.fold_partitions {
                t.partitions.len()
            } else {
                0
            };
            let mut cols = by_table.remove(key.as_str()).unwrap_or_default();
            cols.sort_by_key(|(_, c)| c.position);
            let mut rows: Vec<RowIn> = cols
                .iter()
                .filter(|(_, c)| !reduce.keys_only || c.is_primary_key || c.is_foreign_key)
                .map(|&(ck, c)| row_of(ck, c, marks.columns.get(ck).copied()))
                .collect();
            // Removed columns, struck through, after the live ones.
            for ck in marks.removed_columns.get(key).into_iter().flatten() {
                rows.push(ghost_row(key, ck, previous));
            }
            push(
                key,
                &t.schema,
                &t.name,
                kind_label(t.kind),
                t.comment.clone(),
                rows,
                marks.tables.get(key).copied(),
                folded,
            );
        }
        // Removed tables, as ghost boxes.
        for key in &marks.removed_tables {
            if snapshot.tables.contains_key(key) || reduce.hidden.contains(key) || only.is_some() {
                continue;
            }
            let old = previous.and_then(|p| p.tables.get(key));
            let (schema, name) = match old {
                Some(t) => (t.schema.clone(), t.name.clone()),
                None => split_table_key(key),
            };
            let rows: Vec<RowIn> = marks
                .removed_columns
                .get(key)
                .into_iter()
                .flatten()
                .map(|ck| ghost_row(key, ck, previous))
                .collect();
            push(
                key,
                &schema,
                &name,
                None,
                None,
                rows,
                Some(Mark::Removed),
                0,
            );
        }

        let index: HashMap<String, usize> = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.key.clone(), i))
            .collect();
        let mut edges = Vec::new();
        let mut links = Vec::new();
        for (key, r) in &snapshot.relationships {
            let (Some(&from), Some(&to)) = (index.get(&r.from_table), index.get(&r.to_table))
            else {
                continue;
            };
            let row =
                |t: usize, cols: &[String]| cols.first().and_then(|c| row_index[t].get(c).copied());
            edges.push(Edge {
                key: key.clone(),
                from,
                from_row: row(from, &r.from_columns),
                to,
                to_row: row(to, &r.to_columns),
                one_to_one: r.one_to_one,
                optional: r.from_columns.iter().any(|c| {
                    snapshot
                        .columns
                        .get(&format!("{}.{c}", r.from_table))
                        .is_some_and(|col| col.nullable)
                }),
            });
            links.push(Link { from, to });
        }
        let placed = layout::layout(&nodes, &links);
        for (t, r) in tables.iter_mut().zip(&placed.boxes) {
            t.rect = *r;
        }
        Scene {
            tables,
            edges,
            schemas: placed.schemas,
            bounds: placed.bounds,
            index,
        }
    }

    pub fn find(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// Tables whose key contains `query` (case-insensitive), exact and prefix matches of
    /// the table name first, then in key order.
    pub fn search(&self, query: &str) -> Vec<usize> {
        let q = query.trim().to_lowercase();
        if q.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(u8, usize)> = self
            .tables
            .iter()
            .enumerate()
            .filter_map(|(i, t)| {
                let key = t.key.to_lowercase();
                let name = split_table_key(&key).1.trim_matches('"').to_string();
                if name == q || key == q {
                    Some((0, i))
                } else if name.starts_with(&q) {
                    Some((1, i))
                } else if key.contains(&q) {
                    Some((2, i))
                } else {
                    None
                }
            })
            .collect();
        hits.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| natural_cmp(&self.tables[a.1].key, &self.tables[b.1].key))
        });
        hits.into_iter().map(|(_, i)| i).collect()
    }

    /// Tables whose key contains `query`, then tables with a column whose name contains
    /// it (case-insensitive), each with the rows that matched: what the canvas highlights.
    pub fn search_hits(&self, query: &str) -> Vec<Hit> {
        let q = query.trim().to_lowercase();
        let mut hits: Vec<Hit> = self
            .search(query)
            .into_iter()
            .map(|table| Hit {
                table,
                rows: Vec::new(),
            })
            .collect();
        if q.is_empty() {
            return hits;
        }
        let by_name: BTreeSet<usize> = hits.iter().map(|h| h.table).collect();
        let mut by_column: Vec<Hit> = self
            .tables
            .iter()
            .enumerate()
            .filter(|(i, _)| !by_name.contains(i))
            .filter_map(|(table, t)| {
                let rows: Vec<usize> = t
                    .rows
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| {
                        let name = r.key.get(t.key.len() + 1..).unwrap_or(&r.name);
                        r.mark != Some(Mark::Removed) && name.to_lowercase().contains(&q)
                    })
                    .map(|(n, _)| n)
                    .collect();
                (!rows.is_empty()).then_some(Hit { table, rows })
            })
            .collect();
        by_column.sort_by(|a, b| natural_cmp(&self.tables[a.table].key, &self.tables[b.table].key));
        hits.extend(by_column);
        hits
    }

    /// What the side list shows for `query`: every table in natural key order when the
    /// query is empty, else the [`Scene::search`] hits.
    pub fn listed(&self, query: &str) -> Vec<usize> {
        if query.trim().is_empty() {
            let mut all: Vec<usize> = (0..self.tables.len()).collect();
            all.sort_by(|&a, &b| natural_cmp(&self.tables[a].key, &self.tables[b].key));
            all
        } else {
            self.search_hits(query)
                .into_iter()
                .map(|h| h.table)
                .collect()
        }
    }

    /// Keys of the tables on screen that still exist (not removed-table ghosts): what a
    /// visible refresh asks the service to re-read.
    pub fn live_keys_in(&self, world: &Rect) -> Vec<String> {
        self.tables_in(world)
            .into_iter()
            .filter(|&i| self.tables[i].mark != Some(Mark::Removed))
            .map(|i| self.tables[i].key.clone())
            .collect()
    }

    /// Tables intersecting `world` (a rectangle in diagram coordinates), in input order.
    pub fn tables_in(&self, world: &Rect) -> Vec<usize> {
        self.tables
            .iter()
            .enumerate()
            .filter(|(_, t)| t.rect.overlaps(world))
            .map(|(i, _)| i)
            .collect()
    }
}

/// Orders names as people read them: digit runs by value, so `t2` comes before `t10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let run = |it: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut s = String::new();
                    while let Some(ch) = it.peek().copied().filter(char::is_ascii_digit) {
                        s.push(ch);
                        it.next();
                    }
                    s
                };
                let (m, n) = (run(&mut x), run(&mut y));
                let (mt, nt) = (m.trim_start_matches('0'), n.trim_start_matches('0'));
                let ord = mt.len().cmp(&nt.len()).then_with(|| mt.cmp(nt));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(&d);
                }
                x.next();
                y.next();
            }
        }
    }
}

/// `schema.table` split at the dot that ends the (possibly quoted) schema name.
pub fn split_table_key(key: &str) -> (String, String) {
    let mut quoted = false;
    for (i, ch) in key.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '.' if !quoted => return (key[..i].to_string(), key[i + 1..].to_string()),
            _ => {}
        }
    }
    (String::new(), key.to_string())
}

/// A removed column's row: its name from its key, its type from the previous snapshot
/// when the app holds it.
fn ghost_row(table: &str, column_key: &str, previous: Option<&Snapshot>) -> RowIn {
    let old = previous.and_then(|p| p.columns.get(column_key));
    let name = old.map(|c| c.name.clone()).unwrap_or_else(|| {
        column_key
            .strip_prefix(table)
            .and_then(|s| s.strip_prefix('.'))
            .unwrap_or(column_key)
            .to_string()
    });
    RowIn {
        key: column_key.to_string(),
        name,
        data_type: old.map(|c| c.data_type.clone()).unwrap_or_default(),
        pk: false,
        fk: false,
        nullable: old.is_some_and(|c| c.nullable),
        mark: Some(Mark::Removed),
    }
}

#[cfg(test)]
mod tests;
