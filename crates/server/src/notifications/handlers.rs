//! HTTP handlers of the notifications domain.

use super::model::*;
use super::store;
use crate::auth::CurrentUser;
use crate::db::now;
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;

/// The caller's notices, newest first.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(InboxQuery),
    responses((status = 200, body = Vec<NotificationView>), (status = 401, body = ErrorBody)))]
pub async fn inbox(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<InboxQuery>,
) -> AppResult<Json<Vec<NotificationView>>> {
    let per_page = q.per_page.unwrap_or(50).clamp(1, 200);
    let page = q.page.unwrap_or(1).max(1);
    Ok(Json(
        store::inbox(
            &state.db.pool,
            &user.id,
            q.unread.unwrap_or(false),
            per_page,
            (page - 1) * per_page,
        )
        .await?,
    ))
}

/// How many notices are unread.
#[utoipa::path(get, path = "/api/notifications/unread-count", tag = "notifications",
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)))]
pub async fn unread_count(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<UnreadCount>> {
    Ok(Json(UnreadCount {
        unread: store::unread_count(&state.db.pool, &user.id).await?,
    }))
}

/// Marks one notice read.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "notifications",
    params(("id" = String, Path, description = "通知编号")),
    responses((status = 200, body = Marked), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<Marked>> {
    if !store::exists(&state.db.pool, &user.id, &id).await? {
        return Err(AppError::RecordNotFound("notification"));
    }
    let marked = store::mark_read(&state.db.pool, &user.id, Some(&id), &now()).await?;
    Ok(Json(Marked { marked }))
}

/// Marks every notice read.
#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications",
    responses((status = 200, body = Marked), (status = 401, body = ErrorBody)))]
pub async fn mark_all_read(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Marked>> {
    let marked = store::mark_read(&state.db.pool, &user.id, None, &now()).await?;
    Ok(Json(Marked { marked }))
}
