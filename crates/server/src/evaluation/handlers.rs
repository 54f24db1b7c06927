//! HTTP handlers of evaluation: schemes, scores and rankings, bulletins, the dashboard.

use super::model::*;
use super::{jobs, scoring, store};
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm};
use crate::db::{china_day, day_start, fmt_time, new_id, now, parse_day};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::people::handlers::scope_of;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::Duration;
use civgrid_core::evaluation::{
    Better, INDICATORS, Period, PeriodKind, Scheme, SubjectKind, ranks,
};

pub(super) fn period_kind(s: Option<&str>) -> AppResult<PeriodKind> {
    match s {
        None => Ok(PeriodKind::Month),
        Some(s) => PeriodKind::parse(s).ok_or_else(|| {
            AppError::validation("period_kind", "期间须为 week、month、quarter 或 year")
        }),
    }
}

fn subject_kind(s: &str) -> AppResult<SubjectKind> {
    SubjectKind::parse(s).ok_or_else(|| {
        AppError::validation(
            "subject_kind",
            "考核对象须为 worker、grid、community、township、county 或 department",
        )
    })
}

/// The subjects one level below an area (a grid's are its workers).
pub fn below(area: &str) -> SubjectKind {
    match area.len() {
        0..=4 => SubjectKind::County,
        5..=6 => SubjectKind::Township,
        7..=9 => SubjectKind::Community,
        10..=12 => SubjectKind::Grid,
        _ => SubjectKind::Worker,
    }
}

pub(super) fn scheme_view(r: &SchemeRow) -> AppResult<SchemeView> {
    let s: Scheme = serde_json::from_str(&r.body).map_err(anyhow::Error::from)?;
    Ok(SchemeView {
        id: r.id.clone(),
        subject_kind: r.subject_kind.clone(),
        version: r.version,
        name: r.name.clone(),
        valid_from: r.valid_from.clone(),
        items: s.items,
        bands: s.bands,
        created_at: r.created_at.clone(),
        created_by_name: r.created_by_name.clone(),
    })
}

/// The indicators a scheme may weigh.
#[utoipa::path(get, path = "/api/evaluation/indicators", tag = "evaluation",
    responses((status = 200, body = Vec<IndicatorInfo>)))]
pub async fn indicators(user: CurrentUser) -> AppResult<Json<Vec<IndicatorInfo>>> {
    user.require_perm(Perm::ViewStats)?;
    Ok(Json(
        INDICATORS
            .iter()
            .map(|d| IndicatorInfo {
                key: d.key.into(),
                label: d.label.into(),
                unit: d.unit.into(),
                better: match d.better {
                    Better::Higher => "higher",
                    Better::Lower => "lower",
                }
                .into(),
                subjects: d.subjects.iter().map(|s| s.as_str().to_owned()).collect(),
            })
            .collect(),
    ))
}

/// Every version of every scheme, newest first per subject kind.
#[utoipa::path(get, path = "/api/evaluation/schemes", tag = "evaluation",
    responses((status = 200, body = Vec<SchemeView>), (status = 403, body = ErrorBody)))]
pub async fn list_schemes(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<SchemeView>>> {
    user.require_perm(Perm::ViewStats)?;
    let mut c = state.db.read.acquire().await?;
    let rows = store::schemes(&mut c).await?;
    Ok(Json(
        rows.iter().map(scheme_view).collect::<AppResult<_>>()?,
    ))
}

/// A new version of a subject kind's scheme. Earlier versions stay as they were, and every
/// period keeps being scored under the version in force when it began.
#[utoipa::path(post, path = "/api/evaluation/schemes", tag = "evaluation", request_body = NewScheme,
    responses((status = 201, body = SchemeView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_scheme(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<NewScheme>,
) -> AppResult<(axum::http::StatusCode, Json<SchemeView>)> {
    user.require_perm(Perm::ManageEvaluation)?;
    let kind = subject_kind(&b.subject_kind)?;
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::validation("name", "请填写方案名称（最多 60 字）"));
    }
    let valid_from = parse_day("valid_from", &b.valid_from)?;
    let scheme = Scheme {
        items: b.items,
        bands: b.bands,
    }
    .checked(kind)
    .map_err(|e| AppError::validation(e.field(), e.to_string()))?;
    let mut tx = state.db.begin().await?;
    let row = SchemeRow {
        id: new_id(),
        subject_kind: kind.as_str().into(),
        version: store::next_version(&mut tx, kind.as_str()).await?,
        name: name.into(),
        valid_from: valid_from.to_string(),
        body: serde_json::to_string(&scheme).map_err(anyhow::Error::from)?,
        created_at: now(),
        created_by: Some(user.id.clone()),
        created_by_name: user.display_name.clone(),
    };
    store::insert_scheme(&mut tx, &row).await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "scheme.create", "scheme", &row.id)
            .detail(format!("{} v{}", row.subject_kind, row.version)),
    )
    .await?;
    tx.commit().await?;
    Ok((axum::http::StatusCode::CREATED, Json(scheme_view(&row)?)))
}

