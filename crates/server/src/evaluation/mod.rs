//! 督导考核: evaluation schemes, scores and rankings of grid workers, areas and departments,
//! the weekly and monthly jobs, bulletins (PDF and xlsx), online patrol (网上巡查) and the
//! leader dashboard.

pub mod bulletin;
pub mod handlers;
pub mod inspections;
pub mod jobs;
pub mod measure;
pub mod model;
pub mod scoring;
pub mod store;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(indicators))
        .routes(routes!(list_schemes, create_scheme))
        .routes(routes!(scores))
        .routes(routes!(score_detail))
        .routes(routes!(compute))
        .routes(routes!(periods))
        .routes(routes!(list_bulletins, create_bulletin))
        .routes(routes!(bulletin_pdf))
        .routes(routes!(bulletin_xlsx))
        .routes(routes!(get_template, put_template))
        .routes(routes!(dashboard))
        .routes(routes!(inspections::draw))
        .routes(routes!(inspections::list))
        .routes(routes!(inspections::review))
        .routes(routes!(inspections::mine))
        .routes(routes!(inspections::fixed))
}
