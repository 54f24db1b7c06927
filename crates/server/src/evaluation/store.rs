//! SQL of evaluation: schemes, scores, scored periods, bulletins and their templates.

use super::model::*;
use crate::db::{Db, Tx, bulk_values, chunks, now, prefix_range};
use civgrid_core::evaluation::{Scheme, SubjectKind};
use sqlx::{AnyConnection, AnyPool};

const SCHEME_COLS: &str =
    "id, subject_kind, version, name, valid_from, body, created_at, created_by, created_by_name";

/// Version 1 of the default scheme of every subject kind that has none.
pub async fn seed_schemes(db: &Db) -> anyhow::Result<()> {
    for kind in SubjectKind::ALL {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM eval_schemes WHERE subject_kind = $1")
                .bind(kind.as_str())
                .fetch_one(&db.pool)
                .await?;
        if n > 0 {
            continue;
        }
        let mut tx = db.begin().await?;
        insert_scheme(
            &mut tx,
            &SchemeRow {
                id: crate::db::new_id(),
                subject_kind: kind.as_str().into(),
                version: 1,
                name: format!("{}考核方案（默认）", kind.label()),
                valid_from: "2000-01-01".into(),
                body: serde_json::to_string(&Scheme::default_for(kind))?,
                created_at: now(),
                created_by: None,
                created_by_name: "系统".into(),
            },
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

pub async fn insert_scheme(c: &mut AnyConnection, s: &SchemeRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO eval_schemes ({SCHEME_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(&s.id)
    .bind(&s.subject_kind)
    .bind(s.version)
    .bind(&s.name)
    .bind(&s.valid_from)
    .bind(&s.body)
    .bind(&s.created_at)
    .bind(&s.created_by)
    .bind(&s.created_by_name)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn schemes(c: &mut AnyConnection) -> Result<Vec<SchemeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {SCHEME_COLS} FROM eval_schemes ORDER BY subject_kind, version DESC"
    ))
    .fetch_all(c)
    .await
}

pub async fn scheme(c: &mut AnyConnection, id: &str) -> Result<Option<SchemeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {SCHEME_COLS} FROM eval_schemes WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

pub async fn next_version(c: &mut AnyConnection, kind: &str) -> Result<i64, sqlx::Error> {
    let (v,): (Option<i64>,) =
        sqlx::query_as("SELECT MAX(version) FROM eval_schemes WHERE subject_kind = $1")
            .bind(kind)
            .fetch_one(c)
            .await?;
    Ok(v.unwrap_or(0) + 1)
}

/// The version in force on `day`: the newest version valid from that day or before.
pub async fn scheme_in_force(
    c: &mut AnyConnection,
    kind: &str,
    day: &str,
) -> Result<Option<SchemeRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {SCHEME_COLS} FROM eval_schemes WHERE subject_kind = $1 AND valid_from <= $2 \
         ORDER BY valid_from DESC, version DESC LIMIT 1"
    ))
    .bind(kind)
    .bind(day)
    .fetch_optional(c)
    .await
}

const SCORE_COLS: &str = "id, period_kind, period_start, subject_kind, subject_code, subject_name, \
    area_code, scheme_id, score, grade, stars, detail";

