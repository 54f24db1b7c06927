//! Roles, per-action permissions, password hashing, sessions and the `CurrentUser` extractor.

use crate::db::{self, parse_time};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use civgrid_core::AreaCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use utoipa::ToSchema;

pub const SESSION_COOKIE: &str = "civgrid_session";

/// The roles of DOMAIN.md §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 网格员
    GridWorker,
    /// 网格长
    GridChief,
    /// 网格指导员
    GridInstructor,
    /// 综治中心操作员（乡镇/县区/市）
    CentreOperator,
    /// 部门联络员
    DeptLiaison,
    /// 领导
    Leader,
    /// 调解员 / 法律顾问
    Mediator,
    /// 系统管理员
    Admin,
    /// 群众
    Citizen,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::GridWorker,
        Role::GridChief,
        Role::GridInstructor,
        Role::CentreOperator,
        Role::DeptLiaison,
        Role::Leader,
        Role::Mediator,
        Role::Admin,
        Role::Citizen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::GridWorker => "grid_worker",
            Role::GridChief => "grid_chief",
            Role::GridInstructor => "grid_instructor",
            Role::CentreOperator => "centre_operator",
            Role::DeptLiaison => "dept_liaison",
            Role::Leader => "leader",
            Role::Mediator => "mediator",
            Role::Admin => "admin",
            Role::Citizen => "citizen",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::GridWorker => "网格员",
            Role::GridChief => "网格长",
            Role::GridInstructor => "网格指导员",
            Role::CentreOperator => "综治中心",
            Role::DeptLiaison => "部门联络员",
            Role::Leader => "领导",
            Role::Mediator => "调解员",
            Role::Admin => "系统管理员",
            Role::Citizen => "群众",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// Parses a comma-separated role list (as stored and as typed on the command line).
    pub fn parse_list(s: &str) -> Option<Vec<Role>> {
        let roles: Option<Vec<Role>> = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Role::parse)
            .collect();
        roles.filter(|r| !r.is_empty())
    }

    pub fn join(roles: &[Role]) -> String {
        roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// What this role may do. Every check names one of these.
    pub fn perms(self) -> &'static [Perm] {
        use Perm::*;
        match self {
            Role::GridWorker | Role::GridChief | Role::GridInstructor => &[
                ViewAreas,
                RequestGridChange,
                ViewEvents,
                ReportEvent,
                VerifyEvents,
                RequestAdmission,
                ViewPeople,
                EditPeople,
                ViewSpecial,
                FieldWork,
            ],
            Role::CentreOperator => &[
                ViewAreas,
                ManageGrids,
                RequestGridChange,
                ApproveGridChange,
                ViewEvents,
                ReportEvent,
                ProcessEvents,
                HandleEvents,
                VerifyEvents,
                SuperviseEvents,
                ViewStats,
                RequestAdmission,
                ApproveAdmission,
                ManageLimits,
                ViewPeople,
                EditPeople,
                ViewSensitive,
                ViewSpecial,
                ImportPeople,
                ViewTracks,
                InspectRecords,
                ManageEvaluation,
            ],
            Role::DeptLiaison => &[ViewAreas, ViewEvents, ReportEvent, HandleEvents],
            Role::Mediator => &[ViewAreas, ViewEvents],
            Role::Citizen => &[ViewAreas, ViewEvents, ReportEvent],
            Role::Leader => &[
                ViewAreas,
                ViewAudit,
                ViewEvents,
                ReportEvent,
                SuperviseEvents,
                ViewStats,
                ViewPeople,
                ViewTracks,
                ManageEvaluation,
            ],
            Role::Admin => &Perm::ALL,
        }
    }
}

