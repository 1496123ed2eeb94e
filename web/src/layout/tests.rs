use super::*;

/// A deterministic pseudo-random source (no I/O, no `rand`): a 64-bit LCG.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// `count` tables over `schemas` schemas, each referencing up to two earlier tables of its
/// schema (some none), with a few cross-schema links and one cycle.
fn catalog(count: usize, schemas: usize, seed: u64) -> (Vec<Node>, Vec<Link>) {
    let mut rng = Lcg(seed);
    let nodes: Vec<Node> = (0..count)
        .map(|i| Node {
            key: format!("s{}.t{i:04}", i % schemas),
            schema: format!("s{}", i % schemas),
            w: 150.0 + rng.next(150) as f64,
            h: 26.0 + 18.0 * (1 + rng.next(14)) as f64,
        })
        .collect();
    let mut links = Vec::new();
    for i in 0..count {
        for _ in 0..rng.next(3) {
            let earlier: Vec<usize> = (0..i).filter(|j| j % schemas == i % schemas).collect();
            if !earlier.is_empty() && rng.next(4) != 0 {
                links.push(Link {
                    from: i,
                    to: earlier[rng.next(earlier.len())],
                });
            }
        }
        if rng.next(20) == 0 && i > 0 {
            links.push(Link {
                from: i,
                to: rng.next(i),
            });
        }
    }
    // A cycle and a self reference.
    links.push(Link {
        from: 0,
        to: schemas * 3,
    });
    links.push(Link {
        from: schemas * 3,
        to: 0,
    });
    links.push(Link { from: 5, to: 5 });
    (nodes, links)
}

fn assert_no_overlaps(l: &Layout) {
    for (i, a) in l.boxes.iter().enumerate() {
        for (j, b) in l.boxes.iter().enumerate().skip(i + 1) {
            assert!(!a.overlaps(b), "boxes {i} {a:?} and {j} {b:?} overlap");
        }
    }
    for (i, a) in l.schemas.iter().enumerate() {
        for b in l.schemas.iter().skip(i + 1) {
            assert!(
                !a.rect.overlaps(&b.rect),
                "schemas {} and {} overlap",
                a.schema,
                b.schema
            );
        }
    }
}

#[test]
fn two_hundred_tables_never_overlap_and_stay_in_their_schema() {
    let (nodes, links) = catalog(200, 4, 7);
    let l = layout(&nodes, &links);
    assert_eq!(l.boxes.len(), 200);
    assert_no_overlaps(&l);
    for (n, b) in nodes.iter().zip(&l.boxes) {
        assert_eq!((b.w, b.h), (n.w, n.h), "a box keeps its size");
        let frame = l
            .schemas
            .iter()
            .find(|f| f.schema == n.schema)
            .expect("frame");
        assert!(
            frame.rect.contains(b),
            "{} lies outside its schema frame",
            n.key
        );
        assert!(l.bounds.contains(b));
    }
    assert_eq!(l.schemas.len(), 4);
}

#[test]
fn the_whole_is_about_screen_shaped() {
    for (count, schemas) in [(200, 1), (200, 5), (2000, 1), (30, 2)] {
        let (nodes, links) = catalog(count, schemas, 3);
        let l = layout(&nodes, &links);
        let ratio = l.bounds.w / l.bounds.h;
        assert!(
            (0.4..=5.0).contains(&ratio),
            "{count} tables / {schemas} schemas: {ratio}"
        );
    }
}

#[test]
fn linked_tables_are_nearer_than_unlinked_ones() {
    let (nodes, links) = catalog(200, 2, 11);
    let l = layout(&nodes, &links);
    let dist = |a: usize, b: usize| {
        let (ax, ay) = l.boxes[a].center();
        let (bx, by) = l.boxes[b].center();
        ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt()
    };
    let same_schema: Vec<&Link> = links
        .iter()
        .filter(|k| k.from != k.to && nodes[k.from].schema == nodes[k.to].schema)
        .collect();
    let linked =
        same_schema.iter().map(|k| dist(k.from, k.to)).sum::<f64>() / same_schema.len() as f64;
    let mut rng = Lcg(99);
    let pairs: Vec<(usize, usize)> = (0..2000)
        .map(|_| (rng.next(200), rng.next(200)))
        .filter(|(a, b)| a != b && nodes[*a].schema == nodes[*b].schema)
        .collect();
    let any = pairs.iter().map(|&(a, b)| dist(a, b)).sum::<f64>() / pairs.len() as f64;
    assert!(
        linked < 0.6 * any,
        "linked tables average {linked:.0} apart, any two {any:.0}"
    );
}

