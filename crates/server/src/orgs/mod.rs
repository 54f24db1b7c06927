//! Organisations (组织): 非公有制经济组织 and 社会组织, identified by their 统一社会信用代码
//! (GB 32100), each at a standard address, with the people who work there.

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
        .routes(routes!(sheet::import_orgs))
        .layer(axum::extract::DefaultBodyLimit::max(max_import_bytes))
        .routes(routes!(list_orgs, create_org))
        .routes(routes!(get_org, update_org))
        .routes(routes!(org_history))
        .routes(routes!(unmask_org))
        .routes(routes!(sheet::org_template))
        .routes(routes!(sheet::export_orgs))
}