/// Replaces every score of a period with `rows`, and records the run.
pub async fn replace_scores(
    tx: &mut Tx,
    kind: &str,
    start: &str,
    end: &str,
    at: &str,
    rows: &[ScoreDbRow],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM eval_scores WHERE period_kind = $1 AND period_start = $2")
        .bind(kind)
        .bind(start)
        .execute(&mut **tx)
        .await?;
    for chunk in chunks(tx, rows, 12) {
        let sql = format!(
            "INSERT INTO eval_scores ({SCORE_COLS}) VALUES {}",
            bulk_values(tx, chunk.len(), 12)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(&r.id)
                .bind(&r.period_kind)
                .bind(&r.period_start)
                .bind(&r.subject_kind)
                .bind(&r.subject_code)
                .bind(&r.subject_name)
                .bind(&r.area_code)
                .bind(&r.scheme_id)
                .bind(r.score)
                .bind(&r.grade)
                .bind(r.stars)
                .bind(&r.detail);
        }
        q.execute(&mut **tx).await?;
    }
    sqlx::query("DELETE FROM eval_runs WHERE period_kind = $1 AND period_start = $2")
        .bind(kind)
        .bind(start)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO eval_runs (period_kind, period_start, period_end, computed_at, scores) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(kind)
    .bind(start)
    .bind(end)
    .bind(at)
    .bind(rows.len() as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn runs(
    c: &mut AnyConnection,
    kind: Option<&str>,
) -> Result<Vec<ScoredPeriod>, sqlx::Error> {
    sqlx::query_as(
        "SELECT period_kind, period_start, period_end, computed_at, scores FROM eval_runs \
         WHERE (CAST($1 AS TEXT) IS NULL OR period_kind = $1) ORDER BY period_start DESC, period_kind LIMIT 200",
    )
    .bind(kind)
    .fetch_all(c)
    .await
}

pub async fn run(
    c: &mut AnyConnection,
    kind: &str,
    start: &str,
) -> Result<Option<ScoredPeriod>, sqlx::Error> {
    sqlx::query_as(
        "SELECT period_kind, period_start, period_end, computed_at, scores FROM eval_runs \
         WHERE period_kind = $1 AND period_start = $2",
    )
    .bind(kind)
    .bind(start)
    .fetch_optional(c)
    .await
}

/// The scores of one subject kind in an area subtree for a period, best first.
pub async fn board(
    c: &mut AnyConnection,
    kind: &str,
    start: &str,
    subject_kind: &str,
    scope: &str,
) -> Result<Vec<ScoreDbRow>, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    sqlx::query_as(&format!(
        "SELECT {SCORE_COLS} FROM eval_scores WHERE period_kind = $1 AND period_start = $2 \
         AND subject_kind = $3 AND area_code >= $4 AND area_code < $5 \
         ORDER BY score DESC, subject_code"
    ))
    .bind(kind)
    .bind(start)
    .bind(subject_kind)
    .bind(&lo)
    .bind(&hi)
    .fetch_all(c)
    .await
}

pub async fn score(c: &mut AnyConnection, id: &str) -> Result<Option<ScoreDbRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {SCORE_COLS} FROM eval_scores WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

const BULLETIN_COLS: &str = "id, area_code, period_kind, period_start, period_end, title, \
    created_at, CAST(LENGTH(pdf) AS BIGINT) AS pdf_bytes, CAST(LENGTH(xlsx) AS BIGINT) AS xlsx_bytes";

pub async fn insert_bulletin(
    tx: &mut Tx,
    b: &BulletinRow,
    created_by: Option<&str>,
    pdf: &[u8],
    xlsx: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bulletins (id, area_code, period_kind, period_start, period_end, title, \
         created_at, created_by, pdf, xlsx) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&b.id)
    .bind(&b.area_code)
    .bind(&b.period_kind)
    .bind(&b.period_start)
    .bind(&b.period_end)
    .bind(&b.title)
    .bind(&b.created_at)
    .bind(created_by)
    .bind(pdf.to_vec())
    .bind(xlsx.to_vec())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn bulletins(
    c: &mut AnyConnection,
    scope: &str,
) -> Result<Vec<BulletinRow>, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    // A bulletin of an area above the caller's is shown too: it ranks the caller's area.
    sqlx::query_as(&format!(
        "SELECT {BULLETIN_COLS} FROM bulletins WHERE (area_code >= $1 AND area_code < $2) \
         OR $3 LIKE area_code || '%' ORDER BY period_start DESC, created_at DESC LIMIT 500"
    ))
    .bind(&lo)
    .bind(&hi)
    .bind(scope)
    .fetch_all(c)
    .await
}

pub async fn bulletin(c: &mut AnyConnection, id: &str) -> Result<Option<BulletinRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {BULLETIN_COLS} FROM bulletins WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

/// The stored PDF or xlsx of a bulletin.
pub async fn bulletin_file(
    c: &mut AnyConnection,
    id: &str,
    pdf: bool,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let col = if pdf { "pdf" } else { "xlsx" };
    let row: Option<(Vec<u8>,)> =
        sqlx::query_as(&format!("SELECT {col} FROM bulletins WHERE id = $1"))
            .bind(id)
            .fetch_optional(c)
            .await?;
    Ok(row.map(|r| r.0))
}