fn score_rows(rows: &[ScoreDbRow]) -> Vec<ScoreRow> {
    let scores: Vec<f64> = rows.iter().map(|r| r.score).collect();
    let of = rows.len() as i64;
    rows.iter()
        .zip(ranks(&scores))
        .map(|(r, rank)| ScoreRow {
            id: r.id.clone(),
            subject_code: r.subject_code.clone(),
            subject_name: r.subject_name.clone(),
            score: r.score,
            grade: r.grade.clone(),
            stars: r.stars,
            rank: rank.into(),
            of,
        })
        .collect()
}

/// The ranking of one subject kind in an area and period.
pub async fn board(
    state: &AppState,
    kind: PeriodKind,
    start: &str,
    subject: SubjectKind,
    scope: &str,
) -> AppResult<Vec<ScoreRow>> {
    let mut c = state.db.read.acquire().await?;
    let rows = store::board(&mut c, kind.as_str(), start, subject.as_str(), scope).await?;
    Ok(score_rows(&rows))
}

/// 考核排名: every subject of a kind in the caller's area for a period, best first, ties
/// sharing a rank.
#[utoipa::path(get, path = "/api/evaluation/scores", tag = "evaluation", params(ScoresQuery),
    responses((status = 200, body = ScoreBoard), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn scores(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ScoresQuery>,
) -> AppResult<Json<ScoreBoard>> {
    user.require_perm(Perm::ViewStats)?;
    let kind = period_kind(q.period_kind.as_deref())?;
    let scope = scope_of(&user, q.area.as_deref())?;
    let subject = match q.subject_kind.as_deref() {
        Some(s) => subject_kind(s)?,
        None => below(&scope),
    };
    let mut c = state.db.read.acquire().await?;
    let period = match q.period.as_deref() {
        Some(d) => Some(Period::containing(kind, parse_day("period", d)?)),
        None => store::latest_run(&mut c, kind.as_str())
            .await?
            .and_then(|r| r.period_start.parse().ok())
            .map(|d| Period::containing(kind, d)),
    };
    let Some(period) = period else {
        return Ok(Json(ScoreBoard {
            period_kind: kind.as_str().into(),
            period_start: None,
            period_end: None,
            period_label: None,
            subject_kind: subject.as_str().into(),
            scheme: None,
            rows: vec![],
        }));
    };
    let start = period.start.to_string();
    let scheme = store::scheme_in_force(&mut c, subject.as_str(), &start).await?;
    drop(c);
    Ok(Json(ScoreBoard {
        period_kind: kind.as_str().into(),
        period_start: Some(start.clone()),
        period_end: Some(period.end.to_string()),
        period_label: Some(period.label()),
        subject_kind: subject.as_str().into(),
        scheme: scheme.as_ref().map(scheme_view).transpose()?,
        rows: board(&state, kind, &start, subject, &scope).await?,
    }))
}

/// One score with each indicator's value, target, weight, attainment, points and raw counts.
#[utoipa::path(get, path = "/api/evaluation/scores/{id}", tag = "evaluation",
    params(("id" = String, Path, description = "评分编号")),
    responses((status = 200, body = ScoreDetail), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn score_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<ScoreDetail>> {
    user.require_perm(Perm::ViewStats)?;
    let mut c = state.db.read.acquire().await?;
    let row = store::score(&mut c, &id)
        .await?
        .ok_or(AppError::RecordNotFound("score"))?;
    if !row.area_code.starts_with(user.area.as_str()) {
        return Err(AppError::OutOfScope);
    }
    let kind = period_kind(Some(&row.period_kind))?;
    let subject = subject_kind(&row.subject_kind)?;
    let scheme = store::scheme(&mut c, &row.scheme_id)
        .await?
        .ok_or(AppError::RecordNotFound("scheme"))?;
    drop(c);
    let period = Period::containing(kind, row.period_start.parse().map_err(anyhow::Error::from)?);
    // The rank among the same kind of subjects in the same parent area.
    let parent = match subject {
        SubjectKind::Worker | SubjectKind::Department => user.area.as_str().to_owned(),
        _ => {
            let n = match row.subject_code.len() {
                15.. => 12,
                12 => 9,
                9 => 6,
                _ => 4,
            };
            row.subject_code[..n.min(row.subject_code.len())].to_owned()
        }
    };
    let scope = if parent.starts_with(user.area.as_str()) {
        parent
    } else {
        user.area.as_str().to_owned()
    };
    let board = board(&state, kind, &row.period_start, subject, &scope).await?;
    let me = board
        .into_iter()
        .find(|r| r.id == row.id)
        .ok_or(AppError::RecordNotFound("score"))?;
    let items: Vec<ScoreItem> = serde_json::from_str(&row.detail).map_err(anyhow::Error::from)?;
    Ok(Json(ScoreDetail {
        row: me,
        period_kind: row.period_kind,
        period_start: row.period_start,
        period_end: period.end.to_string(),
        period_label: period.label(),
        subject_kind: row.subject_kind,
        scheme: scheme_view(&scheme)?,
        items,
    }))
}

/// Scores a period now (again): every subject of every kind.
#[utoipa::path(post, path = "/api/evaluation/compute", tag = "evaluation", request_body = ComputeRequest,
    responses((status = 200, body = ComputeReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn compute(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<ComputeRequest>,
) -> AppResult<Json<ComputeReport>> {
    user.require_perm(Perm::ManageEvaluation)?;
    let kind = period_kind(Some(&b.period_kind))?;
    let day = parse_day("period", &b.period)?;
    if day > china_day(state.clock.now()) {
        return Err(AppError::validation("period", "不能对尚未开始的期间计分"));
    }
    let period = Period::containing(kind, day);
    let done = scoring::compute(&state.db, &period, state.clock.now()).await?;
    let mut tx = state.db.begin().await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "scores.compute", "period", period.start.to_string()).detail(format!(
            "{} {} 条",
            kind.as_str(),
            done.scores
        )),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(ComputeReport {
        period_start: period.start.to_string(),
        period_end: period.end.to_string(),
        scores: done.scores as i64,
        seconds: (done.seconds * 1000.0).round() / 1000.0,
    }))
}

/// The periods that have been scored, newest first.
#[utoipa::path(get, path = "/api/evaluation/periods", tag = "evaluation", params(PeriodsQuery),
    responses((status = 200, body = Vec<ScoredPeriod>)))]
