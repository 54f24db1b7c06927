//! HTTP handlers of field work.

use super::model::*;
use super::store;
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm};
use crate::db::{china_day, day_start, fmt_time, new_id, parse_day, parse_time};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::files::{self, Submission};
use crate::people::handlers::scope_of;
use crate::records;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use civgrid_core::evaluation::{Period, PeriodKind};
use civgrid_core::geo::point_distance_m;
use sqlx::AnyConnection;

/// A heartbeat credits at most this much online time (the app beats every minute), so a
/// phone that went quiet is not counted as on duty.
const BEAT_CAP_SECS: i64 = 180;
/// A shift not heard from for this long is closed at its last heartbeat.
const STALE_HOURS: i64 = 12;
/// Most points in one batch.
const MAX_POINTS: usize = 1000;
/// Points are accepted up to this far ahead of the server clock.
const CLOCK_SKEW_MINUTES: i64 = 5;

fn shift_view(a: &ActivityRow) -> ShiftView {
    ShiftView {
        id: a.id.clone(),
        user_id: a.user_id.clone(),
        grid_code: a.area_code.clone(),
        started_at: a.started_at.clone(),
        last_beat_at: a.last_at.clone(),
        ended_at: a.ended_at.clone(),
        online_minutes: a.seconds / 60,
    }
}

fn patrol_view(a: ActivityRow, user_name: String, grid_name: String) -> PatrolView {
    PatrolView {
        id: a.id,
        user_id: a.user_id,
        user_name,
        grid_code: a.area_code,
        grid_name,
        started_at: a.started_at,
        ended_at: a.ended_at,
        meters: a.meters,
        points: a.points,
        note: a.note,
    }
}

fn visit_view(l: store::Listed) -> VisitView {
    let a = l.row;
    VisitView {
        id: a.id,
        user_id: a.user_id,
        user_name: l.user_name,
        grid_code: a.area_code,
        subject_kind: a.subject_kind.unwrap_or_default(),
        subject_id: a.subject_id.unwrap_or_default(),
        subject_label: a.subject_label.unwrap_or_default(),
        note: a.note.unwrap_or_default(),
        photos: a
            .photos
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default(),
        lon: a.lon,
        lat: a.lat,
        visited_at: a.started_at,
    }
}

/// A new activity of the caller, begun now.
fn begin(user: &CurrentUser, kind: &str, id: String, now: DateTime<Utc>) -> ActivityRow {
    let at = fmt_time(now);
    ActivityRow {
        id,
        kind: kind.into(),
        user_id: user.id.clone(),
        area_code: user.area.as_str().to_owned(),
        day: china_day(now).to_string(),
        started_at: at.clone(),
        last_at: at,
        ended_at: None,
        seconds: 0,
        meters: 0,
        points: 0,
        subject_kind: None,
        subject_id: None,
        subject_label: None,
        note: None,
        lon: None,
        lat: None,
        photos: None,
    }
}

/// Credits the time since the last heartbeat (capped) to a shift.
fn beat(shift: &mut ActivityRow, now: DateTime<Utc>) {
    let last = parse_time(&shift.last_at).unwrap_or(now);
    shift.seconds += (now - last).num_seconds().clamp(0, BEAT_CAP_SECS);
    shift.last_at = fmt_time(now);
}

async fn names(c: &mut AnyConnection, a: &ActivityRow) -> AppResult<(String, String)> {
    let user: Option<(String,)> = sqlx::query_as("SELECT display_name FROM users WHERE id = $1")
        .bind(&a.user_id)
        .fetch_optional(&mut *c)
        .await?;
    let grid = crate::events::store::grid_name(c, &a.area_code).await?;
    Ok((
        user.map(|u| u.0).unwrap_or_default(),
        grid.unwrap_or_default(),
    ))
}

async fn patrol_out(c: &mut AnyConnection, a: ActivityRow) -> AppResult<PatrolView> {
    let (u, g) = names(c, &a).await?;
    Ok(patrol_view(a, u, g))
}