/// Per-action permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    ViewAreas,
    ManageGrids,
    RequestGridChange,
    ApproveGridChange,
    ManageUsers,
    ViewAudit,
    /// Read events in scope.
    ViewEvents,
    /// Report (file) an event.
    ReportEvent,
    /// A centre's moves: accept, void, dispatch, escalate, hold, extensions, merge, evaluate.
    ProcessEvents,
    /// A receiver's moves: sign for, return, request an extension, handle and feed back.
    HandleEvents,
    /// 跟踪回访: verify a handled event.
    VerifyEvents,
    /// 督办
    SuperviseEvents,
    /// Event indicators.
    ViewStats,
    /// Ask for a category to be added to an area's admission list.
    RequestAdmission,
    /// Decide such requests (the same level's centre).
    ApproveAdmission,
    /// Override time limits for an area.
    ManageLimits,
    /// Categories, departments, calendar years, API keys.
    ManageCatalog,
    /// Read base data (people, houses, organisations, addresses) in scope, masked.
    ViewPeople,
    /// Collect and update base data.
    EditPeople,
    /// Show ID numbers and phones in clear, for a stated reason (audited).
    ViewSensitive,
    /// Special-population and key-youth records.
    ViewSpecial,
    /// Import and export base data in bulk; code tables.
    ImportPeople,
    /// A grid worker's own field work: check-in, patrols, tracks, visits.
    FieldWork,
    /// See grid workers' on-duty status, tracks and patrols (supervisors).
    ViewTracks,
    /// 网上巡查: draw and review samples of what grid workers entered.
    InspectRecords,
    /// Evaluation schemes, rescoring, bulletin templates and bulletins.
    ManageEvaluation,
}

impl Perm {
    /// Every permission (the system administrator's).
    pub const ALL: [Perm; 26] = [
        Perm::ViewAreas,
        Perm::ManageGrids,
        Perm::RequestGridChange,
        Perm::ApproveGridChange,
        Perm::ManageUsers,
        Perm::ViewAudit,
        Perm::ViewEvents,
        Perm::ReportEvent,
        Perm::ProcessEvents,
        Perm::HandleEvents,
        Perm::VerifyEvents,
        Perm::SuperviseEvents,
        Perm::ViewStats,
        Perm::RequestAdmission,
        Perm::ApproveAdmission,
        Perm::ManageLimits,
        Perm::ManageCatalog,
        Perm::ViewPeople,
        Perm::EditPeople,
        Perm::ViewSensitive,
        Perm::ViewSpecial,
        Perm::ImportPeople,
        Perm::FieldWork,
        Perm::ViewTracks,
        Perm::InspectRecords,
        Perm::ManageEvaluation,
    ];
}

/// The signed-in caller.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub area: AreaCode,
    pub roles: Vec<Role>,
    pub ip: Option<String>,
    /// The department a liaison works for.
    pub department_id: Option<String>,
    /// Set when the caller is an external system using an API key: the source it reports as.
    pub api_source: Option<civgrid_core::catalog::Source>,
}

impl CurrentUser {
    pub fn can(&self, p: Perm) -> bool {
        if self.api_source.is_some() {
            return p == Perm::ReportEvent;
        }
        self.roles.iter().any(|r| r.perms().contains(&p))
    }

    pub fn has_role(&self, r: Role) -> bool {
        self.roles.contains(&r)
    }

    /// The caller holds `p` and `area` lies in the caller's subtree.
    pub fn require(&self, p: Perm, area: &AreaCode) -> AppResult<()> {
        self.require_perm(p)?;
        self.require_scope(area)
    }

    pub fn require_perm(&self, p: Perm) -> AppResult<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn require_scope(&self, area: &AreaCode) -> AppResult<()> {
        if self.area.contains(area) {
            Ok(())
        } else {
            Err(AppError::OutOfScope)
        }
    }

    pub fn roles_str(&self) -> String {
        if self.api_source.is_some() {
            return "api_key".into();
        }
        Role::join(&self.roles)
    }

    /// The role shown on a timeline row: the first role that explains the action.
    pub fn main_role(&self) -> String {
        self.roles
            .first()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_else(|| "api_key".into())
    }
}

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))
    })
    .await?
}

