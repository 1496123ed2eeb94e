//! The page: wires the DOM of `index.html` to the pure parts. Reads the form, sends
//! snapshot and diff requests, keeps the last two snapshots, draws the scene in the SVG
//! (redrawing only when the view leaves what is drawn), and keeps "Last refreshed", the
//! source, the drift pill, the table list and the changes panel up to date.
//!
//! It must never put the database URL anywhere but its password field (not in storage,
//! not in the address bar, not in a log), and never let an answer to an older request
//! overwrite a newer one.

use crate::api;
use crate::render::{self, Drawn};
use crate::scene::Scene;
use crate::state::{self, ChangeLine, Form, Marks, Refresh, SnapshotResponse};
use crate::view::View;
use model::Snapshot;
use std::cell::RefCell;
use std::fmt::Write;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, HtmlInputElement, Window};

const SNAPSHOT_PATH: &str = "/api/v1/introspect/postgres/snapshot";
const DIFF_PATH: &str = "/api/v1/introspect/postgres/diff";
/// The service refuses more visible tables than this; more than that is a full refresh.
const MAX_VISIBLE_TABLES: usize = 2_000;
const STORAGE_KEY: &str = "catalog-snapshot.form";

thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
}

/// Runs `f` on the app, unless it is not started or already borrowed (a re-entrant event).
fn with_app<R>(f: impl FnOnce(&mut App) -> R) -> Option<R> {
    APP.with(|a| a.try_borrow_mut().ok().and_then(|mut a| a.as_mut().map(f)))
}

struct Elements {
    root: HtmlElement,
    database_url: HtmlInputElement,
    connection_id: HtmlInputElement,
    schemas: HtmlInputElement,
    api_base: HtmlInputElement,
    last_refreshed: HtmlElement,
    source: HtmlElement,
    drift_pill: HtmlElement,
    progress: HtmlElement,
    progress_text: HtmlElement,
    refresh: HtmlElement,
    refresh_visible: HtmlElement,
    error: HtmlElement,
    search: HtmlInputElement,
    table_count: HtmlElement,
    table_list: HtmlElement,
    svg: Element,
    world: Element,
    empty_hint: HtmlElement,
    changes: HtmlElement,
    changes_summary: HtmlElement,
    changes_list: HtmlElement,
}

fn by_id<T: JsCast>(doc: &Document, id: &str) -> Result<T, JsValue> {
    doc.get_element_by_id(id)
        .ok_or_else(|| JsValue::from_str(&format!("index.html has no #{id}")))?
        .dyn_into::<T>()
        .map_err(|_| JsValue::from_str(&format!("#{id} is not the expected element")))
}

impl Elements {
    fn find(doc: &Document) -> Result<Elements, JsValue> {
        Ok(Elements {
            root: doc
                .document_element()
                .ok_or("no document element")?
                .dyn_into()?,
            database_url: by_id(doc, "database-url")?,
            connection_id: by_id(doc, "connection-id")?,
            schemas: by_id(doc, "schemas")?,
            api_base: by_id(doc, "api-base")?,
            last_refreshed: by_id(doc, "last-refreshed")?,
            source: by_id(doc, "source")?,
            drift_pill: by_id(doc, "drift-pill")?,
            progress: by_id(doc, "progress")?,
            progress_text: by_id(doc, "progress-text")?,
            refresh: by_id(doc, "refresh")?,
            refresh_visible: by_id(doc, "refresh-visible")?,
            error: by_id(doc, "error")?,
            search: by_id(doc, "search")?,
            table_count: by_id(doc, "table-count")?,
            table_list: by_id(doc, "table-list")?,
            svg: by_id(doc, "diagram")?,
            world: by_id(doc, "world")?,
            empty_hint: by_id(doc, "empty-hint")?,
            changes: by_id(doc, "changes")?,
            changes_summary: by_id(doc, "changes-summary")?,
            changes_list: by_id(doc, "changes-list")?,
        })
    }
}

/// The request in flight, if any.
struct Pending {
    what: &'static str,
    started: f64,
}

/// What the last snapshot response said besides the snapshot.
struct Served {
    last_refreshed_at: String,
    source: String,
    drifted: bool,
    snapshot_id: Option<String>,
    note: Option<String>,
}

