//! Speed budgets of the event closed loop: intake over HTTP with many clients, whole loops
//! end to end, the deadline job over a million open events, and a city-month of indicators.

use super::{Scratch, median};
use crate::config::Config;
use crate::db::{Db, fmt_time, new_id};
use crate::demo::{self, DEFAULT_PASSWORD, history};
use crate::events::{jobs, store};
use crate::state::AppState;
use anyhow::Context;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The demo city served on a free port: (state, base URL).
async fn serve(scratch: &Scratch) -> anyhow::Result<(AppState, String)> {
    demo::seed(&scratch.db, DEFAULT_PASSWORD).await?;
    let cfg = Config {
        files_dir: scratch.tmp.path().join("files").display().to_string(),
        key_file: scratch.tmp.path().join("keys.json").display().to_string(),
        ..Config::default()
    };
    let state = AppState::new(scratch.db.clone(), cfg).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(crate::app::serve(state.clone(), listener));
    Ok((state, base))
}

async fn login(client: &reqwest::Client, base: &str, user: &str) -> anyhow::Result<String> {
    let r: Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"username": user, "password": DEFAULT_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    r["token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("login {user}: {r}"))
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// A ~200 KB JPEG (noise compresses badly, so it stays large).
fn big_photo() -> Vec<u8> {
    let mut x: u32 = 12345;
    let img = image::RgbImage::from_fn(400, 300, |_, _| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8])
    });
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .expect("encode in memory");
    out
}

