//! Areas: official divisions, grids, grid boundaries and their change requests, locate.

pub mod handlers;
pub mod import;
pub mod model;
pub mod store;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(get_area))
        .routes(routes!(children))
        .routes(routes!(subtree))
        .routes(routes!(history))
        .routes(routes!(list_grids, create_grid))
        .routes(routes!(locate))
        .routes(routes!(get_grid))
        .routes(routes!(boundaries))
        .routes(routes!(set_members))
        .routes(routes!(request_change))
        .routes(routes!(list_requests))
        .routes(routes!(get_request))
        .routes(routes!(approve))
        .routes(routes!(reject))
}
