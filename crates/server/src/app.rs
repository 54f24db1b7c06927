//! Assembles the HTTP application: every domain's router, the OpenAPI document, Swagger UI,
//! the web pages, body limits and tracing.

use crate::error::{AppError, AppResult, Json};
use crate::state::AppState;
use crate::{
    accounts, addresses, areas, catalog, evaluation, events, fieldwork, houses, notifications,
    orgs, people, web,
};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::any;
use serde::Serialize;
use std::net::SocketAddr;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "civgrid API", version = "0.1.0",
         description = "市域社会治理平台 civgrid 的 JSON 接口。错误统一为 {code, message, details}。"),
    components(schemas(crate::error::ErrorBody)),
    tags((name = "health", description = "运行状态"),
         (name = "auth", description = "登录与会话"),
         (name = "users", description = "账号管理"),
         (name = "areas", description = "行政区划"),
         (name = "grids", description = "网格、边界与定位"),
         (name = "catalog", description = "事件分类、处置时限、事项准入清单、职能部门与工作日历"),
         (name = "events", description = "事件上报、流转、督办与统计"),
         (name = "notifications", description = "站内通知"),
         (name = "people", description = "实有人口与户（人）"),
         (name = "addresses", description = "标准地址（地）与五码关联"),
         (name = "houses", description = "实有房屋与出租房屋（物）"),
         (name = "orgs", description = "非公有制经济组织与社会组织（组织）"),
         (name = "dicts", description = "代码表"),
         (name = "field", description = "网格员签到、巡查、轨迹与走访"),
         (name = "evaluation", description = "督导考核：考核方案、评分排名、通报与领导驾驶舱"),
         (name = "inspection", description = "网上巡查"))
)]
struct ApiDoc;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    status: String,
}

/// Liveness check.
#[utoipa::path(get, path = "/api/health", tag = "health", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

fn api(max_upload_bytes: usize, max_import_bytes: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(client_config))
        .merge(accounts::router())
        .merge(areas::router())
        .merge(catalog::router())
        .merge(events::router(max_upload_bytes))
        .merge(notifications::router())
        .merge(addresses::router())
        .merge(people::router(max_import_bytes))
        .merge(houses::router(max_import_bytes))
        .merge(orgs::router(max_import_bytes))
        .merge(fieldwork::router(max_upload_bytes))
        .merge(evaluation::router())
}

/// The OpenAPI 3.1 document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api(0, 0).split_for_parts().1
}

/// What the web apps need to know before signing in.
#[derive(Serialize, ToSchema)]
pub struct ClientConfig {
    /// Basemap tile URL template (`https://…/{z}/{x}/{y}.png`); none = maps without a basemap.
    tile_url: Option<String>,
    tile_attribution: Option<String>,
    /// Minutes of inactivity after which a session ends.
    idle_timeout_minutes: i64,
}

/// Settings for the web apps (public).
#[utoipa::path(get, path = "/api/config", tag = "health", responses((status = 200, body = ClientConfig)))]
async fn client_config(State(state): State<AppState>) -> Json<ClientConfig> {
    Json(ClientConfig {
        tile_url: state.cfg.basemap_url.clone(),
        tile_attribution: state.cfg.basemap_attribution.clone(),
        idle_timeout_minutes: state.cfg.session_idle_minutes,
    })
}

async fn api_not_found() -> AppResult<()> {
    Err(AppError::RouteNotFound)
}

pub fn router(state: AppState) -> Router {
    let (api_router, doc) =
        api(state.cfg.max_upload_bytes, state.cfg.max_import_bytes).split_for_parts();
    Router::new()
        .merge(api_router)
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
        .route("/api/{*rest}", any(api_not_found))
        .merge(web::router())
        .layer(DefaultBodyLimit::max(state.cfg.max_body_bytes))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until Ctrl-C / SIGTERM.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
