//! The two web apps, built by `npm run build` in `web/` and embedded into release builds
//! (debug builds read `web/*/dist` from disk): the console at `/`, the field app at `/field/`.
//! Unknown paths without a file extension get the app's `index.html` (client-side routes);
//! hashed assets are cached for good, everything else is revalidated.

use crate::state::AppState;
use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../../web/console/dist/"]
#[allow_missing = true]
struct Console;

#[derive(Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../../web/field/dist/"]
#[allow_missing = true]
struct Field;

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>civgrid</title>\
<p>网页端尚未构建。请在 <code>web/</code> 目录运行 <code>npm ci &amp;&amp; npm run build</code>，\
或直接使用 <code>scripts/demo</code>（会自动构建）。</p>\
<p>The web apps are not built: run <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>.</p>";

fn asset<E: Embed>(path: &str) -> Response {
    let path = path.trim_start_matches('/');
    let (name, file) = match E::get(path) {
        Some(f) if !path.is_empty() => (path, f),
        _ => {
            let last = path.rsplit('/').next().unwrap_or("");
            if last.contains('.') {
                return (StatusCode::NOT_FOUND, "404 文件不存在").into_response();
            }
            match E::get("index.html") {
                Some(f) => ("index.html", f),
                None => {
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        NOT_BUILT,
                    )
                        .into_response();
                }
            }
        }
    };
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        [
            (header::CONTENT_TYPE, file.metadata.mimetype().to_owned()),
            (header::CACHE_CONTROL, cache.to_owned()),
        ],
        file.data,
    )
        .into_response()
}

async fn console(uri: Uri) -> Response {
    asset::<Console>(uri.path())
}

async fn field(uri: Uri) -> Response {
    asset::<Field>(uri.path().trim_start_matches("/field"))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/field", get(|| async { Redirect::permanent("/field/") }))
        .route("/field/", get(field))
        .route("/field/{*path}", get(field))
        .fallback(get(console))
}
