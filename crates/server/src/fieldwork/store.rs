//! SQL of field work (portable: runs on SQLite and PostgreSQL).

use super::model::*;
use crate::db::{Float, Tx, bulk_values, chunks, prefix_range};
use sqlx::{AnyConnection, AnyPool};

const COLS: &str = "id, kind, user_id, area_code, day, started_at, last_at, ended_at, seconds, \
    meters, points, subject_kind, subject_id, subject_label, note, lon, lat, photos";

/// Stores a new activity; `false` when one with this id exists (a replay).
pub async fn insert(c: &mut AnyConnection, a: &ActivityRow) -> Result<bool, sqlx::Error> {
    let sql = format!(
        "INSERT INTO activities ({COLS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (id) DO NOTHING"
    );
    let done = sqlx::query(&sql)
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
        .bind(Float(a.lon))
        .bind(Float(a.lat))
        .bind(&a.photos)
        .execute(c)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<ActivityRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLS} FROM activities WHERE id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

/// The caller's open shift or patrol, if any.
pub async fn open(
    c: &mut AnyConnection,
    user_id: &str,
    kind: &str,
) -> Result<Option<ActivityRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM activities WHERE user_id = $1 AND kind = $2 AND ended_at IS NULL \
         ORDER BY started_at DESC LIMIT 1"
    ))
    .bind(user_id)
    .bind(kind)
    .fetch_optional(c)
    .await
}

/// Writes what a shift or patrol has measured so far (and its end).
pub async fn save_progress(c: &mut AnyConnection, a: &ActivityRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE activities SET last_at = $2, ended_at = $3, seconds = $4, meters = $5, \
         points = $6, note = $7 WHERE id = $1",
    )
    .bind(&a.id)
    .bind(&a.last_at)
    .bind(&a.ended_at)
    .bind(a.seconds)
    .bind(a.meters)
    .bind(a.points)
    .bind(&a.note)
    .execute(c)
    .await?;
    Ok(())
}

/// The worker's patrols that overlap `from..=to`.
pub async fn patrols_overlapping(
    c: &mut AnyConnection,
    user_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<ActivityRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM activities WHERE user_id = $1 AND kind = 'patrol' \
         AND started_at <= $3 AND (ended_at IS NULL OR ended_at >= $2) ORDER BY started_at"
    ))
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_all(c)
    .await
}

/// One stored location sample.
pub struct PointRow {
    pub at: String,
    pub lon: f64,
    pub lat: f64,
    pub accuracy: Option<f64>,
    pub patrol_id: Option<String>,
}

/// Stores points, skipping those already stored; returns how many were new.
pub async fn insert_points(
    tx: &mut Tx,
    user_id: &str,
    area_code: &str,
    rows: &[PointRow],
) -> Result<u64, sqlx::Error> {
    let mut added = 0;
    for chunk in chunks(tx, rows, 7) {
        let sql = format!(
            "INSERT INTO track_points (user_id, at, lon, lat, accuracy, patrol_id, area_code) \
             VALUES {} ON CONFLICT (user_id, at) DO NOTHING",
            bulk_values(tx, chunk.len(), 7)
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(user_id)
                .bind(&p.at)
                .bind(p.lon)
                .bind(p.lat)
                .bind(Float(p.accuracy))
                .bind(&p.patrol_id)
                .bind(area_code);
        }
        added += q.execute(&mut **tx).await?.rows_affected();
    }
    Ok(added)
}

/// A worker's points in `from..=to`, in time order.
pub async fn points(
    c: &mut AnyConnection,
    user_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<TrackPoint>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, lon, lat, patrol_id FROM track_points \
         WHERE user_id = $1 AND at >= $2 AND at <= $3 ORDER BY at",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_all(c)
    .await
}

/// Deletes track points older than `before`.
pub async fn purge_points(pool: &AnyPool, before: &str) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM track_points WHERE at < $1")
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected())
}

/// An activity with the names a list shows.
#[derive(sqlx::FromRow)]
pub struct Listed {
    #[sqlx(flatten)]
    pub row: ActivityRow,
    pub user_name: String,
    pub grid_name: String,
}

/// Which activities a list shows.
pub struct Filter<'a> {
    pub kind: &'a str,
    pub user_id: Option<&'a str>,
    pub scope: &'a str,
    pub subject_id: Option<&'a str>,
    pub from_day: Option<&'a str>,
    pub to_day: Option<&'a str>,
}

