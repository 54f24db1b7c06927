//! HTTP handlers of the areas domain: the division tree, grids, boundaries and locate.

use super::model::*;
use super::store;
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm, Role};
use crate::db::{is_unique_violation, new_id, now};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use civgrid_core::geo::Boundary;
use civgrid_core::locate::Found;
use civgrid_core::{AreaCode, Level};
use serde_json::{Value, json};
use std::collections::HashMap;

fn parse_code(s: &str) -> AppResult<AreaCode> {
    AreaCode::parse(s).map_err(|_| AppError::InvalidAreaCode)
}

fn node(r: &AreaRow, counts: Option<Counts>) -> AreaNode {
    AreaNode {
        code: r.code.clone(),
        name: r.name.clone(),
        level: r.level.clone(),
        parent_code: r.parent_code.clone(),
        counts,
    }
}

fn grid_node(g: &GridRow) -> AreaNode {
    AreaNode {
        code: g.code.clone(),
        name: g.name.clone(),
        level: Level::Grid.as_str().into(),
        parent_code: Some(g.village_code.clone()),
        counts: None,
    }
}

async fn area_or_404(state: &AppState, code: &AreaCode) -> AppResult<AreaRow> {
    store::get_area(&state.db.pool, code.as_str())
        .await?
        .ok_or(AppError::AreaNotFound)
}

async fn ancestors(state: &AppState, code: &AreaCode) -> AppResult<Vec<AreaNode>> {
    let codes: Vec<String> = code.ancestors().into_iter().map(String::from).collect();
    Ok(store::get_areas(&state.db.pool, &codes)
        .await?
        .iter()
        .map(|r| node(r, None))
        .collect())
}

async fn counts_of(state: &AppState, code: &str) -> AppResult<Counts> {
    Ok(store::counts_by_prefix(&state.db.pool, code, code.len())
        .await?
        .remove(code)
        .unwrap_or_default())
}