/// `intake: <N> events/s p50 <a> ms p99 <b> ms` — `clients` concurrent grid workers each
/// reporting in their own grid (point-in-grid, duplicate check, case number, timeline,
/// timers and audit per report), optionally with one ~200 KB photo each.
pub async fn intake(
    url: Option<&str>,
    clients: usize,
    events: usize,
    photo: bool,
) -> anyhow::Result<f64> {
    let scratch = Scratch::new(url, 0).await?;
    let (_state, base) = serve(&scratch).await?;
    let points = history::grid_points(&scratch.db).await?;
    anyhow::ensure!(
        points.len() >= clients,
        "not enough grids for {clients} clients"
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    // Categories a grid worker may report without (or, with --photo, with) a photo.
    let cats: Vec<&str> = if photo {
        vec!["0501", "0601", "0603", "0606", "0403"]
    } else {
        vec!["0102", "0504", "0902", "1002", "1301"]
    };
    let body = if photo { big_photo() } else { vec![] };
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    let started = Instant::now();
    // Hotline operators of the city report anywhere in it, like the 12345 centre does.
    let all: Arc<Vec<(f64, f64)>> = Arc::new(points.iter().map(|p| p.pt).collect());
    for i in 0..clients {
        let token = login(&client, &base, "city_centre").await?;
        let (client, base, done, body) = (client.clone(), base.clone(), done.clone(), body.clone());
        let (all, cats) = (
            all.clone(),
            cats.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut k = 0;
            while done.fetch_add(1, Ordering::Relaxed) < events {
                k += 1;
                let pt = all[(i * 7919 + k * 104_729) % all.len()];
                let data = json!({"category": cats[(i + k) % cats.len()], "description": "压测事件",
                    "source": "hotline", "lon": pt.0, "lat": pt.1, "idempotency_key": new_id()});
                let req = client
                    .post(format!("{base}/api/events"))
                    .bearer_auth(&token);
                let req = if body.is_empty() {
                    req.json(&data)
                } else {
                    let form = reqwest::multipart::Form::new()
                        .text("data", data.to_string())
                        .part(
                            "photo",
                            reqwest::multipart::Part::bytes(body.clone()).file_name("p.jpg"),
                        );
                    req.multipart(form)
                };
                let t = Instant::now();
                let res = req.send().await?;
                let status = res.status();
                let text = res.text().await?;
                anyhow::ensure!(status.as_u16() == 201, "intake answered {status}: {text}");
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    let rate = all.len() as f64 / secs;
    let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
        .fetch_one(&scratch.db.pool)
        .await?;
    anyhow::ensure!(
        n.0 as usize == all.len(),
        "{} events stored for {} reports",
        n.0,
        all.len()
    );
    println!(
        "intake ({}, {clients} clients{}): {} events in {secs:.1} s",
        scratch.label,
        if photo {
            ", one ~200 KB photo each"
        } else {
            ""
        },
        all.len()
    );
    println!(
        "intake: {rate:.0} events/s p50 {:.1} ms p99 {:.1} ms",
        pct(&all, 0.5),
        pct(&all, 0.99)
    );
    scratch.finish().await?;
    Ok(rate)
}

/// `loop: <N> events/s` — whole loops over HTTP by the right roles: report, accept,
/// dispatch, sign for, handle, verify, evaluate (eight requests with the report).
pub async fn full_loop(url: Option<&str>, clients: usize, events: usize) -> anyhow::Result<f64> {
    let scratch = Scratch::new(url, 0).await?;
    let (_state, base) = serve(&scratch).await?;
    let client = reqwest::Client::new();
    // Grids of the demo township with its operator; the 城管 liaison handles 占道经营.
    let points: Vec<_> = history::grid_points(&scratch.db)
        .await?
        .into_iter()
        .filter(|p| p.code.starts_with("371502001"))
        .collect();
    anyhow::ensure!(!points.is_empty(), "no grids in the demo township");
    let town = login(&client, &base, "town_centre").await?;
    let liaison = login(&client, &base, "dept_liaison").await?;
    let mut workers = Vec::new();
    for p in &points {
        workers.push((login(&client, &base, &p.worker_username).await?, p.pt));
    }
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, done) = (client.clone(), base.clone(), done.clone());
        let (town, liaison) = (town.clone(), liaison.clone());
        // Reporter and verifier are different grid workers of the same township.
        let (reporter, pt) = workers[c % workers.len()].clone();
        tasks.push(tokio::spawn(async move {
            let post = |token: String, path: String, body: Value| {
                let (client, base) = (client.clone(), base.clone());
                async move {
                    let r = client.post(format!("{base}{path}")).bearer_auth(token).json(&body).send().await?;
                    let s = r.status();
                    // The body as bytes: a load generator reads answers, it does not study them.
                    let bytes = r.bytes().await?;
                    anyhow::ensure!(s.is_success(), "{path} {body}: {s} {}", String::from_utf8_lossy(&bytes));
                    anyhow::Ok(bytes)
                }
            };
            while done.fetch_add(1, Ordering::Relaxed) < events {
                let r = post(reporter.clone(), "/api/events".into(),
                    json!({"category": "0504", "description": "闭环压测", "lon": pt.0, "lat": pt.1})).await?;
                let r: Value = serde_json::from_slice(&r)?;
                let id = r["event"]["id"].as_str().unwrap_or_default().to_owned();
                let m = format!("/api/events/{id}/moves");
                post(town.clone(), m.clone(), json!({"action": "accept"})).await?;
                post(town.clone(), m.clone(), json!({"action": "dispatch", "department_id": "371502-cgj"})).await?;
                post(liaison.clone(), m.clone(), json!({"action": "sign_for"})).await?;
                post(liaison.clone(), m.clone(), json!({"action": "handle", "note": "已处置"})).await?;
                post(town.clone(), m.clone(), json!({"action": "verify_pass"})).await?;
                post(town.clone(), m.clone(), json!({"action": "evaluate", "evaluation": "satisfied"})).await?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let (closed,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE state = 'closed'")
        .fetch_one(&scratch.db.pool)
        .await?;
    anyhow::ensure!(closed as usize == events, "{closed} of {events} closed");
    let rate = events as f64 / secs;
    println!(
        "loop ({}, {clients} clients): {events} events closed in {secs:.1} s",
        scratch.label
    );
    println!("loop: {rate:.0} events/s (7 HTTP requests each)");
    scratch.finish().await?;
    Ok(rate)
}

/// Fills `events` with `n` synthetic events of the demo city, generated inside the
/// database: reported over `days` days before `until`; `open_share` of them are being
/// handled (with timers), the rest closed with indicator facts. `reporter` is an SQL
/// expression of the row number `i` giving the reporter's user id.
pub(crate) async fn bulk(
    db: &Db,
    n: i64,
    days: i64,
    until: chrono::DateTime<chrono::Utc>,
    open_every: i64,
    reporter: &str,
) -> anyhow::Result<()> {
    let grids: Vec<(String,)> = sqlx::query_as("SELECT code FROM grids ORDER BY code")
        .fetch_all(&db.pool)
        .await?;
    let cats: Vec<(String,)> =
        sqlx::query_as("SELECT code FROM categories WHERE parent_code IS NOT NULL ORDER BY code")
            .fetch_all(&db.pool)
            .await?;
    sqlx::raw_sql(
        "CREATE TABLE bench_grids (k BIGINT PRIMARY KEY, code TEXT NOT NULL);
                   CREATE TABLE bench_cats (k BIGINT PRIMARY KEY, code TEXT NOT NULL);
                   CREATE TABLE bench_times (k BIGINT PRIMARY KEY, t TEXT NOT NULL)",
    )
    .execute(&db.pool)
    .await?;
    let mut tx = db.begin().await?;
    for (i, (g,)) in grids.iter().enumerate() {
        sqlx::query("INSERT INTO bench_grids VALUES ($1, $2)")
            .bind(i as i64)
            .bind(g)
            .execute(&mut *tx)
            .await?;
    }
    for (i, (c,)) in cats.iter().enumerate() {
        sqlx::query("INSERT INTO bench_cats VALUES ($1, $2)")
            .bind(i as i64)
            .bind(c)
            .execute(&mut *tx)
            .await?;
    }
    // One instant per 10 minutes over the span; events take them in order, as they arrive
    // in time order in a real database.
    let slots = days * 144 + 1;
    for k in 0..slots {
        let t = until - chrono::Duration::minutes(10 * (slots - k));
        sqlx::query("INSERT INTO bench_times VALUES ($1, $2)")
            .bind(k)
            .bind(fmt_time(t))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    let (g, c) = (grids.len() as i64, cats.len() as i64);
    let chunk = 250_000;
    let mut from = 1;
    while from <= n {
        let to = (from + chunk - 1).min(n);
        let sql = format!(
            "WITH RECURSIVE s(i) AS (SELECT CAST($1 AS BIGINT) UNION ALL SELECT i + 1 FROM s WHERE i < $2)
             INSERT INTO events (id, case_no, category_code, area_code, centre_area, assignee_kind, assignee,
                 dept_id, state, source, priority, description, lon, lat, reporter_id, reporter_name,
                 reporter_role, version, step, step_started_at, step_limit_min, step_used_min, deadline_at,
                 light, reported_at, accepted_at, dispatched_at, handled_at, verified_at, closed_at,
                 updated_at, dispatch_late, handle_late, verify_late, rework_count, return_count,
                 evaluation, work_minutes)
             SELECT 'bench-' || CAST(i AS TEXT), 'B' || CAST(i AS TEXT), c.code, g.code, substr(g.code, 1, 9),
                 'department', substr(g.code, 1, 6) || '-cgj', substr(g.code, 1, 6) || '-cgj',
                 CASE WHEN i % {open_every} = 0 THEN 'handling' ELSE 'closed' END,
                 'grid_worker', 'normal', '压测事件', 116.0, 36.4, {reporter}, '网格员', 'grid_worker', 5,
                 CASE WHEN i % {open_every} = 0 THEN 'handle' END,
                 CASE WHEN i % {open_every} = 0 THEN t.t END,
                 CASE WHEN i % {open_every} = 0 THEN 2400 END, 0, NULL, 'green',
                 t.t, t.t, t.t, t.t, t.t,
                 CASE WHEN i % {open_every} = 0 THEN NULL ELSE t.t END, t.t,
                 CASE WHEN i % 11 = 0 THEN 1 ELSE 0 END, CASE WHEN i % 7 = 0 THEN 1 ELSE 0 END, 0,
                 CASE WHEN i % 13 = 0 THEN 1 ELSE 0 END, CASE WHEN i % 17 = 0 THEN 1 ELSE 0 END,
                 CASE WHEN i % {open_every} = 0 THEN NULL WHEN i % 10 < 7 THEN 'satisfied' WHEN i % 10 < 9 THEN 'basically_satisfied' ELSE 'unsatisfied' END,
                 CASE WHEN i % {open_every} = 0 THEN NULL ELSE 600 + i % 1800 END
               FROM s JOIN bench_grids g ON g.k = i % {g} JOIN bench_cats c ON c.k = i % {c}
                      JOIN bench_times t ON t.k = (i - 1) * {slots} / {n}"
        );
        sqlx::query(&sql)
            .bind(from)
            .bind(to)
            .execute(&db.pool)
            .await?;
        from = to + 1;
    }
    let mut c = db.pool.acquire().await?;
    store::rebuild_facts(&mut c, db.backend).await?;
    Ok(())
}

/// `deadlines: <x> s` — one run of the deadline job over `n` open events, of which one in
/// `due_every` has a timer that has fallen due.
pub async fn deadlines(url: Option<&str>, n: i64, due_every: i64) -> anyhow::Result<f64> {
    let scratch = Scratch::new(url, 0).await?;
    demo::seed(&scratch.db, DEFAULT_PASSWORD).await?;
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T16:00:00+08:00")?
        .with_timezone(&chrono::Utc);
    let t = Instant::now();
    bulk(&scratch.db, n, 10, now, 1, "'bench'").await?;
    // Timers: yellow and red for each; the due ones are those whose red fell due an hour ago.
    let (past, future) = (
        fmt_time(now - chrono::Duration::hours(1)),
        fmt_time(now + chrono::Duration::days(3)),
    );
    sqlx::query(&format!(
        "INSERT INTO event_timers (event_id, kind, due_at)
         SELECT id, 'red', CASE WHEN CAST(substr(id, 7) AS BIGINT) % {due_every} = 0 THEN $1 ELSE $2 END FROM events"
    ))
    .bind(&past)
    .bind(&future)
    .execute(&scratch.db.pool)
    .await?;
    sqlx::query(
        "INSERT INTO event_timers (event_id, kind, due_at) SELECT id, 'yellow', $1 FROM events",
    )
    .bind(&future)
    .execute(&scratch.db.pool)
    .await?;
    if scratch.db.backend == crate::db::Backend::Postgres {
        sqlx::raw_sql("ANALYZE").execute(&scratch.db.pool).await?;
    }
    println!(
        "deadlines ({}): {n} open events with {} timers generated in {:.1} s",
        scratch.label,
        2 * n,
        t.elapsed().as_secs_f64()
    );
    let state = AppState::new(scratch.db.clone(), Config::default()).await?;
    let mut runs = Vec::new();
    let t = Instant::now();
    let r = jobs::tick(&state, now).await?;
    runs.push(t.elapsed().as_secs_f64());
    println!(
        "run 1: {} timers due → {} red; {:.3} s",
        r.timers, r.red, runs[0]
    );
    // With nothing due (the usual case between two runs), the scan alone:
    for _ in 0..3 {
        let t = Instant::now();
        let r = jobs::tick(&state, now).await?;
        anyhow::ensure!(r.timers == 0);
        runs.push(t.elapsed().as_secs_f64());
    }
    println!(
        "deadlines: {:.3} s for the run with {} due; {:.4} s median for a run with none due ({n} open events)",
        runs[0],
        r.timers,
        median(runs[1..].to_vec())
    );
    scratch.finish().await?;
    Ok(runs[0])
}

/// `stats: <x> s` — a city-month of indicators by county over `n` events in six months.
pub async fn stats(url: Option<&str>, n: i64) -> anyhow::Result<f64> {
    let scratch = Scratch::new(url, 0).await?;
    demo::seed(&scratch.db, DEFAULT_PASSWORD).await?;
    let until = chrono::DateTime::parse_from_rfc3339("2026-11-30T23:59:00+08:00")?
        .with_timezone(&chrono::Utc);
    let t = Instant::now();
    bulk(&scratch.db, n, 182, until, 50, "'bench'").await?; // (also rebuilds the rollup)
    if scratch.db.backend == crate::db::Backend::Postgres {
        sqlx::raw_sql("VACUUM ANALYZE events")
            .execute(&scratch.db.pool)
            .await?;
    } else {
        sqlx::raw_sql("ANALYZE").execute(&scratch.db.pool).await?;
    }
    println!(
        "stats ({}): {n} events generated in {:.1} s",
        scratch.label,
        t.elapsed().as_secs_f64()
    );
    let (from, to) = ("2026-10-31T16:00:00.000000Z", "2026-11-30T16:00:00.000000Z");
    // What GET /api/stats/events?area=3715&from=2026-11-01&to=2026-11-30 runs.
    let q = store::IndicatorQuery {
        area: "3715",
        from_day: "2026-11-01",
        to_day: "2026-11-30",
        from_at: from,
        to_at: to,
        department: None,
        category: None,
        by: store::GroupBy::Area(6),
    };
    let mut runs = Vec::new();
    let mut rows = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let r = store::indicators(&scratch.db.read, &q).await?;
        runs.push(t.elapsed().as_secs_f64());
        rows = r.iter().map(|(_, c)| c.reported).sum::<i64>();
    }
    // The same counts straight from the events, for comparison.
    let mut w = store::Where::default();
    w.push("area_code >= ? AND area_code < ?", &["3715", "3715:"]);
    w.push("reported_at >= ? AND reported_at < ?", &[from, to]);
    let mut raw = Vec::new();
    let mut raw_rows = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let r = store::counts(&scratch.db.read, "substr(area_code, 1, 6)", &w).await?;
        raw.push(t.elapsed().as_secs_f64());
        raw_rows = r.iter().map(|(_, c)| c.reported).sum::<i64>();
    }
    anyhow::ensure!(rows == raw_rows, "rollup {rows} ≠ events {raw_rows}");
    let m = median(runs);
    println!(
        "a month of the city: {rows} events; the same counts from the events table {:.3} s",
        median(raw)
    );
    println!("stats: {m:.3} s (median of 5)");
    scratch.finish().await?;
    Ok(m)
}