#[test]
fn a_referenced_table_sits_left_of_the_tables_that_reference_it() {
    let node = |k: &str| Node {
        key: format!("public.{k}"),
        schema: "public".into(),
        w: 160.0,
        h: 80.0,
    };
    let nodes = vec![
        node("order_items"),
        node("orders"),
        node("customers"),
        node("products"),
    ];
    let links = vec![
        Link { from: 0, to: 1 },
        Link { from: 0, to: 3 },
        Link { from: 1, to: 2 },
    ];
    let l = layout(&nodes, &links);
    assert!(
        l.boxes[2].right() < l.boxes[1].x,
        "customers left of orders"
    );
    assert!(
        l.boxes[1].right() < l.boxes[0].x,
        "orders left of order_items"
    );
    assert!(
        l.boxes[3].right() < l.boxes[0].x,
        "products left of order_items"
    );
    assert_no_overlaps(&l);
}

#[test]
fn a_long_chain_wraps_into_rows() {
    // The benchmark catalog's shape: each table references the previous one.
    let nodes: Vec<Node> = (0..2000)
        .map(|i| Node {
            key: format!("public.t{i}"),
            schema: "public".into(),
            w: 300.0,
            h: 206.0,
        })
        .collect();
    let links: Vec<Link> = (1..2000).map(|i| Link { from: i, to: i - 1 }).collect();
    let l = layout(&nodes, &links);
    assert_no_overlaps(&l);
    let ratio = l.bounds.w / l.bounds.h;
    assert!((0.5..=4.0).contains(&ratio), "ratio {ratio}");
    // Consecutive tables are neighbours most of the time (except at row ends).
    let adjacent = (1..2000)
        .filter(|&i| (l.boxes[i].x - l.boxes[i - 1].right() - LAYER_GAP).abs() < 1e-6)
        .count();
    assert!(adjacent > 1900, "{adjacent} of 1999 links are side by side");
}

#[test]
fn layout_is_deterministic_and_ignores_input_link_order() {
    let (nodes, mut links) = catalog(120, 3, 5);
    let a = layout(&nodes, &links);
    links.reverse();
    let b = layout(&nodes, &links);
    assert_eq!(a, b);
}

#[test]
fn empty_and_single_inputs() {
    let l = layout(&[], &[]);
    assert!(l.boxes.is_empty() && l.schemas.is_empty());
    let one = [Node {
        key: "a.b".into(),
        schema: "a".into(),
        w: 100.0,
        h: 50.0,
    }];
    let l = layout(&one, &[Link { from: 0, to: 0 }, Link { from: 0, to: 9 }]);
    assert_eq!(l.boxes.len(), 1);
    assert!(l.schemas[0].rect.contains(&l.boxes[0]));
}

#[test]
fn a_star_with_hundreds_of_spokes_stays_compact() {
    let mut nodes = vec![Node {
        key: "p.hub".into(),
        schema: "p".into(),
        w: 200.0,
        h: 100.0,
    }];
    nodes.extend((0..300).map(|i| Node {
        key: format!("p.s{i:03}"),
        schema: "p".into(),
        w: 180.0,
        h: 98.0,
    }));
    let links: Vec<Link> = (1..301).map(|i| Link { from: i, to: 0 }).collect();
    let l = layout(&nodes, &links);
    assert_no_overlaps(&l);
    let boxes: f64 = l.boxes.iter().map(|b| b.w * b.h).sum();
    let ratio = l.bounds.w * l.bounds.h / boxes;
    assert!(
        ratio < 3.5,
        "the star's frame is {ratio:.2} times the area of its boxes"
    );
    assert!(l.bounds.w / l.bounds.h < 4.0 && l.bounds.h / l.bounds.w < 4.0);
}
