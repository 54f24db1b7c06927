//! SQL of the events domain (portable: runs on SQLite and PostgreSQL).

use super::model::*;
use crate::files::StoredPhoto;
use civgrid_core::indicators::Counts;
use sqlx::{AnyConnection, AnyPool};

pub const EVENT_COLS: &str = "id, case_no, category_code, area_code, centre_area, assignee_kind, \
    assignee, dept_id, state, source, priority, description, address, lon, lat, reporter_id, \
    reporter_name, reporter_role, contact_name, contact_phone, idempotency_key, version, step, \
    step_started_at, step_limit_min, step_used_min, deadline_at, light, held_from, resume_state, \
    handler_id, reported_at, accepted_at, dispatched_at, handled_at, verified_at, closed_at, \
    updated_at, dispatch_late, handle_late, verify_late, rework_count, return_count, \
    escalation_count, supervision_count, hold_minutes, work_minutes, evaluation, \
    evaluation_comment, merged_into";

/// Binds every column of `e` in `EVENT_COLS` order.
macro_rules! bind_event {
    ($q:expr, $e:expr) => {
        $q.bind(&$e.id)
            .bind(&$e.case_no)
            .bind(&$e.category_code)
            .bind(&$e.area_code)
            .bind(&$e.centre_area)
            .bind(&$e.assignee_kind)
            .bind(&$e.assignee)
            .bind(&$e.dept_id)
            .bind(&$e.state)
            .bind(&$e.source)
            .bind(&$e.priority)
            .bind(&$e.description)
            .bind(&$e.address)
            .bind($e.lon)
            .bind($e.lat)
            .bind(&$e.reporter_id)
            .bind(&$e.reporter_name)
            .bind(&$e.reporter_role)
            .bind(&$e.contact_name)
            .bind(&$e.contact_phone)
            .bind(&$e.idempotency_key)
            .bind($e.version)
            .bind(&$e.step)
            .bind(&$e.step_started_at)
            .bind($e.step_limit_min)
            .bind($e.step_used_min)
            .bind(&$e.deadline_at)
            .bind(&$e.light)
            .bind(&$e.held_from)
            .bind(&$e.resume_state)
            .bind(&$e.handler_id)
            .bind(&$e.reported_at)
            .bind(&$e.accepted_at)
            .bind(&$e.dispatched_at)
            .bind(&$e.handled_at)
            .bind(&$e.verified_at)
            .bind(&$e.closed_at)
            .bind(&$e.updated_at)
            .bind($e.dispatch_late)
            .bind($e.handle_late)
            .bind($e.verify_late)
            .bind($e.rework_count)
            .bind($e.return_count)
            .bind($e.escalation_count)
            .bind($e.supervision_count)
            .bind($e.hold_minutes)
            .bind($e.work_minutes)
            .bind(&$e.evaluation)
            .bind(&$e.evaluation_comment)
            .bind(&$e.merged_into)
    };
}

fn marks(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

const N_COLS: usize = 50;

pub async fn insert_event(c: &mut AnyConnection, e: &EventRow) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO events ({EVENT_COLS}) VALUES ({})",
        marks(1, N_COLS)
    );
    bind_event!(sqlx::query(&sql), e).execute(c).await?;
    Ok(())
}

