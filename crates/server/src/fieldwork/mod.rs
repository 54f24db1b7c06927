//! Grid workers' field work: shifts (签到 / 签退 with heartbeats for online time), location
//! tracks (batched, offline-tolerant, visible to supervisors only), patrols (巡查) with their
//! track, visits (走访), a worker's weekly figures, and supervisors' view of who is on duty.

pub mod handlers;
pub mod model;
pub mod store;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router(max_upload_bytes: usize) -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(check_in))
        .routes(routes!(heartbeat))
        .routes(routes!(check_out))
        .routes(routes!(start_patrol, list_patrols))
        .routes(routes!(finish_patrol))
        .routes(routes!(add_track, track))
        .routes(routes!(add_visit, list_visits))
        .routes(routes!(week))
        .routes(routes!(workers))
        .layer(axum::extract::DefaultBodyLimit::max(max_upload_bytes))
}
