//! The camera over the diagram: pan, zoom about a point, fit, focus on a table, and the
//! level of detail a zoom calls for.
//!
//! Pure arithmetic on diagram coordinates; it must never touch the DOM.

use crate::layout::Rect;

pub const MIN_ZOOM: f64 = 0.01;
pub const MAX_ZOOM: f64 = 3.0;

/// How much of each table is drawn at a zoom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every column row with its name, type and PK/FK marks; edges between columns.
    Full,
    /// Boxes with their names; edges between boxes.
    Outline,
    /// Boxes only (a map of the whole catalog).
    Dots,
}

pub fn detail(zoom: f64) -> Detail {
    if zoom >= 0.4 {
        Detail::Full
    } else if zoom >= 0.12 {
        Detail::Outline
    } else {
        Detail::Dots
    }
}

/// The diagram point at the screen's top-left corner, the zoom, and the screen size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub x: f64,
    pub y: f64,
    pub zoom: f64,
    pub width: f64,
    pub height: f64,
}

impl Default for View {
    fn default() -> Self {
        View {
            x: 0.0,
            y: 0.0,
            zoom: 1.0,
            width: 800.0,
            height: 600.0,
        }
    }
}

impl View {
    /// The part of the diagram on screen.
    pub fn world(&self) -> Rect {
        Rect {
            x: self.x,
            y: self.y,
            w: self.width / self.zoom,
            h: self.height / self.zoom,
        }
    }

    pub fn to_world(&self, sx: f64, sy: f64) -> (f64, f64) {
        (self.x + sx / self.zoom, self.y + sy / self.zoom)
    }

    /// Moves the diagram with the pointer by a screen distance.
    pub fn pan_by_screen(&mut self, dx: f64, dy: f64) {
        self.x -= dx / self.zoom;
        self.y -= dy / self.zoom;
    }

    /// Zooms by `factor`, keeping the diagram point under screen point (sx, sy) still.
    pub fn zoom_at(&mut self, factor: f64, sx: f64, sy: f64) {
        let (wx, wy) = self.to_world(sx, sy);
        self.zoom = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        self.x = wx - sx / self.zoom;
        self.y = wy - sy / self.zoom;
    }

    /// Shows all of `bounds`, no closer than 1:1.
    pub fn fit(&mut self, bounds: &Rect) {
        let margin = 24.0;
        let zx = (self.width - 2.0 * margin).max(50.0) / bounds.w.max(1.0);
        let zy = (self.height - 2.0 * margin).max(50.0) / bounds.h.max(1.0);
        self.zoom = zx.min(zy).clamp(MIN_ZOOM, 1.0);
        self.center_on(bounds);
    }

    /// Centres the screen on `r`.
    pub fn center_on(&mut self, r: &Rect) {
        let (cx, cy) = r.center();
        self.x = cx - self.width / self.zoom / 2.0;
        self.y = cy - self.height / self.zoom / 2.0;
    }

    /// Centres on `r` at a zoom where its rows are readable and it fits on screen.
    pub fn focus(&mut self, r: &Rect) {
        let fit = ((self.width - 40.0) / r.w).min((self.height - 40.0) / r.h);
        self.zoom = fit.clamp(0.5, 1.0);
        self.center_on(r);
    }

    /// The SVG transform that draws diagram coordinates on this screen.
    pub fn transform(&self) -> String {
        let z = self.zoom;
        format!("matrix({z} 0 0 {z} {} {})", -self.x * z, -self.y * z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn zoom_keeps_the_point_under_the_pointer_still() {
        let mut v = View {
            x: 100.0,
            y: 50.0,
            zoom: 1.0,
            width: 800.0,
            height: 600.0,
        };
        let before = v.to_world(200.0, 300.0);
        v.zoom_at(1.5, 200.0, 300.0);
        let after = v.to_world(200.0, 300.0);
        assert!(close(before.0, after.0) && close(before.1, after.1));
        assert!(close(v.zoom, 1.5));
        v.zoom_at(1000.0, 0.0, 0.0);
        assert!(close(v.zoom, MAX_ZOOM), "zoom is bounded");
    }

    #[test]
    fn pan_moves_the_diagram_with_the_pointer() {
        let mut v = View {
            zoom: 2.0,
            ..View::default()
        };
        v.pan_by_screen(40.0, -20.0);
        assert!(close(v.x, -20.0) && close(v.y, 10.0));
    }

    #[test]
    fn fit_shows_everything_and_never_magnifies() {
        let mut v = View::default();
        let big = Rect {
            x: -500.0,
            y: 200.0,
            w: 8000.0,
            h: 3000.0,
        };
        v.fit(&big);
        assert!(v.world().contains(&big));
        let small = Rect {
            x: 0.0,
            y: 0.0,
            w: 100.0,
            h: 50.0,
        };
        v.fit(&small);
        assert!(close(v.zoom, 1.0) && v.world().contains(&small));
    }

    #[test]
    fn focus_puts_a_table_in_the_middle_readably() {
        let mut v = View {
            zoom: 0.05,
            ..View::default()
        };
        let t = Rect {
            x: 5000.0,
            y: 7000.0,
            w: 220.0,
            h: 300.0,
        };
        v.focus(&t);
        assert!(v.world().contains(&t));
        assert_eq!(detail(v.zoom), Detail::Full);
        let (cx, cy) = v.world().center();
        assert!(close(cx, 5110.0) && close(cy, 7150.0));
    }

    #[test]
    fn detail_drops_as_zoom_falls() {
        assert_eq!(detail(1.0), Detail::Full);
        assert_eq!(detail(0.2), Detail::Outline);
        assert_eq!(detail(0.05), Detail::Dots);
    }
}
