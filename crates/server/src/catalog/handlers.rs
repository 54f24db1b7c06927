//! HTTP handlers of the catalog domain.

use super::model::*;
use super::{chain, store, to_core};
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm, Role, token_hash};
use crate::db::{new_id, now};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use civgrid_core::calendar::YearRules;
use civgrid_core::catalog::{Limit, Limits, Priority, Source};
use civgrid_core::{AreaCode, Level};
use std::sync::Arc;

fn parse_area(s: &str) -> AppResult<AreaCode> {
    AreaCode::parse(s).map_err(|_| AppError::InvalidAreaCode)
}

fn area_or_own(user: &CurrentUser, area: Option<&str>) -> AppResult<AreaCode> {
    let a = match area {
        Some(a) => parse_area(a)?,
        None => user.area.clone(),
    };
    user.require_scope(&a)?;
    Ok(a)
}

fn parse_limits(v: &LimitsView) -> AppResult<Limits> {
    let one = |field: &'static str, s: &str| {
        Limit::try_from(s.to_owned()).map_err(|m| AppError::validation(field, m))
    };
    Ok(Limits {
        accept: one("limits.accept", &v.accept)?,
        dispatch: one("limits.dispatch", &v.dispatch)?,
        sign: one("limits.sign", &v.sign)?,
        handle: one("limits.handle", &v.handle)?,
        verify: one("limits.verify", &v.verify)?,
    })
}

/// The category tree with the limits in force for an area.
#[utoipa::path(get, path = "/api/catalog/categories", tag = "catalog", params(AreaQuery),
    responses((status = 200, body = Vec<CategoryGroup>), (status = 403, body = ErrorBody)))]
pub async fn list_categories(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AreaQuery>,
) -> AppResult<Json<Vec<CategoryGroup>>> {
    user.require_perm(Perm::ViewEvents)?;
    let area = area_or_own(&user, q.area.as_deref())?;
    let mut c = state.db.pool.acquire().await?;
    let rows = store::categories(&mut c).await?;
    let areas = chain(&area);
    let overrides = store::overrides(&mut c, &areas, None).await?;
    let mut groups: Vec<CategoryGroup> = rows
        .iter()
        .filter(|r| r.parent_code.is_none())
        .map(|g| CategoryGroup {
            code: g.code.clone(),
            name: g.name.clone(),
            categories: vec![],
        })
        .collect();
    for r in rows.iter().filter(|r| r.parent_code.is_some()) {
        let best = areas.iter().find_map(|a| {
            overrides
                .iter()
                .find(|(oa, oc, _)| oa == a && *oc == r.code)
        });
        let cat = to_core(r, best.map(|(_, _, l)| l.as_str()))?;
        if let Some(g) = groups
            .iter_mut()
            .find(|g| Some(&g.code) == r.parent_code.as_ref())
        {
            g.categories.push(CategoryView {
                code: cat.code,
                name: cat.name,
                group_code: cat.group_code,
                department_code: cat.department,
                priority: cat.priority.as_str().into(),
                sources: cat.sources.iter().map(|s| s.as_str().to_owned()).collect(),
                photo_required: cat.photo_required,
                duplicate_radius_m: cat.duplicate_radius_m as i64,
                auto_escalate: cat.auto_escalate,
                limits: cat.limits.into(),
                limits_from: best.map(|(a, _, _)| a.clone()),
            });
        }
    }
    Ok(Json(groups))
}

