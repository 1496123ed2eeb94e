//! The built web app (`web/dist`, made by `scripts/build-web.sh`), served at `/` by the
//! local server so the run command opens a working UI on the same origin as the API.
//!
//! Owns finding the directory and answering GET/HEAD for files in it (gzip'd copies to
//! browsers that accept them). It must never serve anything outside that directory,
//! never answer for `/api/` paths, and is off under Lambda unless `WEB_DIST_DIR` says.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use tower::ServiceExt;

fn is_app_dir(dir: &Path) -> bool {
    dir.join("index.html").is_file()
}

/// The web app's directory: `WEB_DIST_DIR` when set (and then it must hold index.html),
/// else, outside Lambda, `web/dist` under the working directory or beside the binary's
/// `target/<profile>/` directory.
pub fn locate(configured: Option<String>, lambda: bool) -> Option<PathBuf> {
    if let Some(dir) = configured {
        let dir = PathBuf::from(dir);
        return is_app_dir(&dir).then_some(dir);
    }
    if lambda {
        return None;
    }
    let mut candidates = vec![PathBuf::from("web/dist")];
    if let Ok(exe) = std::env::current_exe() {
        if let Some(root) = exe.parent().and_then(Path::parent).and_then(Path::parent) {
            candidates.push(root.join("web/dist"));
        }
    }
    candidates.into_iter().find(|d| is_app_dir(d))
}

/// True when `req` is a request for a page or asset of the app.
pub fn wants_asset(req: &Request<Body>) -> bool {
    (req.method() == Method::GET || req.method() == Method::HEAD)
        && !req.uri().path().starts_with("/api/")
}

/// Answers `req` from `dir`; `None` when there is no such file.
pub async fn serve(dir: &Path, req: Request<Body>) -> Option<Response> {
    let files = tower_http::services::ServeDir::new(dir)
        .precompressed_gzip()
        .append_index_html_on_directories(true);
    let resp = files.oneshot(req).await.ok()?;
    if resp.status() == StatusCode::NOT_FOUND {
        return None;
    }
    let mut resp = resp.map(Body::new).into_response();
    // The page and its assets change together on every build: always revalidate.
    resp.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    Some(resp)
}
