//! Houses (实有房屋, 出租房屋 when let): each at a standard address, with its owner (ID number and
//! phone sealed), residents and tenants, history kept.

pub mod handlers;
pub mod model;
pub mod sheet;
pub mod store;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `max_import_bytes`: imports upload whole spreadsheets.
pub fn router(max_import_bytes: usize) -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(sheet::import_houses))
        .layer(axum::extract::DefaultBodyLimit::max(max_import_bytes))
        .routes(routes!(list_houses, create_house))
        .routes(routes!(get_house, update_house))
        .routes(routes!(house_history))
        .routes(routes!(unmask_house))
        .routes(routes!(sheet::house_template))
        .routes(routes!(sheet::export_houses))
}
