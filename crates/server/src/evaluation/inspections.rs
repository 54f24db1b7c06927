//! 网上巡查 (online patrol): township and county centres review samples of what grid workers
//! entered: every new record, every changed record, records changed in bursts (many edits in
//! little time), and a random draw. A sample is marked fine or returned with a reason; a
//! returned sample is the worker's task until they reply that it is fixed.

use super::model::*;
use super::store;
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm};
use crate::db::{day_start, new_id, now, parse_day};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::notifications::{self, Recipients};
use crate::people::handlers::scope_of;
use crate::state::AppState;
use axum::extract::State;
use chrono::Duration;
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, HashSet};

/// Most samples of each rule in one draw.
const PER_RULE: usize = 20;
/// A burst: this many changes by one worker within `BURST_MINUTES`.
const BURST_CHANGES: usize = 10;
const BURST_MINUTES: i64 = 10;
/// Most changes read for one draw.
const MAX_CHANGES: i64 = 50_000;

fn reason_label(r: &str) -> &'static str {
    match r {
        "new" => "新增登记",
        "changed" => "信息变更",
        "suspicious" => "短时间内频繁修改",
        _ => "随机抽查",
    }
}

fn view(r: InspectionRow) -> InspectionView {
    InspectionView {
        reason_label: reason_label(&r.reason).into(),
        changes: serde_json::from_str(&r.changes).unwrap_or_default(),
        id: r.id,
        area_code: r.area_code,
        record_kind: r.record_kind,
        record_id: r.record_id,
        record_label: r.record_label,
        worker_id: r.worker_id,
        worker_name: r.worker_name,
        reason: r.reason,
        status: r.status,
        note: r.note,
        created_at: r.created_at,
        reviewed_at: r.reviewed_at,
        reviewer_name: r.reviewer_name,
        fixed_at: r.fixed_at,
        fixed_note: r.fixed_note,
    }
}

/// One record a worker touched in the window.
struct Touched {
    kind: String,
    worker_id: String,
    worker_name: String,
    created: bool,
    changes: Vec<String>,
    times: Vec<chrono::DateTime<chrono::Utc>>,
}

