//! The page's wiring: finds the elements of `index.html`, and turns each DOM event into
//! one [`Msg`] for [`app::dispatch`]. Holds no state and decides nothing: what a message
//! does is [`App::update`]'s business.
//!
//! It must never read the database URL field except into the form a request is built from.

use crate::api;
use crate::app::{self, App, Msg};
use crate::state::Form;
use model::api::Refresh;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, EventTarget, HtmlElement, HtmlInputElement};

/// The elements the app writes to.
pub struct Elements {
    pub root: HtmlElement,
    pub database_url: HtmlInputElement,
    pub connection_id: HtmlInputElement,
    pub schemas: HtmlInputElement,
    pub api_base: HtmlInputElement,
    pub last_refreshed: HtmlElement,
    pub source: HtmlElement,
    pub drift_pill: HtmlElement,
    pub progress: HtmlElement,
    pub progress_text: HtmlElement,
    pub refresh: HtmlElement,
    pub refresh_visible: HtmlElement,
    pub error: HtmlElement,
    pub search: HtmlInputElement,
    pub table_count: HtmlElement,
    pub table_list: HtmlElement,
    pub svg: Element,
    pub world: Element,
    pub empty_hint: HtmlElement,
    pub changes: HtmlElement,
    pub changes_summary: HtmlElement,
    pub changes_list: HtmlElement,
    pub detail: HtmlElement,
    pub on_screen: HtmlElement,
    pub keys_only: HtmlInputElement,
    pub fold_partitions: HtmlInputElement,
    pub reduced: HtmlElement,
    pub show_hidden: HtmlElement,
    pub neighbours: HtmlElement,
    pub neighbours_text: HtmlElement,
}

fn by_id<T: JsCast>(doc: &Document, id: &str) -> Result<T, JsValue> {
    doc.get_element_by_id(id)
        .ok_or_else(|| JsValue::from_str(&format!("index.html has no #{id}")))?
        .dyn_into::<T>()
        .map_err(|_| JsValue::from_str(&format!("#{id} is not the expected element")))
}

/// Sets an attribute; an attribute the DOM refuses is not worth stopping for.
pub fn set_attr(el: &Element, name: &str, value: &str) {
    let _ = el.set_attribute(name, value);
}

pub fn set_disabled(el: &HtmlElement, disabled: bool) {
    let _ = if disabled {
        el.set_attribute("disabled", "")
    } else {
        el.remove_attribute("disabled")
    };
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
            detail: by_id(doc, "detail")?,
            on_screen: by_id(doc, "on-screen")?,
            keys_only: by_id(doc, "keys-only")?,
            fold_partitions: by_id(doc, "fold-partitions")?,
            reduced: by_id(doc, "reduced")?,
            show_hidden: by_id(doc, "show-hidden")?,
            neighbours: by_id(doc, "neighbours")?,
            neighbours_text: by_id(doc, "neighbours-text")?,
        })
    }

    /// The connection form as typed.
    pub fn form(&self) -> Form {
        Form {
            api_base: self.api_base.value(),
            database_url: self.database_url.value(),
            connection_id: self.connection_id.value(),
            schemas: self.schemas.value(),
        }
    }

    /// Fills the form's fields except the database URL (never restored from anywhere).
    pub fn set_form(&self, form: &Form) {
        self.api_base.set_value(&form.api_base);
        self.connection_id.set_value(&form.connection_id);
        self.schemas.set_value(&form.schemas);
    }

    pub fn show_error(&self, message: Option<&str>) {
        match message {
            Some(m) => {
                self.error.set_text_content(Some(m));
                self.error.set_hidden(false);
            }
            None => self.error.set_hidden(true),
        }
    }

    /// Gives the keyboard focus to the drawn box of table `key` (after a redraw replaced
    /// the one that had it).
    pub fn focus_box(&self, key: &str) {
        let Ok(boxes) = self.world.query_selector_all("g.tbl") else {
            return;
        };
        for n in 0..boxes.length() {
            let Some(el) = boxes
                .item(n)
                .and_then(|b| b.dyn_into::<web_sys::SvgElement>().ok())
            else {
                continue;
            };
            if el.get_attribute("data-key").as_deref() == Some(key) {
                let _ = el.focus();
                return;
            }
        }
    }

    /// The diagram's size on screen, once it has one.
    pub fn diagram_size(&self) -> Option<(f64, f64)> {
        let r = self.svg.get_bounding_client_rect();
        (r.width() > 0.0 && r.height() > 0.0).then(|| (r.width(), r.height()))
    }
}

