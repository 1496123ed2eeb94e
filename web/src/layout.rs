//! Automatic layout of the ER diagram: where every table box goes.
//!
//! Owns one rule set: tables are grouped by schema; inside a schema, the tables linked by
//! foreign keys form connected groups laid out in layers (a referenced table left of the
//! tables that reference it, layers ordered to keep linked tables side by side, long
//! chains wrapped into rows); groups and schemas are then packed into rows. Boxes never
//! overlap by construction. Pure and deterministic: no DOM, no clock, no randomness, so it
//! is unit-tested natively and gives the same picture for the same snapshot.

use std::collections::BTreeMap;

/// Gap between two layers of a group (room for the edges between them).
const LAYER_GAP: f64 = 80.0;
/// Gap between two boxes stacked in one layer column.
const NODE_GAP: f64 = 28.0;
/// Gap between two rows of wrapped layers, and between two packed groups.
const GROUP_GAP: f64 = 60.0;
/// Padding inside a schema's frame, and the height of its label band.
const SCHEMA_PAD: f64 = 28.0;
const SCHEMA_LABEL: f64 = 44.0;
/// Gap between two schema frames.
const SCHEMA_GAP: f64 = 100.0;
/// A layer column taller than this is split into several columns.
const MAX_COLUMN_HEIGHT: f64 = 2_000.0;
/// Target width / height of packed areas (a screen's shape).
const ASPECT: f64 = 1.6;
/// Rows are never narrower than this: small groups stay on one row.
const MIN_ROW_WIDTH: f64 = 2_400.0;

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn center(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
    /// True when the two rectangles share interior area (touching edges do not count).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
    /// True when `o` lies inside `self` (edges may touch).
    pub fn contains(&self, o: &Rect) -> bool {
        o.x >= self.x && o.y >= self.y && o.right() <= self.right() && o.bottom() <= self.bottom()
    }
    pub fn translate(&self, dx: f64, dy: f64) -> Rect {
        Rect {
            x: self.x + dx,
            y: self.y + dy,
            ..*self
        }
    }
    /// The smallest rectangle holding all of `rects` (zero-sized at the origin if none).
    pub fn union_all<'a>(rects: impl IntoIterator<Item = &'a Rect>) -> Rect {
        let mut it = rects.into_iter();
        let Some(first) = it.next() else {
            return Rect::default();
        };
        let (mut x0, mut y0, mut x1, mut y1) = (first.x, first.y, first.right(), first.bottom());
        for r in it {
            x0 = x0.min(r.x);
            y0 = y0.min(r.y);
            x1 = x1.max(r.right());
            y1 = y1.max(r.bottom());
        }
        Rect {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }
}

/// A box to place: its size is decided by the caller (from its title and rows).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub key: String,
    pub schema: String,
    pub w: f64,
    pub h: f64,
}

/// `from` references `to` (indexes into the node list). Self references and edges to
/// unknown nodes are ignored by the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub from: usize,
    pub to: usize,
}

/// A schema's frame and label.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaFrame {
    pub schema: String,
    pub rect: Rect,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// One rectangle per input node, in input order.
    pub boxes: Vec<Rect>,
    pub schemas: Vec<SchemaFrame>,
    /// Everything drawn.
    pub bounds: Rect,
}

/// Lays out `nodes` (see the module comment).
pub fn layout(nodes: &[Node], links: &[Link]) -> Layout {
    let mut boxes = vec![Rect::default(); nodes.len()];
    // Schemas in name order; members in key order.
    let mut by_schema: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        by_schema.entry(n.schema.as_str()).or_default().push(i);
    }
    for members in by_schema.values_mut() {
        members.sort_by(|&a, &b| nodes[a].key.cmp(&nodes[b].key));
    }
    let mut frames = Vec::new();
    let mut frame_sizes = Vec::new();
    for (schema, members) in &by_schema {
        // Lay the schema out at the origin, then frame it.
        let content = layout_schema(nodes, links, members, &mut boxes);
        let (w, h) = (
            content.w.max(schema.len() as f64 * 11.0) + 2.0 * SCHEMA_PAD,
            content.h + SCHEMA_LABEL + SCHEMA_PAD,
        );
        for &m in members {
            boxes[m] = boxes[m].translate(SCHEMA_PAD - content.x, SCHEMA_LABEL - content.y);
        }
        frames.push(SchemaFrame {
            schema: (*schema).to_string(),
            rect: Rect {
                x: 0.0,
                y: 0.0,
                w,
                h,
            },
        });
        frame_sizes.push((w, h));
    }
    let placed = pack(&frame_sizes, SCHEMA_GAP);
    for ((frame, members), (x, y)) in frames.iter_mut().zip(by_schema.values()).zip(placed) {
        frame.rect = frame.rect.translate(x, y);
        for &m in members {
            boxes[m] = boxes[m].translate(x, y);
        }
    }
    let bounds = Rect::union_all(frames.iter().map(|f| &f.rect));
    Layout {
        boxes,
        schemas: frames,
        bounds,
    }
}

