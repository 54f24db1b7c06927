//! Request, response and row types of the accounts domain.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub area_code: String,
    pub roles: String,
    pub password_hash: String,
    pub status: String,
    pub failed_count: i64,
    pub first_failed_at: Option<String>,
    pub locked_until: Option<String>,
    pub department_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A signed-in session: the cookie is set too; API clients send `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub user: UserView,
    /// Minutes of inactivity after which the session ends.
    pub idle_timeout_minutes: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleView {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub area_code: String,
    pub area_name: Option<String>,
    /// province | city | county | township | village | grid
    pub area_level: String,
    pub roles: Vec<RoleView>,
    /// active | disabled
    pub status: String,
    /// Set while the account is locked after failed logins.
    pub locked_until: Option<String>,
    /// The department a liaison works for (`371502-gaj`).
    pub department_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub old_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    pub area_code: String,
    /// Role codes, e.g. ["grid_worker"].
    pub roles: Vec<String>,
    pub password: String,
    /// For department liaisons: their department (`371502-gaj`).
    #[serde(default)]
    pub department_id: Option<String>,
}

/// Changes to an account; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUser {
    pub display_name: Option<String>,
    pub area_code: Option<String>,
    pub roles: Option<Vec<String>>,
    /// For liaisons; cleared when the account is no longer a liaison.
    pub department_id: Option<String>,
    /// active | disabled (a disabled account cannot sign in; its sessions end).
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPassword {
    /// The new password (the password rules apply).
    pub password: String,
}
