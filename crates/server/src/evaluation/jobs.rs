//! The evaluation jobs: when a week or a month has ended, score it (一周一统计, 一月一通报)
//! and issue the city's bulletin for it; and delete location points past their retention.

use super::bulletin::{self, Content, Table};
use super::handlers::{below, board};
use super::{scoring, store};
use crate::audit::{self, Audit};
use crate::auth::CurrentUser;
use crate::db::{china_day, day_start, fmt_time, new_id};
use crate::error::AppResult;
use crate::events::store::{GroupBy, IndicatorQuery};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use civgrid_core::evaluation::{Period, PeriodKind, SubjectKind};

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    /// Periods scored (`week 2026-11-16`, …).
    pub scored: Vec<String>,
    pub bulletins: usize,
    pub points_purged: u64,
}

/// Scores the last complete week and month if they have not been, and issues each city's
/// bulletin for them.
pub async fn tick(state: &AppState, now_t: DateTime<Utc>) -> anyhow::Result<TickReport> {
    let mut rep = TickReport::default();
    let today = china_day(now_t);
    for kind in [PeriodKind::Week, PeriodKind::Month] {
        let period = Period::last_complete(kind, today);
        let start = period.start.to_string();
        // A run made before the period ended (a look at a period still going) is redone.
        let ended = day_start(period.end + Duration::days(1));
        let mut c = state.db.pool.acquire().await?;
        let done = store::run(&mut c, kind.as_str(), &start)
            .await?
            .is_some_and(|r| r.computed_at >= ended);
        drop(c);
        if done {
            continue;
        }
        scoring::compute(&state.db, &period, now_t).await?;
        rep.scored.push(format!("{} {start}", kind.as_str()));
        let cities: Vec<(String,)> =
            sqlx::query_as("SELECT code FROM areas WHERE level = 'city' AND valid_to IS NULL")
                .fetch_all(&state.db.pool)
                .await?;
        for (city,) in cities {
            let mut c = state.db.pool.acquire().await?;
            let exists =
                store::bulletin_exists(&mut c, &city, kind.as_str(), &start, &ended).await?;
            drop(c);
            if !exists {
                issue_bulletin(state, &city, &period, None)
                    .await
                    .map_err(|e| anyhow::anyhow!("bulletin of {city}: {e}"))?;
                rep.bulletins += 1;
            }
        }
    }
    let before = fmt_time(now_t - Duration::days(state.cfg.track_retention_days));
    rep.points_purged = crate::fieldwork::store::purge_points(&state.db.pool, &before).await?;
    Ok(rep)
}

/// Builds, renders and stores the bulletin of `area` for `period` (scoring it first when
/// it has not been scored).
pub async fn issue_bulletin(
    state: &AppState,
    area: &str,
    period: &Period,
    by: Option<&CurrentUser>,
) -> AppResult<super::model::BulletinRow> {
    let kind = period.kind.as_str();
    let start = period.start.to_string();
    let mut c = state.db.pool.acquire().await?;
    let at = state.clock.now();
    if store::run(&mut c, kind, &start).await?.is_none() {
        drop(c);
        scoring::compute(&state.db, period, at).await?;
        c = state.db.pool.acquire().await?;
    }
    let template = store::template(&mut c, kind).await?;
    drop(c);
    let (from_day, to_day) = (start.clone(), period.end.to_string());
    let (from_at, to_at) = (
        day_start(period.start),
        day_start(period.end + Duration::days(1)),
    );
    let counts = crate::events::store::indicators(
        &state.db.pool,
        &IndicatorQuery {
            area,
            from_day: &from_day,
            to_day: &to_day,
            from_at: &from_at,
            to_at: &to_at,
            department: None,
            category: None,
            by: GroupBy::None,
        },
    )
    .await?
    .into_iter()
    .next()
    .map(|(_, c)| c)
    .unwrap_or_default();
    let area_name = store::area_name(&state.db.pool, area).await?;
    let label = period.label();
    let top = template.top_n.clamp(5, 50) as usize;
    let lower = below(area);
    let lower_rows = board(state, period.kind, &start, lower, area).await?;
    let mut tables = vec![Table {
        title: format!("{}考核排名", lower.label()),
        rows: lower_rows.iter().take(top).cloned().collect(),
    }];
    if lower != SubjectKind::Worker {
        let workers = board(state, period.kind, &start, SubjectKind::Worker, area).await?;
        tables.push(Table {
            title: format!("网格员考核排名（前 {top} 名）"),
            rows: workers.iter().take(top).cloned().collect(),
        });
        if workers.len() > top {
            tables.push(Table {
                title: format!("网格员考核排名（后 {top} 名）"),
                rows: workers[workers.len() - top..].to_vec(),
            });
        }
    }
    if area.len() <= 6 {
        let depts = board(state, period.kind, &start, SubjectKind::Department, area).await?;
        tables.push(Table {
            title: "职能部门考核排名".into(),
            rows: depts.into_iter().take(top).collect(),
        });
    }
    let title = bulletin::fill(&template.title, &area_name, &label, &counts);
    let content = Content {
        title: title.clone(),
        area_name: area_name.clone(),
        period_label: label.clone(),
        intro: bulletin::fill(&template.intro, &area_name, &label, &counts),
        closing: bulletin::fill(&template.closing, &area_name, &label, &counts),
        issuer: bulletin::fill(&template.issuer, &area_name, &label, &counts),
        date: {
            let d = china_day(state.clock.now());
            format!(
                "{}年{}月{}日",
                chrono::Datelike::year(&d),
                chrono::Datelike::month(&d),
                chrono::Datelike::day(&d)
            )
        },
        counts,
        chart_title: format!("{}综合得分", lower.label()),
        chart: lower_rows
            .iter()
            .take(15)
            .map(|r| (r.subject_name.clone(), r.score))
            .collect(),
        tables,
    };
    let font = bulletin::font(state.cfg.pdf_font.as_deref())?;
    let (pdf, xlsx) = tokio::task::spawn_blocking(move || -> AppResult<(Vec<u8>, Vec<u8>)> {
        Ok((bulletin::pdf(font, &content)?, bulletin::xlsx(&content)?))
    })
    .await
    .map_err(anyhow::Error::from)??;
    let row = super::model::BulletinRow {
        id: new_id(),
        area_code: area.into(),
        period_kind: kind.into(),
        period_start: start,
        period_end: period.end.to_string(),
        title,
        created_at: fmt_time(at),
        pdf_bytes: pdf.len() as i64,
        xlsx_bytes: xlsx.len() as i64,
    };
    let mut tx = state.db.begin().await?;
    store::insert_bulletin(&mut tx, &row, by.map(|u| u.id.as_str()), &pdf, &xlsx).await?;
    let a = match by {
        Some(u) => Audit::by(u, "bulletin.create", "bulletin", &row.id),
        None => Audit {
            username: Some("system".into()),
            action: "bulletin.create",
            object_type: "bulletin",
            object_id: row.id.clone(),
            result: "success",
            ..Default::default()
        },
    };
    audit::write(&mut tx, a.area(area).detail(label)).await?;
    tx.commit().await?;
    Ok(row)
}