/// Inserts many events with multi-row statements.
pub async fn insert_events(c: &mut AnyConnection, evs: &[&EventRow]) -> Result<(), sqlx::Error> {
    // sqlx-sqlite finds each parameter by a linear scan: keep statements small.
    for chunk in evs.chunks(8) {
        let sql = format!(
            "INSERT INTO events ({EVENT_COLS}) VALUES {}",
            crate::db::values(chunk.len(), N_COLS)
        );
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = bind_event!(q, e);
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

pub async fn insert_moves(c: &mut AnyConnection, moves: &[MoveRow]) -> Result<(), sqlx::Error> {
    for chunk in moves.chunks(64) {
        let sql = format!(
            "INSERT INTO event_moves (id, event_id, seq, action, from_state, to_state, actor_id,
                                      actor_name, actor_role, at, note, detail) VALUES {}",
            crate::db::values(chunk.len(), 12)
        );
        let mut q = sqlx::query(&sql);
        for m in chunk {
            q = q
                .bind(&m.id)
                .bind(&m.event_id)
                .bind(m.seq)
                .bind(&m.action)
                .bind(&m.from_state)
                .bind(&m.to_state)
                .bind(&m.actor_id)
                .bind(&m.actor_name)
                .bind(&m.actor_role)
                .bind(&m.at)
                .bind(&m.note)
                .bind(&m.detail);
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

/// Takes `n` case numbers of a city and day; returns the last one.
pub async fn bump_case_seq(
    c: &mut AnyConnection,
    prefix: &str,
    day: &str,
    n: i64,
) -> Result<i64, sqlx::Error> {
    let (last,): (i64,) = sqlx::query_as(
        "INSERT INTO case_counters (prefix, day, n) VALUES ($1, $2, $3)
         ON CONFLICT (prefix, day) DO UPDATE SET n = case_counters.n + $3
         RETURNING n",
    )
    .bind(prefix)
    .bind(day)
    .bind(n)
    .fetch_one(c)
    .await?;
    Ok(last)
}

/// Writes every column of `e` if the stored version is still `expected`; false when someone
/// else moved the event first.
pub async fn update_event(
    c: &mut AnyConnection,
    e: &EventRow,
    expected: i64,
) -> Result<bool, sqlx::Error> {
    // Every column but the key, each bound at its place in `EVENT_COLS` ($1 is the id).
    let sets: Vec<String> = EVENT_COLS
        .split(',')
        .map(str::trim)
        .enumerate()
        .filter(|(_, col)| *col != "id")
        .map(|(i, col)| format!("{col} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE events SET {} WHERE id = $1 AND version = ${}",
        sets.join(", "),
        N_COLS + 1
    );
    let r = bind_event!(sqlx::query(&sql), e)
        .bind(expected)
        .execute(c)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<EventRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {EVENT_COLS} FROM events WHERE id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

pub async fn by_idempotency_key(
    c: &mut AnyConnection,
    reporter: &str,
    key: &str,
) -> Result<Option<EventRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {EVENT_COLS} FROM events WHERE id =
             (SELECT event_id FROM idempotency_keys WHERE reporter_id = $1 AND key = $2)"
    ))
    .bind(reporter)
    .bind(key)
    .fetch_optional(c)
    .await
}

/// Records the idempotency keys of new reports: (reporter, key, event, time). A key used
/// twice is a unique violation.
pub async fn insert_keys(
    c: &mut AnyConnection,
    keys: &[(&str, &str, &str, &str)],
) -> Result<(), sqlx::Error> {
    for chunk in keys.chunks(100) {
        let sql = format!(
            "INSERT INTO idempotency_keys (reporter_id, key, event_id, created_at) VALUES {}",
            crate::db::values(chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for (r, k, e, t) in chunk {
            q = q.bind(*r).bind(*k).bind(*e).bind(*t);
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

pub async fn insert_move(c: &mut AnyConnection, m: &MoveRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO event_moves (id, event_id, seq, action, from_state, to_state, actor_id,
                                  actor_name, actor_role, at, note, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&m.id)
    .bind(&m.event_id)
    .bind(m.seq)
    .bind(&m.action)
    .bind(&m.from_state)
    .bind(&m.to_state)
    .bind(&m.actor_id)
    .bind(&m.actor_name)
    .bind(&m.actor_role)
    .bind(&m.at)
    .bind(&m.note)
    .bind(&m.detail)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn insert_photo(
    c: &mut AnyConnection,
    move_id: &str,
    event_id: &str,
    p: &StoredPhoto,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO event_photos (move_id, event_id, sha256, mime, bytes, width, height, lon, lat)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (move_id, sha256) DO NOTHING",
    )
    .bind(move_id)
    .bind(event_id)
    .bind(&p.sha256)
    .bind(p.mime)
    .bind(p.bytes)
    .bind(p.width)
    .bind(p.height)
    .bind(p.lon)
    .bind(p.lat)
    .execute(c)
    .await?;
    Ok(())
}

/// Replaces the event's deadline timers.
pub async fn set_timers(
    c: &mut AnyConnection,
    event_id: &str,
    timers: &[(&str, String)],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM event_timers WHERE event_id = $1")
        .bind(event_id)
        .execute(&mut *c)
        .await?;
    for (kind, due) in timers {
        sqlx::query("INSERT INTO event_timers (event_id, kind, due_at) VALUES ($1, $2, $3)")
            .bind(event_id)
            .bind(*kind)
            .bind(due)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub async fn moves(c: &mut AnyConnection, event_id: &str) -> Result<Vec<MoveRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_id, seq, action, from_state, to_state, actor_id, actor_name, actor_role,
                at, note, detail
           FROM event_moves WHERE event_id = $1 ORDER BY seq",
    )
    .bind(event_id)
    .fetch_all(c)
    .await
}

#[derive(sqlx::FromRow)]
pub struct PhotoRow {
    pub move_id: String,
    pub sha256: String,
    pub mime: String,
    pub width: i64,
    pub height: i64,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

pub async fn photos(c: &mut AnyConnection, event_id: &str) -> Result<Vec<PhotoRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT move_id, sha256, mime, width, height, lon, lat FROM event_photos
          WHERE event_id = $1",
    )
    .bind(event_id)
    .fetch_all(c)
    .await
}

/// Events a photo belongs to (for access checks).
pub async fn events_of_photo(
    c: &mut AnyConnection,
    sha256: &str,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {EVENT_COLS} FROM events WHERE id IN
             (SELECT event_id FROM event_photos WHERE sha256 = $1) LIMIT 20"
    ))
    .bind(sha256)
    .fetch_all(c)
    .await
}

pub async fn supervisions(
    c: &mut AnyConnection,
    event_id: &str,
) -> Result<Vec<SupervisionView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, by_name, by_area, opinion, reply_due, created_at, reply, replied_at
           FROM supervisions WHERE event_id = $1 ORDER BY created_at",
    )
    .bind(event_id)
    .fetch_all(c)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_supervision(
    c: &mut AnyConnection,
    id: &str,
    event_id: &str,
    by_id: &str,
    by_name: &str,
    by_area: &str,
    opinion: &str,
    reply_due: &str,
    at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO supervisions (id, event_id, by_id, by_name, by_area, opinion, reply_due, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(event_id)
    .bind(by_id)
    .bind(by_name)
    .bind(by_area)
    .bind(opinion)
    .bind(reply_due)
    .bind(at)
    .execute(c)
    .await?;
    Ok(())
}

/// Records a reply; false when the supervision is unknown or already answered.
pub async fn reply_supervision(
    c: &mut AnyConnection,
    id: &str,
    event_id: &str,
    reply: &str,
    by: &str,
    at: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE supervisions SET reply = $3, replied_by = $4, replied_at = $5
          WHERE id = $1 AND event_id = $2 AND reply IS NULL",
    )
    .bind(id)
    .bind(event_id)
    .bind(reply)
    .bind(by)
    .bind(at)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn extensions(
    c: &mut AnyConnection,
    event_id: &str,
) -> Result<Vec<ExtensionView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, days, reason, status, requested_at, decided_at, note
           FROM extensions WHERE event_id = $1 ORDER BY requested_at",
    )
    .bind(event_id)
    .fetch_all(c)
    .await
}

pub async fn insert_extension(
    c: &mut AnyConnection,
    id: &str,
    event_id: &str,
    days: i64,
    reason: &str,
    by: &str,
    at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO extensions (id, event_id, days, reason, status, requested_by, requested_at)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6)",
    )
    .bind(id)
    .bind(event_id)
    .bind(days)
    .bind(reason)
    .bind(by)
    .bind(at)
    .execute(c)
    .await?;
    Ok(())
}

/// Decides a pending extension; its days when it was pending.
pub async fn decide_extension(
    c: &mut AnyConnection,
    id: &str,
    event_id: &str,
    status: &str,
    by: &str,
    note: Option<&str>,
    at: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let days: Option<(i64,)> = sqlx::query_as(
        "UPDATE extensions SET status = $3, decided_by = $4, note = $5, decided_at = $6
          WHERE id = $1 AND event_id = $2 AND status = 'pending' RETURNING days",
    )
    .bind(id)
    .bind(event_id)
    .bind(status)
    .bind(by)
    .bind(note)
    .bind(at)
    .fetch_optional(c)
    .await?;
    Ok(days.map(|d| d.0))
}

/// Open events of a category reported since `since` inside a bounding box (at most 50;
/// no ORDER BY, so that the planner keeps to the (category, lon) index).
pub async fn nearby_open(
    c: &mut AnyConnection,
    category: &str,
    since: &str,
    bbox: [f64; 4],
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {EVENT_COLS} FROM events
          WHERE category_code = $1 AND reported_at >= $2
            AND lon >= $3 AND lat >= $4 AND lon <= $5 AND lat <= $6
            AND state NOT IN ('closed', 'voided', 'merged')
          LIMIT 50"
    ))
    .bind(category)
    .bind(since)
    .bind(bbox[0])
    .bind(bbox[1])
    .bind(bbox[2])
    .bind(bbox[3])
    .fetch_all(c)
    .await
}

