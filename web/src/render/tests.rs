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
            mark: crate::state::Mark::Added,
            kind: "column",
            key: "public.orders.<note>".into(),
            table: Some("public.orders".into()),
            detail: String::new(),
        },
        ChangeLine {
            mark: crate::state::Mark::Changed,
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