/// Closes a shift the worker forgot to end, at its last heartbeat.
async fn open_shift(
    c: &mut AnyConnection,
    user: &CurrentUser,
    now: DateTime<Utc>,
) -> AppResult<Option<ActivityRow>> {
    let Some(mut s) = store::open(c, &user.id, "shift").await? else {
        return Ok(None);
    };
    if parse_time(&s.last_at).is_some_and(|t| now - t > Duration::hours(STALE_HOURS)) {
        s.ended_at = Some(s.last_at.clone());
        store::save_progress(c, &s).await?;
        return Ok(None);
    }
    Ok(Some(s))
}

/// The caller's open shift and patrol.
#[utoipa::path(get, path = "/api/field/status", tag = "field",
    responses((status = 200, body = FieldStatus), (status = 403, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<FieldStatus>> {
    user.require_perm(Perm::FieldWork)?;
    let mut c = state.db.read.acquire().await?;
    let now = state.clock.now();
    let shift = store::open(&mut c, &user.id, "shift").await?.filter(|s| {
        parse_time(&s.last_at).is_some_and(|t| now - t <= Duration::hours(STALE_HOURS))
    });
    let patrol = match store::open(&mut c, &user.id, "patrol").await? {
        Some(p) => Some(patrol_out(&mut c, p).await?),
        None => None,
    };
    Ok(Json(FieldStatus {
        shift: shift.as_ref().map(shift_view),
        patrol,
    }))
}

fn check_position(lon: Option<f64>, lat: Option<f64>) -> AppResult<()> {
    let ok = |v: Option<f64>, r: f64| v.is_none_or(|v| v.is_finite() && v.abs() <= r);
    if !ok(lon, 180.0) || !ok(lat, 90.0) || lon.is_some() != lat.is_some() {
        return Err(AppError::validation("lon", "经纬度不正确"));
    }
    Ok(())
}

/// 签到: begins a shift (an open shift is returned as it is).
#[utoipa::path(post, path = "/api/field/check-in", tag = "field", request_body = CheckIn,
    responses((status = 200, body = ShiftView), (status = 403, body = ErrorBody)))]
pub async fn check_in(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CheckIn>,
) -> AppResult<Json<ShiftView>> {
    user.require_perm(Perm::FieldWork)?;
    check_position(b.lon, b.lat)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let shift = match open_shift(&mut tx, &user, now).await? {
        Some(s) => s,
        None => {
            let mut s = begin(&user, "shift", new_id(), now);
            (s.lon, s.lat) = (b.lon, b.lat);
            store::insert(&mut tx, &s).await?;
            s
        }
    };
    tx.commit().await?;
    Ok(Json(shift_view(&shift)))
}

/// Heartbeat while on duty (every minute): counts online time.
#[utoipa::path(post, path = "/api/field/heartbeat", tag = "field", request_body = CheckIn,
    responses((status = 200, body = ShiftView), (status = 409, description = "尚未签到", body = ErrorBody)))]
pub async fn heartbeat(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<CheckIn>,
) -> AppResult<Json<ShiftView>> {
    user.require_perm(Perm::FieldWork)?;
    check_position(b.lon, b.lat)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut shift = open_shift(&mut tx, &user, now)
        .await?
        .ok_or(AppError::NotCheckedIn)?;
    beat(&mut shift, now);
    store::save_progress(&mut tx, &shift).await?;
    tx.commit().await?;
    Ok(Json(shift_view(&shift)))
}

/// 签退: ends the shift (and a patrol still open).
#[utoipa::path(post, path = "/api/field/check-out", tag = "field",
    responses((status = 200, body = ShiftView), (status = 409, description = "尚未签到", body = ErrorBody)))]
