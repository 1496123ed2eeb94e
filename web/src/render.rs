//! SVG markup for the part of a scene around the screen: schema frames, edges, table
//! boxes with their rows, drift marks and the focused table. Only tables near the view
//! are written (a region around it, so small pans need no redraw), at the level of detail
//! the zoom calls for, so a 2,000-table catalog draws as fast as a small one.
//!
//! Pure string building; every name is escaped. It must never write a table outside the
//! region it was given or drop one inside it.

use crate::layout::Rect;
use crate::scene::{Hit, Scene, BADGE_W, HEADER_H, PAD, ROW_H};
use crate::state::ChangeLine;
use crate::view::{detail, Detail, View};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

/// What is on the page now: the region written and at which detail.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    pub region: Rect,
    pub detail: Detail,
    pub tables: usize,
    /// The zoom it was drawn for: labels are sized for the screen, so a zoom that moved
    /// far from it draws again.
    pub zoom: f64,
}

/// How far (as a factor) the zoom may move from the drawn one before labels are redrawn.
const LABEL_ZOOM_SLACK: f64 = 1.4;
/// Label sizes on screen, in pixels: schema names, table names, cluster names.
const SCHEMA_LABEL_PX: f64 = 15.0;
const TITLE_PX: f64 = 11.0;
/// A table name smaller than this on screen is not drawn; its box joins a cluster.
const MIN_TITLE_PX: f64 = 9.0;
/// Monospace glyph width as a share of the font size.
const GLYPH_W: f64 = 0.6;
/// The screen cell (pixels) whose unnamed boxes share one cluster label.
const CLUSTER_W_PX: f64 = 200.0;
const CLUSTER_H_PX: f64 = 40.0;

/// The region to write for `view`: the screen plus half a screen on every side.
pub fn region_for(view: &View) -> Rect {
    let w = view.world();
    Rect {
        x: w.x - w.w / 2.0,
        y: w.y - w.h / 2.0,
        w: w.w * 2.0,
        h: w.h * 2.0,
    }
}

/// True when what is drawn no longer covers `view` at its detail.
pub fn needs_redraw(drawn: Option<&Drawn>, view: &View) -> bool {
    match drawn {
        None => true,
        Some(d) => {
            d.detail != detail(view.zoom)
                || !d.region.contains(&view.world())
                || (view.zoom / d.zoom).max(d.zoom / view.zoom) > LABEL_ZOOM_SLACK
        }
    }
}

/// Escapes text for SVG element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The markup of `scene` within `region` at `view`'s zoom, with `focus` outlined.
pub fn render(scene: &Scene, view: &View, region: &Rect, focus: Option<usize>) -> (String, Drawn) {
    render_with(scene, view, region, focus, &[])
}

