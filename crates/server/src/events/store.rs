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

/// One column value of an event, to compare and to bind.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Val<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Float(Option<f64>),
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl<'a> Val<'a> {
    fn bind(self, q: AnyQuery<'a>) -> AnyQuery<'a> {
        match self {
            Val::Text(v) => q.bind(v),
            Val::Int(v) => q.bind(v),
            Val::Float(v) => q.bind(crate::db::Float(v)),
        }
    }
}

/// Every column of `e` in `EVENT_COLS` order.
fn values(e: &EventRow) -> [Val<'_>; N_COLS] {
    [
        Val::Text(Some(&e.id)),
        Val::Text(Some(&e.case_no)),
        Val::Text(Some(&e.category_code)),
        Val::Text(Some(&e.area_code)),
        Val::Text(Some(&e.centre_area)),
        Val::Text(e.assignee_kind.as_deref()),
        Val::Text(e.assignee.as_deref()),
        Val::Text(e.dept_id.as_deref()),
        Val::Text(Some(&e.state)),
        Val::Text(Some(&e.source)),
        Val::Text(Some(&e.priority)),
        Val::Text(Some(&e.description)),
        Val::Text(e.address.as_deref()),
        Val::Float(e.lon),
        Val::Float(e.lat),
        Val::Text(Some(&e.reporter_id)),
        Val::Text(Some(&e.reporter_name)),
        Val::Text(Some(&e.reporter_role)),
        Val::Text(e.contact_name.as_deref()),
        Val::Text(e.contact_phone.as_deref()),
        Val::Text(e.idempotency_key.as_deref()),
        Val::Int(Some(e.version)),
        Val::Text(e.step.as_deref()),
        Val::Text(e.step_started_at.as_deref()),
        Val::Int(e.step_limit_min),
        Val::Int(Some(e.step_used_min)),
        Val::Text(e.deadline_at.as_deref()),
        Val::Text(e.light.as_deref()),
        Val::Text(e.held_from.as_deref()),
        Val::Text(e.resume_state.as_deref()),
        Val::Text(e.handler_id.as_deref()),
        Val::Text(Some(&e.reported_at)),
        Val::Text(e.accepted_at.as_deref()),
        Val::Text(e.dispatched_at.as_deref()),
        Val::Text(e.handled_at.as_deref()),
        Val::Text(e.verified_at.as_deref()),
        Val::Text(e.closed_at.as_deref()),
        Val::Text(Some(&e.updated_at)),
        Val::Int(Some(e.dispatch_late)),
        Val::Int(Some(e.handle_late)),
        Val::Int(Some(e.verify_late)),
        Val::Int(Some(e.rework_count)),
        Val::Int(Some(e.return_count)),
        Val::Int(Some(e.escalation_count)),
        Val::Int(Some(e.supervision_count)),
        Val::Int(Some(e.hold_minutes)),
        Val::Int(e.work_minutes),
        Val::Text(e.evaluation.as_deref()),
        Val::Text(e.evaluation_comment.as_deref()),
        Val::Text(e.merged_into.as_deref()),
    ]
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
    let mut q = sqlx::query(&sql);
    for v in values(e) {
        q = v.bind(q);
    }
    q.execute(&mut *c).await?;
    let mut d = FactDelta::default();
    d.change(None, e);
    d.write(c).await
}

/// Inserts many events with multi-row statements.
pub async fn insert_events(c: &mut AnyConnection, evs: &[&EventRow]) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(c, evs, N_COLS) {
        let sql = format!(
            "INSERT INTO events ({EVENT_COLS}) VALUES {}",
            crate::db::bulk_values(c, chunk.len(), N_COLS)
        );
        let mut q = sqlx::query(&sql);
        for e in chunk {
            for v in values(e) {
                q = v.bind(q);
            }
        }
        q.execute(&mut *c).await?;
    }
    let mut d = FactDelta::default();
    for e in evs {
        d.change(None, e);
    }
    d.write(c).await
}

