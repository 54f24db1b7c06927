//! Measures every subject of a period: the raw counts behind each indicator, summed from
//! recorded activity (shifts, patrols, visits, base-record changes) and event timelines.
//! A handful of grouped queries serve every subject; nothing is counted per subject.

use super::model::RawCount;
use crate::db::day_start;
use crate::events::store::{GroupBy, IndicatorQuery};
use chrono::Duration;
use civgrid_core::evaluation::{Period, SubjectKind, indicator};
use civgrid_core::indicators::{Counts, Rates};
use sqlx::AnyPool;
use std::collections::HashMap;

/// What a grid worker did in the period.
#[derive(Debug, Default, Clone, Copy)]
pub struct Activity {
    pub online_seconds: i64,
    pub patrols: i64,
    pub patrol_meters: i64,
    pub visits: i64,
    pub records_new: i64,
    pub records_updated: i64,
    pub reported: i64,
    pub voided: i64,
    pub verifications: i64,
}

impl Activity {
    fn add(&mut self, o: &Activity) {
        self.online_seconds += o.online_seconds;
        self.patrols += o.patrols;
        self.patrol_meters += o.patrol_meters;
        self.visits += o.visits;
        self.records_new += o.records_new;
        self.records_updated += o.records_updated;
        self.reported += o.reported;
        self.voided += o.voided;
        self.verifications += o.verifications;
    }
}

/// One subject's raw measurements.
#[derive(Debug, Default, Clone)]
pub struct Measured {
    pub name: String,
    /// Scope of the subject: a worker's grid, an area's code, a department's area.
    pub area_code: String,
    pub events: Counts,
    pub activity: Activity,
    /// Grid workers counted (activity indicators of areas are per worker).
    pub workers: i64,
}

impl Measured {
    /// The value of an indicator; `None` when there is nothing to measure.
    pub fn value(&self, kind: SubjectKind, key: &str) -> Option<f64> {
        let r = Rates::of(&self.events);
        let a = &self.activity;
        let per_worker = |x: f64| (self.workers > 0).then(|| x / self.workers as f64);
        match key {
            "closure_rate" => r.closure_rate,
            "on_time_closure_rate" => r.on_time_closure_rate,
            "rework_rate" => r.rework_rate,
            "on_time_dispatch_rate" => r.on_time_dispatch_rate,
            "accurate_dispatch_rate" => r.accurate_dispatch_rate,
            "valid_report_rate" if kind == SubjectKind::Worker => {
                (a.reported > 0).then(|| (a.reported - a.voided) as f64 * 100.0 / a.reported as f64)
            }
            "valid_report_rate" => r.valid_report_rate,
            "on_time_verification_rate" => r.on_time_verification_rate,
            "satisfaction_rate" => r.satisfaction_rate,
            "mean_handle_hours" => r.mean_handle_hours,
            "online_hours" => per_worker(a.online_seconds as f64 / 3600.0),
            "patrols" => per_worker(a.patrols as f64),
            "patrol_km" => per_worker(a.patrol_meters as f64 / 1000.0),
            "visits" => per_worker(a.visits as f64),
            "records" => per_worker((a.records_new + a.records_updated) as f64),
            "events_reported" => per_worker((a.reported - a.voided) as f64),
            "verifications" => per_worker(a.verifications as f64),
            _ => None,
        }
    }