/// [`render`], with search `hits` highlighted: a table whose name matched, and the rows
/// of a table whose column names matched.
pub fn render_with(
    scene: &Scene,
    view: &View,
    region: &Rect,
    focus: Option<usize>,
    hits: &[Hit],
) -> (String, Drawn) {
    let hit_of: std::collections::HashMap<usize, &Hit> =
        hits.iter().map(|h| (h.table, h)).collect();
    let det = detail(view.zoom);
    let mut out = String::with_capacity(64 * 1024);
    let visible = scene.tables_in(region);
    // Frames first, their names last (on top, so a zoomed-out map still names schemas),
    // at a size read on screen, as far as the frame's width allows.
    let mut labels = String::new();
    for f in &scene.schemas {
        if !f.rect.overlaps(region) {
            continue;
        }
        let r = &f.rect;
        let by_width = (r.w - 28.0) / (chars(&f.schema) * GLYPH_W + 1.0);
        let label_size = (SCHEMA_LABEL_PX / view.zoom)
            .min(by_width)
            .max(15.0)
            .round();
        let _ = write!(
            out,
            r#"<rect class="schema-frame" data-schema="{s}" x="{x}" y="{y}" width="{w}" height="{h}" rx="10"/>"#,
            s = esc(&f.schema),
            x = r.x,
            y = r.y,
            w = r.w,
            h = r.h,
        );
        let _ = write!(
            labels,
            r#"<text class="schema-label" x="{lx}" y="{ly}" font-size="{label_size}">{s}</text>"#,
            s = esc(&f.schema),
            lx = r.x + 14.0,
            ly = r.y + 30.0f64.max(label_size + 6.0).min(r.h),
        );
    }
    // The selection's neighbours, highlighted with it; the rest dimmed.
    let near: HashSet<usize> = match focus {
        Some(f) => scene
            .edges
            .iter()
            .filter_map(|e| {
                if e.from == f {
                    Some(e.to)
                } else if e.to == f {
                    Some(e.from)
                } else {
                    None
                }
            })
            .collect(),
        None => HashSet::new(),
    };
    let rel = |i: usize| match focus {
        None => "",
        Some(f) if f == i => "",
        Some(_) if near.contains(&i) => r#" data-rel="near""#,
        Some(_) => r#" data-rel="far""#,
    };
    // Edges under the boxes; an edge is drawn when either end is in the region.
    let in_region: HashSet<usize> = visible.iter().copied().collect();
    out.push_str(r#"<g class="edges">"#);
    let mut stubs = String::new();
    for e in &scene.edges {
        if !in_region.contains(&e.from) && !in_region.contains(&e.to) {
            continue;
        }
        let (f, t) = (&scene.tables[e.from], &scene.tables[e.to]);
        let rows = if det == Detail::Full {
            (e.from_row, e.to_row)
        } else {
            (None, None)
        };
        let anchor_y = |r: &Rect, row: Option<usize>| match row {
            Some(i) => r.y + HEADER_H + ROW_H * i as f64 + ROW_H / 2.0,
            None => r.y + HEADER_H / 2.0,
        };
        let (d, start, end) = edge_path(
            &f.rect,
            anchor_y(&f.rect, rows.0),
            &t.rect,
            anchor_y(&t.rect, rows.1),
            e.from == e.to,
        );
        // An edge that leaves what is drawn: its drawn end names the table at the other.
        if det == Detail::Full && in_region.contains(&e.from) != in_region.contains(&e.to) {
            let (far, (x, y), arrow, leftward) = if in_region.contains(&e.from) {
                (t, start, "→", start.0 <= f.rect.x)
            } else {
                (f, end, "←", end.0 <= t.rect.x)
            };
            let _ = write!(
                stubs,
                r#"<text class="stub" data-far="{k}" x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" font-size="11">{arrow} {k}</text>"#,
                k = esc(&far.key),
                x = if leftward { x - 8.0 } else { x + 8.0 },
                y = y - 5.0,
                anchor = if leftward { "end" } else { "start" },
            );
        }
        let mark = match (f.mark, t.mark) {
            (Some(crate::state::Mark::Removed), _) | (_, Some(crate::state::Mark::Removed)) => {
                " removed"
            }
            _ => "",
        };
        let hot = match focus {
            None => "",
            Some(f) if e.from == f || e.to == f => r#" data-rel="near""#,
            Some(_) => r#" data-rel="far""#,
        };
        let _ = write!(
            out,
            r#"<path class="edge{mark}{one}" data-key="{k}"{hot} d="{d}" marker-start="url(#{ms})" marker-end="url(#{me})"><title>{k}: {card}</title></path>"#,
            one = if e.one_to_one { " one" } else { "" },
            k = esc(&e.key),
            ms = e.from_marker(),
            me = e.to_marker(),
            card = e.cardinality(),
        );
    }
    out.push_str("</g>");
    let mut unnamed: Vec<usize> = Vec::new();
    for &i in &visible {
        let t = &scene.tables[i];
        let r = &t.rect;
        let mut class = String::from("tbl");
        if let Some(m) = t.mark {
            class.push(' ');
            class.push_str(m.class());
        }
        if focus == Some(i) {
            class.push_str(" focus");
        }
        let mut tip = t.key.clone();
        if let Some(k) = t.kind {
            let _ = write!(tip, " ({k})");
        }
        if t.folded > 0 {
            let _ = write!(tip, "\n{} partitions folded in", t.folded);
        }
        if let Some(c) = &t.comment {
            let _ = write!(tip, "\n{c}");
        }
        let _ = write!(
            out,
            r#"<g class="{class}" data-key="{key}"{rel}{hit} tabindex="0" role="button" aria-label="{label}" transform="translate({x} {y})"><title>{tip}</title><rect class="box" width="{w}" height="{h}" rx="4"/>"#,
            key = esc(&t.key),
            rel = rel(i),
            hit = match hit_of.get(&i) {
                None => "",
                Some(h) if h.rows.is_empty() => r#" data-match="name""#,
                Some(_) => r#" data-match="column""#,
            },
            label = esc(&table_label(t)),
            x = r.x,
            y = r.y,
            w = r.w,
            h = r.h,
            tip = esc(&tip),
        );
        match det {
            Detail::Dots | Detail::Outline => match outline_title(t, view.zoom) {
                Some((size, name)) => {
                    let _ = write!(
                        out,
                        r#"<text class="title" x="{PAD}" y="{y}" font-size="{size}">{name}</text>"#,
                        y = (size + 4.0).min(r.h - 4.0),
                        name = esc(&name),
                    );
                }
                None => unnamed.push(i),
            },
            Detail::Full => {
                let _ = write!(
                    out,
                    r#"<rect class="head" width="{w}" height="{HEADER_H}" rx="4"/><text class="title" x="{PAD}" y="17">{name}</text>"#,
                    w = r.w,
                    name = esc(&t.title),
                );
                if let Some(k) = t.kind {
                    let _ = write!(
                        out,
                        r#"<text class="kind" x="{x}" y="17">{k}</text>"#,
                        x = r.w - PAD,
                        k = crate::scene::kind_text(k, t.folded),
                    );
                }
                for (n, row) in t.rows.iter().enumerate() {
                    let y = HEADER_H + ROW_H * n as f64;
                    let mut class = String::from("row");
                    if let Some(m) = row.mark {
                        class.push(' ');
                        class.push_str(m.class());
                    }
                    let badge = match (row.pk, row.fk) {
                        (true, true) => "PF",
                        (true, false) => "PK",
                        (false, true) => "FK",
                        _ => "",
                    };
                    let matched = hit_of.get(&i).is_some_and(|h| h.rows.contains(&n));
                    let _ = write!(
                        out,
                        r#"<g class="{class}" data-key="{key}"{m}><rect class="row-bg" y="{y}" width="{w}" height="{ROW_H}"/><text class="badge" x="{bx}" y="{ty}">{badge}</text><text class="cname" x="{nx}" y="{ty}">{name}</text><text class="ctype" x="{tx}" y="{ty}">{ty_text}</text></g>"#,
                        key = esc(&row.key),
                        m = if matched { r#" data-match="1""# } else { "" },
                        w = r.w,
                        bx = PAD - 2.0,
                        nx = BADGE_W + PAD - 4.0,
                        tx = r.w - PAD,
                        ty = y + 13.0,
                        name = esc(&row.name),
                        ty_text = esc(&row.data_type),
                    );
                }
            }
        }
        out.push_str("</g>");
    }
    cluster_labels(&mut out, scene, &unnamed, view.zoom);
    if !stubs.is_empty() {
        let _ = write!(out, r#"<g class="stubs">{stubs}</g>"#);
    }
    out.push_str(&labels);
    let drawn = Drawn {
        region: *region,
        detail: det,
        tables: visible.len(),
        zoom: view.zoom,
    };
    (out, drawn)
}

fn chars(s: &str) -> f64 {
    s.chars().count() as f64
}

/// What assistive technology says for a box: "public.orders, table, 3 columns".
pub fn table_label(t: &crate::scene::TableBox) -> String {
    let n = t.rows.len();
    format!(
        "{}, {}, {n} column{}",
        t.key,
        t.kind.unwrap_or("table"),
        if n == 1 { "" } else { "s" }
    )
}

/// A zoomed-out box's name: its size in diagram units and the text, when it can be read
/// (at least [`MIN_TITLE_PX`] on screen and four characters wide); `None` puts the box
/// in a cluster.
pub fn outline_title(t: &crate::scene::TableBox, zoom: f64) -> Option<(f64, String)> {
    let r = &t.rect;
    let size = (TITLE_PX / zoom).min(r.h * 0.8);
    let fit = ((r.w - 2.0 * PAD) / (size * GLYPH_W)).floor();
    if size * zoom < MIN_TITLE_PX || fit < 4.0 {
        return None;
    }
    Some((
        (size * 10.0).round() / 10.0,
        crate::scene::truncate(&t.title, fit as usize),
    ))
}

/// One label per screen cell for the boxes too small to carry their own name: the name
/// of the cell's most connected table, and how many more the cell holds ("orders +12").
/// Cells are fixed in diagram space for a zoom, so a pan keeps the same clusters.
fn cluster_labels(out: &mut String, scene: &Scene, unnamed: &[usize], zoom: f64) {
    if unnamed.is_empty() {
        return;
    }
    let mut degree = vec![0usize; scene.tables.len()];
    for e in &scene.edges {
        degree[e.from] += 1;
        degree[e.to] += 1;
    }
    let (cw, ch) = (CLUSTER_W_PX / zoom, CLUSTER_H_PX / zoom);
    let mut cells: BTreeMap<(i64, i64), (usize, usize)> = BTreeMap::new();
    for &i in unnamed {
        let (cx, cy) = scene.tables[i].rect.center();
        let cell = ((cx / cw).floor() as i64, (cy / ch).floor() as i64);
        let entry = cells.entry(cell).or_insert((i, 0));
        entry.1 += 1;
        let best = entry.0;
        let better = degree[i] > degree[best]
            || (degree[i] == degree[best]
                && crate::scene::natural_cmp(&scene.tables[i].key, &scene.tables[best].key)
                    == std::cmp::Ordering::Less);
        if better {
            entry.0 = i;
        }
    }
    let size = TITLE_PX / zoom;
    let max_chars = ((CLUSTER_W_PX - 12.0) / (TITLE_PX * GLYPH_W)).floor() as usize;
    out.push_str(r#"<g class="clusters">"#);
    for ((cx, cy), (best, n)) in cells {
        let t = &scene.tables[best];
        let more = if n > 1 {
            format!(" +{}", n - 1)
        } else {
            String::new()
        };
        let name = crate::scene::truncate(
            &t.title,
            max_chars.saturating_sub(more.chars().count()).max(4),
        );
        let _ = write!(
            out,
            r#"<text class="cluster" data-key="{k}" data-count="{n}" x="{x:.1}" y="{y:.1}" font-size="{size:.1}">{name}{more}</text>"#,
            k = esc(&t.key),
            x = cx as f64 * cw + 6.0 / zoom,
            y = cy as f64 * ch + ch * 0.65,
            name = esc(&name),
        );
    }
    out.push_str("</g>");
}

/// The side list's items: `tables` (indexes into `scene`) in the order given, each with
/// its drift mark, the selection, and its column count.
pub fn table_list_html(scene: &Scene, tables: &[usize], selected: Option<usize>) -> String {
    let mut html = String::with_capacity(tables.len() * 80);
    for &i in tables {
        let t = &scene.tables[i];
        let mut class = String::new();
        if let Some(m) = t.mark {
            class.push_str(m.class());
        }
        if selected == Some(i) {
            class.push_str(" selected");
        }
        let _ = write!(
            html,
            r#"<li class="{class}" data-key="{key}" tabindex="0" title="{key}">{key}<span class="n" aria-label="{n} columns">{n}</span></li>"#,
            key = esc(&t.key),
            n = t.rows.len(),
        );
    }
    html
}

/// The "what changed" panel's items, each naming the table it focuses.
pub fn change_list_html(lines: &[ChangeLine]) -> String {
    let mut html = String::new();
    for line in lines {
        let _ = write!(
            html,
            r#"<li class="{mark}" data-table="{table}"><span class="what">{mark} {kind}</span> <code>{key}</code>{detail}</li>"#,
            mark = line.mark.class(),
            kind = line.kind,
            table = esc(line.table.as_deref().unwrap_or("")),
            key = esc(&line.key),
            detail = if line.detail.is_empty() {
                String::new()
            } else {
                format!(r#"<div class="detail">{}</div>"#, esc(&line.detail))
            },
        );
    }
    html
}

/// A curve from the referencing side to the referenced side: out of the facing sides
/// when the boxes are apart, out of the right sides (a loop) when they are stacked or
/// the same table.
/// Also gives the two end points (referencing, referenced).
type Point = (f64, f64);

fn edge_path(f: &Rect, fy: f64, t: &Rect, ty: f64, self_ref: bool) -> (String, Point, Point) {
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let (sx, ex) = if !self_ref && t.x > f.right() + 20.0 {
        (f.right(), t.x)
    } else if !self_ref && t.right() < f.x - 20.0 {
        (f.x, t.right())
    } else {
        (f.right(), t.right())
    };
    let d = if !self_ref && t.x > f.right() + 20.0 {
        let dx = ((ex - sx) / 2.0).max(30.0);
        format!(
            "M{} {}C{} {} {} {} {} {}",
            round(sx),
            round(fy),
            round(sx + dx),
            round(fy),
            round(ex - dx),
            round(ty),
            round(ex),
            round(ty)
        )
    } else if !self_ref && t.right() < f.x - 20.0 {
        let dx = ((sx - ex) / 2.0).max(30.0);
        format!(
            "M{} {}C{} {} {} {} {} {}",
            round(sx),
            round(fy),
            round(sx - dx),
            round(fy),
            round(ex + dx),
            round(ty),
            round(ex),
            round(ty)
        )
    } else {
        let bulge = sx.max(ex) + 40.0 + (fy - ty).abs() * 0.08;
        format!(
            "M{} {}C{} {} {} {} {} {}",
            round(sx),
            round(fy),
            round(bulge),
            round(fy),
            round(bulge),
            round(ty),
            round(ex),
            round(ty)
        )
    };
    (d, (sx, fy), (ex, ty))
}

#[cfg(test)]
mod tests;