/// Whether a bulletin of the period was issued at `after` or later.
pub async fn bulletin_exists(
    c: &mut AnyConnection,
    area: &str,
    kind: &str,
    start: &str,
    after: &str,
) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM bulletins WHERE area_code = $1 AND period_kind = $2 AND period_start = $3 \
         AND created_at >= $4 LIMIT 1",
    )
    .bind(area)
    .bind(kind)
    .bind(start)
    .bind(after)
    .fetch_optional(c)
    .await?;
    Ok(row.is_some())
}

/// The template of a period kind (the built-in one until an admin edits it).
pub async fn template(c: &mut AnyConnection, kind: &str) -> Result<BulletinTemplate, sqlx::Error> {
    let row: Option<BulletinTemplate> = sqlx::query_as(
        "SELECT period_kind, title, intro, closing, issuer, top_n FROM bulletin_templates \
         WHERE period_kind = $1",
    )
    .bind(kind)
    .fetch_optional(c)
    .await?;
    Ok(row.unwrap_or_else(|| super::bulletin::default_template(kind)))
}

pub async fn save_template(
    c: &mut AnyConnection,
    t: &BulletinTemplate,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO bulletin_templates (period_kind, title, intro, closing, issuer, top_n, \
         updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (period_kind) DO UPDATE SET title = excluded.title, intro = excluded.intro, \
         closing = excluded.closing, issuer = excluded.issuer, top_n = excluded.top_n, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(&t.period_kind)
    .bind(&t.title)
    .bind(&t.intro)
    .bind(&t.closing)
    .bind(&t.issuer)
    .bind(t.top_n)
    .bind(now())
    .bind(by)
    .execute(c)
    .await?;
    Ok(())
}

/// Current names of areas (and grids) by code.
pub async fn area_name(pool: &AnyPool, code: &str) -> Result<String, sqlx::Error> {
    let mut c = pool.acquire().await?;
    let name = if code.len() > 12 {
        crate::events::store::grid_name(&mut c, code).await?
    } else {
        crate::events::store::area_name(&mut c, code).await?
    };
    Ok(name.unwrap_or_else(|| code.to_owned()))
}

/// `SELECT COUNT(*)` with text parameters.
async fn count(pool: &AnyPool, sql: &str, args: &[&str]) -> Result<i64, sqlx::Error> {
    let mut q = sqlx::query_as::<_, (i64,)>(sql);
    for a in args {
        q = q.bind(*a);
    }
    Ok(q.fetch_one(pool).await?.0)
}

/// The dashboard's counts for an area: today from `today_at`, on duty since `online_since`.
pub async fn today(
    pool: &AnyPool,
    scope: &str,
    today_at: &str,
    online_since: &str,
) -> Result<TodayCounts, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    let inside = "area_code >= $1 AND area_code < $2";
    let open = "state NOT IN ('closed', 'voided', 'merged')";
    Ok(TodayCounts {
        reported: count(
            pool,
            &format!("SELECT COUNT(*) FROM events WHERE {inside} AND reported_at >= $3"),
            &[&lo, &hi, today_at],
        )
        .await?,
        closed: count(
            pool,
            &format!("SELECT COUNT(*) FROM events WHERE {inside} AND closed_at >= $3"),
            &[&lo, &hi, today_at],
        )
        .await?,
        open: count(
            pool,
            &format!("SELECT COUNT(*) FROM events WHERE {inside} AND {open}"),
            &[&lo, &hi],
        )
        .await?,
        overdue: count(
            pool,
            &format!("SELECT COUNT(*) FROM events WHERE {inside} AND {open} AND light = 'red'"),
            &[&lo, &hi],
        )
        .await?,
        online_workers: count(
            pool,
            &format!(
                "SELECT COUNT(DISTINCT user_id) FROM activities WHERE {inside} AND kind = 'shift' \
                 AND ended_at IS NULL AND last_at >= $3"
            ),
            &[&lo, &hi, online_since],
        )
        .await?,
        workers: count(
            pool,
            "SELECT COUNT(*) FROM grid_members WHERE duty = 'worker' AND grid_code >= $1 AND grid_code < $2",
            &[&lo, &hi],
        )
        .await?,
    })
}