/// Edits a category's attributes and default limits (administrators).
#[utoipa::path(put, path = "/api/catalog/categories/{code}", tag = "catalog", request_body = UpdateCategory,
    params(("code" = String, Path, description = "分类编码")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_category(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Json(body): Json<UpdateCategory>,
) -> AppResult<StatusCode> {
    user.require_perm(Perm::ManageCatalog)?;
    let mut tx = state.db.begin().await?;
    let mut r = store::category(&mut tx, &code)
        .await?
        .filter(|r| r.parent_code.is_some())
        .ok_or(AppError::UnknownCategory)?;
    if let Some(n) = body.name {
        let n = n.trim();
        if n.is_empty() || n.chars().count() > 50 {
            return Err(AppError::validation("name", "名称须为 1–50 个字"));
        }
        r.name = n.to_owned();
    }
    if let Some(d) = body.department_code {
        if !d.chars().all(|c| c.is_ascii_lowercase()) || d.is_empty() || d.len() > 16 {
            return Err(AppError::validation(
                "department_code",
                "部门代码须为小写字母",
            ));
        }
        r.department_code = Some(d);
    }
    if let Some(p) = body.priority {
        Priority::parse(&p).ok_or_else(|| {
            AppError::validation("priority", "优先级只能是 urgent、high 或 normal")
        })?;
        r.priority = Some(p);
    }
    if let Some(s) = body.sources {
        if s.is_empty() || s.iter().any(|x| Source::parse(x).is_none()) {
            return Err(AppError::validation("sources", "来源不正确"));
        }
        r.sources = Some(s.join(","));
    }
    if let Some(p) = body.photo_required {
        r.photo_required = p as i64;
    }
    if let Some(d) = body.duplicate_radius_m {
        if !(0..=5000).contains(&d) {
            return Err(AppError::validation(
                "duplicate_radius_m",
                "查重半径须在 0–5000 米之间",
            ));
        }
        r.duplicate_radius_m = d;
    }
    if let Some(a) = body.auto_escalate {
        r.auto_escalate = a as i64;
    }
    if let Some(l) = body.limits {
        r.limits = Some(serde_json::to_string(&parse_limits(&l)?).map_err(anyhow::Error::from)?);
    }
    store::update_category(&mut tx, &r).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "update_category", "category", &code),
    )
    .await?;
    tx.commit().await?;
    state.catalog_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// Overrides a category's time limits for an area and everything below it (that area's
/// centre, or an administrator).
#[utoipa::path(put, path = "/api/catalog/categories/{code}/limits", tag = "catalog", request_body = SetLimits,
    params(("code" = String, Path, description = "分类编码")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_limits(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Json(body): Json<SetLimits>,
) -> AppResult<StatusCode> {
    let area = parse_area(&body.area_code)?;
    if !user.can(Perm::ManageCatalog) {
        user.require(Perm::ManageLimits, &area)?;
        if user.area != area {
            return Err(AppError::Forbidden);
        }
    }
    let limits = parse_limits(&body.limits)?;
    let mut tx = state.db.begin().await?;
    store::category(&mut tx, &code)
        .await?
        .filter(|r| r.parent_code.is_some())
        .ok_or(AppError::UnknownCategory)?;
    let json = serde_json::to_string(&limits).map_err(anyhow::Error::from)?;
    store::set_override(&mut tx, area.as_str(), &code, &json, &user.id).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "set_limits", "category", &code)
            .area(area.as_str())
            .detail(json),
    )
    .await?;
    tx.commit().await?;
    state.catalog_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// The admission list (事项准入清单) in force for grid workers of an area.
#[utoipa::path(get, path = "/api/catalog/admission", tag = "catalog", params(AreaQuery),
    responses((status = 200, body = Vec<AdmissionItem>), (status = 403, body = ErrorBody)))]
pub async fn admission_list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AreaQuery>,
) -> AppResult<Json<Vec<AdmissionItem>>> {
    user.require_perm(Perm::ViewEvents)?;
    let area = area_or_own(&user, q.area.as_deref())?;
    let mut c = state.db.pool.acquire().await?;
    Ok(Json(super::admission_list(&mut c, &area).await?))
}

