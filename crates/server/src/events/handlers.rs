//! HTTP handlers of the events domain: intake, moves, reading, photos and indicators.

use super::flow::{self, Actor, Input, Target};
use super::model::*;
use super::store::{self, GroupBy, Where};
use super::writer;
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm, Role};
use crate::catalog;
use crate::db::{fmt_time, prefix_range};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::files::{self, StoredPhoto, Submission};
use crate::state::{AppState, NameOf};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use civgrid_core::calendar::cst;
use civgrid_core::catalog::Source;
use civgrid_core::event::{Move, State as EvState};
use civgrid_core::geo::{metres_to_degrees, point_distance_m};
use civgrid_core::indicators::{Counts, Evaluation, Rates};
use civgrid_core::locate::Found;
use civgrid_core::{AreaCode, Level};
use serde_json::json;
use std::collections::HashMap;

/// Hours back that duplicates are looked for.
const DUPLICATE_HOURS: i64 = 72;

fn parse_area(s: &str) -> AppResult<AreaCode> {
    AreaCode::parse(s).map_err(|_| AppError::InvalidAreaCode)
}

/// `138****5678`; names keep their first character.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    let head: String = chars[..3].iter().collect();
    format!("{head}****{tail}")
}

fn mask_name(n: &str) -> String {
    let mut it = n.chars();
    match it.next() {
        Some(first) => format!("{first}{}", "*".repeat(it.count().max(1))),
        None => String::new(),
    }
}

pub fn summary(e: &EventRow, category_name: &str) -> EventSummary {
    let state = EvState::parse(&e.state);
    EventSummary {
        id: e.id.clone(),
        case_no: e.case_no.clone(),
        category: e.category_code.clone(),
        category_name: category_name.to_owned(),
        grid_code: e.area_code.clone(),
        centre_area: e.centre_area.clone(),
        state: e.state.clone(),
        state_label: state.map(|s| s.label()).unwrap_or("").into(),
        source: e.source.clone(),
        priority: e.priority.clone(),
        description: e.description.clone(),
        address: e.address.clone(),
        lon: e.lon,
        lat: e.lat,
        assignee_kind: e.assignee_kind.clone(),
        assignee: e.assignee.clone(),
        reporter_name: e.reporter_name.clone(),
        reported_at: e.reported_at.clone(),
        closed_at: e.closed_at.clone(),
        light: e.light.clone(),
        deadline: e.deadline_at.clone(),
        version: e.version,
    }
}

/// Category names by code.
async fn category_names(state: &AppState) -> AppResult<HashMap<String, String>> {
    Ok(state.catalog().await?.names())
}

/// The source a caller reports as.
fn source_of(user: &CurrentUser, asked: Option<&str>) -> AppResult<Source> {
    if let Some(s) = user.api_source {
        return Ok(s);
    }
    let mut allowed = Vec::new();
    for r in &user.roles {
        match r {
            Role::GridWorker | Role::GridChief | Role::GridInstructor => {
                allowed.push(Source::GridWorker)
            }
            Role::Citizen => allowed.push(Source::Citizen),
            Role::CentreOperator => allowed.extend([Source::Hotline, Source::Leader]),
            Role::DeptLiaison => allowed.push(Source::Department),
            Role::Leader => allowed.push(Source::Leader),
            _ => {}
        }
    }
    match asked {
        None => allowed.first().copied().ok_or(AppError::Forbidden),
        Some(s) => {
            let s = Source::parse(s).ok_or_else(|| AppError::validation("source", "来源不正确"))?;
            if allowed.contains(&s) {
                Ok(s)
            } else {
                Err(AppError::validation(
                    "source",
                    format!("您的角色不能以“{}”来源上报", s.label()),
                ))
            }
        }
    }
}

/// The area a caller may report in: their city (or their own area when above a city).
fn report_scope(user: &CurrentUser) -> AreaCode {
    let mut a = user.area.clone();
    while a.level() > Level::City {
        match a.parent() {
            Some(p) => a = p,
            None => break,
        }
    }
    a
}

fn text(v: Option<&str>, field: &'static str, max: usize, what: &str) -> AppResult<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > max => Err(AppError::validation(
            field,
            format!("{what}不能超过 {max} 字"),
        )),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// Where a report lies: (grid code, lon, lat).