pub async fn periods(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<PeriodsQuery>,
) -> AppResult<Json<Vec<ScoredPeriod>>> {
    user.require_perm(Perm::ViewStats)?;
    let kind = q
        .period_kind
        .as_deref()
        .map(|k| period_kind(Some(k)))
        .transpose()?;
    let mut c = state.db.read.acquire().await?;
    Ok(Json(store::runs(&mut c, kind.map(|k| k.as_str())).await?))
}

async fn bulletin_view(state: &AppState, b: BulletinRow) -> AppResult<BulletinView> {
    let area_name = store::area_name(&state.db.read, &b.area_code).await?;
    Ok(BulletinView {
        id: b.id,
        area_code: b.area_code,
        area_name,
        period_kind: b.period_kind,
        period_start: b.period_start,
        period_end: b.period_end,
        title: b.title,
        created_at: b.created_at,
        pdf_bytes: b.pdf_bytes,
        xlsx_bytes: b.xlsx_bytes,
    })
}

/// Bulletins of the caller's area and of the areas above it.
#[utoipa::path(get, path = "/api/bulletins", tag = "evaluation",
    responses((status = 200, body = Vec<BulletinView>), (status = 403, body = ErrorBody)))]
pub async fn list_bulletins(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<BulletinView>>> {
    user.require_perm(Perm::ViewStats)?;
    let mut c = state.db.read.acquire().await?;
    let rows = store::bulletins(&mut c, user.area.as_str()).await?;
    drop(c);
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(bulletin_view(&state, r).await?);
    }
    Ok(Json(out))
}