/// Asks for a category to be added to an area's admission list.
#[utoipa::path(post, path = "/api/catalog/admission-requests", tag = "catalog", request_body = NewAdmissionRequest,
    responses((status = 201, body = AdmissionRequestView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_admission(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<NewAdmissionRequest>,
) -> AppResult<(StatusCode, Json<AdmissionRequestView>)> {
    let area = parse_area(&body.area_code)?;
    user.require_perm(Perm::RequestAdmission)?;
    // The list belongs to a centre's level; the asker sits at or below it.
    if !matches!(area.level(), Level::City | Level::County | Level::Township) {
        return Err(AppError::validation(
            "area_code",
            "准入清单按市、县（区）、乡镇（街道）三级管理",
        ));
    }
    if !area.contains(&user.area) && !user.area.contains(&area) {
        return Err(AppError::OutOfScope);
    }
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::validation(
            "reason",
            "请填写申请理由（不超过 500 字）",
        ));
    }
    let mut tx = state.db.begin().await?;
    let r = super::resolve(&mut tx, &body.category_code, &area).await?;
    if super::is_admitted(&mut tx, &r.category, &area).await? {
        return Err(AppError::validation(
            "category_code",
            "该事项已在准入清单内",
        ));
    }
    let req = AdmissionRequestView {
        id: new_id(),
        area_code: area.as_str().into(),
        category_code: body.category_code.clone(),
        reason: reason.into(),
        status: "pending".into(),
        requested_by: user.id.clone(),
        requested_at: now(),
        decided_by: None,
        decided_at: None,
        decision_note: None,
    };
    store::insert_request(&mut tx, &req).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "request_admission", "admission_request", &req.id).area(area.as_str()),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(req)))
}

/// Admission requests in the caller's scope.
#[utoipa::path(get, path = "/api/catalog/admission-requests", tag = "catalog", params(AdmissionRequestQuery),
    responses((status = 200, body = Vec<AdmissionRequestView>), (status = 403, body = ErrorBody)))]
pub async fn list_admission_requests(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AdmissionRequestQuery>,
) -> AppResult<Json<Vec<AdmissionRequestView>>> {
    user.require_perm(Perm::RequestAdmission)?;
    let area = area_or_own(&user, q.area.as_deref())?;
    Ok(Json(
        store::list_requests(&state.db.pool, area.as_str(), q.status.as_deref()).await?,
    ))
}

async fn decide(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    status: &str,
    note: Option<String>,
) -> AppResult<Json<AdmissionRequestView>> {
    user.require_perm(Perm::ApproveAdmission)?;
    let mut tx = state.db.begin().await?;
    let req = store::get_request(&mut tx, id)
        .await?
        .ok_or(AppError::RecordNotFound("admission_request"))?;
    let area = parse_area(&req.area_code)?;
    user.require_scope(&area)?;
    // The same level's centre decides.
    if user.area != area || !user.has_role(Role::CentreOperator) {
        return Err(AppError::Forbidden);
    }
    if !store::decide_request(&mut tx, id, status, &user.id, note.as_deref()).await? {
        return Err(AppError::AlreadyDecided);
    }
    audit::write(
        &mut tx,
        Audit::by(
            user,
            if status == "approved" {
                "approve_admission"
            } else {
                "reject_admission"
            },
            "admission_request",
            id,
        )
        .area(area.as_str()),
    )
    .await?;
    let req = store::get_request(&mut tx, id)
        .await?
        .ok_or(AppError::RecordNotFound("admission_request"))?;
    tx.commit().await?;
    state.catalog_changed();
    Ok(Json(req))
}