async fn place(
    state: &AppState,
    user: &CurrentUser,
    b: &NewEvent,
    photos: &[StoredPhoto],
) -> AppResult<(String, Option<f64>, Option<f64>)> {
    let (mut lon, mut lat) = (b.lon, b.lat);
    if lon.is_none()
        && lat.is_none()
        && let Some(p) = photos.iter().find(|p| p.lon.is_some())
    {
        (lon, lat) = (p.lon, p.lat);
    }
    if lon.is_some() != lat.is_some() {
        return Err(AppError::validation("lat", "经度和纬度须同时填写"));
    }
    if let Some(x) = lon
        && !(x.is_finite() && (-180.0..=180.0).contains(&x))
    {
        return Err(AppError::validation("lon", "经度须在 -180 到 180 之间"));
    }
    if let Some(y) = lat
        && !(y.is_finite() && (-90.0..=90.0).contains(&y))
    {
        return Err(AppError::validation("lat", "纬度须在 -90 到 90 之间"));
    }
    let scope = report_scope(user);
    if let Some(g) = &b.grid_code {
        let code = parse_area(g)?;
        if code.level() != Level::Grid {
            return Err(AppError::validation("grid_code", "请填写网格编码"));
        }
        // A grid worker may pick their own grid; others report by position.
        if !(user
            .roles
            .iter()
            .any(|r| matches!(r, Role::GridWorker | Role::GridChief))
            && user.area.contains(&code))
        {
            return Err(AppError::validation("grid_code", "只能选择本人负责的网格"));
        }
        if crate::areas::store::get_grid(&state.db.read, g)
            .await?
            .is_none()
        {
            return Err(AppError::GridNotFound);
        }
        return Ok((g.clone(), lon, lat));
    }
    let (Some(x), Some(y)) = (lon, lat) else {
        return Err(AppError::validation(
            "lon",
            "请提供事发位置（经纬度）或所在网格",
        ));
    };
    let found = {
        let idx = state.grids.read().unwrap_or_else(|e| e.into_inner());
        match idx.find([x, y], 50_000.0) {
            Found::Inside(k) => Ok(k.clone()),
            Found::Nearest(k, d) => Err(Some((k.clone(), d))),
            Found::Nothing => Err(None),
        }
    };
    match found {
        Ok(grid) if AreaCode::parse(&grid).is_ok_and(|g| scope.contains(&g)) => {
            Ok((grid, lon, lat))
        }
        Ok(_) => Err(AppError::LocationOutside { nearest: None }),
        Err(near) => {
            let nearest = match near {
                Some((code, d)) => crate::areas::store::get_grid(&state.db.read, &code)
                    .await?
                    .map(|g| (code, g.name, d)),
                None => None,
            };
            Err(AppError::LocationOutside { nearest })
        }
    }
}

