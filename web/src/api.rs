//! The browser's side of HTTP: POST a JSON body or GET a file with `fetch`, bounded by a
//! time limit, and hand back the status and the text.
//!
//! Owns transport only: what a status or body means is [`crate::state`]'s business. It
//! must never log a request body (it may hold a database URL).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// How long the app waits for the API before saying it did not answer (the service's own
/// request budget is shorter, so this only fires when the API itself is unreachable).
pub const TIMEOUT_MS: i32 = 60_000;

/// An HTTP answer: status and body text.
pub struct Reply {
    pub status: u16,
    pub body: String,
}

fn describe(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| "network error".into())
}

/// POSTs `body` (JSON) to `url`. `Err` carries a plain description of a transport
/// failure (the API could not be reached, or did not answer in time).
pub async fn post_json(url: &str, body: &str) -> Result<Reply, String> {
    let headers = web_sys::Headers::new().map_err(|e| describe(&e))?;
    headers
        .set("content-type", "application/json")
        .map_err(|e| describe(&e))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(body));
    send(url, init).await
}

/// GETs `url`.
pub async fn get(url: &str) -> Result<Reply, String> {
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    send(url, init).await
}

async fn send(url: &str, init: web_sys::RequestInit) -> Result<Reply, String> {
    let window = web_sys::window().ok_or("no window")?;
    let abort = web_sys::AbortController::new().map_err(|e| describe(&e))?;
    init.set_signal(Some(&abort.signal()));
    let timer = {
        let abort = abort.clone();
        let cb = wasm_bindgen::closure::Closure::once_into_js(move || abort.abort());
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), TIMEOUT_MS)
            .ok()
    };
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| describe(&e))?;
    let result = async {
        let resp: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
            .await?
            .dyn_into()?;
        let text = JsFuture::from(resp.text()?).await?;
        Ok::<Reply, JsValue>(Reply {
            status: resp.status(),
            body: text.as_string().unwrap_or_default(),
        })
    }
    .await;
    if let Some(t) = timer {
        window.clear_timeout_with_handle(t);
    }
    result.map_err(|e| {
        if abort.signal().aborted() {
            format!("no answer within {} s", TIMEOUT_MS / 1000)
        } else {
            describe(&e)
        }
    })
}
