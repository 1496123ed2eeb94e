//! The app's state and its one [`App::update`]: everything the page reports (a click, a
//! key, a pointer move, an answer from the API, a timer tick) arrives as a [`Msg`], and
//! `update` is the only place the state changes. It sends snapshot and diff requests,
//! keeps the last two snapshots, draws the scene in the SVG (redrawing only when the view
//! leaves what is drawn), and keeps "Last refreshed", the source, the drift pill, the
//! table list and the changes panel up to date. The sentences it shows come from
//! [`crate::state`], the markup from [`crate::render`]; which DOM event becomes which
//! message is [`crate::dom`]'s business.
//!
//! It must never put the database URL anywhere but its password field (not in storage,
//! not in the address bar, not in a log), and never let an answer to an older request
//! overwrite a newer one.

use crate::api;
use crate::dom::{self, Elements};
use crate::render::{self, Drawn};
use crate::scene::{Hit, Reduce, Scene};
use crate::state::{self, ChangeLine, Form, Marks, Served};
use crate::view::View;
use model::api::{
    DiffResponse, Refresh, SnapshotRef, SnapshotResponse, DIFF_PATH, MAX_VISIBLE_TABLES,
    SNAPSHOT_PATH,
};
use model::Snapshot;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::Window;

const STORAGE_KEY: &str = "catalog-snapshot.form";
/// A pointer that moves less than this (screen pixels, summed) between down and up
/// clicked rather than panned.
const CLICK_SLOP: f64 = 4.0;

/// Everything that can happen to the app.
pub enum Msg {
    /// Load (the form: the cache first), Refresh (a forced read) or Refresh visible tables.
    Load(Refresh),
    /// The answer to snapshot request `seq`, sent for `form` to `url`.
    SnapshotAnswered {
        seq: u32,
        form: Form,
        url: String,
        reply: Result<api::Reply, String>,
    },
    /// The answer to the diff asked for after snapshot request `seq`.
    DiffAnswered {
        seq: u32,
        reply: Result<api::Reply, String>,
    },
    /// The search field changed: filter the side list.
    SearchEdited,
    /// Enter in the search field: focus the best hit.
    SearchSubmitted,
    /// Centre on a table and select it (a list item, a change line, a relationship in
    /// the detail panel).
    Focus(String),
    /// Select a table where it is (a box clicked, or Enter on a focused box): outline it,
    /// highlight its neighbours, open its details. `from_keyboard` gives the keyboard
    /// focus back to the redrawn box.
    Select {
        key: String,
        from_keyboard: bool,
    },
    /// Clear the selection and close the details (Escape, the panel's close button).
    Deselect,
    /// Only key columns in the boxes, or every column.
    KeysOnly(bool),
    /// Partitions folded into their parents, or drawn.
    FoldPartitions(bool),
    /// Hide the selected table.
    HideSelected,
    /// Show every hidden table again.
    ShowHidden,
    /// The neighbours view: only the tables within this many hops of the selection.
    Neighbours(usize),
    /// Leave the neighbours view.
    ShowAll,
    /// The drift pill: show or hide the changes panel.
    ToggleChanges,
    CloseChanges,
    /// Zoom about the screen's centre by a factor.
    ZoomBy(f64),
    /// Show the whole diagram.
    ZoomFit,
    /// A primary button went down on the diagram at a screen point, over `table` if any.
    PointerDown {
        x: f64,
        y: f64,
        table: Option<String>,
        /// The far table a pressed edge stub names: a click goes there.
        stub: Option<String>,
    },
    PointerMoved {
        x: f64,
        y: f64,
    },
    PointerUp,
    PointerCancelled,
    /// The wheel: zoom by `factor` about the point (`x`, `y`) of the diagram's box.
    Wheel {
        factor: f64,
        x: f64,
        y: f64,
    },
    /// The window changed size.
    Resized,
    /// An animation frame asked for by [`App::schedule_draw`].
    Frame,
    /// The one-second timer: "Last refreshed" and the progress line.
    Tick,
    /// `config.json` was read (its `apiBase`, if any); load when the address named a
    /// connection.
    Configured {
        api_base: Option<String>,
        auto_load: bool,
    },
}

thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
}

/// Hands `msg` to the running app. A message sent while `update` runs (a re-entrant
/// event) or before the app starts is dropped.
pub fn dispatch(msg: Msg) {
    APP.with(|a| {
        if let Ok(mut a) = a.try_borrow_mut() {
            if let Some(app) = a.as_mut() {
                app.update(msg);
            }
        }
    });
}