/// Draws samples over China days `from..=to` in an area.
#[utoipa::path(post, path = "/api/inspections/draw", tag = "inspection", request_body = DrawRequest,
    responses((status = 200, body = DrawReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn draw(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<DrawRequest>,
) -> AppResult<Json<DrawReport>> {
    user.require_perm(Perm::InspectRecords)?;
    let scope = scope_of(&user, b.area.as_deref())?;
    let (from, to) = (parse_day("from", &b.from)?, parse_day("to", &b.to)?);
    if to < from || to - from > Duration::days(92) {
        return Err(AppError::validation(
            "to",
            "抽查期间须在 1–92 天之间，且结束不早于开始",
        ));
    }
    if !(0..=100).contains(&b.random) {
        return Err(AppError::validation("random", "随机抽查数须在 0–100 之间"));
    }
    let changes = store::worker_changes(
        &state.db.read,
        &day_start(from),
        &day_start(to + Duration::days(1)),
        MAX_CHANGES,
    )
    .await?;
    let open = store::open_samples(&state.db.read, &scope).await?;
    // Group by record and worker.
    let mut touched: BTreeMap<(String, String), Touched> = BTreeMap::new();
    for ch in changes {
        if !matches!(ch.entity.as_str(), "person" | "house" | "org") || open.contains(&ch.entity_id)
        {
            continue;
        }
        let t = touched
            .entry((ch.entity_id.clone(), ch.actor_id.clone()))
            .or_insert_with(|| Touched {
                kind: ch.entity.clone(),
                worker_id: ch.actor_id.clone(),
                worker_name: ch.actor_name.clone(),
                created: false,
                changes: vec![],
                times: vec![],
            });
        if ch.field == "record" {
            t.created = true;
        }
        if t.changes.len() < 20 {
            t.changes.push(format!(
                "{}：{} → {}",
                ch.field,
                ch.old_value.as_deref().unwrap_or("（空）"),
                ch.new_value.as_deref().unwrap_or("（空）")
            ));
        }
        if let Some(at) = crate::db::parse_time(&ch.at) {
            t.times.push(at);
        }
    }
    // Bursts: a worker's changes, any BURST_CHANGES of them within BURST_MINUTES.
    let mut per_worker: BTreeMap<&str, Vec<(chrono::DateTime<chrono::Utc>, &str)>> =
        BTreeMap::new();
    for ((record, worker), t) in &touched {
        for at in &t.times {
            per_worker.entry(worker).or_default().push((*at, record));
        }
    }
    let mut bursty: HashSet<(String, String)> = HashSet::new();
    for (worker, mut times) in per_worker {
        times.sort();
        for w in times.windows(BURST_CHANGES) {
            if w[BURST_CHANGES - 1].0 - w[0].0 <= Duration::minutes(BURST_MINUTES) {
                for (_, r) in w {
                    bursty.insert((r.to_string(), worker.to_string()));
                }
            }
        }
    }
    let mut picked: Vec<((String, String), &'static str)> = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    let mut take = |rule: &'static str, keys: Vec<(String, String)>, picked: &mut Vec<_>| {
        let mut n = 0;
        for k in keys {
            if n == PER_RULE && rule != "random" {
                break;
            }
            if taken.insert(k.0.clone()) {
                picked.push((k, rule));
                n += 1;
            }
        }
    };
    let mut suspicious: Vec<_> = bursty.into_iter().collect();
    suspicious.sort();
    take("suspicious", suspicious, &mut picked);
    let created: Vec<_> = touched
        .iter()
        .filter(|(_, t)| t.created)
        .map(|(k, _)| k.clone())
        .collect();
    take("new", created, &mut picked);
    let changed: Vec<_> = touched
        .iter()
        .filter(|(_, t)| !t.created)
        .map(|(k, _)| k.clone())
        .collect();
    take("changed", changed, &mut picked);
    let mut rest: Vec<_> = touched.keys().cloned().collect();
    rest.shuffle(&mut rand::thread_rng());
    rest.truncate(b.random as usize + picked.len());
    let before = picked.len();
    take("random", rest, &mut picked);
    picked.truncate(before + b.random as usize);

    let at = now();
    let mut rows = Vec::new();
    let mut c = state.db.read.acquire().await?;
    for ((record, worker), reason) in picked {
        let t = &touched[&(record.clone(), worker)];
        let Some((label, area)) =
            crate::fieldwork::store::subject(&mut c, &t.kind, &record).await?
        else {
            continue;
        };
        if !area.starts_with(&scope) {
            continue;
        }
        rows.push(InspectionRow {
            id: new_id(),
            area_code: area,
            record_kind: t.kind.clone(),
            record_id: record,
            record_label: label,
            worker_id: t.worker_id.clone(),
            worker_name: t.worker_name.clone(),
            reason: reason.into(),
            changes: serde_json::to_string(&t.changes).map_err(anyhow::Error::from)?,
            status: "pending".into(),
            note: None,
            created_at: at.clone(),
            created_by: Some(user.id.clone()),
            reviewed_at: None,
            reviewer_id: None,
            reviewer_name: None,
            fixed_at: None,
            fixed_note: None,
        });
    }
    drop(c);
    // Records outside the area were left out: count what was stored.
    let count = |r: &str| rows.iter().filter(|x| x.reason == r).count() as i64;
    let rep = DrawReport {
        drawn: rows.len() as i64,
        new_records: count("new"),
        changed: count("changed"),
        suspicious: count("suspicious"),
        random: count("random"),
    };
    let mut tx = state.db.begin().await?;
    store::insert_inspections(&mut tx, &rows).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "inspection.draw", "area", &scope)
            .area(&scope)
            .detail(format!("{from}—{to}：{} 条", rows.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(rep))
}

/// Samples of the area, newest first.
#[utoipa::path(get, path = "/api/inspections", tag = "inspection", params(InspectionQuery),
    responses((status = 200, body = InspectionPage), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<InspectionQuery>,
) -> AppResult<Json<InspectionPage>> {
    user.require_perm(Perm::InspectRecords)?;
    let scope = scope_of(&user, q.area.as_deref())?;
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    if status.is_some_and(|s| !["pending", "fine", "returned", "fixed"].contains(&s)) {
        return Err(AppError::validation(
            "status",
            "状态须为 pending、fine、returned 或 fixed",
        ));
    }
    let per_page = q.per_page.unwrap_or(20).clamp(1, 200);
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let (total, rows) = store::inspections(
        &state.db.read,
        &scope,
        status,
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Json(InspectionPage {
        total,
        items: rows.into_iter().map(view).collect(),
    }))
}

/// Marks a sample fine, or returns it to the worker with a reason (their task).
#[utoipa::path(post, path = "/api/inspections/{id}/review", tag = "inspection", request_body = Review,
    params(("id" = String, Path, description = "抽查编号")),
    responses((status = 200, body = InspectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<Review>,
) -> AppResult<Json<InspectionView>> {
    user.require_perm(Perm::InspectRecords)?;
    let note = b
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let returned = match b.result.as_str() {
        "fine" => false,
        "returned" => true,
        _ => {
            return Err(AppError::validation(
                "result",
                "结论须为 fine（合格）或 returned（退回）",
            ));
        }
    };
    if returned && note.is_none() {
        return Err(AppError::validation("note", "退回须填写原因"));
    }
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(AppError::validation("note", "意见最多 500 字"));
    }
    let mut tx = state.db.begin().await?;
    let mut r = store::inspection(&mut tx, &id)
        .await?
        .ok_or(AppError::RecordNotFound("inspection"))?;
    if !r.area_code.starts_with(user.area.as_str()) {
        return Err(AppError::OutOfScope);
    }
    let from = r.status.clone();
    if !matches!(from.as_str(), "pending" | "fixed") {
        return Err(AppError::MoveNotAllowed(
            "该抽查已审核，等待网格员整改".into(),
        ));
    }
    let at = now();
    r.status = if returned { "returned" } else { "fine" }.into();
    r.note = note;
    r.reviewed_at = Some(at.clone());
    r.reviewer_id = Some(user.id.clone());
    r.reviewer_name = Some(user.display_name.clone());
    if !store::set_inspection(&mut tx, &r, &from).await? {
        return Err(AppError::Conflict);
    }
    if returned {
        notifications::notify(
            &mut tx,
            &Recipients::User(r.worker_id.clone()),
            &format!("inspection:{}:{at}", r.id),
            None,
            "inspection_returned",
            &format!("网上巡查退回：{}", r.record_label),
            r.note.as_deref().unwrap_or_default(),
            &at,
        )
        .await?;
    }
    audit::write(
        &mut tx,
        Audit::by(&user, "inspection.review", "inspection", &r.id)
            .area(&r.area_code)
            .detail(r.status.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(view(r)))
}

/// The caller's returned samples: what the centre asked them to correct.
#[utoipa::path(get, path = "/api/inspections/mine", tag = "inspection",
    responses((status = 200, body = Vec<InspectionView>)))]
pub async fn mine(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<InspectionView>>> {
    user.require_perm(Perm::FieldWork)?;
    Ok(Json(
        store::returned_to(&state.db.read, &user.id)
            .await?
            .into_iter()
            .map(view)
            .collect(),
    ))
}

/// The worker says a returned sample is corrected; it goes back to the centre for review.
#[utoipa::path(post, path = "/api/inspections/{id}/fixed", tag = "inspection", request_body = Fixed,
    params(("id" = String, Path, description = "抽查编号")),
    responses((status = 200, body = InspectionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn fixed(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<Fixed>,
) -> AppResult<Json<InspectionView>> {
    user.require_perm(Perm::FieldWork)?;
    let note = b.note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(AppError::validation(
            "note",
            "请填写整改情况（最多 500 字）",
        ));
    }
    let mut tx = state.db.begin().await?;
    let mut r = store::inspection(&mut tx, &id)
        .await?
        .filter(|r| r.worker_id == user.id)
        .ok_or(AppError::RecordNotFound("inspection"))?;
    if r.status != "returned" {
        return Err(AppError::MoveNotAllowed(
            "只有被退回的抽查才能回复整改".into(),
        ));
    }
    r.status = "fixed".into();
    r.fixed_at = Some(now());
    r.fixed_note = Some(note.into());
    if !store::set_inspection(&mut tx, &r, "returned").await? {
        return Err(AppError::Conflict);
    }
    audit::write(
        &mut tx,
        Audit::by(&user, "inspection.fixed", "inspection", &r.id).area(&r.area_code),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(view(r)))
}
