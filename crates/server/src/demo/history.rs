//! About six months of event history for the demo city, made by the real workflow (the same
//! `flow::perform` the API uses) on a simulated clock: reports from every source over every
//! category, taken through the loop by the township and county centres and the departments,
//! with realistic shares of late, returned, reworked, extended, held, supervised, escalated,
//! merged and voided events. Recent events are still open in every state.

use crate::catalog::{self, model::CategoryRow};
use crate::db::Db;
use crate::events::flow::{self, Actor, Input, Target};
use crate::events::model::EventRow;
use crate::events::store;
use chrono::{DateTime, Duration, Utc};
use civgrid_core::calendar::{WorkCalendar, cst};
use civgrid_core::catalog::{Category, Source};
use civgrid_core::event::Move;
use civgrid_core::indicators::Evaluation;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::HashMap;

/// What the generator made.
#[derive(Debug, Default)]
pub struct History {
    pub events: usize,
    pub moves: usize,
}

struct Grid {
    code: String,
    name: String,
    pt: (f64, f64),
    worker: Actor,
}

/// A grid with a point inside it and its grid worker.
pub struct GridPoint {
    pub code: String,
    pub name: String,
    pub pt: (f64, f64),
    pub worker_id: String,
    pub worker_name: String,
    pub worker_username: String,
}

/// Every grid that has a worker, with a point inside it (the centre of its box, checked).
pub async fn grid_points(db: &Db) -> anyhow::Result<Vec<GridPoint>> {
    let index = crate::areas::store::load_index(&db.pool).await?;
    type Row = (String, String, String, String, String, f64, f64, f64, f64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT m.grid_code, g.name, u.id, u.display_name, u.username, b.min_lon, b.min_lat, b.max_lon, b.max_lat
           FROM grid_members m JOIN users u ON u.id = m.user_id JOIN grids g ON g.code = m.grid_code
           JOIN grid_boundaries b ON b.grid_code = m.grid_code AND b.valid_to IS NULL
          WHERE m.duty = 'worker' ORDER BY m.grid_code",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(code, grid_name, id, name, username, x0, y0, x1, y1)| {
            let pt = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
            (index.locate([pt.0, pt.1]) == Some(&code)).then_some(GridPoint {
                code,
                name: grid_name,
                pt,
                worker_id: id,
                worker_name: name,
                worker_username: username,
            })
        })
        .collect())
}

const DESCRIPTIONS: &[&str] = &[
    "群众反映，请尽快处理",
    "巡查发现，现场已拍照",
    "多次出现，居民意见较大",
    "影响通行和安全",
    "夜间尤为明显",
    "涉及多户居民",
];

