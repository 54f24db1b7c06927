//! Standard addresses (标准地址, DOMAIN.md §7): free text parsed by the core parser, matched to
//! a stored address or added as one, and located in a grid. Everything else links to them.

pub mod handlers;
pub mod model;
pub mod store;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use handlers::resolve;

pub fn router() -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(parse_address))
        .routes(routes!(search_addresses))
        .routes(routes!(address_detail))
}
