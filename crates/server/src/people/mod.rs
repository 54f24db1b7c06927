//! People (实有人口) and households (户): records checked to GB 11643 and the code tables,
//! ID numbers and phones sealed at rest, masked in every answer, history kept, searchable by
//! name, ID tail, phone and address; imported and exported in bulk.

pub mod handlers;
pub mod import;
pub mod model;
pub mod store;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// `max_import_bytes`: imports upload whole spreadsheets.
pub fn router(max_import_bytes: usize) -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(import::import_people))
        .layer(axum::extract::DefaultBodyLimit::max(max_import_bytes))
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person, update_person))
        .routes(routes!(change_state))
        .routes(routes!(person_history))
        .routes(routes!(unmask_person))
        .routes(routes!(create_household))
        .routes(routes!(get_household))
        .routes(routes!(import::template))
        .routes(routes!(import::export_people))
}