    /// The raw counts behind an indicator, for the explanation of a score.
    pub fn raw(&self, kind: SubjectKind, key: &str) -> Vec<RawCount> {
        let c = &self.events;
        let a = &self.activity;
        let n = |name: &str, label: &str, v: i64| RawCount {
            name: name.into(),
            label: label.into(),
            value: v as f64,
        };
        let mut out = match key {
            "closure_rate" => vec![
                n("closed", "结案数", c.closed),
                n("should_close", "应结案数", c.should_close),
            ],
            "on_time_closure_rate" => vec![
                n("closed_on_time", "按期结案数", c.closed_on_time),
                n("should_close", "应结案数", c.should_close),
            ],
            "rework_rate" => vec![
                n("reworks", "返工次数", c.reworks),
                n("should_close", "应结案数", c.should_close),
            ],
            "on_time_dispatch_rate" => vec![
                n("dispatched_on_time", "按时派遣数", c.dispatched_on_time),
                n("should_dispatch", "应派遣数", c.should_dispatch),
            ],
            "accurate_dispatch_rate" => vec![
                n("should_dispatch", "应派遣数", c.should_dispatch),
                n("returned", "被退回数", c.returned),
            ],
            "valid_report_rate" if kind == SubjectKind::Worker => {
                vec![
                    n("reported", "上报数", a.reported),
                    n("voided", "作废数", a.voided),
                ]
            }
            "valid_report_rate" => vec![
                n("reported", "上报数", c.reported),
                n("voided", "作废数", c.voided),
            ],
            "on_time_verification_rate" => vec![
                n("verified_on_time", "按时核查数", c.verified_on_time),
                n("should_verify", "应核查数", c.should_verify),
            ],
            "satisfaction_rate" => vec![
                n("satisfied", "满意", c.satisfied),
                n("basically_satisfied", "基本满意", c.basically_satisfied),
                n("evaluated", "评价数", c.evaluated),
            ],
            "mean_handle_hours" => vec![
                n("handle_minutes", "办理总时长（工作分钟）", c.handle_minutes),
                n("closed", "结案数", c.closed),
            ],
            "online_hours" => vec![n(
                "online_minutes",
                "在线总时长（分钟）",
                a.online_seconds / 60,
            )],
            "patrols" => vec![n("patrols", "巡查次数", a.patrols)],
            "patrol_km" => vec![n("patrol_meters", "巡查总里程（米）", a.patrol_meters)],
            "visits" => vec![n("visits", "走访次数", a.visits)],
            "records" => vec![
                n("records_new", "新增登记", a.records_new),
                n("records_updated", "更新记录", a.records_updated),
            ],
            "events_reported" => vec![
                n("reported", "上报数", a.reported),
                n("voided", "作废数", a.voided),
            ],
            "verifications" => vec![n("verifications", "核查回访次数", a.verifications)],
            _ => vec![],
        };
        let per_worker =
            indicator(key).is_some_and(|d| d.unit != "%" && key != "mean_handle_hours");
        if per_worker && kind != SubjectKind::Worker {
            out.push(n("workers", "网格员人数", self.workers));
        }
        out
    }
}

#[derive(sqlx::FromRow)]
struct KeyCount {
    k: Option<String>,
    a: Option<i64>,
    b: Option<i64>,
    c: Option<i64>,
    d: Option<i64>,
}

async fn grouped(
    pool: &AnyPool,
    sql: &str,
    args: &[&str],
) -> Result<Vec<(String, [i64; 4])>, sqlx::Error> {
    let mut q = sqlx::query_as::<_, KeyCount>(sql);
    for a in args {
        q = q.bind(*a);
    }
    Ok(q.fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.k.unwrap_or_default(),
                [
                    r.a.unwrap_or(0),
                    r.b.unwrap_or(0),
                    r.c.unwrap_or(0),
                    r.d.unwrap_or(0),
                ],
            )
        })
        .collect())
}