/// Activities of one kind, newest first (at most 500).
pub async fn list(c: &mut AnyConnection, f: &Filter<'_>) -> Result<Vec<Listed>, sqlx::Error> {
    let (lo, hi) = prefix_range(f.scope);
    let mut sql = format!(
        "SELECT {}, COALESCE(u.display_name, '') AS user_name, COALESCE(g.name, '') AS grid_name \
         FROM activities a LEFT JOIN users u ON u.id = a.user_id \
         LEFT JOIN grids g ON g.code = a.area_code \
         WHERE a.kind = $1 AND a.area_code >= $2 AND a.area_code < $3",
        COLS.split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut args: Vec<&str> = vec![f.kind, &lo, &hi];
    for (cond, v) in [
        ("a.user_id = ", f.user_id),
        ("a.subject_id = ", f.subject_id),
        ("a.day >= ", f.from_day),
        ("a.day <= ", f.to_day),
    ] {
        if let Some(v) = v {
            args.push(v);
            sql.push_str(&format!(" AND {cond}${}", args.len()));
        }
    }
    sql.push_str(" ORDER BY a.started_at DESC LIMIT 500");
    let mut q = sqlx::query_as::<_, Listed>(&sql);
    for a in args {
        q = q.bind(a);
    }
    q.fetch_all(c).await
}

#[derive(sqlx::FromRow)]
struct ActivitySums {
    online_seconds: Option<i64>,
    patrols: Option<i64>,
    patrol_meters: Option<i64>,
    visits: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct RecordSums {
    records_new: Option<i64>,
    records_updated: Option<i64>,
}

/// One worker's figures over China days `from..=to` (`from_at..to_at` as instants).
pub async fn figures(
    c: &mut AnyConnection,
    user_id: &str,
    (from, to): (&str, &str),
    (from_at, to_at): (&str, &str),
) -> Result<WeekFigures, sqlx::Error> {
    let a: ActivitySums = sqlx::query_as(
        "SELECT CAST(SUM(CASE WHEN kind = 'shift' THEN seconds ELSE 0 END) AS BIGINT) AS online_seconds, \
                CAST(SUM(CASE WHEN kind = 'patrol' THEN 1 ELSE 0 END) AS BIGINT) AS patrols, \
                CAST(SUM(CASE WHEN kind = 'patrol' THEN meters ELSE 0 END) AS BIGINT) AS patrol_meters, \
                CAST(SUM(CASE WHEN kind = 'visit' THEN 1 ELSE 0 END) AS BIGINT) AS visits \
         FROM activities WHERE user_id = $1 AND day >= $2 AND day <= $3",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *c)
    .await?;
    let r: RecordSums = sqlx::query_as(
        "SELECT CAST(SUM(CASE WHEN field = 'record' THEN 1 ELSE 0 END) AS BIGINT) AS records_new, \
                CAST(COUNT(DISTINCT CASE WHEN field <> 'record' THEN entity_id END) AS BIGINT) AS records_updated \
         FROM record_changes WHERE actor_id = $1 AND at >= $2 AND at < $3",
    )
    .bind(user_id)
    .bind(from_at)
    .bind(to_at)
    .fetch_one(&mut *c)
    .await?;
    let (events,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM events WHERE reporter_id = $1 AND reported_at >= $2 \
         AND reported_at < $3 AND state <> 'voided'",
    )
    .bind(user_id)
    .bind(from_at)
    .bind(to_at)
    .fetch_one(&mut *c)
    .await?;
    let (verifications,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM event_moves WHERE actor_id = $1 AND at >= $2 AND at < $3 \
         AND action IN ('verify_pass', 'verify_fail')",
    )
    .bind(user_id)
    .bind(from_at)
    .bind(to_at)
    .fetch_one(&mut *c)
    .await?;
    Ok(WeekFigures {
        from: from.into(),
        to: to.into(),
        online_minutes: a.online_seconds.unwrap_or(0) / 60,
        patrols: a.patrols.unwrap_or(0),
        patrol_meters: a.patrol_meters.unwrap_or(0),
        visits: a.visits.unwrap_or(0),
        records_new: r.records_new.unwrap_or(0),
        records_updated: r.records_updated.unwrap_or(0),
        events_reported: events,
        verifications,
    })
}

/// Grid workers of the area with today's shift time and their last heartbeat.
pub async fn workers(
    c: &mut AnyConnection,
    scope: &str,
    today: &str,
    online_since: &str,
) -> Result<Vec<WorkerStatus>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        user_id: String,
        name: String,
        grid_code: String,
        grid_name: String,
        online: i64,
        last_beat_at: Option<String>,
        today_minutes: i64,
    }
    let (lo, hi) = prefix_range(scope);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT u.id AS user_id, u.display_name AS name, m.grid_code, g.name AS grid_name, \
                CASE WHEN s.open_beat IS NOT NULL AND s.open_beat >= $4 THEN 1 ELSE 0 END AS online, \
                s.last_beat AS last_beat_at, CAST(COALESCE(s.secs, 0) / 60 AS BIGINT) AS today_minutes \
         FROM grid_members m JOIN users u ON u.id = m.user_id JOIN grids g ON g.code = m.grid_code \
         LEFT JOIN (SELECT user_id, MAX(last_at) AS last_beat, \
                           MAX(CASE WHEN ended_at IS NULL THEN last_at END) AS open_beat, \
                           SUM(seconds) AS secs \
                    FROM activities WHERE kind = 'shift' AND day = $3 GROUP BY user_id) s \
                ON s.user_id = u.id \
         WHERE m.duty = 'worker' AND m.grid_code >= $1 AND m.grid_code < $2 AND u.status = 'active' \
         ORDER BY m.grid_code LIMIT 2000",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(today)
    .bind(online_since)
    .fetch_all(c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| WorkerStatus {
            user_id: r.user_id,
            name: r.name,
            grid_code: r.grid_code,
            grid_name: r.grid_name,
            online: r.online == 1,
            last_beat_at: r.last_beat_at,
            today_minutes: r.today_minutes,
        })
        .collect())
}

/// The label and area of a record a visit is about.
pub async fn subject(
    c: &mut AnyConnection,
    kind: &str,
    id: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let sql = match kind {
        "person" => "SELECT name, area_code FROM people WHERE id = $1",
        "household" => "SELECT household_no, area_code FROM households WHERE id = $1",
        "house" => {
            "SELECT COALESCE(h.name, a.full_text, h.house_no), h.area_code FROM houses h \
             LEFT JOIN addresses a ON a.id = h.address_id WHERE h.id = $1"
        }
        "org" => "SELECT name, area_code FROM orgs WHERE id = $1",
        _ => return Ok(None),
    };
    sqlx::query_as(sql).bind(id).fetch_optional(c).await
}