/// Approves an admission request (the centre of that area).
#[utoipa::path(post, path = "/api/catalog/admission-requests/{id}/approve", tag = "catalog", request_body = DecisionNote,
    params(("id" = String, Path, description = "申请编号")),
    responses((status = 200, body = AdmissionRequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_admission(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<DecisionNote>,
) -> AppResult<Json<AdmissionRequestView>> {
    decide(&state, &user, &id, "approved", body.note).await
}

/// Rejects an admission request.
#[utoipa::path(post, path = "/api/catalog/admission-requests/{id}/reject", tag = "catalog", request_body = DecisionNote,
    params(("id" = String, Path, description = "申请编号")),
    responses((status = 200, body = AdmissionRequestView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reject_admission(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<DecisionNote>,
) -> AppResult<Json<AdmissionRequestView>> {
    decide(&state, &user, &id, "rejected", body.note).await
}

/// Departments a centre at the area can dispatch to (its own and those above it).
#[utoipa::path(get, path = "/api/departments", tag = "catalog", params(AreaQuery),
    responses((status = 200, body = Vec<DepartmentView>), (status = 403, body = ErrorBody)))]
pub async fn list_departments(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AreaQuery>,
) -> AppResult<Json<Vec<DepartmentView>>> {
    user.require_perm(Perm::ViewEvents)?;
    let area = area_or_own(&user, q.area.as_deref())?;
    let mut c = state.db.pool.acquire().await?;
    Ok(Json(super::departments_for(&mut c, &area).await?))
}

/// Adds a department to an area (administrators).
#[utoipa::path(post, path = "/api/departments", tag = "catalog", request_body = NewDepartment,
    responses((status = 201, body = DepartmentView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_department(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<NewDepartment>,
) -> AppResult<(StatusCode, Json<DepartmentView>)> {
    let area = parse_area(&body.area_code)?;
    user.require(Perm::ManageCatalog, &area)?;
    if body.code.is_empty()
        || body.code.len() > 16
        || !body.code.chars().all(|c| c.is_ascii_lowercase())
    {
        return Err(AppError::validation("code", "部门代码须为 1–16 个小写字母"));
    }
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(AppError::validation("name", "部门名称须为 1–50 个字"));
    }
    if crate::areas::store::get_area(&state.db.pool, area.as_str())
        .await?
        .is_none()
    {
        return Err(AppError::AreaNotFound);
    }
    let mut tx = state.db.begin().await?;
    let d = DepartmentView {
        id: format!("{}-{}", area.as_str(), body.code),
        code: body.code.clone(),
        name: name.into(),
        area_code: area.as_str().into(),
        webhook_url: None,
    };
    if !store::insert_department(&mut tx, &d).await? {
        return Err(AppError::Conflict);
    }
    audit::write(
        &mut tx,
        Audit::by(&user, "create_department", "department", &d.id).area(area.as_str()),
    )
    .await?;
    tx.commit().await?;
    state.names_changed();
    Ok((StatusCode::CREATED, Json(d)))
}

/// Sets or removes a department's outbound webhook (administrators).
#[utoipa::path(put, path = "/api/departments/{id}/webhook", tag = "catalog", request_body = SetWebhook,
    params(("id" = String, Path, description = "部门编号")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_webhook(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<SetWebhook>,
) -> AppResult<StatusCode> {
    user.require_perm(Perm::ManageCatalog)?;
    if let Some(u) = &body.url {
        let ok = (u.starts_with("http://") || u.starts_with("https://"))
            && u.len() <= 500
            && reqwest::Url::parse(u).is_ok();
        if !ok {
            return Err(AppError::validation(
                "url",
                "回调地址须为 http:// 或 https:// 开头的网址",
            ));
        }
        if body
            .secret
            .as_deref()
            .is_none_or(|s| s.len() < 16 || s.len() > 200)
        {
            return Err(AppError::validation("secret", "签名密钥至少 16 个字符"));
        }
    }
    let mut tx = state.db.begin().await?;
    let d = store::department(&mut tx, &id)
        .await?
        .ok_or(AppError::DepartmentNotFound)?;
    user.require_scope(&parse_area(&d.area_code)?)?;
    let secret = body.url.as_ref().and(body.secret.as_deref());
    store::set_webhook(&mut tx, &id, body.url.as_deref(), secret).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "set_webhook", "department", &id)
            .detail(body.url.clone().unwrap_or_default()),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delivery log of a department's webhook (its liaisons and administrators).
#[utoipa::path(get, path = "/api/departments/{id}/deliveries", tag = "catalog",
    params(("id" = String, Path, description = "部门编号")),
    responses((status = 200, body = Vec<DeliveryView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<DeliveryView>>> {
    let mut c = state.db.pool.acquire().await?;
    let d = store::department(&mut c, &id)
        .await?
        .ok_or(AppError::DepartmentNotFound)?;
    drop(c);
    if user.department_id.as_deref() != Some(d.id.as_str()) {
        user.require(Perm::ManageCatalog, &parse_area(&d.area_code)?)?;
    }
    Ok(Json(store::deliveries(&state.db.pool, &id).await?))
}

/// Years with holiday files and the working hours.
#[utoipa::path(get, path = "/api/calendar", tag = "catalog",
    responses((status = 200, body = CalendarInfo)))]
pub async fn calendar_info(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> AppResult<Json<CalendarInfo>> {
    let cal = state.calendar();
    Ok(Json(CalendarInfo {
        years: cal.years().into_iter().collect(),
        working_hours: state.cfg.working_hours.clone(),
        minutes_per_day: cal.hours().minutes_per_day(),
    }))
}

/// One year's holiday file.
#[utoipa::path(get, path = "/api/calendar/{year}", tag = "catalog",
    params(("year" = i32, Path, description = "年份")),
    responses((status = 200, body = serde_json::Value), (status = 404, body = ErrorBody)))]
pub async fn get_year(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(year): Path<i32>,
) -> AppResult<Json<serde_json::Value>> {
    let body = store::get_year(&state.db.pool, year)
        .await?
        .ok_or(AppError::RecordNotFound("calendar_year"))?;
    Ok(Json(
        serde_json::from_str(&body).map_err(anyhow::Error::from)?,
    ))
}

/// Adds or replaces a year's holiday file (administrators); deadlines use it at once.
#[utoipa::path(put, path = "/api/calendar/{year}", tag = "catalog", request_body = serde_json::Value,
    params(("year" = i32, Path, description = "年份")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_year(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(year): Path<i32>,
    Json(body): Json<serde_json::Value>,
) -> AppResult<StatusCode> {
    user.require_perm(Perm::ManageCatalog)?;
    let text = body.to_string();
    let (y, rules) =
        YearRules::parse(&text).map_err(|e| AppError::InvalidCalendar(e.to_string()))?;
    if y != year {
        return Err(AppError::InvalidCalendar(format!(
            "文件年份 {y} 与地址中的 {year} 不一致"
        )));
    }
    let mut tx = state.db.begin().await?;
    store::put_year(&mut tx, year, &text, &user.id).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "put_calendar_year", "calendar", year.to_string()),
    )
    .await?;
    tx.commit().await?;
    if let Ok(mut cal) = state.calendar.write() {
        let mut c = (**cal).clone();
        c.set_year(year, rules);
        *cal = Arc::new(c);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// When a limit that starts at `start` runs out, in working time.
#[utoipa::path(get, path = "/api/calendar/deadline", tag = "catalog", params(DeadlineQuery),
    responses((status = 200, body = DeadlineView), (status = 422, body = ErrorBody)))]
pub async fn deadline(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(q): Query<DeadlineQuery>,
) -> AppResult<Json<DeadlineView>> {
    let cal = state.calendar();
    let start = match &q.start {
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map_err(|_| AppError::validation("start", "时间格式应为 RFC 3339"))?,
        None => state
            .clock
            .now()
            .with_timezone(&civgrid_core::calendar::cst()),
    };
    let limit = Limit::try_from(q.limit.clone()).map_err(|m| AppError::validation("limit", m))?;
    let d = cal.add_minutes(start, limit.minutes(cal.hours().minutes_per_day()));
    Ok(Json(DeadlineView {
        start: start.to_rfc3339(),
        limit: q.limit,
        deadline: d.to_rfc3339(),
    }))
}

/// Creates an API key for an external system (administrators). The key is shown once.
#[utoipa::path(post, path = "/api/api-keys", tag = "catalog", request_body = NewApiKey,
    responses((status = 201, body = ApiKeyCreated), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_api_key(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<NewApiKey>,
) -> AppResult<(StatusCode, Json<ApiKeyCreated>)> {
    let area = parse_area(&body.area_code)?;
    user.require(Perm::ManageCatalog, &area)?;
    let (key, created) = create_key(
        &state.db,
        &body.name,
        &area,
        body.source.as_deref(),
        Some(&user),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyCreated {
            id: created,
            name: body.name,
            key,
        }),
    ))
}

/// Creates a key (API and CLI): returns (key, id).
pub async fn create_key(
    db: &crate::db::Db,
    name: &str,
    area: &AreaCode,
    source: Option<&str>,
    by: Option<&CurrentUser>,
) -> AppResult<(String, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(AppError::validation("name", "名称须为 1–50 个字"));
    }
    let source = source.unwrap_or("video_alarm");
    if !matches!(
        Source::parse(source),
        Some(Source::VideoAlarm | Source::Hotline | Source::Department)
    ) {
        return Err(AppError::validation(
            "source",
            "接口来源只能是 video_alarm、hotline 或 department",
        ));
    }
    let (key, hash) = crate::auth::new_session_token();
    debug_assert_eq!(hash, token_hash(&key));
    let id = new_id();
    let mut tx = db.begin().await?;
    store::insert_api_key(&mut tx, &id, name, &hash, area.as_str(), source).await?;
    let a = match by {
        Some(u) => Audit::by(u, "create_api_key", "api_key", &id),
        None => Audit {
            action: "create_api_key",
            object_type: "api_key",
            object_id: id.clone(),
            result: "success",
            username: Some("cli".into()),
            ..Default::default()
        },
    };
    audit::write(&mut tx, a.area(area.as_str()).detail(name)).await?;
    tx.commit().await?;
    Ok((key, id))
}