pub async fn check_out(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<ShiftView>> {
    user.require_perm(Perm::FieldWork)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut shift = open_shift(&mut tx, &user, now)
        .await?
        .ok_or(AppError::NotCheckedIn)?;
    beat(&mut shift, now);
    shift.ended_at = Some(shift.last_at.clone());
    store::save_progress(&mut tx, &shift).await?;
    if let Some(p) = store::open(&mut tx, &user.id, "patrol").await? {
        finish(&mut tx, p, None, now).await?;
    }
    tx.commit().await?;
    Ok(Json(shift_view(&shift)))
}

/// Measures a patrol from its stored track.
async fn measure(c: &mut AnyConnection, p: &mut ActivityRow) -> AppResult<()> {
    let to = p.ended_at.clone().unwrap_or_else(|| "9999".into());
    let pts = store::points(c, &p.user_id, &p.started_at, &to).await?;
    p.points = pts.len() as i64;
    p.meters = pts
        .windows(2)
        .map(|w| point_distance_m([w[0].lon, w[0].lat], [w[1].lon, w[1].lat]))
        .sum::<f64>()
        .round() as i64;
    if let Some(last) = pts.last()
        && last.at > p.last_at
    {
        p.last_at = last.at.clone();
    }
    Ok(())
}

async fn finish(
    c: &mut AnyConnection,
    mut p: ActivityRow,
    note: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<ActivityRow> {
    if p.ended_at.is_none() {
        p.ended_at = Some(fmt_time(now));
        measure(c, &mut p).await?;
    }
    if note.is_some() {
        p.note = note;
    }
    store::save_progress(c, &p).await?;
    Ok(p)
}

/// 开始巡查 (checks the caller in when they are not).
#[utoipa::path(post, path = "/api/field/patrols", tag = "field", request_body = StartPatrol,
    responses((status = 200, body = PatrolView), (status = 422, body = ErrorBody)))]
pub async fn start_patrol(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<StartPatrol>,
) -> AppResult<Json<PatrolView>> {
    user.require_perm(Perm::FieldWork)?;
    let id = records::client_id(b.id.as_deref())?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut found = None;
    if let Some(id) = &id {
        found = store::get(&mut tx, id).await?;
        if found
            .as_ref()
            .is_some_and(|p| p.user_id != user.id || p.kind != "patrol")
        {
            return Err(AppError::Conflict);
        }
    }
    let patrol = match found {
        Some(p) => p,
        None => match store::open(&mut tx, &user.id, "patrol").await? {
            Some(p) => p,
            None => {
                if open_shift(&mut tx, &user, now).await?.is_none() {
                    store::insert(&mut tx, &begin(&user, "shift", new_id(), now)).await?;
                }
                let p = begin(&user, "patrol", id.unwrap_or_else(new_id), now);
                store::insert(&mut tx, &p).await?;
                p
            }
        },
    };
    let out = patrol_out(&mut tx, patrol).await?;
    tx.commit().await?;
    Ok(Json(out))
}

/// 结束巡查: the patrol is measured from its track.
#[utoipa::path(post, path = "/api/field/patrols/{id}/finish", tag = "field", request_body = FinishPatrol,
    params(("id" = String, Path, description = "巡查编号")),
    responses((status = 200, body = PatrolView), (status = 404, body = ErrorBody)))]
pub async fn finish_patrol(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<FinishPatrol>,
) -> AppResult<Json<PatrolView>> {
    user.require_perm(Perm::FieldWork)?;
    let note = b
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(AppError::validation("note", "巡查情况最多 500 字"));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let p = store::get(&mut tx, &id)
        .await?
        .filter(|p| p.kind == "patrol" && p.user_id == user.id)
        .ok_or(AppError::RecordNotFound("patrol"))?;
    let ended = match b.ended_at.as_deref() {
        None => now,
        Some(t) => parse_time(t)
            .filter(|t| {
                *t <= now + Duration::minutes(CLOCK_SKEW_MINUTES)
                    && parse_time(&p.started_at).is_some_and(|s| *t >= s)
            })
            .ok_or_else(|| {
                AppError::validation("ended_at", "结束时间须在巡查开始之后、当前时间之前")
            })?,
    };
    let p = finish(&mut tx, p, note, ended.min(now)).await?;
    let out = patrol_out(&mut tx, p).await?;
    tx.commit().await?;
    Ok(Json(out))
}

/// Location points, batched by the app (points taken offline keep their own time). Each is
/// attached to the caller's patrol at that time, whose length is measured again.
#[utoipa::path(post, path = "/api/field/track", tag = "field", request_body = TrackBatch,
    responses((status = 200, body = TrackAccepted), (status = 422, body = ErrorBody)))]
