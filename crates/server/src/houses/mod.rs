//! Houses (实有房屋, 出租房屋 when let): each at a standard address, with its owner (ID number and
//! phone sealed), residents and tenants, history kept.

pub mod handlers;
pub mod model;
pub mod store;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(list_houses, create_house))
        .routes(routes!(get_house, update_house))
        .routes(routes!(house_history))
        .routes(routes!(unmask_house))
}
