//! `civgrid bench scores`: every monthly score of a city — grid workers, grids, communities,
//! townships, counties and departments — over generated events and activity; and the time to
//! issue the month's bulletin (PDF and xlsx).

use super::{Scratch, median};
use crate::config::Config;
use crate::db::{Backend, Db, fmt_time};
use crate::demo;
use crate::evaluation::{jobs, scoring};
use crate::state::AppState;
use civgrid_core::evaluation::{Period, PeriodKind};
use std::time::Instant;

/// Runs `sql` (a recursive series over `i` in `from..=to`) in chunks of a million rows.
async fn series(db: &Db, n: i64, sql: &str) -> anyhow::Result<()> {
    let chunk = 1_000_000;
    let mut from = 1;
    while from <= n {
        let to = (from + chunk - 1).min(n);
        sqlx::query(&format!(
            "WITH RECURSIVE s(i) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT i + 1 FROM s WHERE i < $2) {sql}"
        ))
        .bind(from)
        .bind(to)
        .execute(&db.pool)
        .await?;
        from = to + 1;
    }
    Ok(())
}

/// Generates the city: `workers` grid workers over the demo grids, `events` events in
/// November 2026, `activities` activity rows (four fifths shifts, patrols and visits, one
/// fifth base-record changes); then scores November `runs` times.
pub async fn scores(
    url: Option<&str>,
    workers: i64,
    events: i64,
    activities: i64,
    runs: usize,
) -> anyhow::Result<f64> {
    let scratch = Scratch::new(url, 0).await?;
    let db = &scratch.db;
    demo::seed(db, demo::DEFAULT_PASSWORD).await?;
    let until = chrono::DateTime::parse_from_rfc3339("2026-11-30T23:59:00+08:00")?.to_utc();
    let t = Instant::now();
    let reporter = format!("'bw' || CAST(i % {workers} AS TEXT)");
    super::events::bulk(db, events, 30, until, 50, &reporter).await?;
    let at = fmt_time(until);
    series(
        db,
        workers,
        &format!(
            "INSERT INTO users (id, username, display_name, area_code, roles, password_hash, status, \
                 failed_count, password_changed_at, created_at) \
             SELECT 'bw' || CAST(i - 1 AS TEXT), 'bw' || CAST(i - 1 AS TEXT), '网格员' || CAST(i AS TEXT), \
                 g.code, 'grid_worker', '-', 'active', 0, '{at}', '{at}' \
             FROM s JOIN bench_grids g ON g.k = (i - 1) % (SELECT COUNT(*) FROM bench_grids)"
        ),
    )
    .await?;
    sqlx::query(
        "INSERT INTO grid_members (grid_code, user_id, duty, assigned_at) \
         SELECT area_code, id, 'worker', created_at FROM users WHERE id LIKE 'bw%'",
    )
    .execute(&db.pool)
    .await?;
    sqlx::raw_sql(
        "CREATE TABLE bench_days (k BIGINT PRIMARY KEY, day TEXT NOT NULL, t TEXT NOT NULL)",
    )
    .execute(&db.pool)
    .await?;
    for d in 0..30 {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, d + 1).expect("a November day");
        sqlx::query("INSERT INTO bench_days VALUES ($1, $2, $3)")
            .bind(i64::from(d))
            .bind(day.to_string())
            .bind(crate::db::day_start(day))
            .execute(&db.pool)
            .await?;
    }
    // Indexes are built once after the rows are in (as a bulk load would), not row by row.
    let indexes = [
        ("activities_user", "activities (user_id, kind, ended_at)"),
        ("activities_day", "activities (day, user_id)"),
        ("activities_area", "activities (area_code, day)"),
        ("activities_subject", "activities (subject_id)"),
        ("record_changes_entity", "record_changes (entity_id, at)"),
        ("record_changes_actor", "record_changes (actor_id, at)"),
    ];
    for (name, _) in indexes {
        sqlx::raw_sql(&format!("DROP INDEX {name}"))
            .execute(&db.pool)
            .await?;
    }
    let moves = activities * 4 / 5;
    series(
        db,
        moves,
        &format!(
            "INSERT INTO activities (id, kind, user_id, area_code, day, started_at, last_at, ended_at, \
                 seconds, meters, points) \
             SELECT 'a' || CAST(i AS TEXT), \
                 CASE i % 5 WHEN 0 THEN 'patrol' WHEN 1 THEN 'shift' WHEN 2 THEN 'shift' ELSE 'visit' END, \
                 u.id, u.area_code, d.day, d.t, d.t, d.t, \
                 CASE WHEN i % 5 IN (1, 2) THEN 1800 + i % 7200 ELSE 0 END, \
                 CASE WHEN i % 5 = 0 THEN 500 + i % 3000 ELSE 0 END, \
                 CASE WHEN i % 5 = 0 THEN 20 ELSE 0 END \
             FROM s JOIN users u ON u.id = 'bw' || CAST(i % {workers} AS TEXT) \
             JOIN bench_days d ON d.k = i % 30"
        ),
    )
    .await?;
    series(
        db,
        activities - moves,
        &format!(
            "INSERT INTO record_changes (id, entity, entity_id, field, old_value, new_value, actor_id, \
                 actor_name, at) \
             SELECT 'r' || CAST(i AS TEXT), 'person', 'p' || CAST(i / 3 AS TEXT), \
                 CASE WHEN i % 4 = 0 THEN 'record' ELSE 'phone' END, NULL, '138****0000', \
                 'bw' || CAST(i % {workers} AS TEXT), '网格员', d.t \
             FROM s JOIN bench_days d ON d.k = i % 30"
        ),
    )
    .await?;
    for (name, on) in indexes {
        sqlx::raw_sql(&format!("CREATE INDEX {name} ON {on}"))
            .execute(&db.pool)
            .await?;
    }
    if db.backend == Backend::Postgres {
        sqlx::raw_sql("VACUUM ANALYZE").execute(&db.pool).await?;
    } else {
        sqlx::raw_sql("ANALYZE").execute(&db.pool).await?;
    }
    println!(
        "scores ({}): {workers} grid workers, {events} events, {moves} activities and {} record changes generated in {:.1} s",
        scratch.label,
        activities - moves,
        t.elapsed().as_secs_f64()
    );
    let period = Period::containing(PeriodKind::Month, until.date_naive());
    let mut times = Vec::new();
    let mut scored = 0;
    for run in 0..runs.max(1) {
        let done = scoring::compute(db, &period, until).await?;
        println!(
            "run {}: {} scores in {:.2} s",
            run + 1,
            done.scores,
            done.seconds
        );
        times.push(done.seconds);
        scored = done.scores;
    }
    let m = median(times);
    println!(
        "scores: {m:.2} s (median of {}; {scored} scores)",
        runs.max(1)
    );

    let state = AppState::new(db.clone(), Config::default()).await?;
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let b = jobs::issue_bulletin(&state, "3715", &period, None)
            .await
            .map_err(|e| anyhow::anyhow!("bulletin: {e:?}"))?;
        times.push(t.elapsed().as_secs_f64());
        println!(
            "bulletin: {} ({} KB PDF, {} KB xlsx)",
            b.title,
            b.pdf_bytes / 1024,
            b.xlsx_bytes / 1024
        );
    }
    println!("bulletin: {:.2} s (median of 3)", median(times));
    scratch.finish().await?;
    Ok(m)
}