/// Issues a bulletin for a period now (scoring the period first when it has not been).
#[utoipa::path(post, path = "/api/bulletins", tag = "evaluation", request_body = NewBulletin,
    responses((status = 201, body = BulletinView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, description = "缺少中文字体", body = ErrorBody)))]
pub async fn create_bulletin(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<NewBulletin>,
) -> AppResult<(axum::http::StatusCode, Json<BulletinView>)> {
    user.require_perm(Perm::ManageEvaluation)?;
    let kind = period_kind(Some(&b.period_kind))?;
    let day = parse_day("period", &b.period)?;
    if day > china_day(state.clock.now()) {
        return Err(AppError::validation(
            "period",
            "不能为尚未开始的期间发布通报",
        ));
    }
    let area = scope_of(&user, b.area.as_deref())?;
    if area.len() > 12 {
        return Err(AppError::validation(
            "area",
            "通报须以村（社区）及以上区域发布",
        ));
    }
    let row =
        jobs::issue_bulletin(&state, &area, &Period::containing(kind, day), Some(&user)).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(bulletin_view(&state, row).await?),
    ))
}

async fn bulletin_download(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    pdf: bool,
) -> AppResult<Response> {
    user.require_perm(Perm::ViewStats)?;
    let mut c = state.db.read.acquire().await?;
    let b = store::bulletin(&mut c, id)
        .await?
        .ok_or(AppError::RecordNotFound("bulletin"))?;
    if !(b.area_code.starts_with(user.area.as_str())
        || user.area.as_str().starts_with(&b.area_code))
    {
        return Err(AppError::OutOfScope);
    }
    let bytes = store::bulletin_file(&mut c, id, pdf)
        .await?
        .ok_or(AppError::RecordNotFound("bulletin"))?;
    let (mime, ext) = if pdf {
        ("application/pdf", "pdf")
    } else {
        (crate::sheets::XLSX, "xlsx")
    };
    Ok(crate::sheets::attachment(
        &format!("{}.{ext}", b.title),
        mime,
        axum::body::Body::from(bytes),
    ))
}

/// A bulletin's PDF.
#[utoipa::path(get, path = "/api/bulletins/{id}/pdf", tag = "evaluation",
    params(("id" = String, Path, description = "通报编号")),
    responses((status = 200, description = "PDF", content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
pub async fn bulletin_pdf(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    bulletin_download(&state, &user, &id, true).await
}

/// A bulletin's workbook.
#[utoipa::path(get, path = "/api/bulletins/{id}/xlsx", tag = "evaluation",
    params(("id" = String, Path, description = "通报编号")),
    responses((status = 200, description = "xlsx", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, body = ErrorBody)))]
pub async fn bulletin_xlsx(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    bulletin_download(&state, &user, &id, false).await
}

/// The bulletin template of a period kind.
#[utoipa::path(get, path = "/api/bulletins/template", tag = "evaluation", params(TemplateQuery),
    responses((status = 200, body = BulletinTemplate), (status = 422, body = ErrorBody)))]
pub async fn get_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<TemplateQuery>,
) -> AppResult<Json<BulletinTemplate>> {
    user.require_perm(Perm::ViewStats)?;
    let kind = period_kind(Some(&q.period_kind))?;
    let mut c = state.db.read.acquire().await?;
    Ok(Json(store::template(&mut c, kind.as_str()).await?))
}

/// Edits the bulletin template of a period kind (used from the next bulletin on).
#[utoipa::path(put, path = "/api/bulletins/template", tag = "evaluation", request_body = BulletinTemplate,
    responses((status = 200, body = BulletinTemplate), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(mut t): Json<BulletinTemplate>,
) -> AppResult<Json<BulletinTemplate>> {
    user.require_perm(Perm::ManageEvaluation)?;
    period_kind(Some(&t.period_kind))?;
    for (field, value, max) in [
        ("title", &mut t.title, 80),
        ("intro", &mut t.intro, 2000),
        ("closing", &mut t.closing, 2000),
        ("issuer", &mut t.issuer, 60),
    ] {
        *value = value.trim().to_owned();
        if value.is_empty() || value.chars().count() > max {
            return Err(AppError::validation(
                field,
                format!("不能为空，最多 {max} 字"),
            ));
        }
    }
    if !(5..=50).contains(&t.top_n) {
        return Err(AppError::validation("top_n", "排名表行数须在 5–50 之间"));
    }
    let mut tx = state.db.begin().await?;
    store::save_template(&mut tx, &t, &user.id).await?;
    audit::write(
        &mut tx,
        Audit::by(
            &user,
            "bulletin_template.update",
            "bulletin_template",
            &t.period_kind,
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(t))
}

/// 领导驾驶舱: the area's live counts, 30-day trend, latest monthly ranking, overdue events,
/// map points and this month's categories.
#[utoipa::path(get, path = "/api/dashboard", tag = "evaluation", params(AreaQuery),
    responses((status = 200, body = Dashboard), (status = 403, body = ErrorBody)))]