/// Every grid worker's activity in the period, by user id.
pub async fn activity(
    pool: &AnyPool,
    p: &Period,
) -> Result<HashMap<String, Activity>, sqlx::Error> {
    let (from_day, to_day) = (p.start.to_string(), p.end.to_string());
    let (from_at, to_at) = (day_start(p.start), day_start(p.end + Duration::days(1)));
    let days = [from_day.as_str(), to_day.as_str()];
    let instants = [from_at.as_str(), to_at.as_str()];
    let (shifts, records, reports, verifications) = tokio::try_join!(
        grouped(
            pool,
            "SELECT user_id AS k, \
                    CAST(SUM(CASE WHEN kind = 'shift' THEN seconds ELSE 0 END) AS BIGINT) AS a, \
                    CAST(SUM(CASE WHEN kind = 'patrol' THEN 1 ELSE 0 END) AS BIGINT) AS b, \
                    CAST(SUM(CASE WHEN kind = 'patrol' THEN meters ELSE 0 END) AS BIGINT) AS c, \
                    CAST(SUM(CASE WHEN kind = 'visit' THEN 1 ELSE 0 END) AS BIGINT) AS d \
             FROM activities WHERE day >= $1 AND day <= $2 GROUP BY user_id",
            &days,
        ),
        grouped(
            pool,
            "SELECT actor_id AS k, \
                    CAST(SUM(CASE WHEN field = 'record' THEN 1 ELSE 0 END) AS BIGINT) AS a, \
                    CAST(COUNT(DISTINCT CASE WHEN field <> 'record' THEN entity_id END) AS BIGINT) AS b, \
                    CAST(0 AS BIGINT) AS c, CAST(0 AS BIGINT) AS d \
             FROM record_changes WHERE at >= $1 AND at < $2 AND actor_id IS NOT NULL GROUP BY actor_id",
            &instants,
        ),
        grouped(
            pool,
            "SELECT reporter_id AS k, CAST(COUNT(*) AS BIGINT) AS a, \
                    CAST(SUM(CASE WHEN state = 'voided' THEN 1 ELSE 0 END) AS BIGINT) AS b, \
                    CAST(0 AS BIGINT) AS c, CAST(0 AS BIGINT) AS d \
             FROM events WHERE reported_at >= $1 AND reported_at < $2 AND reporter_id IS NOT NULL \
             GROUP BY reporter_id",
            &instants,
        ),
        grouped(
            pool,
            "SELECT actor_id AS k, CAST(COUNT(*) AS BIGINT) AS a, CAST(0 AS BIGINT) AS b, \
                    CAST(0 AS BIGINT) AS c, CAST(0 AS BIGINT) AS d \
             FROM event_moves WHERE at >= $1 AND at < $2 AND action IN ('verify_pass', 'verify_fail') \
             AND actor_id IS NOT NULL GROUP BY actor_id",
            &instants,
        ),
    )?;
    let mut out: HashMap<String, Activity> = HashMap::new();
    for (k, [secs, patrols, meters, visits]) in shifts {
        let a = out.entry(k).or_default();
        (a.online_seconds, a.patrols, a.patrol_meters, a.visits) = (secs, patrols, meters, visits);
    }
    for (k, [new, updated, ..]) in records {
        let a = out.entry(k).or_default();
        (a.records_new, a.records_updated) = (new, updated);
    }
    for (k, [reported, voided, ..]) in reports {
        let a = out.entry(k).or_default();
        (a.reported, a.voided) = (reported, voided);
    }
    for (k, [n, ..]) in verifications {
        out.entry(k).or_default().verifications = n;
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct Worker {
    user_id: String,
    name: String,
    grid_code: String,
}

#[derive(sqlx::FromRow)]
struct Named {
    code: String,
    name: String,
    area_code: String,
}

/// Every subject of every kind, measured over the period.
pub async fn measure(
    pool: &AnyPool,
    p: &Period,
) -> anyhow::Result<HashMap<SubjectKind, HashMap<String, Measured>>> {
    // Event indicators per grid and per department, from the events of the period; areas
    // above a grid are the sums of their grids (the counts add up).
    let (from_day, to_day) = (p.start.to_string(), p.end.to_string());
    let (from_at, to_at) = (day_start(p.start), day_start(p.end + Duration::days(1)));
    let q = |by| IndicatorQuery {
        area: "",
        from_day: &from_day,
        to_day: &to_day,
        from_at: &from_at,
        to_at: &to_at,
        department: None,
        category: None,
        by,
    };
    let (q_grid, q_dept) = (q(GroupBy::Grid), q(GroupBy::Department));
    // At most four queries at once: two cores, and other requests keep their share of the
    // SQLite read pool.
    let acts = activity(pool, p).await?;
    let (by_grid, by_dept_counts) = tokio::try_join!(
        crate::events::store::indicators(pool, &q_grid),
        crate::events::store::indicators(pool, &q_dept),
    )?;
    let workers: Vec<Worker> = sqlx::query_as(
        "SELECT u.id AS user_id, u.display_name AS name, m.grid_code \
         FROM grid_members m JOIN users u ON u.id = m.user_id \
         WHERE m.duty = 'worker' AND u.status = 'active' ORDER BY m.grid_code, u.id",
    )
    .fetch_all(pool)
    .await?;
    let mut out: HashMap<SubjectKind, HashMap<String, Measured>> = HashMap::new();

    // Areas: every grid and every community, township and county with a name.
    let grids: Vec<Named> =
        sqlx::query_as("SELECT code, name, code AS area_code FROM grids WHERE status = 'active'")
            .fetch_all(pool)
            .await?;
    let areas: Vec<Named> = sqlx::query_as(
        "SELECT code, name, code AS area_code FROM areas \
         WHERE valid_to IS NULL AND level IN ('county', 'township', 'village')",
    )
    .fetch_all(pool)
    .await?;
    let mut area_subjects: HashMap<SubjectKind, HashMap<String, Measured>> = HashMap::new();
    for g in grids {
        area_subjects.entry(SubjectKind::Grid).or_default().insert(
            g.code,
            Measured {
                name: g.name,
                area_code: g.area_code,
                ..Default::default()
            },
        );
    }
    for a in areas {
        let kind = match a.code.len() {
            6 => SubjectKind::County,
            9 => SubjectKind::Township,
            _ => SubjectKind::Community,
        };
        area_subjects.entry(kind).or_default().insert(
            a.code,
            Measured {
                name: a.name,
                area_code: a.area_code,
                ..Default::default()
            },
        );
    }
    // Workers, and their activity summed into every area above them.
    let mut by_worker = HashMap::new();
    for w in workers {
        let act = acts.get(&w.user_id).copied().unwrap_or_default();
        for (kind, subjects) in area_subjects.iter_mut() {
            let key = match kind.area_len() {
                Some(n) => w.grid_code.get(..n).unwrap_or(&w.grid_code),
                None => &w.grid_code,
            };
            if let Some(m) = subjects.get_mut(key) {
                m.activity.add(&act);
                m.workers += 1;
            }
        }
        by_worker.insert(
            w.user_id,
            Measured {
                name: w.name,
                area_code: w.grid_code,
                activity: act,
                workers: 1,
                ..Default::default()
            },
        );
    }
    out.insert(SubjectKind::Worker, by_worker);

    for (grid, counts) in by_grid {
        for (kind, subjects) in area_subjects.iter_mut() {
            let key = match kind.area_len() {
                Some(n) => grid.get(..n).unwrap_or(&grid),
                None => &grid,
            };
            if let Some(m) = subjects.get_mut(key) {
                m.events.add(&counts);
            }
        }
    }
    out.extend(area_subjects);
    let depts: Vec<Named> = sqlx::query_as("SELECT id AS code, name, area_code FROM departments")
        .fetch_all(pool)
        .await?;
    let mut by_dept: HashMap<String, Measured> = depts
        .into_iter()
        .map(|d| {
            (
                d.code,
                Measured {
                    name: d.name,
                    area_code: d.area_code,
                    ..Default::default()
                },
            )
        })
        .collect();
    for (id, counts) in by_dept_counts {
        if let Some(m) = by_dept.get_mut(&id) {
            m.events = counts;
        }
    }
    out.insert(SubjectKind::Department, by_dept);
    Ok(out)
}