/// One division (or grid) and the chain above it.
#[utoipa::path(get, path = "/api/areas/{code}", tag = "areas",
    params(("code" = String, Path, description = "区划或网格代码")),
    responses((status = 200, body = AreaDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_area(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<AreaDetail>> {
    let code = parse_code(&code)?;
    user.require(Perm::ViewAreas, &code)?;
    let area = if code.level() == Level::Grid {
        let g = store::get_grid(&state.db.pool, code.as_str())
            .await?
            .ok_or(AppError::GridNotFound)?;
        grid_node(&g)
    } else {
        let r = area_or_404(&state, &code).await?;
        node(&r, Some(counts_of(&state, code.as_str()).await?))
    };
    Ok(Json(AreaDetail {
        area,
        ancestors: ancestors(&state, &code).await?,
    }))
}

/// The children of a node, each with its counts; a village's children are its grids.
#[utoipa::path(get, path = "/api/areas/{code}/children", tag = "areas",
    params(("code" = String, Path, description = "区划代码")),
    responses((status = 200, body = Vec<AreaNode>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn children(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<Vec<AreaNode>>> {
    let code = parse_code(&code)?;
    user.require(Perm::ViewAreas, &code)?;
    if code.level() == Level::Grid {
        return Ok(Json(vec![]));
    }
    area_or_404(&state, &code).await?;
    if code.level() == Level::Village {
        let grids = store::grid_rows_within(&state.db.pool, code.as_str()).await?;
        return Ok(Json(grids.iter().map(grid_node).collect()));
    }
    let rows = store::children(&state.db.pool, code.as_str()).await?;
    let key_len = code.level().child().map(|l| l.code_len()).unwrap_or(0);
    let mut counts = store::counts_by_prefix(&state.db.pool, code.as_str(), key_len).await?;
    Ok(Json(
        rows.iter()
            .map(|r| node(r, Some(counts.remove(&r.code).unwrap_or_default())))
            .collect(),
    ))
}

/// The whole subtree of a node (townships, villages, grids) with counts at every level.
#[utoipa::path(get, path = "/api/areas/{code}/subtree", tag = "areas",
    params(("code" = String, Path, description = "区划代码")),
    responses((status = 200, body = SubtreeNode), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn subtree(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<SubtreeNode>> {
    let code = parse_code(&code)?;
    user.require(Perm::ViewAreas, &code)?;
    let root = area_or_404(&state, &code).await?;
    let rows = store::subtree(&state.db.pool, code.as_str()).await?;
    let grids = store::grid_rows_within(&state.db.pool, code.as_str()).await?;
    Ok(Json(build_subtree(&root, &rows, &grids)))
}

/// Assembles the nested tree from flat rows (sorted by code, so parents come first).
fn build_subtree(root: &AreaRow, rows: &[AreaRow], grids: &[GridRow]) -> SubtreeNode {
    let mut kids: HashMap<&str, Vec<(&str, &str, &str)>> = HashMap::new();
    for r in rows {
        if let Some(p) = &r.parent_code {
            kids.entry(p.as_str())
                .or_default()
                .push((&r.code, &r.name, &r.level));
        }
    }
    for g in grids {
        kids.entry(g.village_code.as_str())
            .or_default()
            .push((&g.code, &g.name, "grid"));
    }
    fn build(
        code: &str,
        name: &str,
        level: &str,
        kids: &HashMap<&str, Vec<(&str, &str, &str)>>,
    ) -> SubtreeNode {
        let children: Vec<SubtreeNode> = kids
            .get(code)
            .map(|v| v.iter().map(|(c, n, l)| build(c, n, l, kids)).collect())
            .unwrap_or_default();
        let counts = (level != "grid").then(|| {
            let mut c = Counts::default();
            for ch in &children {
                match ch.level.as_str() {
                    "township" => c.townships += 1,
                    "village" => c.villages += 1,
                    "grid" => c.grids += 1,
                    _ => {}
                }
                if let Some(cc) = &ch.counts {
                    c.townships += cc.townships;
                    c.villages += cc.villages;
                    c.grids += cc.grids;
                }
            }
            c
        });
        SubtreeNode {
            code: code.into(),
            name: name.into(),
            level: level.into(),
            counts,
            children,
        }
    }
    build(&root.code, &root.name, &root.level, &kids)
}

/// Every version of a code: renamed or abolished rows keep their validity years.
#[utoipa::path(get, path = "/api/areas/{code}/history", tag = "areas",
    params(("code" = String, Path, description = "区划代码")),
    responses((status = 200, body = Vec<AreaVersion>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<Vec<AreaVersion>>> {
    let code = parse_code(&code)?;
    user.require(Perm::ViewAreas, &code)?;
    let rows = store::area_versions(&state.db.pool, code.as_str()).await?;
    if rows.is_empty() {
        return Err(AppError::AreaNotFound);
    }
    Ok(Json(
        rows.into_iter()
            .map(|r| AreaVersion {
                code: r.code,
                name: r.name,
                parent_code: r.parent_code,
                valid_from: r.valid_from,
                valid_to: r.valid_to,
            })
            .collect(),
    ))
}

/// Divisions in the caller's area whose name contains `q`.
#[utoipa::path(get, path = "/api/areas/search", tag = "areas", params(SearchQuery),
    responses((status = 200, body = Vec<AreaNode>), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<SearchQuery>,
) -> AppResult<Json<Vec<AreaNode>>> {
    user.require_perm(Perm::ViewAreas)?;
    let text = q.q.trim();
    if text.is_empty() || text.chars().count() > 50 {
        return Err(AppError::validation(
            "q",
            "搜索词不能为空，且不超过 50 个字",
        ));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let rows = store::search(&state.db.pool, user.area.as_str(), text, limit).await?;
    Ok(Json(rows.iter().map(|r| node(r, None)).collect()))
}

// ---------------------------------------------------------------- grids

/// The grids in an area as a GeoJSON FeatureCollection.
#[utoipa::path(get, path = "/api/grids", tag = "grids", params(WithinQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = Object), (status = 403, body = ErrorBody)))]
pub async fn list_grids(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<WithinQuery>,
) -> AppResult<Json<Value>> {
    let within = match q.within.as_deref() {
        Some(c) => parse_code(c)?,
        None => user.area.clone(),
    };
    user.require(Perm::ViewAreas, &within)?;
    let grids = store::grids_within(&state.db.pool, within.as_str()).await?;
    let features: Vec<Value> = grids
        .iter()
        .map(|(g, geo)| {
            let geometry = geo.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()).unwrap_or(Value::Null);
            json!({
                "type": "Feature",
                "id": g.code,
                "geometry": geometry,
                "properties": {
                    "code": g.code, "name": g.name, "type": g.grid_type,
                    "type_label": GridType::label(&g.grid_type), "village_code": g.village_code,
                    "household_target": g.household_target, "population_target": g.population_target,
                }
            })
        })
        .collect();
    Ok(Json(
        json!({"type": "FeatureCollection", "features": features}),
    ))
}

fn check_targets(household: Option<i64>, population: Option<i64>) -> AppResult<()> {
    for (field, v) in [
        ("household_target", household),
        ("population_target", population),
    ] {
        if v.is_some_and(|n| !(0..=100_000).contains(&n)) {
            return Err(AppError::validation(
                field,
                "户数、人口目标须在 0 到 100000 之间",
            ));
        }
    }
    Ok(())
}

fn parse_boundary(v: &Value) -> AppResult<Boundary> {
    Ok(Boundary::from_geojson(v)?)
}

/// Refuses a boundary that shares area with another current grid (touching is fine).
fn check_overlap(state: &AppState, boundary: &Boundary, grid: Option<&String>) -> AppResult<()> {
    let idx = state.grids.read().unwrap_or_else(|e| e.into_inner());
    match idx.overlapping(boundary, grid) {
        Some(other) => Err(AppError::GridOverlap(other.clone())),
        None => Ok(()),
    }
}

/// Creates a grid under a village/community; its code is the community code plus the next
/// 3-digit sequence, and its first boundary takes effect at once.
#[utoipa::path(post, path = "/api/grids", tag = "grids", request_body = CreateGrid,
    responses((status = 201, body = GridDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_grid(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(req): Json<CreateGrid>,
) -> AppResult<(StatusCode, Json<GridDetail>)> {
    let village = parse_code(&req.village_code)?;
    user.require(Perm::ManageGrids, &village)?;
    if village.level() != Level::Village {
        return Err(AppError::NotAVillage);
    }
    area_or_404(&state, &village).await?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(AppError::validation(
            "name",
            "网格名称不能为空，且不超过 50 个字",
        ));
    }
    check_targets(req.household_target, req.population_target)?;
    let boundary = parse_boundary(&req.boundary)?;
    check_overlap(&state, &boundary, None)?;
    let mut tx = state.db.begin().await?;
    let seq = store::next_grid_seq(&mut tx, village.as_str()).await?;
    let code = village
        .grid_child(seq)
        .ok_or(AppError::GridCodesExhausted)?;
    let row = GridRow {
        code: code.to_string(),
        village_code: village.to_string(),
        name: name.to_owned(),
        grid_type: req.grid_type.as_str().into(),
        household_target: req.household_target,
        population_target: req.population_target,
        status: "active".into(),
        created_at: now(),
    };
    store::insert_grid(&mut tx, &row, &user.id)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::Conflict
            } else {
                e.into()
            }
        })?;
    store::set_boundary(&mut tx, &row.code, &boundary, &user.id, None).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "create_grid", "grid", &row.code)
            .area(&row.code)
            .detail(&row.name),
    )
    .await?;
    tx.commit().await?;
    state.names_changed();
    state
        .grids
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .upsert(row.code.clone(), boundary);
    Ok((StatusCode::CREATED, Json(grid_detail(&state, row).await?)))
}

async fn grid_detail(state: &AppState, g: GridRow) -> AppResult<GridDetail> {
    let members = store::members(&state.db.pool, &g.code).await?;
    let pending = store::count_pending(&state.db.pool, &g.code).await?;
    let boundary = store::current_boundary(&state.db.pool, &g.code)
        .await?
        .and_then(|b| serde_json::from_str(&b).ok());
    Ok(GridDetail {
        grid_type_label: GridType::label(&g.grid_type).into(),
        code: g.code,
        name: g.name,
        grid_type: g.grid_type,
        village_code: g.village_code,
        household_target: g.household_target,
        population_target: g.population_target,
        status: g.status,
        boundary,
        members,
        pending_requests: pending,
    })
}

async fn grid_in_scope(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    perm: Perm,
) -> AppResult<GridRow> {
    let code = parse_code(code)?;
    if code.level() != Level::Grid {
        return Err(AppError::GridNotFound);
    }
    user.require(perm, &code)?;
    store::get_grid(&state.db.pool, code.as_str())
        .await?
        .ok_or(AppError::GridNotFound)
}

/// One grid with its current boundary, members and pending change requests.
#[utoipa::path(get, path = "/api/grids/{code}", tag = "grids",
    params(("code" = String, Path, description = "网格代码（15 位）")),
    responses((status = 200, body = GridDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_grid(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<GridDetail>> {
    let g = grid_in_scope(&state, &user, &code, Perm::ViewAreas).await?;
    Ok(Json(grid_detail(&state, g).await?))
}

/// Approved boundaries of a grid, newest first, with their validity.
#[utoipa::path(get, path = "/api/grids/{code}/boundaries", tag = "grids",
    params(("code" = String, Path, description = "网格代码")),
    responses((status = 200, body = Vec<BoundaryVersion>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn boundaries(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Json<Vec<BoundaryVersion>>> {
    let g = grid_in_scope(&state, &user, &code, Perm::ViewAreas).await?;
    let rows = store::boundary_history(&state.db.pool, &g.code).await?;
    Ok(Json(
        rows.into_iter()
            .map(|b| BoundaryVersion {
                boundary: serde_json::from_str(&b.geojson).unwrap_or(Value::Null),
                id: b.id,
                valid_from: b.valid_from,
                valid_to: b.valid_to,
                approved_by: b.approved_by,
                request_id: b.request_id,
            })
            .collect(),
    ))
}

/// Sets the grid workers (one or more) and the grid chief.
#[utoipa::path(put, path = "/api/grids/{code}/members", tag = "grids", request_body = SetMembers,
    params(("code" = String, Path, description = "网格代码")),
    responses((status = 200, body = GridDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_members(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Json(req): Json<SetMembers>,
) -> AppResult<Json<GridDetail>> {
    let g = grid_in_scope(&state, &user, &code, Perm::ManageGrids).await?;
    if req.workers.is_empty() {
        return Err(AppError::validation(
            "workers",
            "每个网格至少要有一名网格员",
        ));
    }
    let grid_code = parse_code(&g.code)?;
    let mut members = Vec::new();
    let wanted = req
        .workers
        .iter()
        .map(|w| (w, Role::GridWorker, "worker"))
        .chain(req.chief.iter().map(|c| (c, Role::GridChief, "chief")));
    for (id, role, duty) in wanted {
        let u = crate::accounts::store::get_user(&state.db.pool, id)
            .await?
            .ok_or(AppError::UserNotFound)?;
        let area = parse_code(&u.area_code)?;
        if !area.contains(&grid_code) && !grid_code.contains(&area) {
            return Err(AppError::validation(
                "workers",
                format!("{} 不在该网格所属区域", u.display_name),
            ));
        }
        if !Role::parse_list(&u.roles)
            .unwrap_or_default()
            .contains(&role)
        {
            return Err(AppError::validation(
                "workers",
                format!("{} 没有{}角色", u.display_name, role.label()),
            ));
        }
        if !members
            .iter()
            .any(|(m, d): &(String, &str)| m == &u.id && *d == duty)
        {
            members.push((u.id, duty));
        }
    }
    let mut tx = state.db.begin().await?;
    store::set_members(&mut tx, &g.code, &members).await?;
    let detail = members
        .iter()
        .map(|(m, d)| format!("{d}:{m}"))
        .collect::<Vec<_>>()
        .join(",");
    audit::write(
        &mut tx,
        Audit::by(&user, "set_grid_members", "grid", &g.code)
            .area(&g.code)
            .detail(detail),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(grid_detail(&state, g).await?))
}

/// The grid holding a point and its ancestors; when none holds it, the nearest grid within
/// the configured distance, marked `nearest`.
#[utoipa::path(get, path = "/api/grids/locate", tag = "grids", params(LocateQuery),
    responses((status = 200, body = Located), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn locate(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<LocateQuery>,
) -> AppResult<Json<Located>> {
    user.require_perm(Perm::ViewAreas)?;
    if !(q.lon.is_finite() && (-180.0..=180.0).contains(&q.lon)) {
        return Err(AppError::validation("lon", "经度须在 -180 到 180 之间"));
    }
    if !(q.lat.is_finite() && (-90.0..=90.0).contains(&q.lat)) {
        return Err(AppError::validation("lat", "纬度须在 -90 到 90 之间"));
    }
    let found = {
        let idx = state.grids.read().unwrap_or_else(|e| e.into_inner());
        match idx.find([q.lon, q.lat], state.cfg.locate_max_distance_m) {
            Found::Inside(k) => Some(("inside", k.clone(), 0.0)),
            Found::Nearest(k, d) => Some(("nearest", k.clone(), (d * 10.0).round() / 10.0)),
            Found::Nothing => None,
        }
    };
    let Some((match_type, code, distance)) = found else {
        return Ok(Json(Located {
            match_type: "none".into(),
            grid: None,
            distance_m: None,
            ancestors: vec![],
        }));
    };
    let grid_code = parse_code(&code)?;
    user.require_scope(&grid_code)?;
    let g = store::get_grid(&state.db.pool, &code)
        .await?
        .ok_or(AppError::GridNotFound)?;
    Ok(Json(Located {
        match_type: match_type.into(),
        grid: Some(grid_node(&g)),
        distance_m: Some(distance),
        ancestors: ancestors(&state, &grid_code).await?,
    }))
}

// ---------------------------------------------------------------- change requests

/// Proposes a new boundary for a grid; a township centre approves or rejects it.
#[utoipa::path(post, path = "/api/grids/{code}/boundary-requests", tag = "grids", request_body = BoundaryRequestBody,
    params(("code" = String, Path, description = "网格代码")),
    responses((status = 201, body = ChangeRequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_change(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(code): Path<String>,
    Json(req): Json<BoundaryRequestBody>,
) -> AppResult<(StatusCode, Json<ChangeRequestView>)> {
    let g = grid_in_scope(&state, &user, &code, Perm::RequestGridChange).await?;
    let reason = req.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(AppError::validation(
            "reason",
            "请填写变更原因（不超过 500 字）",
        ));
    }
    let boundary = parse_boundary(&req.boundary)?;
    check_overlap(&state, &boundary, Some(&g.code))?;
    let cr = ChangeRequest {
        id: new_id(),
        grid_code: g.code.clone(),
        status: "pending".into(),
        reason: reason.to_owned(),
        requested_by: user.id.clone(),
        requested_at: now(),
        decided_by: None,
        decided_at: None,
        decision_note: None,
        geojson: boundary.to_geojson().to_string(),
    };
    let mut tx = state.db.begin().await?;
    store::insert_request(&mut tx, &cr).await?;
    audit::write(
        &mut tx,
        Audit::by(
            &user,
            "request_boundary_change",
            "grid_change_request",
            &cr.id,
        )
        .area(&g.code),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(ChangeRequestView {
            boundary: boundary.to_geojson(),
            request: cr,
        }),
    ))
}

/// Boundary change requests in the caller's area.
#[utoipa::path(get, path = "/api/grid-change-requests", tag = "grids", params(RequestListQuery),
    responses((status = 200, body = Vec<ChangeRequestView>), (status = 422, body = ErrorBody)))]
pub async fn list_requests(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<RequestListQuery>,
) -> AppResult<Json<Vec<ChangeRequestView>>> {
    user.require_perm(Perm::ViewAreas)?;
    let status = q.status.as_deref().unwrap_or("pending");
    if !["pending", "approved", "rejected"].contains(&status) {
        return Err(AppError::validation(
            "status",
            "状态只能是 pending、approved 或 rejected",
        ));
    }
    let rows = store::list_requests(&state.db.pool, user.area.as_str(), status).await?;
    Ok(Json(rows.into_iter().map(view).collect()))
}

fn view(cr: ChangeRequest) -> ChangeRequestView {
    ChangeRequestView {
        boundary: serde_json::from_str(&cr.geojson).unwrap_or(Value::Null),
        request: cr,
    }
}

/// Loads a request the caller may see (404 for another area's request: no data leaks).
async fn request_in_scope(
    tx: &mut crate::db::Tx,
    user: &CurrentUser,
    id: &str,
) -> AppResult<ChangeRequest> {
    let cr = store::get_request(tx, id)
        .await?
        .ok_or(AppError::ChangeRequestNotFound)?;
    let grid = parse_code(&cr.grid_code)?;
    if !user.area.contains(&grid) {
        return Err(AppError::ChangeRequestNotFound);
    }
    Ok(cr)
}

/// One boundary change request with its proposed boundary.
#[utoipa::path(get, path = "/api/grid-change-requests/{id}", tag = "grids",
    params(("id" = String, Path, description = "申请编号")),
    responses((status = 200, body = ChangeRequestView), (status = 404, body = ErrorBody)))]
pub async fn get_request(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<ChangeRequestView>> {
    user.require_perm(Perm::ViewAreas)?;
    let mut tx = state.db.begin().await?;
    let cr = request_in_scope(&mut tx, &user, &id).await?;
    tx.commit().await?;
    Ok(Json(view(cr)))
}

/// The approver must be a township-level centre account (or a system administrator).
fn require_township_approver(user: &CurrentUser, grid: &AreaCode) -> AppResult<()> {
    user.require(Perm::ApproveGridChange, grid)?;
    let township_centre =
        user.has_role(Role::CentreOperator) && user.area.level() == Level::Township;
    if township_centre || user.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::NotTownshipCentre)
    }
}

/// Approves a request: its boundary becomes current (the old one is kept with valid_to) and
/// the locate index follows.
#[utoipa::path(post, path = "/api/grid-change-requests/{id}/approve", tag = "grids", request_body = Decision,
    params(("id" = String, Path, description = "申请编号")),
    responses((status = 200, body = ChangeRequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(d): Json<Decision>,
) -> AppResult<Json<ChangeRequestView>> {
    decide(state, user, id, d, true).await
}

/// Rejects a request (a note saying why is required).
#[utoipa::path(post, path = "/api/grid-change-requests/{id}/reject", tag = "grids", request_body = Decision,
    params(("id" = String, Path, description = "申请编号")),
    responses((status = 200, body = ChangeRequestView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(d): Json<Decision>,
) -> AppResult<Json<ChangeRequestView>> {
    decide(state, user, id, d, false).await
}

async fn decide(
    state: AppState,
    user: CurrentUser,
    id: String,
    d: Decision,
    approve: bool,
) -> AppResult<Json<ChangeRequestView>> {
    let note = d.note.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(AppError::validation("note", "审批意见不超过 500 字"));
    }
    if !approve && note.is_none() {
        return Err(AppError::validation("note", "驳回时请填写理由"));
    }
    let mut tx = state.db.begin().await?;
    let cr = request_in_scope(&mut tx, &user, &id).await?;
    let grid = parse_code(&cr.grid_code)?;
    require_township_approver(&user, &grid)?;
    let status = if approve { "approved" } else { "rejected" };
    if !store::decide_request(&mut tx, &id, status, &user.id, note).await? {
        return Err(AppError::AlreadyDecided);
    }
    let boundary = if approve {
        let v: Value = serde_json::from_str(&cr.geojson).map_err(anyhow::Error::from)?;
        let b = parse_boundary(&v)?;
        // Neighbours may have moved since the request was made.
        check_overlap(&state, &b, Some(&cr.grid_code))?;
        store::set_boundary(&mut tx, &cr.grid_code, &b, &user.id, Some(&id)).await?;
        Some(b)
    } else {
        None
    };
    let action = if approve {
        "approve_boundary_change"
    } else {
        "reject_boundary_change"
    };
    let mut a = Audit::by(&user, action, "grid_change_request", &id).area(&cr.grid_code);
    if let Some(n) = note {
        a = a.detail(n);
    }
    audit::write(&mut tx, a).await?;
    let updated = store::get_request(&mut tx, &id)
        .await?
        .ok_or(AppError::ChangeRequestNotFound)?;
    tx.commit().await?;
    if let Some(b) = boundary {
        state
            .grids
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .upsert(cr.grid_code.clone(), b);
    }
    Ok(Json(view(updated)))
}