/// Calls `f` with every `kind` event on `target` that is an `E`.
fn listen<E: JsCast + 'static>(
    target: &EventTarget,
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

/// Sends `msg()` for every `kind` event on `target`.
fn on(target: &EventTarget, kind: &str, msg: impl Fn() -> Msg + 'static) -> Result<(), JsValue> {
    listen(target, kind, true, move |_: web_sys::Event| {
        app::dispatch(msg())
    })
}

/// The value of `attr` on the nearest element matching `selector` around the event's
/// target.
fn attr_at(e: &web_sys::Event, selector: &str, attr: &str) -> Option<String> {
    e.target()?
        .dyn_into::<Element>()
        .ok()?
        .closest(selector)
        .ok()??
        .get_attribute(attr)
        .filter(|v| !v.is_empty())
}

fn doc_input(doc: &Document, id: &str) -> Result<HtmlInputElement, JsValue> {
    by_id(doc, id)
}

/// Starts the app: called once when the module loads.
pub fn start() -> Result<(), JsValue> {
    let win = web_sys::window().ok_or("no window")?;
    let doc = win.document().ok_or("no document")?;
    let el = Elements::find(&doc)?;
    let (form, search, list, svg, pill, changes_list) = (
        by_id::<HtmlElement>(&doc, "connection")?,
        el.search.clone(),
        el.table_list.clone(),
        el.svg.clone(),
        el.drift_pill.clone(),
        el.changes_list.clone(),
    );
    let (refresh, refresh_visible, detail) = (
        el.refresh.clone(),
        el.refresh_visible.clone(),
        el.detail.clone(),
    );
    let app = App::new(win.clone(), el);
    let auto_load = app.names_a_connection();
    app::install(app);

    listen(&form, "submit", false, |e: web_sys::Event| {
        e.prevent_default();
        app::dispatch(Msg::Load(Refresh::Cache));
    })?;
    on(&refresh, "click", || Msg::Load(Refresh::Force))?;
    on(&refresh_visible, "click", || Msg::Load(Refresh::Visible))?;
    on(&search, "input", || Msg::SearchEdited)?;
    listen(&search, "keydown", false, |e: web_sys::KeyboardEvent| {
        if e.key() == "Enter" {
            e.prevent_default();
            app::dispatch(Msg::SearchSubmitted);
        }
    })?;
    listen(&list, "click", true, |e: web_sys::Event| {
        if let Some(k) = attr_at(&e, "li", "data-key") {
            app::dispatch(Msg::Focus(k));
        }
    })?;
    listen(&list, "keydown", false, |e: web_sys::KeyboardEvent| {
        if e.key() == "Enter" || e.key() == " " {
            if let Some(k) = attr_at(&e, "li", "data-key") {
                e.prevent_default();
                app::dispatch(Msg::Focus(k));
            }
        }
    })?;
    listen(&changes_list, "click", true, |e: web_sys::Event| {
        if let Some(t) = attr_at(&e, "li", "data-table") {
            app::dispatch(Msg::Focus(t));
        }
    })?;
    on(&pill, "click", || Msg::ToggleChanges)?;
    // The detail panel: a relationship or partition leads to its table; × closes.
    listen(&detail, "click", true, |e: web_sys::Event| {
        if let Some(k) = attr_at(&e, "button.rel", "data-key") {
            app::dispatch(Msg::Focus(k));
        } else if attr_at(&e, "#detail-close", "id").is_some() {
            app::dispatch(Msg::Deselect);
        } else if let Some(action) = attr_at(&e, "button[data-action]", "data-action") {
            let hops = attr_at(&e, "button[data-action]", "data-hops")
                .and_then(|h| h.parse().ok())
                .unwrap_or(1);
            app::dispatch(match action.as_str() {
                "hide" => Msg::HideSelected,
                _ => Msg::Neighbours(hops),
            });
        }
    })?;
    let keys_only = doc_input(&doc, "keys-only")?;
    let reader = keys_only.clone();
    on(&keys_only, "change", move || {
        Msg::KeysOnly(reader.checked())
    })?;
    let fold = doc_input(&doc, "fold-partitions")?;
    let reader = fold.clone();
    on(&fold, "change", move || {
        Msg::FoldPartitions(reader.checked())
    })?;
    on(&by_id::<EventTarget>(&doc, "show-hidden")?, "click", || {
        Msg::ShowHidden
    })?;
    on(&by_id::<EventTarget>(&doc, "show-all")?, "click", || {
        Msg::ShowAll
    })?;
    listen(&doc, "keydown", true, |e: web_sys::KeyboardEvent| {
        if e.key() == "Escape" {
            app::dispatch(Msg::Deselect);
        }
    })?;
    // Enter or Space on a focused box selects it.
    listen(&svg, "keydown", false, |e: web_sys::KeyboardEvent| {
        if e.key() != "Enter" && e.key() != " " {
            return;
        }
        if let Some(key) = attr_at(&e, "g.tbl", "data-key") {
            e.prevent_default();
            app::dispatch(Msg::Select {
                key,
                from_keyboard: true,
            });
        }
    })?;
    on(
        &by_id::<EventTarget>(&doc, "changes-close")?,
        "click",
        || Msg::CloseChanges,
    )?;
    on(&by_id::<EventTarget>(&doc, "zoom-in")?, "click", || {
        Msg::ZoomBy(1.25)
    })?;
    on(&by_id::<EventTarget>(&doc, "zoom-out")?, "click", || {
        Msg::ZoomBy(0.8)
    })?;
    on(&by_id::<EventTarget>(&doc, "zoom-fit")?, "click", || {
        Msg::ZoomFit
    })?;

    // Pan with the pointer, zoom with the wheel about the pointer, click a box to focus.
    // The table is read from the press (its target is the box); once the SVG captures the
    // pointer, the release's target is the SVG.
    let captor = svg.clone();
    listen(
        &svg,
        "pointerdown",
        true,
        move |e: web_sys::PointerEvent| {
            if e.button() != 0 {
                return;
            }
            let table = attr_at(&e, "g.tbl", "data-key");
            let stub = attr_at(&e, "text.stub", "data-far");
            let _ = captor.set_pointer_capture(e.pointer_id());
            app::dispatch(Msg::PointerDown {
                x: e.client_x() as f64,
                y: e.client_y() as f64,
                table,
                stub,
            });
        },
    )?;
    listen(&svg, "pointermove", true, |e: web_sys::PointerEvent| {
        app::dispatch(Msg::PointerMoved {
            x: e.client_x() as f64,
            y: e.client_y() as f64,
        });
    })?;
    on(&svg, "pointerup", || Msg::PointerUp)?;
    on(&svg, "pointercancel", || Msg::PointerCancelled)?;
    let wheel_svg = svg.clone();
    listen(&svg, "wheel", false, move |e: web_sys::WheelEvent| {
        e.prevent_default();
        let unit = match e.delta_mode() {
            1 => 16.0,
            2 => 400.0,
            _ => 1.0,
        };
        let r = wheel_svg.get_bounding_client_rect();
        app::dispatch(Msg::Wheel {
            factor: (-e.delta_y() * unit * 0.0015).exp(),
            x: e.client_x() as f64 - r.left(),
            y: e.client_y() as f64 - r.top(),
        });
    })?;
    on(&win, "resize", || Msg::Resized)?;

    // "Last refreshed" and the progress timer tick.
    let tick = Closure::<dyn FnMut()>::new(|| app::dispatch(Msg::Tick));
    win.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        1000,
    )?;
    tick.forget();

    // A deployment says where its API is in config.json next to the page ({"apiBase": URL}).
    wasm_bindgen_futures::spawn_local(async move {
        let api_base = match api::get("config.json").await {
            Ok(reply) if reply.status == 200 => crate::state::configured_api_base(&reply.body),
            _ => None,
        };
        app::dispatch(Msg::Configured {
            api_base,
            auto_load,
        });
    });
    Ok(())
}