/// A WHERE clause with its text parameters, numbered from `$1`.
#[derive(Default)]
pub struct Where {
    parts: Vec<String>,
    pub args: Vec<String>,
}

impl Where {
    /// Adds a condition; `?` in it stands for the next parameter, each `?` a new one.
    pub fn push(&mut self, cond: &str, args: &[&str]) {
        let mut out = String::new();
        let mut it = args.iter();
        for ch in cond.chars() {
            if ch == '?' {
                let a = it.next().expect("one argument per ?");
                self.args.push((*a).to_owned());
                out.push_str(&format!("${}", self.args.len()));
            } else {
                out.push(ch);
            }
        }
        self.parts.push(out);
    }

    pub fn sql(&self) -> String {
        if self.parts.is_empty() {
            "TRUE".into()
        } else {
            self.parts.join(" AND ")
        }
    }
}

/// How many events match.
pub async fn count(pool: &AnyPool, w: &Where) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM events WHERE {}", w.sql());
    let mut q = sqlx::query_as::<_, (i64,)>(&sql);
    for a in &w.args {
        q = q.bind(a);
    }
    Ok(q.fetch_one(pool).await?.0)
}

/// A located event for the map: id, lon, lat, light, state, category code.
pub type Point = (String, f64, f64, Option<String>, String, String);