pub async fn add_track(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<TrackBatch>,
) -> AppResult<Json<TrackAccepted>> {
    user.require_perm(Perm::FieldWork)?;
    if b.points.len() > MAX_POINTS {
        return Err(AppError::validation(
            "points",
            format!("每批最多 {MAX_POINTS} 个位置点"),
        ));
    }
    let now = state.clock.now();
    let oldest = now - Duration::days(state.cfg.track_retention_days);
    let mut rows = Vec::with_capacity(b.points.len());
    for (i, p) in b.points.iter().enumerate() {
        let at = parse_time(&p.at)
            .filter(|t| *t <= now + Duration::minutes(CLOCK_SKEW_MINUTES) && *t >= oldest)
            .ok_or_else(|| {
                AppError::validation("points", format!("第 {} 个位置点的时间不正确", i + 1))
            })?;
        if check_position(Some(p.lon), Some(p.lat)).is_err()
            || p.accuracy.is_some_and(|a| !a.is_finite() || a < 0.0)
        {
            return Err(AppError::validation(
                "points",
                format!("第 {} 个位置点的经纬度不正确", i + 1),
            ));
        }
        rows.push(store::PointRow {
            at: fmt_time(at),
            lon: p.lon,
            lat: p.lat,
            accuracy: p.accuracy,
            patrol_id: None,
        });
    }
    rows.sort_by(|a, b| a.at.cmp(&b.at));
    rows.dedup_by(|a, b| a.at == b.at);
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Json(TrackAccepted { accepted: 0 }));
    };
    let (from, to) = (first.at.clone(), last.at.clone());
    let mut tx = state.db.begin().await?;
    let patrols = store::patrols_overlapping(&mut tx, &user.id, &from, &to).await?;
    for r in &mut rows {
        r.patrol_id = patrols
            .iter()
            .find(|p| p.started_at <= r.at && p.ended_at.as_ref().is_none_or(|e| *e >= r.at))
            .map(|p| p.id.clone());
    }
    let accepted = store::insert_points(&mut tx, &user.id, user.area.as_str(), &rows).await?;
    if accepted > 0 {
        for mut p in patrols {
            measure(&mut tx, &mut p).await?;
            store::save_progress(&mut tx, &p).await?;
        }
    }
    tx.commit().await?;
    Ok(Json(TrackAccepted {
        accepted: accepted as i64,
    }))
}