struct App {
    win: Window,
    el: Elements,
    seq: u32,
    pending: Option<Pending>,
    /// Which connection and schemas the snapshots belong to (no password: a hash-free
    /// identity made of the connection id or the URL's host part, and the schemas).
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
    drag: Option<(f64, f64, f64)>,
    loads: u32,
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn perf_now(win: &Window) -> f64 {
    win.performance().map(|p| p.now()).unwrap_or(0.0)
}

fn set_hidden(el: &HtmlElement, hidden: bool) {
    el.set_hidden(hidden);
}

fn set_disabled(el: &HtmlElement, disabled: bool) {
    let _ = if disabled {
        el.set_attribute("disabled", "")
    } else {
        el.remove_attribute("disabled")
    };
}

/// Who a form points at, without credentials: for telling one connection from another.
fn identity(form: &Form) -> String {
    let target = if !form.connection_id.trim().is_empty() {
        format!("id:{}", form.connection_id.trim())
    } else {
        let url = form.database_url.trim();
        let host = url.rsplit('@').next().unwrap_or(url);
        format!("url:{host}")
    };
    format!("{target}|{}", form.schema_list().join(","))
}

impl App {
    fn form(&self) -> Form {
        Form {
            api_base: self.el.api_base.value(),
            database_url: self.el.database_url.value(),
            connection_id: self.el.connection_id.value(),
            schemas: self.el.schemas.value(),
        }
    }

    /// Remembers the form, except the database URL, for the next visit.
    fn remember_form(&self, form: &Form) {
        if let Ok(Some(storage)) = self.win.local_storage() {
            let saved = serde_json::json!({
                "apiBase": form.api_base, "connectionId": form.connection_id, "schemas": form.schemas,
            });
            let _ = storage.set_item(STORAGE_KEY, &saved.to_string());
        }
    }

    fn show_error(&self, message: Option<&str>) {
        match message {
            Some(m) => {
                self.el.error.set_text_content(Some(m));
                set_hidden(&self.el.error, false);
            }
            None => set_hidden(&self.el.error, true),
        }
    }

    fn set_pending(&mut self, pending: Option<Pending>) {
        let busy = pending.is_some();
        if let Some(p) = &pending {
            self.el.progress_text.set_text_content(Some(p.what));
        }
        self.pending = pending;
        set_hidden(&self.el.progress, !busy);
        let _ = self
            .el
            .root
            .set_attribute("data-state", if busy { "loading" } else { "idle" });
        self.update_buttons();
    }

    /// Refresh needs a loaded schema and no request in flight.
    fn update_buttons(&self) {
        let off = self.pending.is_some() || self.snapshot.is_none();
        set_disabled(&self.el.refresh, off);
        set_disabled(&self.el.refresh_visible, off);
    }