pub async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AreaQuery>,
) -> AppResult<Json<Dashboard>> {
    user.require_perm(Perm::ViewStats)?;
    let scope = scope_of(&user, q.area.as_deref())?;
    let now_t = state.clock.now();
    let today = china_day(state.clock.now());
    let pool = &state.db.read;
    let counts = store::today(
        pool,
        &scope,
        &day_start(today),
        &fmt_time(now_t - Duration::minutes(5)),
    )
    .await?;
    let from = today - Duration::days(29);
    // Every one of the 30 days, a quiet day (or today before its first report) as zeros.
    let mut counted: std::collections::HashMap<String, TrendDay> =
        store::trend(pool, &scope, &from.to_string(), &day_start(from))
            .await?
            .into_iter()
            .map(|d| (d.day.clone(), d))
            .collect();
    let trend = (0..30)
        .map(|i| {
            let day = (from + Duration::days(i)).to_string();
            counted.remove(&day).unwrap_or(TrendDay {
                day,
                reported: 0,
                closed: 0,
            })
        })
        .collect();
    let snap = state.catalog().await?;
    let mut c = pool.acquire().await?;
    let ranking = match store::latest_run(&mut c, "month").await? {
        Some(run) => {
            let subject = below(&scope);
            let mut rows = board(
                &state,
                PeriodKind::Month,
                &run.period_start,
                subject,
                &scope,
            )
            .await?;
            rows.truncate(10);
            let label = run
                .period_start
                .parse()
                .map(|d| Period::containing(PeriodKind::Month, d).label())
                .unwrap_or_default();
            Some(DashRanking {
                period_kind: "month".into(),
                period_start: run.period_start,
                period_label: label,
                subject_kind: subject.as_str().into(),
                rows,
            })
        }
        None => None,
    };
    let mut overdue = Vec::new();
    for (id, case_no, cat, area, deadline) in store::overdue(pool, &scope, 20).await? {
        let hours_over = deadline
            .as_deref()
            .and_then(crate::db::parse_time)
            .map_or(0.0, |d| {
                ((now_t - d).num_minutes() as f64 / 60.0 * 10.0).round() / 10.0
            });
        overdue.push(OverdueItem {
            id,
            case_no,
            category_name: snap.name(&cat).to_owned(),
            area_name: crate::events::store::grid_name(&mut c, &area)
                .await?
                .unwrap_or(area),
            deadline_at: deadline,
            hours_over,
        });
    }
    drop(c);
    let mut w = crate::events::store::Where::default();
    let (lo, hi) = crate::db::prefix_range(&scope);
    w.push("area_code >= ? AND area_code < ?", &[&lo, &hi]);
    w.push("state NOT IN ('closed', 'voided', 'merged')", &[]);
    let points = crate::events::store::points(pool, &w, 2000)
        .await?
        .into_iter()
        .map(|(id, lon, lat, light, ..)| DashPoint {
            id,
            lon,
            lat,
            light,
        })
        .collect();
    let month = Period::containing(PeriodKind::Month, today);
    let mut by_category: Vec<NameCount> = store::by_group(pool, &scope, &month.start.to_string())
        .await?
        .into_iter()
        .map(|(g, count)| NameCount {
            name: snap.name(&g).to_owned(),
            count,
        })
        .collect();
    by_category.truncate(8);
    let area_name = store::area_name(pool, &scope).await?;
    Ok(Json(Dashboard {
        area_code: scope,
        area_name,
        at: fmt_time(now_t),
        today: counts,
        trend,
        ranking,
        overdue,
        points,
        by_category,
    }))
}