/// Verifies a password on a blocking thread. With no stored hash it still spends the time
/// of one verification, so that unknown user names cannot be told apart by timing.
pub async fn verify_password(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

/// argon2id hash of a random password nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8M8rGz0g3Qk7m0O0RzvJb7YH0l3YB3kOQ7m6hNQF4xM";

/// A new random session token and the hash under which it is stored.
pub fn new_session_token() -> (String, String) {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token a request carries: `Authorization: Bearer …` or the session cookie.
pub fn request_token(headers: &axum::http::HeaderMap) -> Option<String> {
    if let Some(t) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("Bearer "))
    {
        return Some(t.trim().to_owned());
    }
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

pub fn client_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    user_id: String,
    last_seen_at: String,
    username: String,
    display_name: String,
    area_code: String,
    roles: String,
    status: String,
    department_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    name: String,
    area_code: String,
    source: String,
}

/// Header carrying an external system's API key.
pub const API_KEY_HEADER: &str = "x-api-key";

async fn api_key_user(parts: &Parts, state: &AppState, key: &str) -> AppResult<CurrentUser> {
    let row: Option<ApiKeyRow> = sqlx::query_as(
        "SELECT id, name, area_code, source FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash(key))
    .fetch_optional(&state.db.pool)
    .await?;
    let row = row.ok_or(AppError::InvalidApiKey)?;
    let area =
        AreaCode::parse(&row.area_code).map_err(|e| anyhow::anyhow!("stored area code: {e}"))?;
    let source = civgrid_core::catalog::Source::parse(&row.source)
        .ok_or_else(|| anyhow::anyhow!("stored api key source {}", row.source))?;
    Ok(CurrentUser {
        id: row.id,
        username: format!("apikey:{}", row.name),
        display_name: row.name,
        area,
        roles: vec![],
        ip: client_ip(parts),
        department_id: None,
        api_source: Some(source),
    })
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> AppResult<Self> {
        if let Some(key) = parts
            .headers
            .get(API_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            return api_key_user(parts, state, key.trim()).await;
        }
        let token = request_token(&parts.headers).ok_or(AppError::Unauthenticated)?;
        let hash = token_hash(&token);
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.user_id, s.last_seen_at, u.username, u.display_name, u.area_code, u.roles, u.status,
                    u.department_id
               FROM sessions s JOIN users u ON u.id = s.user_id
              WHERE s.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&state.db.read)
        .await?;
        let row = row.ok_or(AppError::Unauthenticated)?;
        let now = chrono::Utc::now();
        let last = parse_time(&row.last_seen_at).unwrap_or(now);
        let idle = now - last;
        if idle > chrono::Duration::minutes(state.cfg.session_idle_minutes)
            || row.status != "active"
        {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(&hash)
                .execute(&state.db.pool)
                .await?;
            return Err(AppError::SessionExpired);
        }
        // Touch at most once a minute: idle timeout needs no finer grain.
        if idle > chrono::Duration::seconds(60) {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(db::fmt_time(now))
                .bind(&hash)
                .execute(&state.db.pool)
                .await?;
        }
        let area = AreaCode::parse(&row.area_code)
            .map_err(|e| anyhow::anyhow!("stored area code: {e}"))?;
        let roles = Role::parse_list(&row.roles).unwrap_or_default();
        Ok(CurrentUser {
            id: row.user_id,
            username: row.username,
            display_name: row.display_name,
            area,
            roles,
            ip: client_ip(parts),
            department_id: row.department_id,
            api_source: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash_password("Civgrid@2026".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify_password("Civgrid@2026".into(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("civgrid@2026".into(), Some(h))
                .await
                .unwrap()
        );
        assert!(!verify_password("x".into(), None).await.unwrap());
    }

    #[test]
    fn roles_parse() {
        assert_eq!(
            Role::parse_list("grid_worker, leader"),
            Some(vec![Role::GridWorker, Role::Leader])
        );
        assert_eq!(Role::parse_list("boss"), None);
        assert_eq!(Role::parse_list(""), None);
        for r in Role::ALL {
            assert!(r.perms().contains(&Perm::ViewAreas));
        }
    }
}