/// Places one schema's members (relative positions); returns their bounding box.
fn layout_schema(nodes: &[Node], links: &[Link], members: &[usize], boxes: &mut [Rect]) -> Rect {
    let local: BTreeMap<usize, usize> = members.iter().enumerate().map(|(l, &g)| (g, l)).collect();
    // References inside the schema, as local indexes, deduplicated.
    let mut refs: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
    for l in links {
        if let (Some(&f), Some(&t)) = (local.get(&l.from), local.get(&l.to)) {
            if f != t && !refs[f].contains(&t) {
                refs[f].push(t);
            }
        }
    }
    for r in &mut refs {
        r.sort_unstable();
    }
    // Connected groups (undirected), biggest first, then by first key; singletons last.
    let mut uf = UnionFind::new(members.len());
    for (f, ts) in refs.iter().enumerate() {
        for &t in ts {
            uf.union(f, t);
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for l in 0..members.len() {
        groups.entry(uf.find(l)).or_default().push(l);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));

    let mut sizes = Vec::with_capacity(groups.len());
    let mut local_boxes = vec![Rect::default(); members.len()];
    for g in &groups {
        let r = layout_group(nodes, members, &refs, g, &mut local_boxes);
        sizes.push((r.w, r.h));
    }
    let placed = pack(&sizes, GROUP_GAP);
    for (g, (x, y)) in groups.iter().zip(placed) {
        for &l in g {
            boxes[members[l]] = local_boxes[l].translate(x, y);
        }
    }
    Rect::union_all(members.iter().map(|&m| &boxes[m]))
}

/// Lays out one connected group at the origin; returns its bounding box (at the origin).
fn layout_group(
    nodes: &[Node],
    members: &[usize],
    refs: &[Vec<usize>],
    group: &[usize],
    out: &mut [Rect],
) -> Rect {
    let size = |l: usize| (nodes[members[l]].w, nodes[members[l]].h);
    if group.len() == 1 {
        let (w, h) = size(group[0]);
        out[group[0]] = Rect {
            x: 0.0,
            y: 0.0,
            w,
            h,
        };
        return out[group[0]];
    }
    let in_group: std::collections::BTreeSet<usize> = group.iter().copied().collect();
    let layers = assign_layers(refs, group, &in_group);
    let layers = order_layers(refs, group, layers);

    // Split tall layers into columns, then wrap the column sequence into rows so a long
    // chain does not become one endless strip.
    let mut columns: Vec<Vec<usize>> = Vec::new();
    for layer in layers {
        let mut col = Vec::new();
        let mut h = 0.0;
        for l in layer {
            let nh = size(l).1;
            if !col.is_empty() && h + nh > MAX_COLUMN_HEIGHT {
                columns.push(std::mem::take(&mut col));
                h = 0.0;
            }
            h += nh + NODE_GAP;
            col.push(l);
        }
        if !col.is_empty() {
            columns.push(col);
        }
    }
    let col_size = |c: &Vec<usize>| {
        let w = c.iter().map(|&l| size(l).0).fold(0.0, f64::max);
        let h = c.iter().map(|&l| size(l).1).sum::<f64>() + NODE_GAP * (c.len() as f64 - 1.0);
        (w, h)
    };
    let area: f64 = columns
        .iter()
        .map(|c| {
            let (w, h) = col_size(c);
            (w + LAYER_GAP) * h
        })
        .sum();
    let widest = columns.iter().map(|c| col_size(c).0).fold(0.0, f64::max);
    let row_width = (area * ASPECT).sqrt().max(widest).max(MIN_ROW_WIDTH);
    let (mut x, mut y, mut row_h) = (0.0, 0.0, 0.0f64);
    let mut row: Vec<(&Vec<usize>, f64, f64)> = Vec::new();
    let mut flush = |row: &mut Vec<(&Vec<usize>, f64, f64)>, y: f64, row_h: f64| {
        // Columns in a row are centred vertically on the row's middle.
        for (c, cx, ch) in row.drain(..) {
            let mut cy = y + (row_h - ch) / 2.0;
            for &l in c.iter() {
                let (w, h) = size(l);
                out[l] = Rect { x: cx, y: cy, w, h };
                cy += h + NODE_GAP;
            }
        }
    };
    for c in &columns {
        let (w, h) = col_size(c);
        if x > 0.0 && x + w > row_width {
            flush(&mut row, y, row_h);
            y += row_h + GROUP_GAP;
            x = 0.0;
            row_h = 0.0;
        }
        row.push((c, x, h));
        row_h = row_h.max(h);
        x += w + LAYER_GAP;
    }
    flush(&mut row, y, row_h);
    Rect::union_all(group.iter().map(|&l| &out[l]))
}

/// Layer of each table: 0 for tables that reference nothing in the group, else one more
/// than the deepest table they reference. Cycles are broken at the edge that closes them
/// in a depth-first walk in key order.
fn assign_layers(
    refs: &[Vec<usize>],
    group: &[usize],
    in_group: &std::collections::BTreeSet<usize>,
) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let n = refs.len();
    let mut mark = vec![Mark::New; n];
    let mut layer = vec![0usize; n];
    // Iterative post-order DFS along references: a table's layer is known once all the
    // tables it references are done; an edge to an active table closes a cycle (ignored).
    for &start in group {
        if mark[start] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::Active;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&t) = refs[v].get(*next) {
                *next += 1;
                if !in_group.contains(&t) {
                    continue;
                }
                match mark[t] {
                    Mark::New => {
                        mark[t] = Mark::Active;
                        stack.push((t, 0));
                    }
                    Mark::Done => layer[v] = layer[v].max(layer[t] + 1),
                    Mark::Active => {}
                }
            } else {
                mark[v] = Mark::Done;
                stack.pop();
                if let Some(&(parent, _)) = stack.last() {
                    layer[parent] = layer[parent].max(layer[v] + 1);
                }
            }
        }
    }
    let depth = group.iter().map(|&l| layer[l]).max().unwrap_or(0);
    let mut layers = vec![Vec::new(); depth + 1];
    for &l in group {
        layers[layer[l]].push(l);
    }
    layers
}