/// The worker whose field work a supervisor asks about, checked against the caller's scope.
async fn worker_in_scope(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> AppResult<crate::accounts::model::UserRow> {
    let w = crate::accounts::store::get_user(&state.db.read, id)
        .await?
        .ok_or(AppError::UserNotFound)?;
    let area = civgrid_core::AreaCode::parse(&w.area_code).map_err(|_| AppError::UserNotFound)?;
    user.require_scope(&area)?;
    Ok(w)
}

/// One worker's track over a day, with their patrols (supervisors; the view is audited).
#[utoipa::path(get, path = "/api/field/track", tag = "field", params(TrackQuery),
    responses((status = 200, body = TrackView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn track(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<TrackQuery>,
) -> AppResult<Json<TrackView>> {
    if q.user_id != user.id {
        user.require_perm(Perm::ViewTracks)?;
    }
    let w = worker_in_scope(&state, &user, &q.user_id).await?;
    let day = match q.day.as_deref() {
        Some(d) => parse_day("day", d)?,
        None => china_day(state.clock.now()),
    };
    let (from, to) = (day_start(day), day_start(day + Duration::days(1)));
    let mut c = state.db.read.acquire().await?;
    let points = store::points(&mut c, &w.id, &from, &to).await?;
    let mut patrols = Vec::new();
    for p in store::patrols_overlapping(&mut c, &w.id, &from, &to).await? {
        patrols.push(patrol_out(&mut c, p).await?);
    }
    drop(c);
    if q.user_id != user.id {
        let mut tx = state.db.begin().await?;
        audit::write(
            &mut tx,
            Audit::by(&user, "track.view", "user", &w.id)
                .area(&w.area_code)
                .detail(day.to_string()),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(Json(TrackView {
        user_id: w.id,
        user_name: w.display_name,
        day: day.to_string(),
        points,
        patrols,
    }))
}

/// Who a list of activities is about: supervisors see their area (or one worker in it); a
/// grid worker sees their own.
async fn filter_owner(
    state: &AppState,
    user: &CurrentUser,
    q: &ActivityQuery,
) -> AppResult<(Option<String>, String)> {
    if user.can(Perm::ViewTracks) {
        if let Some(id) = q.user_id.as_deref().filter(|id| *id != user.id) {
            worker_in_scope(state, user, id).await?;
        }
        return Ok((q.user_id.clone(), scope_of(user, q.area.as_deref())?));
    }
    user.require_perm(Perm::FieldWork)?;
    if q.user_id.as_deref().is_some_and(|id| id != user.id) {
        return Err(AppError::Forbidden);
    }
    Ok((Some(user.id.clone()), user.area.as_str().to_owned()))
}

fn day_filter(q: &ActivityQuery) -> AppResult<(Option<String>, Option<String>)> {
    let f = |field, v: &Option<String>| -> AppResult<Option<String>> {
        v.as_deref()
            .map(|d| parse_day(field, d).map(|d| d.to_string()))
            .transpose()
    };
    Ok((f("from", &q.from)?, f("to", &q.to)?))
}

/// Patrols, newest first (at most 500).
#[utoipa::path(get, path = "/api/field/patrols", tag = "field", params(ActivityQuery),
    responses((status = 200, body = Vec<PatrolView>), (status = 403, body = ErrorBody)))]
pub async fn list_patrols(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ActivityQuery>,
) -> AppResult<Json<Vec<PatrolView>>> {
    let (who, scope) = filter_owner(&state, &user, &q).await?;
    let (from, to) = day_filter(&q)?;
    let mut c = state.db.read.acquire().await?;
    let rows = store::list(
        &mut c,
        &store::Filter {
            kind: "patrol",
            user_id: who.as_deref(),
            scope: &scope,
            subject_id: None,
            from_day: from.as_deref(),
            to_day: to.as_deref(),
        },
    )
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|l| patrol_view(l.row, l.user_name, l.grid_name))
            .collect(),
    ))
}

const SUBJECT_KINDS: [&str; 4] = ["person", "household", "house", "org"];

/// 走访登记: a visit to a person, household, house or organisation, with a note and photos
/// (JSON, or multipart with the JSON in `data` and photos in `photo`).
#[utoipa::path(post, path = "/api/field/visits", tag = "field", request_body = NewVisit,
    responses((status = 201, body = VisitView), (status = 200, description = "同一编号再次提交，返回已登记的走访", body = VisitView),
        (status = 422, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody)))]
pub async fn add_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    sub: Submission<NewVisit>,
) -> AppResult<(StatusCode, Json<VisitView>)> {
    user.require_perm(Perm::FieldWork)?;
    let b = sub.data;
    let id = records::client_id(b.id.as_deref())?;
    if !SUBJECT_KINDS.contains(&b.subject_kind.as_str()) {
        return Err(AppError::validation(
            "subject_kind",
            "走访对象须为 人员、户、房屋 或 组织",
        ));
    }
    let note = b.note.trim();
    if note.is_empty() || note.chars().count() > 1000 {
        return Err(AppError::validation(
            "note",
            "请填写走访情况（最多 1000 字）",
        ));
    }
    check_position(b.lon, b.lat)?;
    let mut c = state.db.read.acquire().await?;
    let (label, area) = store::subject(&mut c, &b.subject_kind, &b.subject_id)
        .await?
        .ok_or_else(|| AppError::validation("subject_id", "走访对象不存在"))?;
    drop(c);
    user.require_scope(&civgrid_core::AreaCode::parse(&area).map_err(|_| AppError::OutOfScope)?)?;
    let photos = files::store_all(&state, sub.photos).await?;
    let now = state.clock.now();
    let mut v = begin(&user, "visit", id.unwrap_or_else(new_id), now);
    v.ended_at = Some(v.started_at.clone());
    v.subject_kind = Some(b.subject_kind);
    v.subject_id = Some(b.subject_id);
    v.subject_label = Some(label);
    v.note = Some(note.to_owned());
    (v.lon, v.lat) = (b.lon, b.lat);
    v.photos = Some(
        serde_json::to_string(&photos.iter().map(|p| &p.sha256).collect::<Vec<_>>())
            .map_err(anyhow::Error::from)?,
    );
    let mut tx = state.db.begin().await?;
    let created = store::insert(&mut tx, &v).await?;
    if created {
        audit::write(
            &mut tx,
            Audit::by(&user, "visit.create", "visit", &v.id)
                .area(&area)
                .detail(format!(
                    "{}:{}",
                    v.subject_kind.as_deref().unwrap_or_default(),
                    v.subject_id.as_deref().unwrap_or_default()
                )),
        )
        .await?;
    }
    let stored = store::get(&mut tx, &v.id)
        .await?
        .filter(|s| s.user_id == user.id && s.kind == "visit")
        .ok_or(AppError::Conflict)?;
    let (user_name, grid_name) = names(&mut tx, &stored).await?;
    tx.commit().await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(visit_view(store::Listed {
            row: stored,
            user_name,
            grid_name,
        })),
    ))
}

