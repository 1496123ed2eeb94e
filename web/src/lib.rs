//! The schema-diagram web app: Rust compiled to WebAssembly.
//!
//! `layout`, `scene`, `view`, `render` and `state` are pure (no DOM, no clock) and
//! unit-tested natively: every sentence and every piece of markup the page shows comes
//! from them. `api` (HTTP), `dom` (elements, and DOM events turned into messages) and
//! `app` (the messages and the one `update` that acts on them) are the only modules that
//! touch the browser. The app talks to the service only through its HTTP API and shares
//! the snapshot model (types and diff) with the server through the `model` crate. It must
//! never store or log a database password: the database URL stays in the form field,
//! never in storage or the address bar.

pub mod detail;
pub mod layout;
pub mod render;
pub mod scene;
pub mod state;
pub mod view;

pub mod api;
pub mod app;
pub mod dom;
#[cfg(test)]
mod testutil;

/// The module's start function: wasm-bindgen runs it when `index.html` calls `init()`.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() -> Result<(), wasm_bindgen::JsValue> {
    dom::start()
}
