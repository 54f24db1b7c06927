//! `civgrid bench …`: the speed budgets of the foundation, measured and printed as medians.

use crate::areas::import::{self, Options, Source};
use crate::db::Db;
use civgrid_core::locate::GridIndex;
use civgrid_core::synth::{Lattice, Rect, noise};
use std::path::Path;
use std::time::{Duration, Instant};

pub mod events;
pub mod people;
pub mod scores;

/// A scratch database for one benchmark run: a temporary SQLite file, or a fresh schema in
/// the PostgreSQL database at `url` (dropped by `finish`).
pub struct Scratch {
    pub db: Db,
    pub label: &'static str,
    pub tmp: tempfile::TempDir,
    schema: Option<(String, String)>,
}

impl Scratch {
    pub async fn new(url: Option<&str>, run: usize) -> anyhow::Result<Scratch> {
        let tmp = tempfile::tempdir()?;
        let (db, label, schema) = match url {
            Some(url) => {
                let schema = format!("bench_{}", std::process::id() as u64 * 100 + run as u64);
                let admin = Db::connect(url).await?;
                sqlx::raw_sql(&format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
                ))
                .execute(&admin.pool)
                .await?;
                let sep = if url.contains('?') { '&' } else { '?' };
                (
                    Db::connect(&format!("{url}{sep}options=-c%20search_path%3D{schema}")).await?,
                    "postgresql",
                    Some((url.to_owned(), schema)),
                )
            }
            None => (
                Db::connect(&format!(
                    "sqlite://{}",
                    tmp.path().join("bench.db").display()
                ))
                .await?,
                "sqlite",
                None,
            ),
        };
        db.migrate().await?;
        Ok(Scratch {
            db,
            label,
            tmp,
            schema,
        })
    }

    pub async fn finish(self) -> anyhow::Result<()> {
        self.db.pool.close().await;
        if let Some((url, schema)) = self.schema {
            let admin = Db::connect(&url).await?;
            sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(&admin.pool)
                .await?;
        }
        Ok(())
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Point lookups per second on one core against `grids` polygons of about `vertices`
/// vertices each (a jittered lattice, so shapes are irregular and share edges).
pub fn locate(grids: usize, vertices: usize, lookups: usize, runs: usize) -> f64 {
    // A block of w × h cells has 2(w + h) vertices.
    let half = (vertices / 2).max(2) as i64;
    let (bw, bh) = (half / 2, half - half / 2);
    let cols = (grids as f64).sqrt().ceil() as i64;
    let rows = (grids as i64 + cols - 1) / cols;
    let lattice = Lattice {
        origin: [115.5, 36.0],
        cell: (0.0002, 0.00016),
        jitter: 0.2,
        seed: 42,
    };
    let t0 = Instant::now();
    let mut polys = Vec::with_capacity(grids);
    'outer: for r in 0..rows {
        for c in 0..cols {
            if polys.len() == grids {
                break 'outer;
            }
            let rect = Rect {
                x0: c * bw,
                y0: r * bh,
                x1: (c + 1) * bw,
                y1: (r + 1) * bh,
            };
            polys.push((format!("{:06}", polys.len()), lattice.block(rect)));
        }
    }
    let avg_vertices =
        polys.iter().map(|(_, b)| b.vertex_count()).sum::<usize>() as f64 / polys.len() as f64;
    let index = GridIndex::new(polys);
    let build = t0.elapsed();
    let (x1, y1) = (
        lattice.point(cols * bw, rows * bh)[0],
        lattice.point(cols * bw, rows * bh)[1],
    );
    let points: Vec<[f64; 2]> = (0..lookups)
        .map(|i| {
            let u = (noise(1, i as i64, 0) + 1.0) / 2.0;
            let v = (noise(2, i as i64, 0) + 1.0) / 2.0;
            [115.5 + u * (x1 - 115.5), 36.0 + v * (y1 - 36.0)]
        })
        .collect();
    let mut rates = Vec::new();
    let mut hits = 0usize;
    for _ in 0..runs {
        let t = Instant::now();
        hits = 0;
        for p in &points {
            if index.locate(*p).is_some() {
                hits += 1;
            }
        }
        rates.push(lookups as f64 / t.elapsed().as_secs_f64());
    }
    let m = median(rates);
    println!(
        "index: {} grids, {:.1} vertices each, built in {} ms; {} of {} points inside a grid",
        index.len(),
        avg_vertices,
        build.as_millis(),
        hits,
        lookups
    );
    println!(
        "locate: {:.0} lookups/s (median of {runs} runs, one core)",
        m
    );
    m
}

/// Times a full import of the division files in `dir` into a fresh database, then a
/// re-import of the same files (which must write nothing).
pub async fn import(dir: &Path, database_url: Option<&str>, runs: usize) -> anyhow::Result<()> {
    let opts = Options {
        within: None,
        strict: false,
        year: 2023,
    };
    let mut first = Vec::new();
    let mut again = Vec::new();
    for run in 0..runs {
        let scratch = Scratch::new(database_url, run).await?;
        let (db, label) = (&scratch.db, scratch.label);
        let t = Instant::now();
        let r = import::import(db, Source::Dir(dir), &opts).await?;
        let d1 = t.elapsed();
        let t = Instant::now();
        let r2 = import::import(db, Source::Dir(dir), &opts).await?;
        let d2 = t.elapsed();
        anyhow::ensure!(
            r2.inserted == 0 && r2.renamed == 0 && r2.ended == 0,
            "re-import wrote rows: {r2:?}"
        );
        println!(
            "run {}: {label}: import {} rows ({} invalid) in {:.2} s; re-import {:.2} s, {} unchanged, 0 written",
            run + 1,
            r.inserted,
            r.invalid,
            d1.as_secs_f64(),
            d2.as_secs_f64(),
            r2.unchanged
        );
        first.push(d1.as_secs_f64());
        again.push(d2.as_secs_f64());
        scratch.finish().await?;
    }
    println!(
        "import: {:.2} s median; re-import: {:.2} s median ({runs} runs)",
        median(first),
        median(again)
    );
    Ok(())
}

/// Latency of `GET /api/areas/{county}/subtree` through the real HTTP server on the demo
/// database (built in a temporary folder).
pub async fn subtree(county: &str, requests: usize) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let db = Db::connect(&format!(
        "sqlite://{}",
        tmp.path().join("bench.db").display()
    ))
    .await?;
    db.migrate().await?;
    crate::demo::seed(&db, crate::demo::DEFAULT_PASSWORD).await?;
    let state = crate::state::AppState::new(db, crate::config::Config::default()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(crate::app::serve(state, listener));
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let login: serde_json::Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": crate::demo::DEFAULT_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("login failed: {login}"))?
        .to_owned();
    let url = format!("{base}/api/areas/{county}/subtree");
    let mut times: Vec<Duration> = Vec::with_capacity(requests);
    let mut size = 0;
    for _ in 0..requests {
        let t = Instant::now();
        let body = client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        times.push(t.elapsed());
        size = body.len();
    }
    times.sort();
    let pct = |p: f64| {
        times[((times.len() as f64 * p) as usize).min(times.len() - 1)].as_secs_f64() * 1000.0
    };
    println!(
        "subtree {county}: {requests} requests, {} KB each; p50 {:.2} ms, p99 {:.2} ms",
        size / 1024,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}
