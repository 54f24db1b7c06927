//! Grid workers' field work for the demo city over the last weeks: shifts on working days,
//! patrols with tracks, visits to the houses of their grid. Each worker has their own
//! diligence, so the scores and rankings computed from it spread out as real ones do.

use super::history::grid_points;
use crate::db::{Db, Float, bulk_values, chunks, day_start, fmt_time};
use crate::fieldwork::model::ActivityRow;
use chrono::{DateTime, Datelike, Duration, Utc, Weekday};
use civgrid_core::calendar::cst;
use civgrid_core::geo::point_distance_m;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// What was made.
#[derive(Debug, Default)]
pub struct Seeded {
    pub shifts: usize,
    pub patrols: usize,
    pub visits: usize,
    pub points: usize,
}

/// Track points are kept for the last this many days (older patrols keep their length).
const TRACK_DAYS: i64 = 14;

async fn insert_activities(db: &Db, rows: &[ActivityRow]) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for chunk in chunks(&tx, rows, 16) {
        let sql = format!(
            "INSERT INTO activities (id, kind, user_id, area_code, day, started_at, last_at, ended_at, \
             seconds, meters, points, subject_kind, subject_id, subject_label, note, photos) VALUES {}",
            bulk_values(&tx, chunk.len(), 16)
        );
        let mut q = sqlx::query(&sql);
        for a in chunk {
            q = q
                .bind(&a.id)
                .bind(&a.kind)
                .bind(&a.user_id)
                .bind(&a.area_code)
                .bind(&a.day)
                .bind(&a.started_at)
                .bind(&a.last_at)
                .bind(&a.ended_at)
                .bind(a.seconds)
                .bind(a.meters)
                .bind(a.points)
                .bind(&a.subject_kind)
                .bind(&a.subject_id)
                .bind(&a.subject_label)
                .bind(&a.note)
                .bind(&a.photos);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

type Point = (String, String, f64, f64, Option<String>, String);

async fn insert_points(db: &Db, rows: &[Point]) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for chunk in chunks(&tx, rows, 7) {
        let sql = format!(
            "INSERT INTO track_points (user_id, at, lon, lat, accuracy, patrol_id, area_code) VALUES {}",
            bulk_values(&tx, chunk.len(), 7)
        );
        let mut q = sqlx::query(&sql);
        for (user, at, lon, lat, patrol, area) in chunk {
            q = q
                .bind(user)
                .bind(at)
                .bind(*lon)
                .bind(*lat)
                .bind(Float(Some(8.0)))
                .bind(patrol)
                .bind(area);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

const VISIT_NOTES: &[&str] = &[
    "入户走访，了解家庭基本情况，无异常",
    "走访出租房屋，核对租住人员信息",
    "了解群众诉求，已记录并跟进",
    "宣传平安建设和反诈知识",
    "走访独居老人，身体状况良好",
    "核实房屋用途及安全隐患",
];

/// Field work on the working days of the `days` days before `now`.
pub async fn seed(db: &Db, days: i64, now: DateTime<Utc>) -> anyhow::Result<Seeded> {
    let grids = grid_points(db).await?;
    let houses: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT h.id, COALESCE(h.name, a.full_text, h.house_no), h.area_code FROM houses h \
         LEFT JOIN addresses a ON a.id = h.address_id ORDER BY h.area_code, h.id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut by_grid: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for (id, label, area) in &houses {
        by_grid.entry(area.as_str()).or_default().push((id, label));
    }
    let mut rng = StdRng::seed_from_u64(20261128);
    let mut rows = Vec::new();
    let mut points = Vec::new();
    let mut out = Seeded::default();
    let today = now.with_timezone(&cst()).date_naive();
    for g in &grids {
        let diligence: f64 = rng.gen_range(0.35..1.0);
        let subjects = by_grid.get(g.code.as_str()).cloned().unwrap_or_default();
        for back in (1..=days).rev() {
            let day = today - Duration::days(back);
            if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && rng.gen_bool(0.8) {
                continue;
            }
            if !rng.gen_bool(0.55 + 0.45 * diligence) {
                continue;
            }
            let start = crate::db::parse_time(&day_start(day)).expect("stored time")
                + Duration::minutes(8 * 60 + 20 + rng.gen_range(0..40));
            let hours = 4.0 + 4.0 * diligence * rng.gen_range(0.8..1.1);
            let end = start + Duration::seconds((hours * 3600.0) as i64);
            let base = |kind: &str, at: DateTime<Utc>| ActivityRow {
                id: crate::db::new_id(),
                kind: kind.into(),
                user_id: g.worker_id.clone(),
                area_code: g.code.clone(),
                day: day.to_string(),
                started_at: fmt_time(at),
                last_at: fmt_time(at),
                ended_at: Some(fmt_time(at)),
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
            };
            let mut shift = base("shift", start);
            shift.seconds = (hours * 3600.0) as i64;
            shift.last_at = fmt_time(end);
            shift.ended_at = Some(fmt_time(end));
            rows.push(shift);
            out.shifts += 1;
            if rng.gen_bool(0.3 + 0.6 * diligence) {
                // A patrol: a random walk of about 80 m a step, a point a minute.
                let p_start = start + Duration::minutes(rng.gen_range(30..120));
                let mut p = base("patrol", p_start);
                let n = rng.gen_range(15..45);
                let (mut lon, mut lat) = g.pt;
                let mut track = Vec::with_capacity(n);
                for i in 0..n {
                    track.push((p_start + Duration::minutes(i as i64), lon, lat));
                    lon += rng.gen_range(-0.0008..0.0008);
                    lat += rng.gen_range(-0.0006..0.0006);
                }
                p.meters = track
                    .windows(2)
                    .map(|w| point_distance_m([w[0].1, w[0].2], [w[1].1, w[1].2]))
                    .sum::<f64>()
                    .round() as i64;
                p.points = n as i64;
                let p_end = p_start + Duration::minutes(n as i64);
                p.last_at = fmt_time(p_end);
                p.ended_at = Some(fmt_time(p_end));
                p.note = Some("按路线巡查，未发现异常".into());
                if back <= TRACK_DAYS {
                    for (at, lon, lat) in track {
                        points.push((
                            g.worker_id.clone(),
                            fmt_time(at),
                            lon,
                            lat,
                            Some(p.id.clone()),
                            g.code.clone(),
                        ));
                    }
                }
                rows.push(p);
                out.patrols += 1;
            }
            if subjects.is_empty() {
                continue;
            }
            let visits = (rng.gen_range(0.0..3.5) * diligence).round() as usize;
            for k in 0..visits {
                let (id, label) = subjects[rng.gen_range(0..subjects.len())];
                let mut v = base("visit", start + Duration::minutes(150 + 40 * k as i64));
                v.subject_kind = Some("house".into());
                v.subject_id = Some(id.into());
                v.subject_label = Some(label.into());
                v.note = Some(VISIT_NOTES[rng.gen_range(0..VISIT_NOTES.len())].into());
                v.photos = Some("[]".into());
                rows.push(v);
                out.visits += 1;
            }
        }
    }
    out.points = points.len();
    insert_activities(db, &rows).await?;
    insert_points(db, &points).await?;
    Ok(out)
}
