//! Speed budgets of base data: importing people from CSV (validation, sealing, address
//! matching), name and ID search, and address parsing on one core.

use super::{Scratch, median};
use crate::config::Config;
use crate::demo::{self, DEFAULT_PASSWORD, people as demo_people};
use crate::people::store::{self, Find, ListFilter};
use crate::state::AppState;
use civgrid_core::address::labelled_samples;
use std::time::Instant;

fn p95(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * 0.95) as usize).min(v.len() - 1)]
}

/// `import: <N> rows/s`, `search: p95 <x> ms` (two- and three-character names),
/// `id-lookup: p95 <y> ms`, `address-parse: <N> addresses/s` with accuracy by level.
pub async fn people(url: Option<&str>, rows: usize, queries: usize) -> anyhow::Result<()> {
    // Address parsing first: pure CPU, one core.
    let scratch = Scratch::new(url, 0).await?;
    demo::seed(&scratch.db, DEFAULT_PASSWORD).await?;
    let cfg = Config {
        files_dir: scratch.tmp.path().join("files").display().to_string(),
        key_file: scratch.tmp.path().join("keys.json").display().to_string(),
        ..Config::default()
    };
    let state = AppState::new(scratch.db.clone(), cfg).await?;
    let gaz = state.places();
    let samples = labelled_samples(&gaz, 20, 42);
    let (mut county, mut town, mut village) = (0usize, 0usize, 0usize);
    for (t, code) in &samples {
        let p = gaz.parse(t);
        county += (p.county.as_deref() == Some(&code[..6])) as usize;
        town += (p.township.as_deref() == Some(&code[..9])) as usize;
        village += (p.village.as_deref() == Some(code.as_str())) as usize;
    }
    let pct = |n: usize| n as f64 * 100.0 / samples.len() as f64;
    println!(
        "address-accuracy: {} samples county {:.2} % township {:.2} % village {:.2} %",
        samples.len(),
        pct(county),
        pct(town),
        pct(village)
    );
    let mut rates = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut n = 0usize;
        let mut sink = 0usize;
        while n < 1_000_000 {
            for (s, _) in &samples {
                sink += gaz.parse(s).village.is_some() as usize;
                n += 1;
            }
        }
        std::hint::black_box(sink);
        rates.push(n as f64 / t.elapsed().as_secs_f64());
    }
    println!("address-parse: {:.0} addresses/s", median(rates));

    // Import.
    let villages = demo_people::gridded_villages(&scratch.db).await?;
    let path = scratch.tmp.path().join("people.csv");
    let t = Instant::now();
    let written = demo_people::write_csv(&path, &villages, rows, 1)?;
    eprintln!(
        "wrote {written} rows ({} MB) in {:.1} s",
        std::fs::metadata(&path)?.len() / 1_000_000,
        t.elapsed().as_secs_f64()
    );
    let user = demo_people::admin(&scratch.db).await?;
    let t = Instant::now();
    let report = crate::people::import::import_file(&state, &user, path.clone(), true, true)
        .await
        .map_err(|e| anyhow::anyhow!("import: {e:?}"))?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.created == written,
        "created {} of {written}: {:?}",
        report.created,
        report.errors.first()
    );
    println!(
        "import: {:.0} rows/s ({written} rows in {secs:.1} s)",
        written as f64 / secs
    );

    // Search: names that exist, two and three characters; exact ID numbers.
    let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM people ORDER BY id LIMIT 20000")
        .fetch_all(&scratch.db.pool)
        .await?;
    let mut c = scratch.db.read.acquire().await?;
    for len in [2usize, 3] {
        let picks: Vec<&String> = names
            .iter()
            .map(|n| &n.0)
            .filter(|n| n.chars().count() == len)
            .step_by(7)
            .take(queries)
            .collect();
        let mut times = Vec::new();
        let mut found = 0usize;
        for n in &picks {
            // As the handler reads a query: a pair, or a whole name of three.
            let (gram, pat) = crate::records::query_name(n).expect("two characters");
            let f = ListFilter {
                find: Find::Name(gram, pat),
                address: None,
                scope: "3715".into(),
                kind: None,
                state: Some("active".into()),
                special_type: None,
                limit: 21,
                offset: 0,
            };
            let t = Instant::now();
            found += store::list(&mut c, &f).await?.len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        anyhow::ensure!(found >= picks.len(), "every name finds itself");
        println!(
            "search: {len}-character names p95 {:.2} ms ({} queries)",
            p95(times),
            picks.len()
        );
    }
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id_enc FROM people ORDER BY id LIMIT 2000")
        .fetch_all(&scratch.db.pool)
        .await?;
    let mut times = Vec::new();
    for (enc,) in ids.iter().take(queries) {
        let clear = state.vault.open(enc)?;
        let t = Instant::now();
        let Find::IdBlind(b) = crate::people::handlers::find_of(&state.vault, &clear)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
        else {
            anyhow::bail!("an ID number is searched by its blind index");
        };
        let got = store::by_blind(&mut c, &b).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(got.is_some(), "ID found");
    }
    println!(
        "id-lookup: p95 {:.3} ms ({} queries)",
        p95(times),
        ids.len().min(queries)
    );
    drop(c);
    scratch.finish().await
}
