//! The browser pages. For now one self-contained page: sign in, browse the area tree, see
//! the grids of an area on a map (SVG, no basemap needed). The full apps come later.

use crate::state::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("../web/index.html");

async fn index() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX,
    )
}

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(index))
}