async fn duplicates_of(
    c: &mut sqlx::AnyConnection,
    category: &str,
    radius_m: u32,
    lon: Option<f64>,
    lat: Option<f64>,
    now: DateTime<Utc>,
    except: &str,
) -> AppResult<Vec<DuplicateCandidate>> {
    let (Some(x), Some(y)) = (lon, lat) else {
        return Ok(vec![]);
    };
    if radius_m == 0 {
        return Ok(vec![]);
    }
    let (dx, dy) = metres_to_degrees(radius_m as f64, y);
    let since = fmt_time(now - chrono::Duration::hours(DUPLICATE_HOURS));
    let rows = store::nearby_open(c, category, &since, [x - dx, y - dy, x + dx, y + dy]).await?;
    let mut out: Vec<DuplicateCandidate> = rows
        .into_iter()
        .filter(|e| e.id != except)
        .filter_map(|e| {
            let d = point_distance_m([x, y], [e.lon?, e.lat?]);
            (d <= radius_m as f64).then(|| DuplicateCandidate {
                id: e.id,
                case_no: e.case_no,
                state: e.state,
                description: e.description,
                reported_at: e.reported_at,
                distance_m: d.round(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    Ok(out)
}

/// Reports an event (网格员、群众、12345 热线、部门、领导，或持接口密钥的外部系统).
#[utoipa::path(post, path = "/api/events", tag = "events",
    request_body(content((NewEvent = "application/json"), (MultipartForm = "multipart/form-data"))),
    responses((status = 201, body = Reported), (status = 200, description = "重复提交，返回首次创建的事件", body = Reported),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    sub: Submission<NewEvent>,
) -> AppResult<(StatusCode, Json<Reported>)> {
    user.require_perm(Perm::ReportEvent)?;
    let b = sub.data;
    let source = source_of(&user, b.source.as_deref())?;
    let description = text(Some(&b.description), "description", 2000, "事件描述")?
        .ok_or_else(|| AppError::validation("description", "请填写事件描述"))?;
    let address = text(b.address.as_deref(), "address", 200, "地址")?;
    let contact_name = text(b.contact_name.as_deref(), "contact_name", 50, "联系人")?;
    let contact_phone = text(b.contact_phone.as_deref(), "contact_phone", 20, "联系电话")?;
    if let Some(p) = &contact_phone
        && !(p.len() >= 7 && p.chars().all(|c| c.is_ascii_digit() || c == '-'))
    {
        return Err(AppError::validation("contact_phone", "联系电话格式不正确"));
    }
    let key = text(
        b.idempotency_key.as_deref(),
        "idempotency_key",
        100,
        "幂等键",
    )?;
    // A retried submission is found by its key when the writer refuses it (below): no
    // lookup on the way in, since nearly every report is new.
    let photos = files::store_all(&state, sub.photos).await?;
    let (grid, lon, lat) = place(&state, &user, &b, &photos).await?;
    let grid_code = parse_area(&grid)?;
    let township = grid_code
        .ancestors()
        .into_iter()
        .find(|a| a.level() == Level::Township)
        .ok_or(AppError::InvalidAreaCode)?;
    let now = state.clock.now();
    let cal = state.calendar();
    let city = grid[..4].to_owned();
    let day = now.with_timezone(&cst()).format("%Y%m%d").to_string();
    let snap = state.catalog().await?;
    let r = snap.resolve(&b.category, &township)?;
    let cat = &r.category;
    // Grid workers report what the admission list allows (the catalog's default plus
    // additions approved for their area); other sources what the catalog allows them.
    if source == Source::GridWorker {
        if !snap.is_admitted(cat, &user.area) {
            return Err(AppError::CategoryNotAdmitted(format!(
                "“{}”不在本级事项准入清单内",
                cat.name
            )));
        }
    } else if !cat.sources.contains(&source) {
        return Err(AppError::CategoryNotAdmitted(format!(
            "“{}”不受理{}",
            cat.name,
            source.label()
        )));
    }
    if cat.photo_required && photos.is_empty() {
        return Err(AppError::PhotoRequired);
    }
    // Reads beside the writer; the writes go to the group-commit writer.
    let mut rc = state.db.read.acquire().await?;
    let duplicates = duplicates_of(
        &mut rc,
        &cat.code,
        cat.duplicate_radius_m,
        lon,
        lat,
        now,
        "",
    )
    .await?;
    drop(rc);
    let reporter = Actor {
        role: if user.api_source.is_some() {
            "api_key".into()
        } else {
            user.main_role()
        },
        ..Actor::of(&user)
    };
    let mut ev = flow::new_event(
        String::new(),
        cat,
        &grid,
        township.as_str(),
        source,
        &reporter,
        now,
    );
    ev.description = description;
    ev.address = address;
    ev.lon = lon;
    ev.lat = lat;
    ev.contact_name = contact_name;
    ev.contact_phone = contact_phone;
    ev.idempotency_key = key.clone();
    flow::start_report(&mut ev, cat, &cal);
    let report = writer::Report {
        timers: flow::timers(&ev, &cal),
        ev,
        city,
        day,
        reporter,
        photos,
        detail: json!({"source": source.as_str(), "duplicates": duplicates.len()}),
        audit: Audit::by(&user, "report_event", "event", "").area(grid.clone()),
    };
    let ev = match state.writer.report(report).await {
        Ok(ev) => ev,
        // Two retries of one offline submission raced: the other one won.
        Err(AppError::Db(e)) if crate::db::is_unique_violation(&e) && key.is_some() => {
            let k = key.as_deref().unwrap_or_default();
            if let Some(r) = replayed(&state, &user, k).await? {
                return Ok((StatusCode::OK, Json(r)));
            }
            return Err(AppError::Db(e));
        }
        Err(e) => return Err(e),
    };
    Ok((
        StatusCode::CREATED,
        Json(Reported {
            event: summary(&ev, &cat.name),
            replayed: false,
            duplicates,
        }),
    ))
}

/// The event an earlier submission with the same idempotency key created.
async fn replayed(state: &AppState, user: &CurrentUser, key: &str) -> AppResult<Option<Reported>> {
    let mut c = state.db.read.acquire().await?;
    let Some(e) = store::by_idempotency_key(&mut c, &user.id, key).await? else {
        return Ok(None);
    };
    let name = catalog::store::category(&mut c, &e.category_code)
        .await?
        .map(|r| r.name)
        .unwrap_or_default();
    Ok(Some(Reported {
        event: summary(&e, &name),
        replayed: true,
        duplicates: vec![],
    }))
}

async fn visible_event(
    c: &mut sqlx::AnyConnection,
    user: &CurrentUser,
    id: &str,
) -> AppResult<EventRow> {
    user.require_perm(Perm::ViewEvents)?;
    let ev = store::get(c, id).await?.ok_or(AppError::EventNotFound)?;
    if !flow::visible(user, &ev) {
        return Err(AppError::OutOfScope);
    }
    Ok(ev)
}

/// One event with its timeline, photos, supervisions, extensions, light and the moves the
/// caller may make now.
#[utoipa::path(get, path = "/api/events/{id}", tag = "events",
    params(("id" = String, Path, description = "事件编号")),
    responses((status = 200, body = EventDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_event(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<EventDetail>> {
    // The snapshot before the connection: loading it takes a connection of its own.
    let snap = state.catalog().await?;
    let mut c = state.db.read.acquire().await?;
    let ev = visible_event(&mut c, &user, &id).await?;
    Ok(Json(detail(&state, &mut c, &user, ev, &snap).await?))
}

async fn detail(
    state: &AppState,
    c: &mut sqlx::AnyConnection,
    user: &CurrentUser,
    ev: EventRow,
    snap: &catalog::Snapshot,
) -> AppResult<EventDetail> {
    let (lines, photos) = store::timeline(c, &ev.id).await?;
    let timeline: Vec<MoveView> = lines
        .into_iter()
        .map(|m| MoveView {
            seq: m.seq,
            action_label: Move::parse(&m.action)
                .map(|x| x.label())
                .unwrap_or(match m.action.as_str() {
                    "report" => "上报",
                    "merged_in" => "合并重复事件",
                    "light" => "时限预警",
                    _ => "",
                })
                .into(),
            photos: photos
                .iter()
                .filter(|p| p.move_id == m.id)
                .map(|p| PhotoView {
                    sha256: p.sha256.clone(),
                    mime: p.mime.clone(),
                    width: p.width,
                    height: p.height,
                    lon: p.lon,
                    lat: p.lat,
                    url: format!("/api/files/{}?event={}", p.sha256, ev.id),
                    thumb_url: format!("/api/files/{}?event={}&thumb=1", p.sha256, ev.id),
                })
                .collect(),
            action: m.action,
            from_state: m.from_state,
            to_state: m.to_state,
            actor_name: m.actor_name,
            actor_role: m.actor_role,
            at: m.at,
            note: m.note,
            detail: m
                .detail
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or(json!({})),
        })
        .collect();
    // The event counts its supervisions: none, nothing to read.
    let supervisions = if ev.supervision_count > 0 {
        store::supervisions(c, &ev.id).await?
    } else {
        vec![]
    };
    // Every extension request is a line of the timeline: none there, nothing to read.
    let extensions = if timeline
        .iter()
        .any(|m| m.action == Move::RequestExtension.as_str())
    {
        store::extensions(c, &ev.id).await?
    } else {
        vec![]
    };
    // Offer 督办回复 only with a supervision to answer, 延期审批 only with a request to decide,
    // and 合并 only with a candidate.
    let mut actions = flow::actions(user, &ev);
    if !supervisions.iter().any(|x| x.replied_at.is_none()) {
        actions.retain(|a| a != Move::Reply.as_str());
    }
    if !extensions.iter().any(|x| x.status == "pending") {
        actions.retain(|a| a != Move::DecideExtension.as_str());
    }
    if actions.iter().any(|a| a == Move::Merge.as_str())
        && candidates(state, c, snap, &ev).await?.is_empty()
    {
        actions.retain(|a| a != Move::Merge.as_str());
    }
    let cal = state.calendar();
    let assignee_name = match (ev.assignee_kind.as_deref(), ev.assignee.as_deref()) {
        (Some("department"), Some(id)) => state.name_of(c, NameOf::Department, id).await?,
        (Some(_), Some(area)) => state.name_of(c, NameOf::Area, area).await?,
        _ => None,
    };
    Ok(EventDetail {
        group_code: ev.category_code.get(..2).unwrap_or("").into(),
        grid_name: state.name_of(c, NameOf::Grid, &ev.area_code).await?,
        centre_name: state.name_of(c, NameOf::Area, &ev.centre_area).await?,
        assignee_name,
        reporter_role: ev.reporter_role.clone(),
        contact_name: ev.contact_name.as_deref().map(mask_name),
        contact_phone: ev.contact_phone.as_deref().map(mask_phone),
        current: flow::light_view(&ev, &cal, state.clock.now()),
        rework_count: ev.rework_count,
        return_count: ev.return_count,
        escalation_count: ev.escalation_count,
        evaluation: ev.evaluation.clone(),
        evaluation_comment: ev.evaluation_comment.clone(),
        merged_into: ev.merged_into.clone(),
        timeline,
        supervisions,
        extensions,
        actions,
        event: summary(&ev, snap.name(&ev.category_code)),
    })
}

/// Makes a move on an event (JSON, or multipart with photos for 自行处置 / 处置反馈 / 核查).
#[utoipa::path(post, path = "/api/events/{id}/moves", tag = "events",
    params(("id" = String, Path, description = "事件编号")),
    request_body(content((MoveRequest = "application/json"), (MultipartForm = "multipart/form-data"))),
    responses((status = 200, body = EventDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn make_move(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    sub: Submission<MoveRequest>,
) -> AppResult<Json<EventDetail>> {
    let b = sub.data;
    let m = Move::parse(&b.action).ok_or_else(|| AppError::validation("action", "未知的操作"))?;
    let snap = state.catalog().await?;
    let photos = files::store_all(&state, sub.photos).await?;
    let now = state.clock.now();
    let cal = state.calendar();
    // The move is worked out from committed data beside the writer; the group-commit writer
    // stores it if the event has not moved meanwhile.
    let mut c = state.db.read.acquire().await?;
    let ev = visible_event(&mut c, &user, &id).await?;
    if let Some(v) = b.version
        && v != ev.version
    {
        return Err(AppError::Conflict);
    }
    flow::may(&user, &ev, m)?;
    // The state first: a move the loop does not allow is refused before its details.
    let from = EvState::parse(&ev.state).ok_or(AppError::EventNotFound)?;
    civgrid_core::event::next(from, m, ev.resume_state.as_deref().and_then(EvState::parse))
        .map_err(|e| AppError::MoveNotAllowed(e.to_string()))?;
    let mut inp = Input {
        note: b.note.clone(),
        days: b.days,
        extension_id: b.extension_id.clone(),
        approve: b.approve,
        reply_days: b.reply_days,
        supervision_id: b.supervision_id.clone(),
        photos,
        ..Default::default()
    };
    if let Some(n) = &b.note
        && n.chars().count() > 2000
    {
        return Err(AppError::validation("note", "说明不能超过 2000 字"));
    }
    match m {
        Move::Dispatch => inp.target = Some(target(&mut c, &ev, &b).await?),
        Move::Evaluate => {
            inp.evaluation = Some(
                b.evaluation
                    .as_deref()
                    .and_then(Evaluation::parse)
                    .ok_or_else(|| {
                        AppError::validation(
                            "evaluation",
                            "评价只能是 satisfied、basically_satisfied 或 unsatisfied",
                        )
                    })?,
            )
        }
        Move::Merge => {
            let tid = b
                .target_id
                .as_deref()
                .ok_or_else(|| AppError::validation("target_id", "请指明保留的事件"))?;
            if tid == ev.id {
                return Err(AppError::validation("target_id", "不能与自身合并"));
            }
            let t = store::get(&mut c, tid)
                .await?
                .ok_or(AppError::EventNotFound)?;
            if !flow::visible(&user, &t) {
                return Err(AppError::OutOfScope);
            }
            if !EvState::parse(&t.state).is_some_and(|s| s.is_open()) {
                return Err(AppError::MoveNotAllowed("只能合并到未办结的事件".into()));
            }
            if t.category_code != ev.category_code {
                return Err(AppError::validation("target_id", "只能合并同一分类的事件"));
            }
            inp.merge_into = Some(t);
        }
        _ => {}
    }
    flow::look_up(&mut c, &ev, m, &mut inp).await?;
    let mut planned = flow::plan(&snap, &cal, now, &ev, &Actor::of(&user), m, inp)?;
    flow::address(&mut c, &mut planned).await?;
    drop(c);
    planned.audit = Some(
        Audit::by(&user, "event_move", "event", &ev.id)
            .area(&ev.area_code)
            .detail(format!(
                "{} {} → {}",
                planned.mv.action,
                planned.mv.from_state.clone().unwrap_or_default(),
                planned.mv.to_state
            )),
    );
    let ev = state.writer.make(planned).await?;
    let mut c = state.db.read.acquire().await?;
    Ok(Json(detail(&state, &mut c, &user, ev, &snap).await?))
}

/// Resolves and checks a dispatch target: a department at or above the centre, or a lower
/// centre that holds the event.
async fn target(c: &mut sqlx::AnyConnection, ev: &EventRow, b: &MoveRequest) -> AppResult<Target> {
    let centre = parse_area(&ev.centre_area)?;
    match (&b.department_id, &b.centre_area) {
        (Some(d), None) => {
            let dept = catalog::store::department(c, d)
                .await?
                .ok_or(AppError::DepartmentNotFound)?;
            let da = parse_area(&dept.area_code)?;
            if !da.contains(&centre) {
                return Err(AppError::validation(
                    "department_id",
                    "只能派遣到本级或上级的职能部门",
                ));
            }
            Ok(Target::Department {
                id: dept.id,
                name: dept.name,
            })
        }
        (None, Some(a)) => {
            let lower = parse_area(a)?;
            let grid = parse_area(&ev.area_code)?;
            if lower == centre
                || !centre.contains(&lower)
                || !lower.contains(&grid)
                || lower.level() > Level::Township
            {
                return Err(AppError::validation(
                    "centre_area",
                    "只能派遣到事件所在的下级综治中心",
                ));
            }
            let name = store::area_name(c, lower.as_str())
                .await?
                .ok_or(AppError::AreaNotFound)?;
            Ok(Target::Centre {
                area: lower.as_str().into(),
                name,
            })
        }
        _ => Err(AppError::validation(
            "department_id",
            "请选择一个职能部门或一个下级综治中心",
        )),
    }
}

/// Open events of the same category nearby reported in the last 72 hours.
#[utoipa::path(get, path = "/api/events/{id}/duplicates", tag = "events",
    params(("id" = String, Path, description = "事件编号")),
    responses((status = 200, body = Vec<DuplicateCandidate>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn duplicates(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<DuplicateCandidate>>> {
    let snap = state.catalog().await?;
    let mut c = state.db.read.acquire().await?;
    let ev = visible_event(&mut c, &user, &id).await?;
    Ok(Json(candidates(&state, &mut c, &snap, &ev).await?))
}

/// Open events of the same category near `ev`, reported within 72 hours of it.
async fn candidates(
    state: &AppState,
    c: &mut sqlx::AnyConnection,
    snap: &catalog::Snapshot,
    ev: &EventRow,
) -> AppResult<Vec<DuplicateCandidate>> {
    let r = snap.resolve(&ev.category_code, &parse_area(&ev.centre_area)?)?;
    let at = flow::parse_time(&ev.reported_at).with_timezone(&Utc);
    let mut d = duplicates_of(
        c,
        &ev.category_code,
        r.category.duplicate_radius_m,
        ev.lon,
        ev.lat,
        at.max(state.clock.now()),
        &ev.id,
    )
    .await?;
    d.retain(|x| {
        flow::parse_time(&x.reported_at).with_timezone(&Utc)
            >= at - chrono::Duration::hours(DUPLICATE_HOURS)
    });
    Ok(d)
}

fn day_start(s: &str, field: &'static str) -> AppResult<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::validation(field, "日期格式应为 YYYY-MM-DD"))?;
    Ok(d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_local_timezone(cst())
        .single()
        .expect("fixed offset")
        .with_timezone(&Utc))
}

/// The WHERE clause of a caller's view of events: scope first, then filters.
fn scoped(user: &CurrentUser, q: &EventQuery) -> AppResult<Where> {
    let mut w = Where::default();
    let citizen_only = user.has_role(Role::Citizen) && user.roles.len() == 1;
    if user.api_source.is_some() || citizen_only {
        w.push("reporter_id = ?", &[&user.id]);
    } else if user.has_role(Role::DeptLiaison) && user.roles.len() == 1 {
        let d = user.department_id.clone().unwrap_or_default();
        w.push("(dept_id = ? OR assignee = ?)", &[&d, &d]);
    } else {
        user.require_perm(Perm::ViewEvents)?;
    }
    let area = match &q.area {
        Some(a) => {
            let a = parse_area(a)?;
            user.require_scope(&a)?;
            a
        }
        None => user.area.clone(),
    };
    if !(user.api_source.is_some()
        || citizen_only
        || user.has_role(Role::DeptLiaison) && user.roles.len() == 1)
        || q.area.is_some()
    {
        let (lo, hi) = prefix_range(area.as_str());
        w.push("area_code >= ? AND area_code < ?", &[&lo, &hi]);
    }
    if let Some(s) = &q.state {
        let states: Vec<&str> = s
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .collect();
        if states.iter().any(|x| EvState::parse(x).is_none()) {
            return Err(AppError::validation("state", "状态不正确"));
        }
        if !states.is_empty() {
            let marks = vec!["?"; states.len()].join(", ");
            w.push(&format!("state IN ({marks})"), &states);
        }
    }
    if let Some(cat) = &q.category {
        let (lo, hi) = prefix_range(cat);
        w.push("category_code >= ? AND category_code < ?", &[&lo, &hi]);
    }
    if let Some(l) = &q.light {
        if !["green", "yellow", "red"].contains(&l.as_str()) {
            return Err(AppError::validation(
                "light",
                "预警灯只能是 green、yellow 或 red",
            ));
        }
        w.push("light = ?", &[l]);
    }
    if let Some(s) = &q.source {
        Source::parse(s).ok_or_else(|| AppError::validation("source", "来源不正确"))?;
        w.push("source = ?", &[s]);
    }
    if let Some(f) = &q.from {
        w.push("reported_at >= ?", &[&fmt_time(day_start(f, "from")?)]);
    }
    if let Some(t) = &q.to {
        w.push(
            "reported_at < ?",
            &[&fmt_time(day_start(t, "to")? + chrono::Duration::days(1))],
        );
    }
    if let Some(kw) = q.q.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        if kw.chars().count() > 50 {
            return Err(AppError::validation("q", "关键词不能超过 50 字"));
        }
        let like = format!("%{}%", kw.replace(['%', '_'], ""));
        w.push(
            "(case_no = ? OR description LIKE ? OR address LIKE ?)",
            &[kw, &like, &like],
        );
    }
    if let Some(queue) = &q.queue {
        let me = user.area.as_str();
        let dept = user.department_id.clone().unwrap_or_default();
        match queue.as_str() {
            "to_accept" => w.push("state = 'reported' AND centre_area = ?", &[me]),
            "to_dispatch" => w.push("state = 'accepted' AND centre_area = ?", &[me]),
            "to_sign" => w.push("state = 'dispatched' AND (assignee = ? OR assignee = ?)", &[&dept, me]),
            "handling" => w.push("state IN ('handling', 'on_hold') AND (assignee = ? OR assignee = ? OR centre_area = ?)", &[&dept, me, me]),
            "to_verify" => w.push("state = 'verifying'", &[]),
            "to_evaluate" => w.push("state = 'evaluating' AND centre_area = ?", &[me]),
            "supervised" => w.push("id IN (SELECT event_id FROM supervisions WHERE by_id = ?)", &[&user.id]),
            "overdue" => w.push("light = 'red' AND state NOT IN ('closed', 'voided', 'merged')", &[]),
            "mine" => w.push("reporter_id = ?", &[&user.id]),
            _ => return Err(AppError::validation("queue", "未知的工作队列")),
        }
    }
    Ok(w)
}

/// Events in the caller's scope, newest first, with filters, work queues and paging.
#[utoipa::path(get, path = "/api/events", tag = "events", params(EventQuery),
    responses((status = 200, body = EventPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_events(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<EventQuery>,
) -> AppResult<Json<EventPage>> {
    let w = scoped(&user, &q)?;
    let per_page = q.per_page.unwrap_or(20).clamp(1, 200);
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let (total, rows) = store::list(&state.db.read, &w, per_page, (page - 1) * per_page).await?;
    let names = category_names(&state).await?;
    Ok(Json(EventPage {
        total,
        page,
        per_page,
        items: rows
            .iter()
            .map(|e| summary(e, names.get(&e.category_code).map_or("", |s| s.as_str())))
            .collect(),
    }))
}

/// The work queues and who works them (the `queue` filter of `GET /api/events`).
const QUEUES: &[(&str, &str, &[Role])] = &[
    ("to_accept", "待受理", &[Role::CentreOperator]),
    ("to_dispatch", "待派遣", &[Role::CentreOperator]),
    (
        "to_sign",
        "待签收",
        &[Role::DeptLiaison, Role::CentreOperator],
    ),
    (
        "handling",
        "处置中",
        &[Role::DeptLiaison, Role::CentreOperator],
    ),
    (
        "to_verify",
        "待核查",
        &[Role::GridWorker, Role::GridChief, Role::CentreOperator],
    ),
    ("to_evaluate", "待评价", &[Role::CentreOperator]),
    (
        "supervised",
        "我的督办",
        &[Role::CentreOperator, Role::Leader],
    ),
    (
        "overdue",
        "超期",
        &[
            Role::CentreOperator,
            Role::DeptLiaison,
            Role::Leader,
            Role::Admin,
            Role::GridChief,
            Role::GridInstructor,
        ],
    ),
    (
        "mine",
        "我上报的",
        &[
            Role::GridWorker,
            Role::GridChief,
            Role::CentreOperator,
            Role::Citizen,
        ],
    ),
];

/// The caller's work queues with their counts, in working order.
#[utoipa::path(get, path = "/api/events/queues", tag = "events",
    responses((status = 200, body = Vec<QueueCount>), (status = 401, body = ErrorBody)))]
pub async fn queues(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<QueueCount>>> {
    let mut out = Vec::new();
    for (queue, label, roles) in QUEUES {
        if !roles.iter().any(|r| user.has_role(*r)) {
            continue;
        }
        let q = EventQuery {
            queue: Some((*queue).into()),
            ..Default::default()
        };
        let count = store::count(&state.db.read, &scoped(&user, &q)?).await?;
        out.push(QueueCount {
            queue: (*queue).into(),
            label: (*label).into(),
            count,
        });
    }
    Ok(Json(out))
}

/// The most map points one answer carries.
const MAX_POINTS: i64 = 20_000;

/// Located events in the caller's scope for the map, with the list's filters (open events
/// when no `state` is given), newest first, at most 20,000.
#[utoipa::path(get, path = "/api/events/points", tag = "events", params(EventQuery),
    responses((status = 200, body = MapPoints), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn points(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(mut q): Query<EventQuery>,
) -> AppResult<Json<MapPoints>> {
    if q.state.is_none() {
        q.state = Some(
            EvState::ALL
                .iter()
                .filter(|s| !s.is_final())
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    let w = scoped(&user, &q)?;
    let rows = store::points(&state.db.read, &w, MAX_POINTS + 1).await?;
    let truncated = rows.len() as i64 > MAX_POINTS;
    let total = if truncated {
        store::count(&state.db.read, &w).await?
    } else {
        rows.len() as i64
    };
    let names = category_names(&state).await?;
    Ok(Json(MapPoints {
        total,
        truncated,
        items: rows
            .into_iter()
            .take(MAX_POINTS as usize)
            .map(|(id, lon, lat, light, state, cat)| MapPoint {
                id,
                lon,
                lat,
                light,
                state,
                category_name: names.get(&cat).cloned().unwrap_or_default(),
            })
            .collect(),
    }))
}

/// A photo (or its thumbnail) of an event the caller can see.
#[utoipa::path(get, path = "/api/files/{sha256}", tag = "events", params(("sha256" = String, Path, description = "照片的 SHA-256"), FileQuery),
    responses((status = 200, description = "图片", content_type = "image/*"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_file(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(sha): Path<String>,
    Query(q): Query<FileQuery>,
) -> AppResult<Response> {
    let thumb = q.thumb.is_some();
    let path = files::path(std::path::Path::new(&state.cfg.files_dir), &sha, thumb)
        .ok_or(AppError::FileNotFound)?;
    let mut c = state.db.read.acquire().await?;
    if let Some(visit) = &q.visit {
        let v = crate::fieldwork::store::get(&mut c, visit)
            .await?
            .filter(|v| v.kind == "visit" && v.photos.as_deref().is_some_and(|p| p.contains(&sha)))
            .ok_or(AppError::FileNotFound)?;
        if v.user_id != user.id
            && !(user.can(Perm::ViewTracks) && v.area_code.starts_with(user.area.as_str()))
        {
            return Err(AppError::OutOfScope);
        }
    } else {
        let evs = store::events_of_photo(&mut c, &sha, q.event.as_deref()).await?;
        if evs.is_empty() {
            return Err(AppError::FileNotFound);
        }
        if !evs.iter().any(|e| flow::visible(&user, e)) {
            return Err(AppError::OutOfScope);
        }
    }
    drop(c);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| AppError::FileNotFound)?;
    let mime = if thumb {
        "image/jpeg"
    } else {
        match image::guess_format(&bytes) {
            Ok(image::ImageFormat::Png) => "image/png",
            Ok(image::ImageFormat::WebP) => "image/webp",
            _ => "image/jpeg",
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (
                header::CACHE_CONTROL,
                "private, max-age=31536000, immutable",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Event indicators (DOMAIN.md §4) by area, department, category or group over a period.
#[utoipa::path(get, path = "/api/stats/events", tag = "events", params(StatsQuery),
    responses((status = 200, body = StatsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<StatsQuery>,
) -> AppResult<Json<StatsView>> {
    user.require_perm(Perm::ViewStats)?;
    let area = match &q.area {
        Some(a) => parse_area(a)?,
        None => user.area.clone(),
    };
    user.require_scope(&area)?;
    let today = state.clock.now().with_timezone(&cst()).date_naive();
    let from = q
        .from
        .clone()
        .unwrap_or_else(|| today.format("%Y-%m-01").to_string());
    let to =
        q.to.clone()
            .unwrap_or_else(|| today.format("%Y-%m-%d").to_string());
    let (lo_t, hi_t) = (
        day_start(&from, "from")?,
        day_start(&to, "to")? + chrono::Duration::days(1),
    );
    if hi_t <= lo_t {
        return Err(AppError::validation("to", "结束日期不能早于开始日期"));
    }
    let by = q.by.clone().unwrap_or_else(|| "area".into());
    let group = match by.as_str() {
        "area" => match area.level().child() {
            Some(child) => GroupBy::Area(child.code_len()),
            None => GroupBy::Grid,
        },
        "grid" => GroupBy::Grid,
        "department" => GroupBy::Department,
        "category" => GroupBy::Category,
        "group" => GroupBy::Group,
        "none" => GroupBy::None,
        _ => {
            return Err(AppError::validation(
                "by",
                "分组只能是 area、grid、department、category、group 或 none",
            ));
        }
    };
    let (from_at, to_at) = (fmt_time(lo_t), fmt_time(hi_t));
    let groups = store::indicators(
        &state.db.read,
        &store::IndicatorQuery {
            area: area.as_str(),
            from_day: &from,
            to_day: &to,
            from_at: &from_at,
            to_at: &to_at,
            department: q.department.as_deref(),
            category: q.category.as_deref(),
            by: group,
        },
    )
    .await?;
    let keys: Vec<String> = groups
        .iter()
        .map(|g| g.0.clone())
        .filter(|k| !k.is_empty())
        .collect();
    let names: HashMap<String, String> = match by.as_str() {
        "area" if area.level() == Level::Village => {
            store::names(&state.db.read, "grids", &keys).await?
        }
        "area" => store::names(&state.db.read, "areas", &keys).await?,
        "grid" => store::names(&state.db.read, "grids", &keys).await?,
        "department" => store::names(&state.db.read, "departments", &keys).await?,
        "category" | "group" => category_names(&state)
            .await?
            .into_iter()
            .collect::<Vec<_>>(),
        _ => vec![],
    }
    .into_iter()
    .collect();
    let mut total = Counts::default();
    let mut rows: Vec<StatsRow> = groups
        .into_iter()
        .map(|(k, c)| {
            total.add(&c);
            StatsRow {
                name: names.get(&k).cloned().unwrap_or_else(|| {
                    if k.is_empty() {
                        "未派遣".into()
                    } else {
                        k.clone()
                    }
                }),
                key: k,
                rates: Rates::of(&c),
                counts: c,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    if by == "none" {
        rows.clear();
    }
    Ok(Json(StatsView {
        area: area.as_str().into(),
        from,
        to,
        by,
        total: StatsRow {
            key: area.as_str().into(),
            name: String::new(),
            rates: Rates::of(&total),
            counts: total,
        },
        rows,
    }))
}

/// Unmasked contact of a hotline report, for calling back (centres and the department
/// handling it; the reason is audited).
#[utoipa::path(get, path = "/api/events/{id}/contact", tag = "events",
    params(("id" = String, Path, description = "事件编号"), ("reason" = String, Query, description = "查看原因")),
    responses((status = 200, body = serde_json::Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn contact(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> AppResult<Json<serde_json::Value>> {
    let reason = q
        .get("reason")
        .map(|r| r.trim())
        .filter(|r| !r.is_empty() && r.chars().count() <= 200)
        .ok_or_else(|| AppError::validation("reason", "请填写查看原因"))?
        .to_owned();
    let mut tx = state.db.begin().await?;
    let ev = visible_event(&mut tx, &user, &id).await?;
    if !(user.can(Perm::ProcessEvents) || user.can(Perm::HandleEvents)) {
        return Err(AppError::Forbidden);
    }
    audit::write(
        &mut tx,
        Audit::by(&user, "view_contact", "event", &ev.id)
            .area(&ev.area_code)
            .detail(reason),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(
        json!({"contact_name": ev.contact_name, "contact_phone": ev.contact_phone}),
    ))
}