/// Visits, newest first (at most 500): the caller's own, or a supervisor's area.
#[utoipa::path(get, path = "/api/field/visits", tag = "field", params(ActivityQuery),
    responses((status = 200, body = Vec<VisitView>), (status = 403, body = ErrorBody)))]
pub async fn list_visits(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ActivityQuery>,
) -> AppResult<Json<Vec<VisitView>>> {
    let (who, scope) = filter_owner(&state, &user, &q).await?;
    let (from, to) = day_filter(&q)?;
    let mut c = state.db.read.acquire().await?;
    let rows = store::list(
        &mut c,
        &store::Filter {
            kind: "visit",
            user_id: who.as_deref(),
            scope: &scope,
            subject_id: q.subject_id.as_deref(),
            from_day: from.as_deref(),
            to_day: to.as_deref(),
        },
    )
    .await?;
    Ok(Json(rows.into_iter().map(visit_view).collect()))
}

/// The figures of one worker over the days `period`.
pub async fn figures(
    c: &mut AnyConnection,
    user_id: &str,
    period: &Period,
) -> AppResult<WeekFigures> {
    let next: NaiveDate = period.end + Duration::days(1);
    Ok(store::figures(
        c,
        user_id,
        (&period.start.to_string(), &period.end.to_string()),
        (&day_start(period.start), &day_start(next)),
    )
    .await?)
}

/// 我的本周: the caller's figures for a week.
#[utoipa::path(get, path = "/api/field/week", tag = "field", params(WeekQuery),
    responses((status = 200, body = WeekFigures), (status = 422, body = ErrorBody)))]
pub async fn week(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<WeekQuery>,
) -> AppResult<Json<WeekFigures>> {
    user.require_perm(Perm::FieldWork)?;
    let day = match q.day.as_deref() {
        Some(d) => parse_day("day", d)?,
        None => china_day(state.clock.now()),
    };
    let mut c = state.db.read.acquire().await?;
    Ok(Json(
        figures(&mut c, &user.id, &Period::containing(PeriodKind::Week, day)).await?,
    ))
}

/// Grid workers of an area: on duty now or not, today's online time.
#[utoipa::path(get, path = "/api/field/workers", tag = "field", params(WorkersQuery),
    responses((status = 200, body = Vec<WorkerStatus>), (status = 403, body = ErrorBody)))]
pub async fn workers(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<WorkersQuery>,
) -> AppResult<Json<Vec<WorkerStatus>>> {
    user.require_perm(Perm::ViewTracks)?;
    let scope = scope_of(&user, q.area.as_deref())?;
    let now = state.clock.now();
    let mut c = state.db.read.acquire().await?;
    Ok(Json(
        store::workers(
            &mut c,
            &scope,
            &china_day(now).to_string(),
            &fmt_time(now - Duration::minutes(5)),
        )
        .await?,
    ))
}