pub async fn insert_moves(c: &mut AnyConnection, moves: &[MoveRow]) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(c, moves, 12) {
        let sql = format!(
            "INSERT INTO event_moves (id, event_id, seq, action, from_state, to_state, actor_id,
                                      actor_name, actor_role, at, note, detail) VALUES {}",
            crate::db::bulk_values(c, chunk.len(), 12)
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

/// Writes every column of `after` if the stored version is still `before`'s; false when
/// someone else moved the event first. The change to the indicator rollup goes into `facts`,
/// which the caller writes last in the transaction (events first, then rollup rows in key
/// order: one lock order for every transaction, so no deadlocks between them).
pub async fn update_event(
    c: &mut AnyConnection,
    before: &EventRow,
    after: &EventRow,
    facts: &mut FactDelta,
) -> Result<bool, sqlx::Error> {
    update_events(c, &[(before, after)], facts).await
}

/// [`update_event`] for many events with multi-row statements (`UPDATE … FROM (VALUES …)`,
/// which both backends run): true when every one was written, false when any had moved
/// meanwhile (the caller then rolls back; the others are written all the same).
pub async fn update_events(
    c: &mut AnyConnection,
    pairs: &[(&EventRow, &EventRow)],
    facts: &mut FactDelta,
) -> Result<bool, sqlx::Error> {
    // Each VALUES row is (stored version, every column of `after`); VALUES columns are
    // named column1, column2, … on both backends.
    let sets: Vec<String> = EVENT_COLS
        .split(',')
        .map(str::trim)
        .enumerate()
        .filter(|(_, col)| *col != "id")
        .map(|(i, col)| format!("{col} = v.column{}", i + 2))
        .collect();
    let mut written = 0;
    for chunk in crate::db::chunks(c, pairs, N_COLS + 1) {
        let sql = format!(
            "UPDATE events SET {} FROM (VALUES {}) AS v
              WHERE events.id = v.column2 AND events.version = v.column1",
            sets.join(", "),
            crate::db::bulk_values(c, chunk.len(), N_COLS + 1)
        );
        let mut q = sqlx::query(&sql);
        for (before, after) in chunk {
            q = q.bind(before.version);
            for v in values(after) {
                q = v.bind(q);
            }
        }
        written += q.execute(&mut *c).await?.rows_affected();
    }
    if written != pairs.len() as u64 {
        return Ok(false);
    }
    for (before, after) in pairs {
        facts.change(Some(before), after);
    }
    Ok(true)
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
    for chunk in crate::db::chunks(c, keys, 4) {
        let sql = format!(
            "INSERT INTO idempotency_keys (reporter_id, key, event_id, created_at) VALUES {}",
            crate::db::bulk_values(c, chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for (r, k, e, t) in chunk {
            q = q.bind(*r).bind(*k).bind(*e).bind(*t);
        }
        q.execute(&mut *c).await?;
    }
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
    .bind(crate::db::Float(p.lon))
    .bind(crate::db::Float(p.lat))
    .execute(c)
    .await?;
    Ok(())
}

/// Inserts deadline timers: (event, kind, due).
pub async fn insert_timers(
    c: &mut AnyConnection,
    timers: &[(&str, &str, &str)],
) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(c, timers, 3) {
        let sql = format!(
            "INSERT INTO event_timers (event_id, kind, due_at) VALUES {}",
            crate::db::bulk_values(c, chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (id, kind, due) in chunk {
            q = q.bind(*id).bind(*kind).bind(*due);
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

/// Replaces the deadline timers of each event: (event, its new timers).
pub async fn replace_timers(
    c: &mut AnyConnection,
    events: &[(&str, &[(&str, String)])],
) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(c, events, 1) {
        let sql = format!(
            "DELETE FROM event_timers WHERE event_id IN {}",
            crate::db::bulk_values(c, 1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for (id, _) in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *c).await?;
    }
    let rows: Vec<(&str, &str, &str)> = events
        .iter()
        .flat_map(|(id, ts)| ts.iter().map(|(k, due)| (*id, *k, due.as_str())))
        .collect();
    insert_timers(c, &rows).await
}

/// A timeline line with one of its photos (lines without photos come once, with none).
#[derive(sqlx::FromRow)]
struct LineRow {
    #[sqlx(flatten)]
    line: MoveRow,
    sha256: Option<String>,
    mime: Option<String>,
    width: Option<i64>,
    height: Option<i64>,
    lon: Option<f64>,
    lat: Option<f64>,
}

/// An event's timeline in order, and the photos of its lines, in one query.
pub async fn timeline(
    c: &mut AnyConnection,
    event_id: &str,
) -> Result<(Vec<MoveRow>, Vec<PhotoRow>), sqlx::Error> {
    let rows: Vec<LineRow> = sqlx::query_as(
        "SELECT m.id, m.event_id, m.seq, m.action, m.from_state, m.to_state, m.actor_id,
                m.actor_name, m.actor_role, m.at, m.note, m.detail,
                p.sha256, p.mime, p.width, p.height, p.lon, p.lat
           FROM event_moves m LEFT JOIN event_photos p ON p.move_id = m.id
          WHERE m.event_id = $1 ORDER BY m.seq",
    )
    .bind(event_id)
    .fetch_all(c)
    .await?;
    let (mut lines, mut photos) = (Vec::<MoveRow>::new(), Vec::new());
    for r in rows {
        if let (Some(sha256), Some(mime), Some(width), Some(height)) =
            (r.sha256, r.mime, r.width, r.height)
        {
            photos.push(PhotoRow {
                move_id: r.line.id.clone(),
                sha256,
                mime,
                width,
                height,
                lon: r.lon,
                lat: r.lat,
            });
        }
        if lines.last().is_none_or(|l| l.id != r.line.id) {
            lines.push(r.line);
        }
    }
    Ok((lines, photos))
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

/// Events that carry a photo: only `event` when given (if it carries it), else the first 20.
pub async fn events_of_photo(
    c: &mut AnyConnection,
    sha256: &str,
    event: Option<&str>,
) -> Result<Vec<EventRow>, sqlx::Error> {
    let (only, limit) = match event {
        Some(_) => ("AND event_id = $2", 1),
        None => ("", 20),
    };
    let sql = format!(
        "SELECT {EVENT_COLS} FROM events WHERE id IN
             (SELECT event_id FROM event_photos WHERE sha256 = $1 {only}) LIMIT {limit}"
    );
    let mut q = sqlx::query_as(&sql).bind(sha256);
    if let Some(e) = event {
        q = q.bind(e);
    }
    q.fetch_all(c).await
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

/// The days of extension `id` of the event if it is pending.
pub async fn pending_extension(
    c: &mut AnyConnection,
    id: &str,
    event_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let days: Option<(i64,)> = sqlx::query_as(
        "SELECT days FROM extensions WHERE id = $1 AND event_id = $2 AND status = 'pending'",
    )
    .bind(id)
    .bind(event_id)
    .fetch_optional(c)
    .await?;
    Ok(days.map(|d| d.0))
}

/// Whether supervision `id` of the event awaits its reply.
pub async fn open_supervision(
    c: &mut AnyConnection,
    id: &str,
    event_id: &str,
) -> Result<bool, sqlx::Error> {
    let open: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM supervisions WHERE id = $1 AND event_id = $2 AND reply IS NULL",
    )
    .bind(id)
    .bind(event_id)
    .fetch_optional(c)
    .await?;
    Ok(open.is_some())
}

/// Decides a pending extension; false when it is no longer pending.
pub async fn decide_extension(
    c: &mut AnyConnection,
    id: &str,
    event_id: &str,
    status: &str,
    by: &str,
    note: Option<&str>,
    at: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE extensions SET status = $3, decided_by = $4, note = $5, decided_at = $6
          WHERE id = $1 AND event_id = $2 AND status = 'pending'",
    )
    .bind(id)
    .bind(event_id)
    .bind(status)
    .bind(by)
    .bind(note)
    .bind(at)
    .execute(c)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Open events of a category reported since `since` inside a bounding box (at most 50;
/// no ORDER BY, so that the planner keeps to the (category, lon) index).
pub async fn nearby_open(
    c: &mut AnyConnection,
    category: &str,
    since: &str,
    bbox: [f64; 4],
) -> Result<Vec<NearbyRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, case_no, state, description, reported_at, lon, lat FROM events
          WHERE category_code = $1 AND reported_at >= $2
            AND lon >= $3 AND lat >= $4 AND lon <= $5 AND lat <= $6
            AND state NOT IN ('closed', 'voided', 'merged')
          LIMIT 50",
    )
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

impl CountsRow {
    fn into_pair(self) -> (String, Counts) {
        (
            self.k.unwrap_or_default(),
            Counts {
                reported: self.reported,
                voided: self.voided,
                merged: self.merged,
                should_dispatch: self.should_dispatch,
                dispatched_on_time: self.dispatched_on_time,
                returned: self.returned,
                should_close: self.should_close,
                closed: self.closed,
                closed_on_time: self.closed_on_time,
                reworks: self.reworks,
                should_verify: self.should_verify,
                verified_on_time: self.verified_on_time,
                evaluated: self.evaluated,
                satisfied: self.satisfied,
                basically_satisfied: self.basically_satisfied,
                unsatisfied: self.unsatisfied,
                handle_minutes: self.handle_minutes,
            },
        )
    }
}

// The indicators of DOMAIN.md §4 as functions of one event row: `fact` in Rust (kept in the
// rollup `event_facts` as events change) and `FACT_SQL` in SQL (for raw counts and rebuilds).
// The two must agree; the `facts_agree_with_raw_counts` test compares them on the demo history.

/// Each indicator's SQL over an events row, in the order of `Counts::FIELDS`.
const FACT_SQL: [&str; 17] = [
    "1",
    "CASE WHEN state = 'voided' THEN 1 ELSE 0 END",
    "CASE WHEN state = 'merged' THEN 1 ELSE 0 END",
    "CASE WHEN dispatched_at IS NOT NULL OR (state = 'accepted' AND dispatch_late = 1) THEN 1 ELSE 0 END",
    "CASE WHEN dispatched_at IS NOT NULL AND dispatch_late = 0 THEN 1 ELSE 0 END",
    "CASE WHEN return_count > 0 THEN 1 ELSE 0 END",
    "CASE WHEN handled_at IS NOT NULL OR (handle_late = 1 AND state IN ('dispatched', 'handling', 'on_hold')) THEN 1 ELSE 0 END",
    "CASE WHEN state = 'closed' THEN 1 ELSE 0 END",
    "CASE WHEN state = 'closed' AND handle_late = 0 THEN 1 ELSE 0 END",
    "rework_count",
    "CASE WHEN handled_at IS NOT NULL THEN 1 ELSE 0 END",
    "CASE WHEN verified_at IS NOT NULL AND verify_late = 0 THEN 1 ELSE 0 END",
    "CASE WHEN evaluation IS NOT NULL THEN 1 ELSE 0 END",
    "CASE WHEN evaluation = 'satisfied' THEN 1 ELSE 0 END",
    "CASE WHEN evaluation = 'basically_satisfied' THEN 1 ELSE 0 END",
    "CASE WHEN evaluation = 'unsatisfied' THEN 1 ELSE 0 END",
    "CASE WHEN state = 'closed' THEN COALESCE(work_minutes, 0) ELSE 0 END",
];

/// One event's contribution to the indicators.
pub fn fact(e: &EventRow) -> Counts {
    let st = e.state.as_str();
    let b = |x: bool| i64::from(x);
    let ev = e.evaluation.as_deref();
    Counts {
        reported: 1,
        voided: b(st == "voided"),
        merged: b(st == "merged"),
        should_dispatch: b(e.dispatched_at.is_some() || (st == "accepted" && e.dispatch_late == 1)),
        dispatched_on_time: b(e.dispatched_at.is_some() && e.dispatch_late == 0),
        returned: b(e.return_count > 0),
        should_close: b(e.handled_at.is_some()
            || (e.handle_late == 1 && matches!(st, "dispatched" | "handling" | "on_hold"))),
        closed: b(st == "closed"),
        closed_on_time: b(st == "closed" && e.handle_late == 0),
        reworks: e.rework_count,
        should_verify: b(e.handled_at.is_some()),
        verified_on_time: b(e.verified_at.is_some() && e.verify_late == 0),
        evaluated: b(ev.is_some()),
        satisfied: b(ev == Some("satisfied")),
        basically_satisfied: b(ev == Some("basically_satisfied")),
        unsatisfied: b(ev == Some("unsatisfied")),
        handle_minutes: if st == "closed" {
            e.work_minutes.unwrap_or(0)
        } else {
            0
        },
    }
}

/// `SUM(<indicator>) AS <name>, …` over events.
fn fact_sums() -> String {
    FACT_SQL
        .iter()
        .zip(Counts::FIELDS)
        .map(|(sql, name)| format!("CAST(SUM({sql}) AS BIGINT) AS {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Raw indicator counts grouped by `key` (an SQL expression over events).
pub async fn counts(
    pool: &AnyPool,
    key: &str,
    w: &Where,
) -> Result<Vec<(String, Counts)>, sqlx::Error> {
    grouped(pool, "events", &fact_sums(), key, w).await
}

/// Indicator counts from the rollup `event_facts` (China day × county × category ×
/// department), grouped by `key` (an SQL expression over its columns).
pub async fn fact_counts(
    pool: &AnyPool,
    key: &str,
    w: &Where,
) -> Result<Vec<(String, Counts)>, sqlx::Error> {
    let sums = Counts::FIELDS
        .iter()
        .map(|f| format!("CAST(SUM({f}) AS BIGINT) AS {f}"))
        .collect::<Vec<_>>()
        .join(", ");
    grouped(pool, "event_facts", &sums, key, w).await
}

/// `SELECT key, sums FROM table WHERE w GROUP BY key`, leaving out empty groups.
async fn grouped(
    pool: &AnyPool,
    table: &str,
    sums: &str,
    key: &str,
    w: &Where,
) -> Result<Vec<(String, Counts)>, sqlx::Error> {
    // A constant key (`GroupBy::None`) is named by position: PostgreSQL refuses
    // `GROUP BY ''`, and without a GROUP BY an empty table would give one row of NULLs.
    let group = if key.starts_with('\'') { "1" } else { key };
    let sql = format!(
        "SELECT {key} AS k, {sums} FROM {table} WHERE {} GROUP BY {group}",
        w.sql()
    );
    let mut q = sqlx::query_as::<_, CountsRow>(&sql);
    for a in &w.args {
        q = q.bind(a);
    }
    Ok(q.fetch_all(pool)
        .await?
        .into_iter()
        .filter(|r| r.reported != 0)
        .map(CountsRow::into_pair)
        .collect())
}

/// How indicator counts are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// By area code prefix of this length (the next level down).
    Area(usize),
    /// By grid (every grid in the area).
    Grid,
    Department,
    Category,
    /// By category group (the first two digits).
    Group,
    None,
}

/// A request for indicator counts: an area subtree, China days `from..=to` (and the same
/// period as UTC instants `from_at..to_at` for the events table), optional filters.
pub struct IndicatorQuery<'a> {
    pub area: &'a str,
    pub from_day: &'a str,
    pub to_day: &'a str,
    pub from_at: &'a str,
    pub to_at: &'a str,
    pub department: Option<&'a str>,
    pub category: Option<&'a str>,
    pub by: GroupBy,
}

/// Indicator counts, from the rollup when it is fine enough (areas of county level and above,
/// grouped no finer than a county), otherwise from the events.
pub async fn indicators(
    pool: &AnyPool,
    q: &IndicatorQuery<'_>,
) -> Result<Vec<(String, Counts)>, sqlx::Error> {
    let county_or_above = q.area.len() <= 6;
    let rollup_key = match q.by {
        GroupBy::Area(n) if n <= 6 => Some(format!("substr(county, 1, {n})")),
        GroupBy::Area(_) | GroupBy::Grid => None,
        GroupBy::Department => Some("dept_id".into()),
        GroupBy::Category => Some("category_code".into()),
        GroupBy::Group => Some("substr(category_code, 1, 2)".into()),
        GroupBy::None => Some("''".into()),
    };
    // Both tables have `dept_id` and `category_code`.
    let mut w = Where::default();
    if let Some(d) = q.department {
        w.push("dept_id = ?", &[d]);
    }
    if let Some(c) = q.category {
        let (lo, hi) = crate::db::prefix_range(c);
        w.push("category_code >= ? AND category_code < ?", &[&lo, &hi]);
    }
    let (lo, hi) = crate::db::prefix_range(q.area);
    if let (true, Some(key)) = (county_or_above, rollup_key) {
        w.push("county >= ? AND county < ?", &[&lo, &hi]);
        w.push("day >= ? AND day <= ?", &[q.from_day, q.to_day]);
        return fact_counts(pool, &key, &w).await;
    }
    w.push("area_code >= ? AND area_code < ?", &[&lo, &hi]);
    w.push(
        "reported_at >= ? AND reported_at < ?",
        &[q.from_at, q.to_at],
    );
    let key = match q.by {
        GroupBy::Area(n) => format!("substr(area_code, 1, {n})"),
        GroupBy::Grid => "area_code".into(),
        GroupBy::Department => "COALESCE(dept_id, '')".into(),
        GroupBy::Category => "category_code".into(),
        GroupBy::Group => "substr(category_code, 1, 2)".into(),
        GroupBy::None => "''".into(),
    };
    counts(pool, &key, &w).await
}

/// The rollup bucket of an event: its China reporting day, county, category and department.
type Bucket = (String, String, String, String);

fn bucket(e: &EventRow) -> Bucket {
    let day = crate::db::parse_time(&e.reported_at)
        .map(|t| {
            t.with_timezone(&civgrid_core::calendar::cst())
                .format("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_default();
    (
        day,
        e.area_code.chars().take(6).collect(),
        e.category_code.clone(),
        e.dept_id.clone().unwrap_or_default(),
    )
}

/// Changes to the rollup, summed per bucket before they are written.
#[derive(Default)]
pub struct FactDelta(std::collections::BTreeMap<Bucket, [i64; 17]>);

impl FactDelta {
    fn add(&mut self, e: &EventRow, sign: i64) {
        let d = self.0.entry(bucket(e)).or_insert([0; 17]);
        for (x, y) in d.iter_mut().zip(fact(e).to_array()) {
            *x += sign * y;
        }
    }

    /// An event was written: from `before` (none for a new event) to `after`.
    pub fn change(&mut self, before: Option<&EventRow>, after: &EventRow) {
        if let Some(b) = before {
            self.add(b, -1);
        }
        self.add(after, 1);
    }

    /// Adds the changes to `event_facts` (one upsert per bucket that changed).
    pub async fn write(self, c: &mut AnyConnection) -> Result<(), sqlx::Error> {
        let rows: Vec<_> = self
            .0
            .into_iter()
            .filter(|(_, d)| d.iter().any(|x| *x != 0))
            .collect();
        let cols = Counts::FIELDS.join(", ");
        let updates = Counts::FIELDS
            .iter()
            .map(|f| format!("{f} = event_facts.{f} + excluded.{f}"))
            .collect::<Vec<_>>()
            .join(", ");
        for chunk in crate::db::chunks(c, &rows, 21) {
            let sql = format!(
                "INSERT INTO event_facts (day, county, category_code, dept_id, {cols}) VALUES {}
                 ON CONFLICT (day, county, category_code, dept_id) DO UPDATE SET {updates}",
                crate::db::bulk_values(c, chunk.len(), 21)
            );
            let mut q = sqlx::query(&sql);
            for ((day, county, cat, dept), d) in chunk {
                q = q.bind(day).bind(county).bind(cat).bind(dept);
                for x in d {
                    q = q.bind(*x);
                }
            }
            q.execute(&mut *c).await?;
        }
        Ok(())
    }
}

/// Recomputes `event_facts` from the events (after a bulk load, or when the table is new).
pub async fn rebuild_facts(
    c: &mut AnyConnection,
    backend: crate::db::Backend,
) -> Result<(), sqlx::Error> {
    let day = match backend {
        crate::db::Backend::Sqlite => "date(reported_at, '+8 hours')",
        crate::db::Backend::Postgres => {
            "to_char(reported_at::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"
        }
    };
    sqlx::query("DELETE FROM event_facts")
        .execute(&mut *c)
        .await?;
    sqlx::query(&format!(
        "INSERT INTO event_facts (day, county, category_code, dept_id, {})
         SELECT {day}, substr(area_code, 1, 6), category_code, COALESCE(dept_id, ''), {}
           FROM events GROUP BY {day}, substr(area_code, 1, 6), category_code, COALESCE(dept_id, '')",
        Counts::FIELDS.join(", "),
        fact_sums()
    ))
    .execute(&mut *c)
    .await?;
    Ok(())
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

/// The name of a grid.
pub async fn grid_name(c: &mut AnyConnection, code: &str) -> Result<Option<String>, sqlx::Error> {
    let r: Option<(String,)> = sqlx::query_as("SELECT name FROM grids WHERE code = $1")
        .bind(code)
        .fetch_optional(c)
        .await?;
    Ok(r.map(|r| r.0))
}

pub async fn area_name(c: &mut AnyConnection, code: &str) -> Result<Option<String>, sqlx::Error> {
    let r: Option<(String,)> =
        sqlx::query_as("SELECT name FROM areas WHERE code = $1 AND valid_to IS NULL")
            .bind(code)
            .fetch_optional(c)
            .await?;
    Ok(r.map(|r| r.0))
}

/// A light change made by the deadline job: not a move, so the version stays. The rollup
/// change goes into `facts` (see `update_event`).
pub async fn set_light(
    c: &mut AnyConnection,
    before: &EventRow,
    after: &EventRow,
    facts: &mut FactDelta,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE events SET light = $2, dispatch_late = $3, handle_late = $4, verify_late = $5
          WHERE id = $1",
    )
    .bind(&after.id)
    .bind(&after.light)
    .bind(after.dispatch_late)
    .bind(after.handle_late)
    .bind(after.verify_late)
    .execute(c)
    .await?;
    facts.change(Some(before), after);
    Ok(())
}