#[derive(sqlx::FromRow)]
struct DayRow {
    day: String,
    reported: Option<i64>,
    closed: Option<i64>,
}

/// Reports per China day since `from_day` and how many of them are closed: from the rollup
/// for counties and above, from the events below.
pub async fn trend(
    pool: &AnyPool,
    scope: &str,
    from_day: &str,
    from_at: &str,
) -> Result<Vec<TrendDay>, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    let rows: Vec<DayRow> = if scope.len() <= 6 {
        sqlx::query_as(
            "SELECT day, CAST(SUM(reported) AS BIGINT) AS reported, CAST(SUM(closed) AS BIGINT) AS closed \
             FROM event_facts WHERE county >= $1 AND county < $2 AND day >= $3 GROUP BY day ORDER BY day",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(from_day)
        .fetch_all(pool)
        .await?
    } else {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT reported_at, state FROM events WHERE area_code >= $1 AND area_code < $2 \
             AND reported_at >= $3",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(from_at)
        .fetch_all(pool)
        .await?;
        let mut days: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        for (at, state) in rows {
            let Some(t) = crate::db::parse_time(&at) else {
                continue;
            };
            let d = days.entry(crate::db::china_day(t).to_string()).or_default();
            d.0 += 1;
            d.1 += i64::from(state == "closed");
        }
        days.into_iter()
            .map(|(day, (r, c))| DayRow {
                day,
                reported: Some(r),
                closed: Some(c),
            })
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| TrendDay {
            day: r.day,
            reported: r.reported.unwrap_or(0),
            closed: r.closed.unwrap_or(0),
        })
        .collect())
}

/// Open red events of the area, most overdue first.
pub async fn overdue(
    pool: &AnyPool,
    scope: &str,
    limit: i64,
) -> Result<Vec<(String, String, String, String, Option<String>)>, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    sqlx::query_as(&format!(
        "SELECT id, case_no, category_code, area_code, deadline_at FROM events \
         WHERE area_code >= $1 AND area_code < $2 AND light = 'red' \
         AND state NOT IN ('closed', 'voided', 'merged') ORDER BY deadline_at LIMIT {limit}"
    ))
    .bind(&lo)
    .bind(&hi)
    .fetch_all(pool)
    .await
}

/// This period's reports by category group (first two digits of the code).
pub async fn by_group(
    pool: &AnyPool,
    scope: &str,
    from_day: &str,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    let county = &scope[..scope.len().min(6)];
    let (clo, chi) = prefix_range(county);
    // The rollup is by county; below a county the events are counted.
    if scope.len() <= 6 {
        sqlx::query_as(
            "SELECT substr(category_code, 1, 2) AS g, CAST(SUM(reported) AS BIGINT) AS n \
             FROM event_facts WHERE county >= $1 AND county < $2 AND day >= $3 \
             GROUP BY substr(category_code, 1, 2) ORDER BY n DESC",
        )
        .bind(&clo)
        .bind(&chi)
        .bind(from_day)
        .fetch_all(pool)
        .await
    } else {
        sqlx::query_as(
            "SELECT substr(category_code, 1, 2) AS g, CAST(COUNT(*) AS BIGINT) AS n \
             FROM events WHERE area_code >= $1 AND area_code < $2 AND reported_at >= $3 \
             GROUP BY substr(category_code, 1, 2) ORDER BY n DESC",
        )
        .bind(&lo)
        .bind(&hi)
        .bind(crate::db::day_start(from_day.parse().unwrap_or_default()))
        .fetch_all(pool)
        .await
    }
}

/// The newest scored period of a kind.
pub async fn latest_run(
    c: &mut AnyConnection,
    kind: &str,
) -> Result<Option<ScoredPeriod>, sqlx::Error> {
    Ok(runs(c, Some(kind)).await?.into_iter().next())
}

/// A base-record change by a grid worker.
#[derive(Debug, sqlx::FromRow)]
pub struct WorkerChange {
    pub entity: String,
    pub entity_id: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub actor_id: String,
    pub actor_name: String,
    pub at: String,
}

