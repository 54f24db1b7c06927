//! HTTP handlers of the accounts domain: login with lockout, logout, password change, users.

use super::model::*;
use super::store;
use crate::audit::{self, Audit};
use crate::auth::{self, CurrentUser, Perm, Role, SESSION_COOKIE};
use crate::db::{Db, fmt_time, is_unique_violation, new_id, parse_time};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path};
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use civgrid_core::AreaCode;
use civgrid_core::password::check_complexity;
use std::net::SocketAddr;

pub async fn user_view(state: &AppState, u: &UserRow) -> AppResult<UserView> {
    let area = AreaCode::parse(&u.area_code).map_err(|e| anyhow::anyhow!("stored area: {e}"))?;
    let area_name = if area.level() == civgrid_core::Level::Grid {
        crate::areas::store::get_grid(&state.db.pool, &u.area_code)
            .await?
            .map(|g| g.name)
    } else {
        crate::areas::store::get_area(&state.db.pool, &u.area_code)
            .await?
            .map(|a| a.name)
    };
    let locked = u
        .locked_until
        .clone()
        .filter(|t| parse_time(t).is_some_and(|t| t > chrono::Utc::now()));
    Ok(UserView {
        id: u.id.clone(),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        area_code: u.area_code.clone(),
        area_name,
        area_level: area.level().as_str().into(),
        roles: Role::parse_list(&u.roles)
            .unwrap_or_default()
            .into_iter()
            .map(|r| RoleView {
                code: r.as_str().into(),
                label: r.label().into(),
            })
            .collect(),
        status: u.status.clone(),
        locked_until: locked,
        department_id: u.department_id.clone(),
    })
}

fn anonymous_audit(
    action: &'static str,
    username: &str,
    ip: Option<String>,
    result: &'static str,
) -> Audit {
    Audit {
        username: Some(username.chars().take(64).collect()),
        action,
        object_type: "user",
        object_id: String::new(),
        result,
        source_ip: ip,
        ..Default::default()
    }
}