/// Orders each layer so linked tables sit side by side: a few sweeps placing each table
/// at the mean position of its neighbours in the other layers.
fn order_layers(
    refs: &[Vec<usize>],
    group: &[usize],
    mut layers: Vec<Vec<usize>>,
) -> Vec<Vec<usize>> {
    let n = refs.len();
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &f in group {
        for &t in &refs[f] {
            neighbours[f].push(t);
            neighbours[t].push(f);
        }
    }
    let mut pos = vec![0.0f64; n];
    let mut layer_of = vec![usize::MAX; n];
    let record = |layers: &Vec<Vec<usize>>, pos: &mut Vec<f64>, layer_of: &mut Vec<usize>| {
        for (li, layer) in layers.iter().enumerate() {
            for (i, &l) in layer.iter().enumerate() {
                pos[l] = (i as f64 + 0.5) / layer.len() as f64;
                layer_of[l] = li;
            }
        }
    };
    record(&layers, &mut pos, &mut layer_of);
    for sweep in 0..6 {
        let order: Vec<usize> = if sweep % 2 == 0 {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for li in order {
            let mut keyed: Vec<(f64, usize, usize)> = layers[li]
                .iter()
                .enumerate()
                .map(|(i, &l)| {
                    let ns: Vec<f64> = neighbours[l]
                        .iter()
                        .filter(|&&m| layer_of[m] != li)
                        .map(|&m| pos[m])
                        .collect();
                    let bary = if ns.is_empty() {
                        pos[l]
                    } else {
                        ns.iter().sum::<f64>() / ns.len() as f64
                    };
                    (bary, i, l)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            layers[li] = keyed.into_iter().map(|(_, _, l)| l).collect();
            let len = layers[li].len() as f64;
            for (i, &l) in layers[li].iter().enumerate() {
                pos[l] = (i as f64 + 0.5) / len;
            }
        }
    }
    layers
}

/// Shelf packing: places items left to right in rows about `ASPECT` times wider than the
/// whole is tall. Returns each item's top-left corner.
fn pack(sizes: &[(f64, f64)], gap: f64) -> Vec<(f64, f64)> {
    let area: f64 = sizes.iter().map(|(w, h)| (w + gap) * (h + gap)).sum();
    let widest = sizes.iter().map(|s| s.0).fold(0.0, f64::max);
    let row_width = (area * ASPECT).sqrt().max(widest);
    let (mut x, mut y, mut row_h) = (0.0, 0.0, 0.0f64);
    let mut out = Vec::with_capacity(sizes.len());
    for &(w, h) in sizes {
        if x > 0.0 && x + w > row_width {
            y += row_h + gap;
            x = 0.0;
            row_h = 0.0;
        }
        out.push((x, y));
        x += w + gap;
        row_h = row_h.max(h);
    }
    out
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        // The smaller index is the root, so groups are keyed by their first member.
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }
}

#[cfg(test)]
mod tests;