/// Changes grid workers made to base records in `from..to` (at most `limit`), oldest first.
pub async fn worker_changes(
    pool: &AnyPool,
    from: &str,
    to: &str,
    limit: i64,
) -> Result<Vec<WorkerChange>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT c.entity, c.entity_id, c.field, c.old_value, c.new_value, c.actor_id, \
                COALESCE(c.actor_name, '') AS actor_name, c.at \
         FROM record_changes c WHERE c.at >= $1 AND c.at < $2 AND c.actor_id IN \
             (SELECT user_id FROM grid_members WHERE duty = 'worker') \
         ORDER BY c.at LIMIT {limit}"
    ))
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// Records with a sample still open (pending, returned or fixed) in the area.
pub async fn open_samples(
    pool: &AnyPool,
    scope: &str,
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT record_id FROM inspections WHERE area_code >= $1 AND area_code < $2 \
         AND status IN ('pending', 'returned', 'fixed')",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

const INSPECTION_COLS: &str = "id, area_code, record_kind, record_id, record_label, worker_id, \
    worker_name, reason, changes, status, note, created_at, created_by, reviewed_at, \
    reviewer_id, reviewer_name, fixed_at, fixed_note";

pub async fn insert_inspections(tx: &mut Tx, rows: &[InspectionRow]) -> Result<(), sqlx::Error> {
    for chunk in chunks(tx, rows, 18) {
        let sql = format!(
            "INSERT INTO inspections ({INSPECTION_COLS}) VALUES {}",
            bulk_values(tx, chunk.len(), 18)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(&r.id)
                .bind(&r.area_code)
                .bind(&r.record_kind)
                .bind(&r.record_id)
                .bind(&r.record_label)
                .bind(&r.worker_id)
                .bind(&r.worker_name)
                .bind(&r.reason)
                .bind(&r.changes)
                .bind(&r.status)
                .bind(&r.note)
                .bind(&r.created_at)
                .bind(&r.created_by)
                .bind(&r.reviewed_at)
                .bind(&r.reviewer_id)
                .bind(&r.reviewer_name)
                .bind(&r.fixed_at)
                .bind(&r.fixed_note);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn inspections(
    pool: &AnyPool,
    scope: &str,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<InspectionRow>), sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    let cond = "area_code >= $1 AND area_code < $2 AND (CAST($3 AS TEXT) IS NULL OR status = $3)";
    let (total,): (i64,) =
        sqlx::query_as(&format!("SELECT COUNT(*) FROM inspections WHERE {cond}"))
            .bind(&lo)
            .bind(&hi)
            .bind(status)
            .fetch_one(pool)
            .await?;
    let rows = sqlx::query_as(&format!(
        "SELECT {INSPECTION_COLS} FROM inspections WHERE {cond} \
         ORDER BY created_at DESC, id LIMIT {limit} OFFSET {offset}"
    ))
    .bind(&lo)
    .bind(&hi)
    .bind(status)
    .fetch_all(pool)
    .await?;
    Ok((total, rows))
}

pub async fn inspection(
    c: &mut AnyConnection,
    id: &str,
) -> Result<Option<InspectionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {INSPECTION_COLS} FROM inspections WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

/// A grid worker's returned samples (their tasks).
pub async fn returned_to(pool: &AnyPool, worker: &str) -> Result<Vec<InspectionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {INSPECTION_COLS} FROM inspections WHERE worker_id = $1 AND status = 'returned' \
         ORDER BY reviewed_at DESC LIMIT 200"
    ))
    .bind(worker)
    .fetch_all(pool)
    .await
}

/// Moves a sample from `from` to its new state; `false` when someone else moved it first.
pub async fn set_inspection(
    c: &mut AnyConnection,
    r: &InspectionRow,
    from: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE inspections SET status = $2, note = $3, reviewed_at = $4, reviewer_id = $5, \
         reviewer_name = $6, fixed_at = $7, fixed_note = $8 WHERE id = $1 AND status = $9",
    )
    .bind(&r.id)
    .bind(&r.status)
    .bind(&r.note)
    .bind(&r.reviewed_at)
    .bind(&r.reviewer_id)
    .bind(&r.reviewer_name)
    .bind(&r.fixed_at)
    .bind(&r.fixed_note)
    .bind(from)
    .execute(c)
    .await?;
    Ok(done.rows_affected() == 1)
}
