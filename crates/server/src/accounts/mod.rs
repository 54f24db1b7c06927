//! Accounts: users with an area and roles, sign-in with lockout, sessions, passwords.

pub mod handlers;
pub mod model;
pub mod store;

pub use model::Failures;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(list_users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(unlock_user))
        .routes(routes!(reset_password))
}