/// Signs in. Repeated failures lock the account (by default 5 within 10 minutes → 15
/// minutes); the error then says how long the lock lasts. Successes and failures are audited.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 423, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> AppResult<(CookieJar, Json<LoginResponse>)> {
    let ip = Some(addr.ip().to_string());
    let username = req.username.trim().to_owned();
    if username.is_empty() || req.password.is_empty() {
        return Err(AppError::validation("username", "请输入用户名和密码"));
    }
    let cfg = &state.cfg;
    let now = chrono::Utc::now();
    let found = store::by_username(&state.db.pool, &username).await?;
    // Locked accounts are refused before the password is even checked.
    if let Some(u) = &found
        && let Some(until) = u
            .locked_until
            .as_deref()
            .and_then(parse_time)
            .filter(|t| *t > now)
    {
        let mut tx = state.db.begin().await?;
        let mut a = anonymous_audit("login", &username, ip, "failure");
        a.user_id = Some(u.id.clone());
        a.detail = Some("locked".into());
        audit::write(&mut tx, a).await?;
        tx.commit().await?;
        return Err(AppError::AccountLocked {
            remaining_seconds: (until - now).num_seconds().max(1),
        });
    }
    let ok = auth::verify_password(
        req.password.clone(),
        found.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let mut tx = state.db.begin().await?;
    // Re-read inside the transaction so concurrent failures count correctly.
    let user = match store::by_username_tx(&mut tx, &username).await? {
        Some(u) => u,
        None => {
            audit::write(&mut tx, anonymous_audit("login", &username, ip, "failure")).await?;
            tx.commit().await?;
            // Answer exactly as for an account, so the answer does not tell the name is unknown.
            let failed = state
                .unknown_logins
                .lock()
                .map_err(|_| anyhow::anyhow!("unknown_logins poisoned"))?
                .fail(
                    &username,
                    now,
                    chrono::Duration::minutes(cfg.lockout_window_minutes),
                    cfg.lockout_max_failures,
                    chrono::Duration::minutes(cfg.lockout_minutes),
                );
            return Err(match failed {
                Failed::Remaining(n) => AppError::InvalidCredentials {
                    remaining_attempts: Some(n),
                },
                Failed::Locked(s) => AppError::AccountLocked {
                    remaining_seconds: s,
                },
            });
        }
    };
    let mut a = anonymous_audit("login", &username, ip.clone(), "failure");
    a.user_id = Some(user.id.clone());
    a.role = Some(user.roles.clone());
    a.object_id = user.id.clone();
    a.area_code = Some(user.area_code.clone());
    if user.status != "active" {
        a.detail = Some("disabled".into());
        audit::write(&mut tx, a).await?;
        tx.commit().await?;
        return Err(AppError::AccountDisabled);
    }
    if !ok {
        let window = chrono::Duration::minutes(cfg.lockout_window_minutes);
        let first = user
            .first_failed_at
            .as_deref()
            .and_then(parse_time)
            .filter(|t| now - *t <= window);
        let (count, first) = match first {
            Some(f) => (user.failed_count + 1, f),
            None => (1, now),
        };
        if count >= cfg.lockout_max_failures {
            let until = now + chrono::Duration::minutes(cfg.lockout_minutes);
            store::set_failures(&mut tx, &user.id, 0, None, Some(&fmt_time(until))).await?;
            a.detail = Some("locked_now".into());
            audit::write(&mut tx, a).await?;
            tx.commit().await?;
            return Err(AppError::AccountLocked {
                remaining_seconds: cfg.lockout_minutes * 60,
            });
        }
        store::set_failures(&mut tx, &user.id, count, Some(&fmt_time(first)), None).await?;
        audit::write(&mut tx, a).await?;
        tx.commit().await?;
        return Err(AppError::InvalidCredentials {
            remaining_attempts: Some(cfg.lockout_max_failures - count),
        });
    }
    store::set_failures(&mut tx, &user.id, 0, None, None).await?;
    let (token, hash) = auth::new_session_token();
    store::insert_session(&mut tx, &hash, &user.id, ip.as_deref()).await?;
    a.result = "success";
    audit::write(&mut tx, a).await?;
    tx.commit().await?;
    let cookie = Cookie::build((SESSION_COOKIE, token.clone()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(cfg.secure_cookies)
        .path("/")
        .build();
    let user = user_view(&state, &user).await?;
    Ok((
        jar.add(cookie),
        Json(LoginResponse {
            token,
            user,
            idle_timeout_minutes: cfg.session_idle_minutes,
        }),
    ))
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    jar: CookieJar,
) -> AppResult<(CookieJar, StatusCode)> {
    let token = auth::request_token(&headers).ok_or(AppError::Unauthenticated)?;
    let mut tx = state.db.begin().await?;
    store::delete_session(&mut tx, &auth::token_hash(&token)).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "logout", "user", &user.id).area(user.area.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok((
        jar.remove(Cookie::build(SESSION_COOKIE).path("/")),
        StatusCode::NO_CONTENT,
    ))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, user: CurrentUser) -> AppResult<Json<UserView>> {
    let u = store::get_user(&state.db.pool, &user.id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok(Json(user_view(&state, &u).await?))
}

/// Changes the caller's password; other sessions of the account end.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", request_body = ChangePassword,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Json(req): Json<ChangePassword>,
) -> AppResult<StatusCode> {
    let u = store::get_user(&state.db.pool, &user.id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if !auth::verify_password(req.old_password, Some(u.password_hash)).await? {
        return Err(AppError::validation("old_password", "原密码不正确"));
    }
    check_complexity(&u.username, &req.new_password)
        .map_err(|e| AppError::WeakPassword(e.to_string()))?;
    let hash = auth::hash_password(req.new_password).await?;
    let keep = auth::request_token(&headers)
        .map(|t| auth::token_hash(&t))
        .unwrap_or_default();
    let mut tx = state.db.begin().await?;
    store::set_password(&mut tx, &user.id, &hash).await?;
    store::delete_other_sessions(&mut tx, &user.id, &keep).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "change_password", "user", &user.id).area(user.area.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accounts in the caller's area.
#[utoipa::path(get, path = "/api/users", tag = "users",
    responses((status = 200, body = Vec<UserView>), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<UserView>>> {
    user.require_perm(Perm::ManageUsers)?;
    let rows = store::list_in(&state.db.pool, user.area.as_str()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(user_view(&state, r).await?);
    }
    Ok(Json(out))
}

/// Creates an account in the caller's area.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<CreateUser>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    let area = AreaCode::parse(&req.area_code).map_err(|_| AppError::InvalidAreaCode)?;
    user.require(Perm::ManageUsers, &area)?;
    let id = create_account(&state.db, Some(&user), &req).await?;
    let u = store::get_user(&state.db.pool, &id)
        .await?
        .ok_or(AppError::UserNotFound)?;
    Ok((StatusCode::CREATED, Json(user_view(&state, &u).await?)))
}

/// The account `id` if the caller may manage it (it sits in the caller's subtree).
async fn managed(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<UserRow> {
    let u = store::get_user(&state.db.pool, id)
        .await?
        .ok_or(AppError::UserNotFound)?;
    let area = AreaCode::parse(&u.area_code).map_err(|e| anyhow::anyhow!("stored area: {e}"))?;
    user.require(Perm::ManageUsers, &area)?;
    Ok(u)
}

/// Changes an account's name, area, roles, department or status (disabling ends its sessions).
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", request_body = UpdateUser,
    params(("id" = String, Path, description = "账号编号")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<UpdateUser>,
) -> AppResult<Json<UserView>> {
    let mut u = managed(&state, &user, &id).await?;
    let roles = match &req.roles {
        Some(r) => r.clone(),
        None => Role::parse_list(&u.roles)
            .unwrap_or_default()
            .iter()
            .map(|r| r.as_str().to_owned())
            .collect(),
    };
    let liaison = roles.iter().any(|r| r == Role::DeptLiaison.as_str());
    // A department given for a non-liaison is refused (by check_profile), not dropped; one
    // kept from before goes when the account stops being a liaison.
    let dept = match (&req.department_id, liaison) {
        (Some(d), _) => Some(d.clone()),
        (None, true) => u.department_id.clone(),
        (None, false) => None,
    };
    let p = check_profile(
        &state.db,
        req.display_name.as_deref().unwrap_or(&u.display_name),
        req.area_code.as_deref().unwrap_or(&u.area_code),
        &roles,
        dept.as_deref(),
    )
    .await?;
    user.require(Perm::ManageUsers, &p.area)?;
    let status = req.status.clone().unwrap_or_else(|| u.status.clone());
    if !["active", "disabled"].contains(&status.as_str()) {
        return Err(AppError::validation(
            "status",
            "状态只能是 active 或 disabled",
        ));
    }
    if u.id == user.id && status == "disabled" {
        return Err(AppError::validation("status", "不能停用自己的账号"));
    }
    let before = format!(
        "{} {} {} {}",
        u.display_name, u.area_code, u.roles, u.status
    );
    u.display_name = p.display;
    u.area_code = p.area.as_str().into();
    u.roles = Role::join(&p.roles);
    u.department_id = dept;
    u.status = status;
    let mut tx = state.db.begin().await?;
    store::update_profile(&mut tx, &u).await?;
    if u.status == "disabled" {
        store::delete_sessions(&mut tx, &u.id).await?;
    }
    audit::write(
        &mut tx,
        Audit::by(&user, "update_user", "user", &u.id)
            .area(&u.area_code)
            .detail(format!(
                "{before} → {} {} {} {}",
                u.display_name, u.area_code, u.roles, u.status
            )),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(user_view(&state, &u).await?))
}

/// Lifts a lockout after failed logins.
#[utoipa::path(post, path = "/api/users/{id}/unlock", tag = "users",
    params(("id" = String, Path, description = "账号编号")),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unlock_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<UserView>> {
    let mut u = managed(&state, &user, &id).await?;
    let mut tx = state.db.begin().await?;
    store::set_failures(&mut tx, &u.id, 0, None, None).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "unlock_user", "user", &u.id).area(&u.area_code),
    )
    .await?;
    tx.commit().await?;
    u.failed_count = 0;
    u.first_failed_at = None;
    u.locked_until = None;
    Ok(Json(user_view(&state, &u).await?))
}

/// Sets a new password for an account (e.g. a forgotten one) and ends its sessions.
#[utoipa::path(post, path = "/api/users/{id}/reset-password", tag = "users", request_body = ResetPassword,
    params(("id" = String, Path, description = "账号编号")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<ResetPassword>,
) -> AppResult<StatusCode> {
    let u = managed(&state, &user, &id).await?;
    check_complexity(&u.username, &req.password)
        .map_err(|e| AppError::WeakPassword(e.to_string()))?;
    let hash = auth::hash_password(req.password.clone()).await?;
    let mut tx = state.db.begin().await?;
    store::set_password(&mut tx, &u.id, &hash).await?;
    store::set_failures(&mut tx, &u.id, 0, None, None).await?;
    store::delete_sessions(&mut tx, &u.id).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "reset_password", "user", &u.id).area(&u.area_code),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A checked account profile: name, area, roles and department (shared by create and update).
struct Profile {
    display: String,
    area: AreaCode,
    roles: Vec<Role>,
}

async fn check_profile(
    db: &Db,
    display_name: &str,
    area_code: &str,
    roles: &[String],
    department_id: Option<&str>,
) -> AppResult<Profile> {
    let display = display_name.trim();
    if display.is_empty() || display.chars().count() > 50 {
        return Err(AppError::validation(
            "display_name",
            "姓名不能为空，且不超过 50 个字",
        ));
    }
    let area = AreaCode::parse(area_code).map_err(|_| AppError::InvalidAreaCode)?;
    let exists = if area.level() == civgrid_core::Level::Grid {
        crate::areas::store::get_grid(&db.pool, area.as_str())
            .await?
            .is_some()
    } else {
        crate::areas::store::get_area(&db.pool, area.as_str())
            .await?
            .is_some()
    };
    if !exists {
        return Err(AppError::AreaNotFound);
    }
    let roles = Role::parse_list(&roles.join(","))
        .ok_or_else(|| AppError::validation("roles", "角色无效，可选：grid_worker、grid_chief、grid_instructor、centre_operator、dept_liaison、leader、mediator、admin、citizen"))?;
    if let Some(d) = department_id {
        if !roles.contains(&Role::DeptLiaison) {
            return Err(AppError::validation(
                "department_id",
                "只有部门联络员需要所属部门",
            ));
        }
        let mut c = db.pool.acquire().await?;
        let dept = crate::catalog::store::department(&mut c, d)
            .await?
            .ok_or(AppError::DepartmentNotFound)?;
        let da = AreaCode::parse(&dept.area_code).map_err(|_| AppError::InvalidAreaCode)?;
        if !da.contains(&area) && !area.contains(&da) {
            return Err(AppError::validation(
                "department_id",
                "部门须在账号所在区域内",
            ));
        }
    }
    Ok(Profile {
        display: display.to_owned(),
        area,
        roles,
    })
}

/// Validates and creates an account; shared by the API, `civgrid user add` and the demo.
pub async fn create_account(
    db: &Db,
    actor: Option<&CurrentUser>,
    req: &CreateUser,
) -> AppResult<String> {
    let username = req.username.trim();
    let valid_name = (3..=32).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if !valid_name {
        return Err(AppError::validation(
            "username",
            "用户名须为 3–32 位字母、数字、下划线、点或连字符",
        ));
    }
    let Profile {
        display,
        area,
        roles,
    } = check_profile(
        db,
        &req.display_name,
        &req.area_code,
        &req.roles,
        req.department_id.as_deref(),
    )
    .await?;
    check_complexity(username, &req.password).map_err(|e| AppError::WeakPassword(e.to_string()))?;
    let hash = auth::hash_password(req.password.clone()).await?;
    let id = new_id();
    let mut tx = db.begin().await?;
    store::insert_user(
        &mut tx,
        &id,
        username,
        &display,
        area.as_str(),
        &Role::join(&roles),
        &hash,
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::UsernameTaken
        } else {
            e.into()
        }
    })?;
    if req.department_id.is_some() {
        store::set_department(&mut tx, &id, req.department_id.as_deref()).await?;
    }
    let a = match actor {
        Some(u) => Audit::by(u, "create_user", "user", &id),
        None => Audit {
            username: Some("cli".into()),
            action: "create_user",
            object_type: "user",
            object_id: id.clone(),
            result: "success",
            ..Default::default()
        },
    };
    audit::write(
        &mut tx,
        a.area(area.as_str())
            .detail(format!("{username} {}", Role::join(&roles))),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
