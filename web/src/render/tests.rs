use super::*;
use crate::scene::Scene;
use crate::state::{Mark, Marks};
use crate::testutil::shop;

fn scene_with_marks() -> Scene {
    let mut marks = Marks::default();
    marks.tables.insert("public.orders".into(), Mark::Changed);
    marks
        .columns
        .insert("public.orders.total".into(), Mark::Changed);
    Scene::build(&shop(), &marks, None)
}

fn everything(scene: &Scene, zoom: f64) -> (View, Rect) {
    let mut v = View {
        zoom,
        width: 1200.0,
        height: 800.0,
        ..View::default()
    };
    v.center_on(&scene.bounds);
    let r = Rect {
        x: scene.bounds.x - 10.0,
        y: scene.bounds.y - 10.0,
        w: scene.bounds.w + 20.0,
        h: scene.bounds.h + 20.0,
    };
    (v, r)
}

#[test]
fn full_detail_writes_every_table_row_and_mark() {
    let scene = scene_with_marks();
    let (v, region) = everything(&scene, 1.0);
    let focus = scene.find("public.customers");
    let (svg, drawn) = render(&scene, &v, &region, focus);
    assert_eq!(drawn.tables, 6);
    assert_eq!(drawn.detail, Detail::Full);
    for t in &scene.tables {
        assert!(
            svg.contains(&format!("data-key=\"{}\"", esc(&t.key))),
            "{} missing",
            t.key
        );
    }
    assert!(
        svg.contains(r#"data-key="public.&quot;Order Items&quot;""#),
        "names are escaped"
    );
    assert!(svg.contains(r#"<g class="tbl changed" data-key="public.orders""#));
    assert!(svg.contains(r#"<g class="row changed" data-key="public.orders.total""#));
    assert!(svg.contains(r#"<g class="tbl focus" data-key="public.customers""#));
    assert!(svg.contains(">numeric(12,2)?</text>"));
    assert!(svg.contains(">PK</text>") && svg.contains(">FK</text>"));
    assert_eq!(svg.matches(r#"<path class="edge"#).count(), 4);
    assert_eq!(
        svg.matches("<g").count(),
        svg.matches("</g>").count(),
        "groups are balanced"
    );
    assert!(svg.contains(r#"data-schema="crm""#) && svg.contains(r#"data-schema="public""#));
}

#[test]
fn only_the_region_is_written() {
    let scene = scene_with_marks();
    let (v, _) = everything(&scene, 1.0);
    let far = Rect {
        x: 1e6,
        y: 1e6,
        w: 100.0,
        h: 100.0,
    };
    let (svg, drawn) = render(&scene, &v, &far, None);
    assert_eq!(drawn.tables, 0);
    assert!(!svg.contains("class=\"tbl"));
    let notes = scene.tables[scene.find("crm.notes").unwrap()].rect;
    let (svg, drawn) = render(&scene, &v, &notes, None);
    assert_eq!(drawn.tables, 1);
    assert!(svg.contains(r#"data-key="crm.notes""#));
    assert_eq!(
        svg.matches("<path class=\"edge").count(),
        1,
        "only the edge touching it"
    );
}

#[test]
fn lower_detail_drops_rows_then_names() {
    let scene = scene_with_marks();
    let (v, region) = everything(&scene, 0.2);
    let (svg, drawn) = render(&scene, &v, &region, None);
    assert_eq!(drawn.detail, Detail::Outline);
    assert!(!svg.contains("class=\"row") && svg.contains("class=\"title\""));
    let (v, region) = everything(&scene, 0.05);
    let (svg, drawn) = render(&scene, &v, &region, None);
    assert_eq!(drawn.detail, Detail::Dots);
    assert!(!svg.contains("class=\"title\"") && svg.contains("tbl changed"));
}

#[test]
fn a_redraw_happens_only_when_the_view_leaves_what_is_drawn() {
    let scene = scene_with_marks();
    let mut v = View {
        zoom: 1.0,
        width: 800.0,
        height: 600.0,
        ..View::default()
    };
    assert!(needs_redraw(None, &v));
    let (_, drawn) = render(&scene, &v, &region_for(&v), None);
    v.pan_by_screen(100.0, 50.0);
    assert!(
        !needs_redraw(Some(&drawn), &v),
        "a small pan moves what is drawn"
    );
    v.pan_by_screen(700.0, 0.0);
    assert!(
        needs_redraw(Some(&drawn), &v),
        "a long pan draws the new part"
    );
    let mut z = View {
        zoom: 1.0,
        width: 800.0,
        height: 600.0,
        ..View::default()
    };
    let (_, drawn) = render(&scene, &z, &region_for(&z), None);
    z.zoom_at(0.3, 400.0, 300.0);
    assert!(needs_redraw(Some(&drawn), &z), "less detail");
}

#[test]
fn escaping_covers_markup_characters() {
    assert_eq!(
        esc(r#"<a href="x">&'"#),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
    );
}

#[test]
fn the_side_list_marks_and_selects_and_escapes() {
    let scene = scene_with_marks();
    let all = scene.listed("");
    assert_eq!(all.len(), scene.tables.len());
    let orders = scene.find("public.orders");
    let html = table_list_html(&scene, &all, orders);
    assert_eq!(html.matches("<li").count(), scene.tables.len());
    assert!(html.contains(r#"<li class="changed selected" data-key="public.orders""#));
    assert!(html.contains(r#"data-key="public.&quot;Order Items&quot;""#));
    let hits = scene.listed("cust");
    assert!(!hits.is_empty() && hits.len() < all.len());
}

#[test]
fn change_lines_become_clickable_items() {
    let lines = vec![
        ChangeLine {
            mark: Mark::Added,
            kind: "column",
            key: "public.orders.<note>".into(),
            table: Some("public.orders".into()),
            detail: String::new(),
        },
        ChangeLine {
            mark: Mark::Changed,
            kind: "enum",
            key: "public.mood".into(),
            table: None,
            detail: "labels: a → b".into(),
        },
    ];
    let html = change_list_html(&lines);
    assert!(html.contains(
        r#"<li class="added" data-table="public.orders"><span class="what">added column</span> <code>public.orders.&lt;note&gt;</code></li>"#
    ));
    assert!(html.contains(r#"<li class="changed" data-table=""#));
    assert!(html.contains(r#"<div class="detail">labels: a → b</div>"#));
}

#[test]
fn a_selection_highlights_its_neighbours_and_dims_the_rest() {
    let scene = scene_with_marks();
    let (v, region) = everything(&scene, 1.0);
    let orders = scene.find("public.orders");
    let (svg, _) = render(&scene, &v, &region, orders);
    // orders references customers and is referenced by "Order Items".
    assert!(svg.contains(r#"data-key="public.customers" data-rel="near""#));
    assert!(svg.contains(r#"data-key="public.&quot;Order Items&quot;" data-rel="near""#));
    assert!(svg.contains(r#"data-key="public.products" data-rel="far""#));
    assert!(svg.contains(r#"<g class="tbl changed focus" data-key="public.orders" tabindex"#));
    assert_eq!(svg.matches(r#"class="edge" data-key"#).count(), 4);
    assert_eq!(
        svg.matches(r#"data-rel="near" d="#).count(),
        2,
        "the two edges of orders"
    );
    let (none, _) = render(&scene, &v, &region, None);
    assert!(!none.contains("data-rel"), "no selection, nothing dimmed");
}

#[test]
fn boxes_are_focusable_and_named_for_assistive_technology() {
    let scene = scene_with_marks();
    let (v, region) = everything(&scene, 1.0);
    let (svg, _) = render(&scene, &v, &region, None);
    assert_eq!(svg.matches(r#"tabindex="0" role="button""#).count(), 6);
    assert!(svg.contains(r#"aria-label="public.orders, table, 3 columns""#));
    assert!(svg.contains(r#"aria-label="public.order_totals, view, 1 column""#));
}

/// Every `font-size="N"` in `svg`, as drawn on screen at `zoom`.
fn screen_sizes(svg: &str, class: &str, zoom: f64) -> Vec<f64> {
    svg.split(&format!(r#"<text class="{class}""#))
        .skip(1)
        .map(|rest| {
            let at = rest.find("font-size=\"").unwrap() + 11;
            let end = rest[at..].find('"').unwrap();
            rest[at..at + end].parse::<f64>().unwrap() * zoom
        })
        .collect()
}

#[test]
fn zoomed_out_every_name_drawn_is_readable_and_the_rest_are_clustered() {
    let scene = scene_with_marks();
    for zoom in [0.35, 0.2, 0.12, 0.05, 0.01] {
        let (v, region) = everything(&scene, zoom);
        let (svg, _) = render(&scene, &v, &region, None);
        let schemas = screen_sizes(&svg, "schema-label", zoom);
        assert_eq!(schemas.len(), 2, "both schemas named at {zoom}");
        // A frame too narrow for a 15 px name gets the largest name it holds.
        for (f, px) in scene.schemas.iter().zip(&schemas) {
            let fits = (f.rect.w - 28.0) / (f.schema.chars().count() as f64 * 0.6 + 1.0) * zoom;
            assert!(
                *px >= 14.5_f64.min(fits) - 0.5,
                "schema {} at {zoom}: {px}px",
                f.schema
            );
        }
        let titles = screen_sizes(&svg, "title", zoom);
        assert!(
            titles.iter().all(|&px| px >= 9.0),
            "table names at {zoom}: {titles:?}"
        );
        let clustered: usize = svg
            .split("data-count=\"")
            .skip(1)
            .map(|r| r[..r.find('"').unwrap()].parse::<usize>().unwrap())
            .sum();
        assert_eq!(
            titles.len() + clustered,
            scene.tables.len(),
            "every table is named or counted in a cluster at {zoom}"
        );
        assert!(screen_sizes(&svg, "cluster", zoom)
            .iter()
            .all(|&px| (px - 11.0).abs() < 0.1));
    }
}

#[test]
fn a_zoom_far_from_the_drawn_one_redraws_the_labels() {
    let scene = scene_with_marks();
    let mut v = View {
        zoom: 0.05,
        width: 800.0,
        height: 600.0,
        ..View::default()
    };
    let (_, drawn) = render(&scene, &v, &region_for(&v), None);
    v.zoom_at(1.2, 400.0, 300.0);
    assert!(
        !needs_redraw(Some(&drawn), &v),
        "a small zoom step keeps labels"
    );
    v.zoom_at(1.3, 400.0, 300.0);
    assert!(
        needs_redraw(Some(&drawn), &v),
        "labels sized for another zoom"
    );
}

#[test]
fn search_hits_are_highlighted_on_the_canvas() {
    let scene = scene_with_marks();
    let (v, region) = everything(&scene, 1.0);
    let hits = scene.search_hits("customer");
    let (svg, _) = render_with(&scene, &v, &region, None, &hits);
    assert!(svg.contains(r#"data-key="public.customers" data-match="name""#));
    assert!(svg.contains(r#"data-key="public.orders" data-match="column""#));
    assert!(svg.contains(r#"<g class="row" data-key="public.orders.customer_id" data-match="1">"#));
    assert!(!svg.contains(r#"data-key="public.products" data-match"#));
    assert_eq!(
        svg.matches(r#"data-match="1""#).count(),
        2,
        "orders and crm.notes rows"
    );
}

#[test]
fn edges_end_in_crows_feet_and_say_their_cardinality() {
    let scene = scene_with_marks();
    let (v, region) = everything(&scene, 1.0);
    let (svg, _) = render(&scene, &v, &region, None);
    let edge = |key: &str| {
        let at = svg.find(&format!(r#"data-key="{key}""#)).unwrap();
        svg[at..at + svg[at..].find("</path>").unwrap()].to_string()
    };
    let orders = edge("public.orders.orders_customer_id_fkey");
    assert!(orders.contains(r#"marker-start="url(#cf-zero-many)" marker-end="url(#cf-one)""#));
    assert!(
        orders.contains("<title>public.orders.orders_customer_id_fkey: many → exactly one</title>")
    );
    // crm.notes.customer_id is nullable: a note may belong to no customer.
    let notes = edge("crm.notes.notes_customer_id_fkey");
    assert!(
        notes.contains(r#"marker-end="url(#cf-zero-one)""#) && notes.contains("many → zero or one")
    );
    assert!(
        !svg.contains("text class=\"stub\""),
        "every end drawn: no stubs"
    );
}

#[test]
fn an_edge_leaving_what_is_drawn_names_the_far_table() {
    let scene = scene_with_marks();
    let (v, _) = everything(&scene, 1.0);
    let notes = scene.tables[scene.find("crm.notes").unwrap()].rect;
    let (svg, _) = render(&scene, &v, &notes, None);
    assert_eq!(svg.matches(r#"<text class="stub""#).count(), 1);
    assert!(
        svg.contains(r#"data-far="public.customers""#) && svg.contains("→ public.customers</text>")
    );
    let customers = scene.tables[scene.find("public.customers").unwrap()].rect;
    let (svg, _) = render(&scene, &v, &customers, None);
    assert!(svg.contains("← crm.notes</text>") && svg.contains("← public.orders</text>"));
}
