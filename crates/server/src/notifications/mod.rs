//! Notifications: each user's inbox, and departments' outbound webhooks (an outbox written
//! with the move, delivered by the job with HMAC signatures and retries).

pub mod handlers;
pub mod model;
pub mod store;
pub mod webhooks;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use store::{Recipients, notify};

pub fn router() -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(inbox))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
}