/// Events every day on average between `days` ago and `now` (≈ `n` in all).
/// Photos go to `files_dir` (one synthetic scene photo shared by the reports that need one).
pub async fn seed(
    db: &Db,
    files_dir: &std::path::Path,
    n: usize,
    days: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<History> {
    let cal = WorkCalendar::default();
    let mut rng = StdRng::seed_from_u64(20261128);
    let photo = crate::files::store(files_dir.to_path_buf(), scene(), usize::MAX)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let grids: Vec<Grid> = grid_points(db)
        .await?
        .into_iter()
        .map(|p| Grid {
            worker: Actor {
                id: Some(p.worker_id),
                name: p.worker_name,
                role: "grid_worker".into(),
                area: p.code.clone(),
            },
            code: p.code,
            name: p.name,
            pt: p.pt,
        })
        .collect();
    let mut conn = db.pool.acquire().await?;
    let snap = catalog::Snapshot::load(&mut conn)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let rows: Vec<CategoryRow> = catalog::store::categories(&mut conn)
        .await?
        .into_iter()
        .filter(|r| r.parent_code.is_some())
        .collect();
    let mut cats: Vec<Category> = Vec::new();
    for r in &rows {
        cats.push(catalog::to_core(r, None).map_err(|e| anyhow::anyhow!("{e:?}"))?);
    }
    let names: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(
        "SELECT code, name FROM areas WHERE valid_to IS NULL AND level IN ('county', 'township')",
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let depts: HashMap<String, String> =
        sqlx::query_as::<_, (String, String)>("SELECT id, name FROM departments")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    drop(conn);
    anyhow::ensure!(!grids.is_empty(), "演示网格缺少网格员");
    let centre = |area: &str| Actor {
        id: Some(format!("demo-centre-{area}")),
        name: format!("{}综治中心", names.get(area).map_or("", |s| s.as_str())),
        role: "centre_operator".into(),
        area: area.into(),
    };
    let mut out = History::default();
    let mut tx = db.begin().await?;
    let mut seqs: HashMap<(String, String), i64> = HashMap::new();
    let mut facts = store::FactDelta::default();
    let span = Duration::days(days);
    let mut times: Vec<DateTime<Utc>> = (0..n)
        .map(|_| now - span + Duration::seconds(rng.gen_range(0..span.num_seconds())))
        .collect();
    times.sort();
    for (i, t0) in times.into_iter().enumerate() {
        // Reports come in daytime, China time.
        let local = t0.with_timezone(&cst());
        let t0 = t0
            + Duration::hours(match chrono::Timelike::hour(&local) {
                h if h < 7 => 8,
                h if h > 21 => -6,
                _ => 0,
            });
        if t0 >= now {
            continue;
        }
        let g = &grids[rng.gen_range(0..grids.len())];
        let cat = &cats[rng.gen_range(0..cats.len())];
        let source = pick_source(&mut rng, cat);
        let reporter = match source {
            Source::GridWorker => g.worker.clone(),
            Source::Citizen => Actor {
                id: Some(format!("demo-citizen-{}", rng.gen_range(0..5000))),
                name: super::name_for(rng.r#gen()),
                role: "citizen".into(),
                area: g.code[..12].into(),
            },
            s => Actor {
                id: Some(format!("demo-{}", s.as_str())),
                name: s.label().into(),
                role: if s == Source::VideoAlarm {
                    "api_key"
                } else {
                    "centre_operator"
                }
                .into(),
                area: "3715".into(),
            },
        };
        let township = g.code[..9].to_owned();
        let county = g.code[..6].to_owned();
        let day = t0.with_timezone(&cst()).format("%Y%m%d").to_string();
        let seq = seqs.entry(("3715".into(), day.clone())).or_insert(0);
        *seq += 1;
        let mut ev = flow::new_event(
            format!("3715{day}{:05}", *seq),
            cat,
            &g.code,
            &township,
            source,
            &reporter,
            t0,
        );
        ev.description = format!(
            "{}：{}",
            cat.name,
            DESCRIPTIONS[rng.gen_range(0..DESCRIPTIONS.len())]
        );
        ev.address = Some(format!("{}{}号楼附近", g.name, rng.gen_range(1..=30)));
        ev.lon = Some(g.pt.0 + rng.gen_range(-0.0002..0.0002));
        ev.lat = Some(g.pt.1 + rng.gen_range(-0.0002..0.0002));
        let photos = if cat.photo_required {
            vec![photo.clone()]
        } else {
            vec![]
        };
        flow::insert_report(
            &mut tx,
            &cal,
            &mut ev,
            &reporter,
            cat,
            &photos,
            json!({"source": source.as_str(), "demo": true}),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        out.events += 1;
        let mut sim = Sim {
            cal: &cal,
            snap: &snap,
            depts: &depts,
            now,
            t: t0,
            moves: 0,
        };
        // A duplicate report of this event, merged by the centre.
        if rng.gen_bool(0.02) {
            *seq += 1;
            let citizen = Actor {
                id: Some("demo-citizen-dup".into()),
                name: "群众".into(),
                role: "citizen".into(),
                area: g.code[..12].into(),
            };
            let mut dup = flow::new_event(
                format!("3715{day}{:05}", *seq),
                cat,
                &g.code,
                &township,
                Source::Citizen,
                &citizen,
                t0 + Duration::minutes(20),
            );
            dup.description = ev.description.clone();
            dup.lon = ev.lon;
            dup.lat = ev.lat;
            dup.address = ev.address.clone();
            if t0 + Duration::minutes(20) < now {
                flow::insert_report(
                    &mut tx,
                    &cal,
                    &mut dup,
                    &citizen,
                    cat,
                    &photos,
                    json!({"demo": true}),
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                out.events += 1;
                let at = t0 + Duration::minutes(40);
                if at < now {
                    let target = ev.clone();
                    flow::perform(
                        &mut tx,
                        &snap,
                        &cal,
                        at,
                        &mut dup,
                        &centre(&township),
                        Move::Merge,
                        Input {
                            merge_into: Some(target),
                            ..Default::default()
                        },
                        &mut facts,
                    )
                    .await
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                    // The kept event's version moved with the merge line.
                    ev = store::get(&mut tx, &ev.id).await?.expect("just written");
                    sim.moves += 1;
                }
            }
        }
        walk(
            &mut tx, &mut sim, &mut rng, &mut ev, cat, g, &township, &county, &centre, &photo,
            &mut facts,
        )
        .await?;
        out.moves += sim.moves;
        if i % 500 == 499 {
            std::mem::take(&mut facts).write(&mut tx).await?;
            tx.commit().await?;
            tx = db.begin().await?;
        }
    }
    facts.write(&mut tx).await?;
    // Case numbers handed out here are taken: live reports of the same days continue after them.
    for ((city, day), n) in &seqs {
        store::bump_case_seq(&mut tx, city, day, *n).await?;
    }
    tx.commit().await?;
    // People have read what is older than a week; the inbox starts with the recent notices.
    sqlx::query(
        "UPDATE notifications SET read_at = created_at WHERE read_at IS NULL AND created_at < $1",
    )
    .bind(crate::db::fmt_time(now - Duration::days(7)))
    .execute(&db.pool)
    .await?;
    Ok(out)
}

fn pick_source(rng: &mut StdRng, cat: &Category) -> Source {
    let r: f64 = rng.r#gen();
    let want = if r < 0.55 {
        Source::GridWorker
    } else if r < 0.72 {
        Source::Citizen
    } else if r < 0.9 {
        Source::Hotline
    } else if r < 0.95 {
        Source::VideoAlarm
    } else {
        Source::Department
    };
    if cat.sources.contains(&want) {
        want
    } else {
        cat.sources[0]
    }
}

/// The simulated clock: each move happens a number of working minutes after the last.
struct Sim<'a> {
    cal: &'a WorkCalendar,
    snap: &'a catalog::Snapshot,
    /// Department names by id.
    depts: &'a HashMap<String, String>,
    now: DateTime<Utc>,
    t: DateTime<Utc>,
    moves: usize,
}

impl Sim<'_> {
    /// Advances by `minutes` working minutes; false when that is in the future.
    fn after(&mut self, minutes: f64) -> bool {
        let next = self
            .cal
            .add_minutes(self.t.with_timezone(&cst()), minutes.max(1.0) as i64)
            .with_timezone(&Utc);
        if next >= self.now {
            return false;
        }
        self.t = next;
        true
    }
}

/// Exponential delay with the given mean (working minutes).
fn exp(rng: &mut StdRng, mean: f64) -> f64 {
    -mean * (1.0 - rng.r#gen::<f64>()).ln()
}

#[allow(clippy::too_many_arguments)]
async fn walk(
    tx: &mut crate::db::Tx,
    sim: &mut Sim<'_>,
    rng: &mut StdRng,
    ev: &mut EventRow,
    cat: &Category,
    g: &Grid,
    township: &str,
    county: &str,
    centre: &dyn Fn(&str) -> Actor,
    photo: &crate::files::StoredPhoto,
    facts: &mut store::FactDelta,
) -> anyhow::Result<()> {
    let per_day = sim.cal.hours().minutes_per_day() as f64;
    let handle_limit = cat.limits.handle.minutes(per_day as i64) as f64;
    macro_rules! go {
        ($delay:expr, $actor:expr, $m:expr, $inp:expr) => {{
            if !sim.after($delay) {
                return Ok(());
            }
            flow::perform(
                &mut *tx, sim.snap, sim.cal, sim.t, ev, &$actor, $m, $inp, facts,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{:?} on {}: {e:?}", $m, ev.case_no))?;
            sim.moves += 1;
        }};
    }
    let note = |s: &str| Input {
        note: Some(s.into()),
        ..Default::default()
    };
    let town = centre(township);
    // 不予受理
    if rng.gen_bool(0.03) {
        go!(exp(rng, 30.0), town, Move::Void, note("不属于受理范围"));
        return Ok(());
    }
    // 自行处置 by the grid worker, verified by the centre.
    if ev.source == "grid_worker" && rng.gen_bool(0.1) {
        go!(
            exp(rng, 20.0),
            g.worker,
            Move::SelfHandle,
            Input {
                photos: vec![photo.clone()],
                ..note("已现场处置")
            }
        );
        go!(exp(rng, 240.0), town, Move::VerifyPass, note("核查属实"));
        go!(
            exp(rng, 120.0),
            town,
            Move::Evaluate,
            Input {
                evaluation: Some(Evaluation::Satisfied),
                ..Default::default()
            }
        );
        return Ok(());
    }
    go!(exp(rng, 45.0), town, Move::Accept, Input::default());
    let mut handling_centre = township.to_owned();
    if rng.gen_bool(0.05) {
        go!(exp(rng, 60.0), town, Move::Escalate, note("需区级协调"));
        handling_centre = county.to_owned();
    }
    let boss = centre(&handling_centre);
    let dept_id = if cat.department == "zzzx" {
        format!("{township}-zzzx")
    } else {
        format!("{county}-{}", cat.department)
    };
    let depts = sim.depts;
    let dept_name = |id: &str| depts.get(id).cloned().unwrap_or_else(|| id.to_owned());
    let dept = Target::Department {
        id: dept_id.clone(),
        name: dept_name(&dept_id),
    };
    let liaison = Actor {
        id: Some(format!("demo-liaison-{dept_id}")),
        name: "部门联络员".into(),
        role: "dept_liaison".into(),
        area: county.into(),
    };
    // A wrong department first, now and then.
    if rng.gen_bool(0.07) {
        let wrong = Target::Department {
            id: format!("{county}-mzj"),
            name: dept_name(&format!("{county}-mzj")),
        };
        let wrong_liaison = Actor {
            id: Some("demo-liaison-mzj".into()),
            ..liaison.clone()
        };
        go!(
            exp(rng, 70.0),
            boss,
            Move::Dispatch,
            Input {
                target: Some(wrong),
                ..Default::default()
            }
        );
        go!(
            exp(rng, 60.0),
            wrong_liaison,
            Move::Return,
            note("不属于本部门职责")
        );
    }
    go!(
        exp(rng, 70.0),
        boss,
        Move::Dispatch,
        Input {
            target: Some(dept),
            ..Default::default()
        }
    );
    go!(exp(rng, 80.0), liaison, Move::SignFor, Input::default());
    let mut budget = handle_limit;
    if rng.gen_bool(0.05) {
        go!(
            exp(rng, 120.0),
            liaison,
            Move::RequestExtension,
            Input {
                note: Some("需协调多方".into()),
                days: Some(3),
                ..Default::default()
            }
        );
        let ext = store::extensions(&mut *tx, &ev.id)
            .await?
            .pop()
            .map(|e| e.id);
        go!(
            exp(rng, 60.0),
            boss,
            Move::DecideExtension,
            Input {
                extension_id: ext,
                approve: Some(true),
                ..Default::default()
            }
        );
        budget += 3.0 * per_day;
    }
    if rng.gen_bool(0.03) {
        go!(exp(rng, 120.0), boss, Move::Hold, note("等待上级政策"));
        go!(
            exp(rng, 3.0 * per_day),
            boss,
            Move::Resume,
            Input::default()
        );
    }
    if rng.gen_bool(0.04) {
        let leader = Actor {
            id: Some("demo-county-supervisor".into()),
            name: "区综治中心".into(),
            role: "centre_operator".into(),
            area: county.into(),
        };
        go!(
            exp(rng, 0.3 * budget),
            leader,
            Move::Supervise,
            note("请加快办理")
        );
    }
    // Handling time: mostly within the limit, about one in eight over it.
    go!(
        budget * rng.gen_range(0.08..1.12),
        liaison,
        Move::Handle,
        Input {
            photos: vec![photo.clone()],
            ..note("已处置完毕")
        }
    );
    if rng.gen_bool(0.1) {
        go!(
            exp(rng, 300.0),
            g.worker,
            Move::VerifyFail,
            note("现场未整改到位")
        );
        go!(
            budget * rng.gen_range(0.05..0.5),
            liaison,
            Move::Handle,
            note("已返工整改")
        );
    }
    go!(
        exp(rng, 400.0),
        g.worker,
        Move::VerifyPass,
        note("回访核实已解决")
    );
    let r: f64 = rng.r#gen();
    let e = if r < 0.75 {
        Evaluation::Satisfied
    } else if r < 0.93 {
        Evaluation::BasicallySatisfied
    } else {
        Evaluation::Unsatisfied
    };
    go!(
        exp(rng, 120.0),
        boss,
        Move::Evaluate,
        Input {
            evaluation: Some(e),
            ..Default::default()
        }
    );
    Ok(())
}

/// A synthetic street scene (sky, buildings, road) as a JPEG.
fn scene() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        if y < 200 {
            image::Rgb([150, 190, 235])
        } else if y < 360 {
            let building = (x / 90) % 2 == 0 && y > 200 + (x % 90) / 3;
            if building {
                image::Rgb([170, 160, 150])
            } else {
                image::Rgb([120, 150, 110])
            }
        } else {
            let stripe = (x / 40) % 2 == 0 && (410..418).contains(&y);
            if stripe {
                image::Rgb([240, 240, 240])
            } else {
                image::Rgb([90, 90, 95])
            }
        }
    });
    let mut out = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut out),
        image::ImageFormat::Jpeg,
    )
    .expect("encode in memory");
    out
}