/// Installs the app; [`dispatch`] reaches it from then on.
pub fn install(app: App) {
    APP.with(|a| *a.borrow_mut() = Some(app));
}

/// Sends a POST and dispatches what `answered` makes of the reply.
fn post(
    url: String,
    body: String,
    answered: impl FnOnce(Result<api::Reply, String>) -> Msg + 'static,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let reply = api::post_json(&url, &body).await;
        dispatch(answered(reply));
    });
}

/// The request in flight, if any.
struct Pending {
    what: &'static str,
    started: f64,
}

/// A pointer held down on the diagram: where it was last, how far it moved, and the
/// table it went down on (the SVG captures the pointer, so the release's target is the
/// SVG itself, never the table).
struct Press {
    x: f64,
    y: f64,
    moved: f64,
    table: Option<String>,
    stub: Option<String>,
}

/// The running app: the page's elements and what it knows.
pub struct App {
    win: Window,
    el: Elements,
    seq: u32,
    pending: Option<Pending>,
    /// Which connection and schemas the snapshots belong to ([`state::identity`]).
    loaded_for: Option<String>,
    snapshot: Option<Rc<Snapshot>>,
    previous: Option<Rc<Snapshot>>,
    served: Option<Served>,
    marks: Marks,
    changes: Vec<ChangeLine>,
    scene: Option<Scene>,
    view: View,
    drawn: Option<Drawn>,
    focus: Option<usize>,
    frame_requested: bool,
    press: Option<Press>,
    loads: u32,
    /// What the user left out of the diagram.
    reduce: Reduce,
    /// The search's hits, highlighted on the canvas.
    hits: Vec<Hit>,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn perf_now(win: &Window) -> f64 {
    win.performance().map(|p| p.now()).unwrap_or(0.0)
}

impl App {
    /// The app over `el`, with the form restored: what was remembered, then the address
    /// bar (`?connectionId=&schemas=&api=`), which wins.
    pub fn new(win: Window, el: Elements) -> App {
        let mut form = el.form();
        if let Ok(Some(storage)) = win.local_storage() {
            if let Ok(Some(saved)) = storage.get_item(STORAGE_KEY) {
                let _ = state::restore_form(&saved, &mut form);
            }
        }
        if let Ok(params) = win
            .location()
            .search()
            .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s))
        {
            if let Some(v) = params.get("connectionId") {
                form.connection_id = v;
            }
            if let Some(v) = params.get("schemas") {
                form.schemas = v;
            }
            if let Some(v) = params.get("api") {
                form.api_base = v;
            }
        }
        el.set_form(&form);
        let mut app = App {
            win,
            el,
            seq: 0,
            pending: None,
            loaded_for: None,
            snapshot: None,
            previous: None,
            served: None,
            marks: Marks::default(),
            changes: Vec::new(),
            scene: None,
            view: View::default(),
            drawn: None,
            focus: None,
            frame_requested: false,
            press: None,
            loads: 0,
            reduce: Reduce {
                fold_partitions: true,
                ..Reduce::default()
            },
            hits: Vec::new(),
        };
        app.set_pending(None);
        app
    }

    /// True when the form names a connection id (the page then loads on its own).
    pub fn names_a_connection(&self) -> bool {
        !self.el.form().connection_id.trim().is_empty()
    }

    /// The one place the app's state changes.
    pub fn update(&mut self, msg: Msg) {
        match msg {
            Msg::Load(refresh) => self.load(refresh),
            Msg::SnapshotAnswered {
                seq,
                form,
                url,
                reply,
            } => self.on_snapshot(seq, form, &url, reply),
            Msg::DiffAnswered { seq, reply } => self.on_diff(seq, reply),
            Msg::SearchEdited => {
                self.find_hits();
                self.drawn = None;
                self.draw();
                self.fill_table_list();
            }
            Msg::KeysOnly(on) => {
                self.reduce.keys_only = on;
                self.rebuild_scene(true);
            }
            Msg::FoldPartitions(on) => {
                self.reduce.fold_partitions = on;
                self.rebuild_scene(true);
            }
            Msg::HideSelected => {
                if let Some(key) = self.selected_key() {
                    self.reduce.hidden.insert(key);
                    self.focus = None;
                    self.rebuild_scene(false);
                }
            }
            Msg::ShowHidden => {
                self.reduce.hidden.clear();
                self.rebuild_scene(false);
            }
            Msg::Neighbours(hops) => {
                if let Some(key) = self.selected_key() {
                    self.reduce.neighbours = Some((key, hops));
                    self.rebuild_scene(true);
                }
            }
            Msg::ShowAll => {
                if self.reduce.neighbours.take().is_some() {
                    self.rebuild_scene(true);
                }
            }
            Msg::SearchSubmitted => {
                let first = self.scene.as_ref().and_then(|s| {
                    s.search_hits(&self.el.search.value())
                        .first()
                        .map(|h| s.tables[h.table].key.clone())
                });
                match first {
                    Some(k) => self.focus_table(&k),
                    None => self.fill_table_list(),
                }
            }
            Msg::Focus(key) => self.focus_table(&key),
            Msg::Select { key, from_keyboard } => {
                self.select(&key);
                if from_keyboard {
                    self.el.focus_box(&key);
                }
            }
            Msg::Deselect => {
                if self.focus.take().is_some() {
                    self.drawn = None;
                    self.draw();
                    self.fill_table_list();
                }
                self.show_detail();
            }
            Msg::ToggleChanges => {
                let hidden = self.el.changes.hidden();
                self.el.changes.set_hidden(!hidden);
            }
            Msg::CloseChanges => self.el.changes.set_hidden(true),
            Msg::ZoomBy(factor) => {
                self.measure();
                let (w, h) = (self.view.width, self.view.height);
                self.view.zoom_at(factor, w / 2.0, h / 2.0);
                self.schedule_draw();
            }
            Msg::ZoomFit => {
                self.measure();
                if let Some(b) = self.scene.as_ref().map(|s| s.bounds) {
                    self.view.fit(&b);
                }
                self.schedule_draw();
            }
            Msg::PointerDown { x, y, table, stub } => {
                self.press = Some(Press {
                    x,
                    y,
                    moved: 0.0,
                    table,
                    stub,
                });
            }
            Msg::PointerMoved { x, y } => {
                if let Some(p) = &mut self.press {
                    let (dx, dy) = (x - p.x, y - p.y);
                    p.moved += dx.abs() + dy.abs();
                    (p.x, p.y) = (x, y);
                    self.view.pan_by_screen(dx, dy);
                    self.schedule_draw();
                }
            }
            Msg::PointerUp => match self.press.take() {
                Some(p) if p.moved < CLICK_SLOP => {
                    if let Some(far) = p.stub {
                        self.focus_table(&far);
                    } else if let Some(key) = p.table {
                        self.select(&key);
                    }
                }
                _ => {}
            },
            Msg::PointerCancelled => self.press = None,
            Msg::Wheel { factor, x, y } => {
                self.measure();
                self.view.zoom_at(factor, x, y);
                self.schedule_draw();
            }
            Msg::Resized => {
                self.measure();
                self.schedule_draw();
            }
            Msg::Frame => {
                self.frame_requested = false;
                self.draw();
            }
            Msg::Tick => {
                self.update_status();
                if let Some(p) = &self.pending {
                    let line = state::progress_line(p.what, perf_now(&self.win) - p.started);
                    self.el.progress_text.set_text_content(Some(&line));
                }
            }
            Msg::Configured {
                api_base,
                auto_load,
            } => {
                if let Some(base) = api_base {
                    if self.el.api_base.value().trim().is_empty() {
                        self.el.api_base.set_value(&base);
                    }
                }
                if auto_load {
                    self.load(Refresh::Cache);
                }
            }
        }
    }

    /// Shows an error; over a diagram from an earlier load, says that it is the old one
    /// and marks the page stale.
    fn fail(&self, message: &str) {
        match &self.served {
            Some(s) if self.scene.is_some() => {
                let line = s.last_refreshed_line(now_ms());
                self.el
                    .show_error(Some(&state::stale_error(message, &line)));
                dom::set_attr(&self.el.root, "data-stale", "true");
            }
            _ => self.el.show_error(Some(message)),
        }
    }

    /// Remembers the form, except the database URL, for the next visit.
    fn remember_form(&self, form: &Form) {
        if let Ok(Some(storage)) = self.win.local_storage() {
            let _ = storage.set_item(STORAGE_KEY, &state::remembered_form(form));
        }
    }

    fn set_pending(&mut self, pending: Option<Pending>) {
        let busy = pending.is_some();
        if let Some(p) = &pending {
            self.el.progress_text.set_text_content(Some(p.what));
        }
        self.pending = pending;
        self.el.progress.set_hidden(!busy);
        dom::set_attr(
            &self.el.root,
            "data-state",
            if busy { "loading" } else { "idle" },
        );
        self.update_buttons();
    }

    /// Refresh needs a loaded schema and no request in flight.
    fn update_buttons(&self) {
        let off = self.pending.is_some() || self.snapshot.is_none();
        dom::set_disabled(&self.el.refresh, off);
        dom::set_disabled(&self.el.refresh_visible, off);
    }

    /// Sends a snapshot request for the form's connection.
    fn load(&mut self, refresh: Refresh) {
        let form = self.el.form();
        let mut refresh = refresh;
        let visible: Vec<String> = if refresh == Refresh::Visible {
            self.visible_tables()
        } else {
            Vec::new()
        };
        if refresh == Refresh::Visible && visible.len() > MAX_VISIBLE_TABLES {
            refresh = Refresh::Force;
        }
        // More visible tables than the service takes is a full refresh (above).
        let body = match form
            .snapshot_body(refresh, &visible)
            .and_then(|b| serde_json::to_string(&b).map_err(|e| e.to_string()))
        {
            Ok(b) => b,
            Err(message) => {
                self.fail(&message);
                return;
            }
        };
        self.el.show_error(None);
        self.remember_form(&form);
        self.seq += 1;
        let seq = self.seq;
        let started = perf_now(&self.win);
        self.set_pending(Some(Pending {
            what: state::progress_text(refresh),
            started,
        }));
        let url = form.endpoint(SNAPSHOT_PATH);
        post(url.clone(), body, move |reply| Msg::SnapshotAnswered {
            seq,
            form,
            url,
            reply,
        });
    }

    /// Tables on screen that still exist on the server.
    fn visible_tables(&self) -> Vec<String> {
        self.scene
            .as_ref()
            .map_or_else(Vec::new, |s| s.live_keys_in(&self.view.world()))
    }

    fn on_snapshot(&mut self, seq: u32, form: Form, url: &str, reply: Result<api::Reply, String>) {
        if seq != self.seq {
            return; // an answer to a request since replaced
        }
        let t_received = perf_now(&self.win);
        let started = self.pending.as_ref().map_or(t_received, |p| p.started);
        self.set_pending(None);
        let reply = match reply {
            Ok(r) => r,
            Err(detail) => {
                self.fail(&state::network_error_message(url, &detail));
                return;
            }
        };
        if reply.status != 200 {
            self.fail(&state::api_error_message(reply.status, &reply.body));
            return;
        }
        let response: SnapshotResponse = match serde_json::from_str(&reply.body) {
            Ok(r) => r,
            Err(e) => {
                self.fail(&state::unreadable_snapshot(&e.to_string()));
                return;
            }
        };
        let t_parsed = perf_now(&self.win);
        let _ = self.el.root.remove_attribute("data-stale");
        self.el
            .on_screen
            .set_text_content(Some(&state::on_screen_line(&form, &response.snapshot.meta)));
        let who = state::identity(&form);
        let same_connection = self.loaded_for.as_deref() == Some(who.as_str());
        self.previous = if same_connection {
            self.snapshot.take()
        } else {
            None
        };
        self.loaded_for = Some(who);
        let served = Served::of(&response);
        let drifted = served.drifted;
        self.served = Some(served);
        let snapshot = Rc::new(response.snapshot);
        self.snapshot = Some(snapshot.clone());
        // Marks belong to the drift of this answer; they arrive with its diff.
        self.marks = Marks::default();
        self.changes.clear();
        self.el
            .changes_summary
            .set_text_content(Some(state::changes_pending(drifted)));
        self.el.changes_list.set_inner_html("");
        if !drifted {
            self.el.changes.set_hidden(true);
        }
        self.rebuild_scene(!same_connection);
        let t_drawn = perf_now(&self.win);
        self.loads += 1;
        dom::set_attr(&self.el.root, "data-loads", &self.loads.to_string());
        let timings = serde_json::json!({
            "requestMs": (t_received - started).round(),
            "parseMs": (t_parsed - t_received).round(),
            "drawMs": (t_drawn - t_parsed).round(),
            "tables": snapshot.tables.len(),
            "drawnAtMs": t_drawn.round(),
        });
        dom::set_attr(&self.el.root, "data-timings", &timings.to_string());
        if self.el.root.get_attribute("data-first-draw-ms").is_none() {
            dom::set_attr(
                &self.el.root,
                "data-first-draw-ms",
                &t_drawn.round().to_string(),
            );
        }
        self.update_status();
        self.update_buttons();
        if drifted {
            self.load_changes(form);
        }
    }

    /// Asks the diff endpoint what changed between the previous snapshot and this one;
    /// when it cannot say (a memory-only service), compares in the browser.
    fn load_changes(&mut self, form: Form) {
        let to = self
            .served
            .as_ref()
            .and_then(|s| s.snapshot_id.clone())
            .map_or(SnapshotRef::Latest, SnapshotRef::Id);
        let Some(body) = form
            .diff_body(SnapshotRef::Previous, to)
            .ok()
            .and_then(|b| serde_json::to_string(&b).ok())
        else {
            return;
        };
        let seq = self.seq;
        post(form.endpoint(DIFF_PATH), body, move |reply| {
            Msg::DiffAnswered { seq, reply }
        });
    }

    fn on_diff(&mut self, seq: u32, reply: Result<api::Reply, String>) {
        if seq != self.seq {
            return;
        }
        let Some(current) = self.snapshot.clone() else {
            return;
        };
        let from_api = match reply {
            Ok(r) if r.status == 200 => serde_json::from_str::<DiffResponse>(&r.body)
                .map(|d| d.diff)
                .map_err(|e| state::unreadable_diff(&e.to_string())),
            Ok(r) => Err(state::api_error_message(r.status, &r.body)),
            Err(e) => Err(e),
        };
        let (diff, origin) = match (from_api, &self.previous) {
            (Ok(d), _) => (d, None),
            (Err(_), Some(prev)) => (
                model::diff::diff(prev, &current),
                Some(state::COMPARED_IN_BROWSER),
            ),
            (Err(e), None) => {
                self.el
                    .changes_summary
                    .set_text_content(Some(&state::changes_failed(&e)));
                return;
            }
        };
        self.marks = state::marks_from_diff(&diff, &current);
        self.changes = state::change_lines(&diff, &current);
        let mut summary = state::diff_summary(&diff);
        if let Some(o) = origin {
            summary.push_str(&format!(" ({o})"));
        }
        self.el.changes_summary.set_text_content(Some(&summary));
        self.el
            .changes_list
            .set_inner_html(&render::change_list_html(&self.changes));
        dom::set_attr(&self.el.root, "data-diff", "ready");
        self.rebuild_scene(false);
    }

    /// Builds the scene from the current snapshot and marks, and draws it.
    fn rebuild_scene(&mut self, fit: bool) {
        let Some(snapshot) = self.snapshot.clone() else {
            return;
        };
        let focus_key = self
            .focus
            .and_then(|i| self.scene.as_ref().map(|s| s.tables[i].key.clone()));
        let scene = Scene::build_reduced(
            &snapshot,
            &self.marks,
            self.previous.as_deref(),
            &self.reduce,
        );
        self.focus = focus_key.and_then(|k| scene.find(&k));
        self.measure();
        if fit {
            self.view.fit(&scene.bounds);
        }
        self.scene = Some(scene);
        self.find_hits();
        self.el.empty_hint.set_hidden(true);
        self.drawn = None;
        self.draw();
        self.fill_table_list();
        self.show_detail();
        self.show_reduced();
    }

    fn selected_key(&self) -> Option<String> {
        self.focus
            .and_then(|i| self.scene.as_ref().map(|s| s.tables[i].key.clone()))
    }

    /// The search's hits in the current scene (none for an empty query).
    fn find_hits(&mut self) {
        let query = self.el.search.value();
        self.hits = match &self.scene {
            Some(s) if !query.trim().is_empty() => s.search_hits(&query),
            _ => Vec::new(),
        };
    }

    /// Says what the diagram leaves out, and offers to bring it back.
    fn show_reduced(&self) {
        let (Some(snapshot), Some(scene)) = (&self.snapshot, &self.scene) else {
            return;
        };
        let folded: usize = scene.tables.iter().map(|t| t.folded).sum();
        let line = state::reduced_line(folded, self.reduce.hidden.len(), self.reduce.keys_only);
        self.el.reduced.set_text_content(Some(&line));
        self.el
            .show_hidden
            .set_hidden(self.reduce.hidden.is_empty());
        match &self.reduce.neighbours {
            Some((center, hops)) if snapshot.tables.contains_key(center) => {
                self.el
                    .neighbours_text
                    .set_text_content(Some(&state::neighbours_line(
                        scene.tables.len(),
                        *hops,
                        center,
                    )));
                self.el.neighbours.set_hidden(false);
            }
            _ => self.el.neighbours.set_hidden(true),
        }
    }

    fn measure(&mut self) {
        if let Some((w, h)) = self.el.diagram_size() {
            self.view.width = w;
            self.view.height = h;
        }
    }

    /// Moves the drawing to the view, writing the SVG again only when needed.
    fn draw(&mut self) {
        dom::set_attr(&self.el.world, "transform", &self.view.transform());
        let Some(scene) = &self.scene else {
            return;
        };
        if !render::needs_redraw(self.drawn.as_ref(), &self.view) {
            return;
        }
        let region = render::region_for(&self.view);
        let (svg, drawn) = render::render_with(scene, &self.view, &region, self.focus, &self.hits);
        self.el.world.set_inner_html(&svg);
        dom::set_attr(
            &self.el.root,
            "data-detail",
            &format!("{:?}", drawn.detail).to_lowercase(),
        );
        self.drawn = Some(drawn);
    }

    /// Draws on the next animation frame (many pointer events, one redraw).
    fn schedule_draw(&mut self) {
        if self.frame_requested {
            return;
        }
        self.frame_requested = true;
        let cb = Closure::once_into_js(|| dispatch(Msg::Frame));
        let _ = self.win.request_animation_frame(cb.unchecked_ref());
    }

    fn fill_table_list(&self) {
        let Some(scene) = &self.scene else {
            return;
        };
        let query = self.el.search.value();
        let hits = scene.listed(&query);
        self.el
            .table_list
            .set_inner_html(&render::table_list_html(scene, &hits, self.focus));
        let live = scene.tables.len();
        self.el
            .table_count
            .set_text_content(Some(&state::table_count_line(live, &query, hits.len())));
    }

    /// Centres the view on a table and selects it.
    fn focus_table(&mut self, key: &str) {
        let Some(rect) = self
            .scene
            .as_ref()
            .and_then(|s| s.find(key).map(|i| s.tables[i].rect))
        else {
            return;
        };
        self.measure();
        self.view.focus(&rect);
        self.select(key);
    }

    /// Selects a table where it is: outlined, its neighbours highlighted, its details open.
    fn select(&mut self, key: &str) {
        let Some(i) = self.scene.as_ref().and_then(|s| s.find(key)) else {
            return;
        };
        self.focus = Some(i);
        self.drawn = None;
        self.draw();
        self.fill_table_list();
        self.show_detail();
    }

    /// The detail panel of the selected table; closed when nothing (or a removed table's
    /// ghost) is selected.
    fn show_detail(&self) {
        let key = self
            .focus
            .and_then(|i| self.scene.as_ref().map(|s| s.tables[i].key.clone()));
        let html = key.as_deref().and_then(|k| {
            self.snapshot
                .as_ref()
                .and_then(|s| crate::detail::detail_html(s, k))
        });
        match html {
            Some(h) => {
                self.el.detail.set_inner_html(&h);
                self.el.detail.set_hidden(false);
                dom::set_attr(&self.el.root, "data-selected", key.as_deref().unwrap_or(""));
            }
            None => {
                self.el.detail.set_hidden(true);
                self.el.detail.set_inner_html("");
                let _ = self.el.root.remove_attribute("data-selected");
            }
        }
    }

    fn update_status(&self) {
        let Some(s) = &self.served else {
            return;
        };
        let el = &self.el.last_refreshed;
        el.set_text_content(Some(&s.last_refreshed_line(now_ms())));
        dom::set_attr(el, "title", &state::exact_time(&s.last_refreshed_at));
        dom::set_attr(el, "data-at", &s.last_refreshed_at);
        self.el.source.set_text_content(Some(&s.source_line()));
        dom::set_attr(
            &self.el.source,
            "data-source",
            &state::source_attr(s.source),
        );
        self.el.drift_pill.set_hidden(!s.drifted);
    }
}