/// Located matching events for the map, newest first.
pub async fn points(pool: &AnyPool, w: &Where, limit: i64) -> Result<Vec<Point>, sqlx::Error> {
    let sql = format!(
        "SELECT id, lon, lat, light, state, category_code FROM events \
         WHERE {} AND lon IS NOT NULL AND lat IS NOT NULL ORDER BY reported_at DESC, id DESC LIMIT {limit}",
        w.sql()
    );
    let mut q = sqlx::query_as(&sql);
    for a in &w.args {
        q = q.bind(a);
    }
    q.fetch_all(pool).await
}

pub async fn list(
    pool: &AnyPool,
    w: &Where,
    limit: i64,
    offset: i64,
) -> Result<(i64, Vec<EventRow>), sqlx::Error> {
    let total = count(pool, w).await?;
    let sql = format!(
        "SELECT {EVENT_COLS} FROM events WHERE {} ORDER BY reported_at DESC, id DESC LIMIT {limit} OFFSET {offset}",
        w.sql()
    );
    let mut q = sqlx::query_as::<_, EventRow>(&sql);
    for a in &w.args {
        q = q.bind(a);
    }
    Ok((total, q.fetch_all(pool).await?))
}

#[derive(sqlx::FromRow)]
struct CountsRow {
    k: Option<String>,
    reported: i64,
    voided: i64,
    merged: i64,
    should_dispatch: i64,
    dispatched_on_time: i64,
    returned: i64,
    should_close: i64,
    closed: i64,
    closed_on_time: i64,
    reworks: i64,
    should_verify: i64,
    verified_on_time: i64,
    evaluated: i64,
    satisfied: i64,
    basically_satisfied: i64,
    unsatisfied: i64,
    handle_minutes: i64,
}