    /// Sends a snapshot request for the form's connection.
    fn load(&mut self, refresh: Refresh) {
        let form = self.form();
        let mut refresh = refresh;
        let visible: Vec<String> = if refresh == Refresh::Visible {
            self.visible_tables()
        } else {
            Vec::new()
        };
        if refresh == Refresh::Visible && visible.len() > MAX_VISIBLE_TABLES {
            refresh = Refresh::Force;
        }
        let body = match form.snapshot_body(refresh, &visible) {
            Ok(b) => b.to_string(),
            Err(message) => {
                self.show_error(Some(&message));
                return;
            }
        };
        self.show_error(None);
        self.remember_form(&form);
        self.seq += 1;
        let seq = self.seq;
        let what = match refresh {
            Refresh::Cache => "Loading the schema…",
            Refresh::Force => "Reading the catalog…",
            Refresh::Visible => "Re-reading the visible tables…",
        };
        let started = perf_now(&self.win);
        self.set_pending(Some(Pending { what, started }));
        let url = form.endpoint(SNAPSHOT_PATH);
        wasm_bindgen_futures::spawn_local(async move {
            let reply = api::post_json(&url, &body).await;
            with_app(|app| app.on_snapshot(seq, form, &url, reply));
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
                self.show_error(Some(&state::network_error_message(url, &detail)));
                return;
            }
        };
        if reply.status != 200 {
            self.show_error(Some(&state::api_error_message(reply.status, &reply.body)));
            return;
        }
        let response: SnapshotResponse = match serde_json::from_str(&reply.body) {
            Ok(r) => r,
            Err(e) => {
                self.show_error(Some(&format!(
                    "The API's answer could not be read as a snapshot ({e})."
                )));
                return;
            }
        };
        let t_parsed = perf_now(&self.win);
        let who = identity(&form);
        let same_connection = self.loaded_for.as_deref() == Some(who.as_str());
        self.previous = if same_connection {
            self.snapshot.take()
        } else {
            None
        };
        self.loaded_for = Some(who);
        let snapshot = Rc::new(response.snapshot);
        self.snapshot = Some(snapshot.clone());
        let drifted = response.drift.changed_since_last;
        self.served = Some(Served {
            last_refreshed_at: response.last_refreshed_at,
            source: response.cache.source,
            drifted,
            snapshot_id: response
                .persistence
                .as_ref()
                .filter(|p| p.saved)
                .and_then(|p| p.snapshot_id.clone()),
            note: persistence_note(&response.persistence)
                .or_else(|| response.refresh.as_ref().and_then(refresh_note)),
        });
        // Marks belong to the drift of this answer; they arrive with its diff.
        self.marks = Marks::default();
        self.changes.clear();
        self.el.changes_summary.set_text_content(Some(if drifted {
            "Loading the changes…"
        } else {
            ""
        }));
        self.el.changes_list.set_inner_html("");
        if !drifted {
            set_hidden(&self.el.changes, true);
        }
        self.rebuild_scene(!same_connection);
        let t_drawn = perf_now(&self.win);
        self.loads += 1;
        let _ = self
            .el
            .root
            .set_attribute("data-loads", &self.loads.to_string());
        let timings = serde_json::json!({
            "requestMs": (t_received - started).round(),
            "parseMs": (t_parsed - t_received).round(),
            "drawMs": (t_drawn - t_parsed).round(),
            "tables": snapshot.tables.len(),
            "drawnAtMs": t_drawn.round(),
        });
        let _ = self
            .el
            .root
            .set_attribute("data-timings", &timings.to_string());
        if self.el.root.get_attribute("data-first-draw-ms").is_none() {
            let _ = self
                .el
                .root
                .set_attribute("data-first-draw-ms", &t_drawn.round().to_string());
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
            .unwrap_or_else(|| "latest".into());
        let Ok(body) = form.diff_body("previous", &to) else {
            return;
        };
        let seq = self.seq;
        let url = form.endpoint(DIFF_PATH);
        wasm_bindgen_futures::spawn_local(async move {
            let reply = api::post_json(&url, &body.to_string()).await;
            with_app(|app| app.on_diff(seq, reply));
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
            Ok(r) if r.status == 200 => serde_json::from_str::<state::DiffResponse>(&r.body)
                .map(|d| d.diff)
                .map_err(|e| format!("the diff could not be read ({e})")),
            Ok(r) => Err(state::api_error_message(r.status, &r.body)),
            Err(e) => Err(e),
        };
        let (diff, origin) = match (from_api, &self.previous) {
            (Ok(d), _) => (d, None),
            (Err(_), Some(prev)) => (
                model::diff::diff(prev, &current),
                Some("compared in the browser with the snapshot shown before"),
            ),
            (Err(e), None) => {
                self.el
                    .changes_summary
                    .set_text_content(Some(&format!("The changes could not be loaded: {e}")));
                return;
            }
        };
        self.marks = state::marks_from_diff(&diff, &current);
        self.changes = state::change_lines(&diff, &current);
        let mut summary = state::diff_summary(&diff);
        if let Some(o) = origin {
            let _ = write!(summary, " ({o})");
        }
        self.el.changes_summary.set_text_content(Some(&summary));
        let mut html = String::new();
        for line in &self.changes {
            let _ = write!(
                html,
                r#"<li class="{mark}" data-table="{table}"><span class="what">{mark} {kind}</span> <code>{key}</code>{detail}</li>"#,
                mark = line.mark.class(),
                kind = line.kind,
                table = render::esc(line.table.as_deref().unwrap_or("")),
                key = render::esc(&line.key),
                detail = if line.detail.is_empty() {
                    String::new()
                } else {
                    format!(r#"<div class="detail">{}</div>"#, render::esc(&line.detail))
                },
            );
        }
        self.el.changes_list.set_inner_html(&html);
        let _ = self.el.root.set_attribute("data-diff", "ready");
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
        let scene = Scene::build(&snapshot, &self.marks, self.previous.as_deref());
        self.focus = focus_key.and_then(|k| scene.find(&k));
        self.measure();
        if fit {
            self.view.fit(&scene.bounds);
        }
        self.scene = Some(scene);
        set_hidden(&self.el.empty_hint, true);
        self.drawn = None;
        self.draw();
        self.fill_table_list();
    }

    fn measure(&mut self) {
        let r = self.el.svg.get_bounding_client_rect();
        if r.width() > 0.0 && r.height() > 0.0 {
            self.view.width = r.width();
            self.view.height = r.height();
        }
    }

    /// Moves the drawing to the view, writing the SVG again only when needed.
    fn draw(&mut self) {
        let _ = self
            .el
            .world
            .set_attribute("transform", &self.view.transform());
        let Some(scene) = &self.scene else {
            return;
        };
        if !render::needs_redraw(self.drawn.as_ref(), &self.view) {
            return;
        }
        let region = render::region_for(&self.view);
        let (svg, drawn) = render::render(scene, &self.view, &region, self.focus);
        self.el.world.set_inner_html(&svg);
        let _ = self
            .el
            .root
            .set_attribute("data-detail", &format!("{:?}", drawn.detail).to_lowercase());
        self.drawn = Some(drawn);
    }

    /// Draws on the next animation frame (many pointer events, one redraw).
    fn schedule_draw(&mut self) {
        if self.frame_requested {
            return;
        }
        self.frame_requested = true;
        let cb = Closure::once_into_js(|| {
            with_app(|app| {
                app.frame_requested = false;
                app.draw();
            });
        });
        let _ = self.win.request_animation_frame(cb.unchecked_ref());
    }

    fn fill_table_list(&self) {
        let Some(scene) = &self.scene else {
            return;
        };
        let query = self.el.search.value();
        let hits: Vec<usize> = if query.trim().is_empty() {
            let mut all: Vec<usize> = (0..scene.tables.len()).collect();
            all.sort_by(|&a, &b| {
                crate::scene::natural_cmp(&scene.tables[a].key, &scene.tables[b].key)
            });
            all
        } else {
            scene.search(&query)
        };
        let mut html = String::with_capacity(hits.len() * 80);
        for &i in &hits {
            let t = &scene.tables[i];
            let mut class = String::new();
            if let Some(m) = t.mark {
                class.push_str(m.class());
            }
            if self.focus == Some(i) {
                class.push_str(" selected");
            }
            let _ = write!(
                html,
                r#"<li class="{class}" data-key="{key}" title="{key}">{key}<span class="n">{n}</span></li>"#,
                key = render::esc(&t.key),
                n = t.rows.len(),
            );
        }
        self.el.table_list.set_inner_html(&html);
        let live = self.snapshot.as_ref().map_or(0, |s| s.tables.len());
        let count = if query.trim().is_empty() {
            format!("{live} tables")
        } else if hits.is_empty() {
            format!("No table matches “{}”", query.trim())
        } else {
            format!("{} of {live} tables match", hits.len())
        };
        self.el.table_count.set_text_content(Some(&count));
    }

    /// Centres the view on a table and outlines it.
    fn focus_table(&mut self, key: &str) {
        let Some(scene) = &self.scene else {
            return;
        };
        let Some(i) = scene.find(key) else {
            return;
        };
        let rect = scene.tables[i].rect;
        self.focus = Some(i);
        self.measure();
        self.view.focus(&rect);
        self.drawn = None;
        self.draw();
        self.fill_table_list();
    }

    fn update_status(&self) {
        let Some(s) = &self.served else {
            return;
        };
        let relative = match state::parse_time_ms(&s.last_refreshed_at) {
            Some(t) => state::relative_time(now_ms(), t),
            None => s.last_refreshed_at.clone(),
        };
        self.el
            .last_refreshed
            .set_text_content(Some(&format!("Last refreshed {relative}")));
        let _ = self
            .el
            .last_refreshed
            .set_attribute("title", &state::exact_time(&s.last_refreshed_at));
        let _ = self
            .el
            .last_refreshed
            .set_attribute("data-at", &s.last_refreshed_at);
        let mut source = format!("from the {}", state::source_label(&s.source));
        if let Some(n) = &s.note {
            let _ = write!(source, " · {n}");
        }
        self.el.source.set_text_content(Some(&source));
        let _ = self.el.source.set_attribute("data-source", &s.source);
        set_hidden(&self.el.drift_pill, !s.drifted);
    }
}

fn persistence_note(p: &Option<state::Persistence>) -> Option<String> {
    let p = p.as_ref()?;
    if p.store == "none" {
        return Some("not saved (the service runs memory-only)".into());
    }
    if !p.saved {
        return Some(match &p.error {
            Some(e) => format!("not saved: {e}"),
            None => "not saved".into(),
        });
    }
    None
}

fn refresh_note(r: &state::RefreshInfo) -> Option<String> {
    if let Some(n) = &r.note {
        return Some(n.clone());
    }
    match (&r.refreshed_tables, r.performed.as_str()) {
        (Some(t), "visible") => Some(format!(
            "{} visible table{} re-read",
            t.len(),
            if t.len() == 1 { "" } else { "s" }
        )),
        _ => None,
    }
}

fn listen<E: JsCast + 'static>(
    target: &web_sys::EventTarget,
    kind: &str,
    passive: bool,
    mut f: impl FnMut(E) + 'static,
) -> Result<(), JsValue> {
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        if let Ok(e) = e.dyn_into::<E>() {
            f(e);
        }
    });
    let opts = web_sys::AddEventListenerOptions::new();
    opts.set_passive(passive);
    target.add_event_listener_with_callback_and_add_event_listener_options(
        kind,
        cb.as_ref().unchecked_ref(),
        &opts,
    )?;
    cb.forget();
    Ok(())
}

/// The key in `data-key` of the nearest element matching `selector` around the event's
/// target.
fn key_at(e: &web_sys::Event, selector: &str) -> Option<String> {
    e.target()?
        .dyn_into::<Element>()
        .ok()?
        .closest(selector)
        .ok()??
        .get_attribute("data-key")
}

/// Starts the app: called once when the module loads.
pub fn start() -> Result<(), JsValue> {
    let win = web_sys::window().ok_or("no window")?;
    let doc = win.document().ok_or("no document")?;
    let el = Elements::find(&doc)?;

    // The form: the address bar (?connectionId=&schemas=&api=) wins over what was saved.
    if let Ok(Some(storage)) = win.local_storage() {
        if let Ok(Some(saved)) = storage.get_item(STORAGE_KEY) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&saved) {
                let text = |k: &str| v.get(k).and_then(|s| s.as_str()).unwrap_or("").to_string();
                el.api_base.set_value(&text("apiBase"));
                el.connection_id.set_value(&text("connectionId"));
                if !text("schemas").is_empty() {
                    el.schemas.set_value(&text("schemas"));
                }
            }
        }
    }
    let params = web_sys::UrlSearchParams::new_with_str(&win.location().search()?)?;
    for (name, input) in [
        ("connectionId", &el.connection_id),
        ("schemas", &el.schemas),
        ("api", &el.api_base),
    ] {
        if let Some(v) = params.get(name) {
            input.set_value(&v);
        }
    }
    let auto_load = !el.connection_id.value().trim().is_empty();

    let app = App {
        win: win.clone(),
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
        drag: None,
        loads: 0,
    };
    let (form_el, refresh, refresh_visible, search, list, svg, pill, changes_list) = (
        by_id::<HtmlElement>(&doc, "connection")?,
        app.el.refresh.clone(),
        app.el.refresh_visible.clone(),
        app.el.search.clone(),
        app.el.table_list.clone(),
        app.el.svg.clone(),
        app.el.drift_pill.clone(),
        app.el.changes_list.clone(),
    );
    APP.with(|a| *a.borrow_mut() = Some(app));
    with_app(|app| app.set_pending(None));

    listen(&form_el, "submit", false, |e: web_sys::Event| {
        e.prevent_default();
        with_app(|app| app.load(Refresh::Cache));
    })?;
    listen(&refresh, "click", true, |_: web_sys::Event| {
        with_app(|app| app.load(Refresh::Force));
    })?;
    listen(&refresh_visible, "click", true, |_: web_sys::Event| {
        with_app(|app| app.load(Refresh::Visible));
    })?;
    listen(&search, "input", true, |_: web_sys::Event| {
        with_app(|app| app.fill_table_list());
    })?;
    listen(&search, "keydown", false, |e: web_sys::KeyboardEvent| {
        if e.key() == "Enter" {
            e.prevent_default();
            with_app(|app| {
                let first = app.scene.as_ref().and_then(|s| {
                    s.search(&app.el.search.value())
                        .first()
                        .map(|&i| s.tables[i].key.clone())
                });
                match first {
                    Some(k) => app.focus_table(&k),
                    None => app.fill_table_list(),
                }
            });
        }
    })?;
    listen(&list, "click", true, |e: web_sys::Event| {
        if let Some(k) = key_at(&e, "li") {
            with_app(|app| app.focus_table(&k));
        }
    })?;
    listen(&changes_list, "click", true, |e: web_sys::Event| {
        let table = e
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|t| t.closest("li").ok().flatten())
            .and_then(|li| li.get_attribute("data-table"))
            .filter(|t| !t.is_empty());
        if let Some(t) = table {
            with_app(|app| app.focus_table(&t));
        }
    })?;
    listen(&pill, "click", true, |_: web_sys::Event| {
        with_app(|app| {
            let hidden = app.el.changes.hidden();
            set_hidden(&app.el.changes, !hidden);
        });
    })?;
    let close = by_id::<HtmlElement>(&doc, "changes-close")?;
    listen(&close, "click", true, |_: web_sys::Event| {
        with_app(|app| set_hidden(&app.el.changes, true));
    })?;
    for (id, factor) in [("zoom-in", 1.25), ("zoom-out", 0.8), ("zoom-fit", 0.0)] {
        let button = by_id::<HtmlElement>(&doc, id)?;
        listen(&button, "click", true, move |_: web_sys::Event| {
            with_app(|app| {
                app.measure();
                if factor == 0.0 {
                    if let Some(b) = app.scene.as_ref().map(|s| s.bounds) {
                        app.view.fit(&b);
                    }
                } else {
                    let (w, h) = (app.view.width, app.view.height);
                    app.view.zoom_at(factor, w / 2.0, h / 2.0);
                }
                app.schedule_draw();
            });
        })?;
    }

    // Pan with the pointer, zoom with the wheel about the pointer, click a box to focus.
    listen(&svg, "pointerdown", true, |e: web_sys::PointerEvent| {
        if e.button() != 0 {
            return;
        }
        with_app(|app| {
            app.drag = Some((e.client_x() as f64, e.client_y() as f64, 0.0));
            let _ = app.el.svg.set_pointer_capture(e.pointer_id());
        });
    })?;
    listen(&svg, "pointermove", true, |e: web_sys::PointerEvent| {
        with_app(|app| {
            if let Some((x, y, moved)) = app.drag {
                let (nx, ny) = (e.client_x() as f64, e.client_y() as f64);
                app.view.pan_by_screen(nx - x, ny - y);
                app.drag = Some((nx, ny, moved + (nx - x).abs() + (ny - y).abs()));
                app.schedule_draw();
            }
        });
    })?;
    listen(&svg, "pointerup", true, |e: web_sys::PointerEvent| {
        let clicked = with_app(|app| app.drag.take().is_some_and(|(_, _, moved)| moved < 4.0));
        if clicked == Some(true) {
            if let Some(k) = key_at(&e, "g.tbl") {
                with_app(|app| app.focus_table(&k));
            }
        }
    })?;
    listen(&svg, "pointercancel", true, |_: web_sys::PointerEvent| {
        with_app(|app| app.drag = None);
    })?;
    listen(&svg, "wheel", false, |e: web_sys::WheelEvent| {
        e.prevent_default();
        with_app(|app| {
            let unit = match e.delta_mode() {
                1 => 16.0,
                2 => 400.0,
                _ => 1.0,
            };
            let factor = (-e.delta_y() * unit * 0.0015).exp();
            let r = app.el.svg.get_bounding_client_rect();
            app.measure();
            app.view.zoom_at(
                factor,
                e.client_x() as f64 - r.left(),
                e.client_y() as f64 - r.top(),
            );
            app.schedule_draw();
        });
    })?;
    listen(&win, "resize", true, |_: web_sys::Event| {
        with_app(|app| {
            app.measure();
            app.schedule_draw();
        });
    })?;

    // "Last refreshed" and the progress timer tick.
    let tick = Closure::<dyn FnMut()>::new(|| {
        with_app(|app| {
            app.update_status();
            if let Some(p) = &app.pending {
                let secs = ((perf_now(&app.win) - p.started) / 1000.0).floor();
                let text = if secs >= 2.0 {
                    format!("{} {secs:.0} s", p.what)
                } else {
                    p.what.to_string()
                };
                app.el.progress_text.set_text_content(Some(&text));
            }
        });
    });
    win.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        1000,
    )?;
    tick.forget();

    // A deployment says where its API is in config.json next to the page ({"apiBase": URL}).
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(reply) = api::get("config.json").await {
            if reply.status == 200 {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&reply.body) {
                    if let Some(base) = v.get("apiBase").and_then(|b| b.as_str()) {
                        with_app(|app| {
                            if app.el.api_base.value().trim().is_empty() {
                                app.el.api_base.set_value(base);
                            }
                        });
                    }
                }
            }
        }
        if auto_load {
            with_app(|app| app.load(Refresh::Cache));
        }
    });
    Ok(())
}