/// The code tables in force (性别, 民族, 婚姻 … and the editable ones).
#[utoipa::path(get, path = "/api/dicts", tag = "dicts",
    responses((status = 200, body = Vec<DictItem>), (status = 401, body = ErrorBody)))]
pub async fn list_dicts(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> AppResult<Json<Vec<DictItem>>> {
    let d = state.dicts().await?;
    Ok(Json(d.all().into_iter().cloned().collect()))
}

/// Adds or relabels a code (a new version from today; the old one stays in history), or
/// retires it. Verified national codes keep their meaning: only their label may change.
#[utoipa::path(put, path = "/api/dicts/{dict_type}/{code}", tag = "dicts", request_body = DictEdit,
    params(("dict_type" = String, Path, description = "代码表"), ("code" = String, Path, description = "代码")),
    responses((status = 200, body = Vec<DictItem>), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_dict_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((dict_type, code)): Path<(String, String)>,
    Json(b): Json<DictEdit>,
) -> AppResult<Json<Vec<DictItem>>> {
    user.require_perm(Perm::ImportPeople)?;
    let ok = |s: &str, n: usize| {
        !s.is_empty() && s.len() <= n && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if !ok(&dict_type, 40) {
        return Err(AppError::validation(
            "dict_type",
            "代码表名只能是字母、数字和下划线",
        ));
    }
    if !ok(&code, 20) {
        return Err(AppError::validation(
            "code",
            "代码只能是字母、数字和下划线，不超过 20 位",
        ));
    }
    let today = state
        .clock
        .now()
        .with_timezone(&civgrid_core::calendar::cst())
        .format("%Y-%m-%d")
        .to_string();
    let mut tx = state.db.begin().await?;
    let versions = store::dict_versions(&mut tx, &dict_type, &code).await?;
    let current = versions.iter().find(|v| v.valid_to.is_none());
    if b.retire {
        if store::end_dict_item(&mut tx, &dict_type, &code, &today).await? == 0 {
            return Err(AppError::RecordNotFound("dict_item"));
        }
    } else {
        let label = b
            .label
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty() && l.chars().count() <= 50)
            .ok_or_else(|| AppError::validation("label", "请填写名称（不超过 50 个字）"))?;
        if current.is_some_and(|c| c.valid_from == today) {
            sqlx::query(
                "DELETE FROM dict_items WHERE dict_type = $1 AND code = $2 AND valid_from = $3",
            )
            .bind(&dict_type)
            .bind(&code)
            .bind(&today)
            .execute(&mut *tx)
            .await?;
        } else {
            store::end_dict_item(&mut tx, &dict_type, &code, &today).await?;
        }
        let sort = current.map(|c| c.sort).unwrap_or(10_000);
        store::insert_dict_items(
            &mut tx,
            &[DictItem {
                dict_type: dict_type.clone(),
                code: code.clone(),
                label: label.to_owned(),
                standard_ref: b
                    .standard_ref
                    .clone()
                    .or(current.and_then(|c| c.standard_ref.clone())),
                valid_from: today.clone(),
                valid_to: None,
                sort,
            }],
        )
        .await?;
    }
    audit::write(
        &mut tx,
        Audit::by(
            &user,
            "dict.edit",
            "dict_item",
            format!("{dict_type}/{code}"),
        )
        .detail(if b.retire {
            "停用".to_owned()
        } else {
            b.label.clone().unwrap_or_default()
        }),
    )
    .await?;
    let out = store::dict_versions(&mut tx, &dict_type, &code).await?;
    tx.commit().await?;
    state.dicts_changed();
    Ok(Json(out))
}