/// Raw indicator counts grouped by `key` (an SQL expression over events).
pub async fn counts(
    pool: &AnyPool,
    key: &str,
    w: &Where,
) -> Result<Vec<(String, Counts)>, sqlx::Error> {
    let s = |cond: &str| format!("CAST(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS BIGINT)");
    let sql = format!(
        "SELECT {key} AS k, COUNT(*) AS reported,
                {} AS voided, {} AS merged, {} AS should_dispatch, {} AS dispatched_on_time,
                {} AS returned, {} AS should_close, {} AS closed, {} AS closed_on_time,
                CAST(SUM(rework_count) AS BIGINT) AS reworks,
                {} AS should_verify, {} AS verified_on_time, {} AS evaluated,
                {} AS satisfied, {} AS basically_satisfied, {} AS unsatisfied,
                CAST(SUM(CASE WHEN state = 'closed' THEN work_minutes ELSE 0 END) AS BIGINT) AS handle_minutes
           FROM events WHERE {} GROUP BY {key}",
        s("state = 'voided'"),
        s("state = 'merged'"),
        s("dispatched_at IS NOT NULL OR (state = 'accepted' AND dispatch_late = 1)"),
        s("dispatched_at IS NOT NULL AND dispatch_late = 0"),
        s("return_count > 0"),
        s("handled_at IS NOT NULL OR (handle_late = 1 AND state IN ('dispatched', 'handling', 'on_hold'))"),
        s("state = 'closed'"),
        s("state = 'closed' AND handle_late = 0"),
        s("handled_at IS NOT NULL"),
        s("verified_at IS NOT NULL AND verify_late = 0"),
        s("evaluation IS NOT NULL"),
        s("evaluation = 'satisfied'"),
        s("evaluation = 'basically_satisfied'"),
        s("evaluation = 'unsatisfied'"),
        w.sql()
    );
    let mut q = sqlx::query_as::<_, CountsRow>(&sql);
    for a in &w.args {
        q = q.bind(a);
    }
    Ok(q.fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.k.unwrap_or_default(),
                Counts {
                    reported: r.reported,
                    voided: r.voided,
                    merged: r.merged,
                    should_dispatch: r.should_dispatch,
                    dispatched_on_time: r.dispatched_on_time,
                    returned: r.returned,
                    should_close: r.should_close,
                    closed: r.closed,
                    closed_on_time: r.closed_on_time,
                    reworks: r.reworks,
                    should_verify: r.should_verify,
                    verified_on_time: r.verified_on_time,
                    evaluated: r.evaluated,
                    satisfied: r.satisfied,
                    basically_satisfied: r.basically_satisfied,
                    unsatisfied: r.unsatisfied,
                    handle_minutes: r.handle_minutes,
                },
            )
        })
        .collect())
}

/// Timers due at `now`, oldest first. On PostgreSQL they are claimed with
/// `FOR UPDATE SKIP LOCKED`, so several servers can run the job side by side.
pub async fn due_timers(
    c: &mut AnyConnection,
    now: &str,
    limit: i64,
    backend: crate::db::Backend,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let lock = match backend {
        crate::db::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        crate::db::Backend::Sqlite => "",
    };
    sqlx::query_as(&format!(
        "SELECT event_id, kind FROM event_timers WHERE due_at <= $1 ORDER BY due_at LIMIT {limit}{lock}"
    ))
    .bind(now)
    .fetch_all(c)
    .await
}

pub async fn delete_timer(
    c: &mut AnyConnection,
    event_id: &str,
    kind: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM event_timers WHERE event_id = $1 AND kind = $2")
        .bind(event_id)
        .bind(kind)
        .execute(c)
        .await?;
    Ok(())
}

/// Names of areas and departments, for statistics rows.
pub async fn names(
    pool: &AnyPool,
    table: &str,
    keys: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    let (col, extra) = match table {
        "areas" => ("code", " AND valid_to IS NULL"),
        "grids" => ("code", ""),
        "departments" => ("id", ""),
        _ => ("code", ""),
    };
    let sql = format!(
        "SELECT {col}, name FROM {table} WHERE {col} IN ({}){extra}",
        marks(1, keys.len())
    );
    let mut q = sqlx::query_as(&sql);
    for k in keys {
        q = q.bind(k);
    }
    q.fetch_all(pool).await
}

pub async fn area_name(c: &mut AnyConnection, code: &str) -> Result<Option<String>, sqlx::Error> {
    let r: Option<(String,)> =
        sqlx::query_as("SELECT name FROM areas WHERE code = $1 AND valid_to IS NULL")
            .bind(code)
            .fetch_optional(c)
            .await?;
    Ok(r.map(|r| r.0))
}

/// A light change made by the deadline job: not a move, so the version stays.
pub async fn set_light(c: &mut AnyConnection, e: &EventRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE events SET light = $2, dispatch_late = $3, handle_late = $4, verify_late = $5
          WHERE id = $1",
    )
    .bind(&e.id)
    .bind(&e.light)
    .bind(e.dispatch_late)
    .bind(e.handle_late)
    .bind(e.verify_late)
    .execute(c)
    .await?;
    Ok(())
}
