//! Types of the notifications domain.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct NotificationView {
    pub id: String,
    pub event_id: Option<String>,
    /// dispatched | returned | escalated | to_verify | rework | supervised | extension |
    /// merged | closed | yellow | red | auto_escalated …
    pub kind: String,
    pub title: String,
    pub body: String,
    pub created_at: String,
    pub read_at: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxQuery {
    /// Only unread notices.
    pub unread: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnreadCount {
    pub unread: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    pub marked: u64,
}
