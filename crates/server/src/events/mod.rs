//! Events: intake (with photos and idempotency keys), the moves of the closed loop, deadlines
//! and lights, supervision, duplicates, timelines, lists and indicators.

pub mod flow;
pub mod handlers;
pub mod jobs;
pub mod model;
pub mod store;
pub mod writer;

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `max_upload_bytes`: reports and moves carry photos.
pub fn router(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(report, list_events))
        .routes(routes!(queues))
        .routes(routes!(points))
        .routes(routes!(get_event))
        .routes(routes!(make_move))
        .layer(DefaultBodyLimit::max(max_upload_bytes))
        .routes(routes!(duplicates))
        .routes(routes!(contact))
        .routes(routes!(get_file))
        .routes(routes!(stats))
}
