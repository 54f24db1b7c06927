//! The demo city: 聊城市 from the official codes, synthetic grids covering every community of
//! 东昌府区 and 茌平区, and one account for every role.

use crate::accounts::handlers::create_account;
use crate::accounts::model::CreateUser;
use crate::areas::import::{self, LIAOCHENG, Options, Source};
use crate::areas::model::GridRow;
use crate::areas::store;
use crate::audit::{self, Audit};
use crate::db::{Db, now};
use civgrid_core::AreaCode;
use civgrid_core::synth::{Lattice, Rect, noise, treemap};

pub const DEFAULT_PASSWORD: &str = "Civgrid@2026";

/// Counties whose communities all get grids, with where their synthetic layout sits
/// (south-west corner, degrees) and its size in lattice cells.
const GRIDDED: &[(&str, [f64; 2])] = &[("371502", [115.86, 36.34]), ("371503", [116.14, 36.52])];

/// A demo account: user name, name, role, where it sits (resolved at creation).
pub struct DemoAccount {
    pub username: &'static str,
    pub display_name: &'static str,
    pub role: &'static str,
    pub area: String,
}

/// Accounts for every role, at sensible levels of the demo city.
pub async fn accounts(db: &Db) -> anyhow::Result<Vec<DemoAccount>> {
    let first_grid =
        first_code(db, "SELECT MIN(code) FROM grids WHERE code LIKE '371502%'").await?;
    let grid = AreaCode::parse(&first_grid)?;
    let village = grid.parent().expect("grid has a village").to_string();
    let township = grid.ancestors()[3].to_string();
    let other_township = first_code(
        db,
        "SELECT MIN(code) FROM areas WHERE level = 'township' AND code LIKE '371503%'",
    )
    .await?;
    let a = |username, display_name, role, area: &str| DemoAccount {
        username,
        display_name,
        role,
        area: area.to_owned(),
    };
    Ok(vec![
        a("admin", "系统管理员", "admin", "3715"),
        a("leader", "市委政法委领导", "leader", "3715"),
        a("city_centre", "市综治中心值班员", "centre_operator", "3715"),
        a(
            "county_centre",
            "东昌府区综治中心值班员",
            "centre_operator",
            "371502",
        ),
        a(
            "town_centre",
            "街道综治中心值班员",
            "centre_operator",
            &township,
        ),
        a(
            "town_centre2",
            "茌平区乡镇综治中心值班员",
            "centre_operator",
            &other_township,
        ),
        a("dept_liaison", "区城管局联络员", "dept_liaison", "371502"),
        a("mediator", "街道人民调解员", "mediator", &township),
        a(
            "grid_instructor",
            "网格指导员",
            "grid_instructor",
            &township,
        ),
        a("grid_chief", "社区网格长", "grid_chief", &village),
        a("grid_worker", "网格员张丽", "grid_worker", &first_grid),
        a("citizen", "群众王强", "citizen", &village),
    ])
}

async fn first_code(db: &Db, sql: &str) -> anyhow::Result<String> {
    let (c,): (Option<String>,) = sqlx::query_as(sql).fetch_one(&db.pool).await?;
    c.ok_or_else(|| anyhow::anyhow!("演示数据不完整：{sql}"))
}

/// Builds the demo database: divisions, grids, accounts. Call on an empty, migrated database.
pub async fn seed(db: &Db, password: &str) -> anyhow::Result<Vec<DemoAccount>> {
    let report = import::import(
        db,
        Source::Embedded(LIAOCHENG),
        &Options {
            within: None,
            strict: true,
            year: 2023,
        },
    )
    .await?;
    anyhow::ensure!(
        !report.refused && report.errors.is_empty(),
        "内置区划数据有误：{:?}",
        report.errors
    );
    for (county, origin) in GRIDDED {
        seed_grids(db, county, *origin).await?;
    }
    let accounts = accounts(db).await?;
    for acc in &accounts {
        create_account(
            db,
            None,
            &CreateUser {
                username: acc.username.into(),
                display_name: acc.display_name.into(),
                area_code: acc.area.clone(),
                roles: vec![acc.role.into()],
                password: password.into(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("创建演示账号 {} 失败：{e:?}", acc.username))?;
    }
    // The demo grid worker and chief serve the first grid.
    let id = |u: &str| {
        let u = u.to_owned();
        async move {
            crate::accounts::store::by_username(&db.pool, &u)
                .await
                .map(|r| r.map(|r| r.id))
        }
    };
    let worker = id("grid_worker").await?.expect("created above");
    let chief = id("grid_chief").await?.expect("created above");
    let grid = accounts
        .iter()
        .find(|a| a.username == "grid_worker")
        .expect("listed")
        .area
        .clone();
    let mut tx = db.begin().await?;
    store::set_members(&mut tx, &grid, &[(worker, "worker"), (chief, "chief")]).await?;
    tx.commit().await?;
    Ok(accounts)
}

/// Grids for every village of `county`: 1–3 per village, laid out as a treemap of a jittered
/// lattice (townships → villages → grids), so that no two grids overlap.
pub async fn seed_grids(db: &Db, county: &str, origin: [f64; 2]) -> anyhow::Result<usize> {
    let townships = store::children(&db.pool, county).await?;
    // Per township: its villages as (code, name, number of grids).
    type Villages = Vec<(String, String, u64)>;
    let mut plan: Vec<(String, Villages)> = Vec::new();
    for t in &townships {
        let villages = store::children(&db.pool, &t.code).await?;
        let v = villages
            .into_iter()
            .map(|v| {
                let n = 1 + (noise(11, v.code.parse::<i64>().unwrap_or(0), 0).abs() * 3.0) as u64;
                (v.code, v.name, n.min(3))
            })
            .collect::<Vec<_>>();
        if !v.is_empty() {
            plan.push((t.code.clone(), v));
        }
    }
    let total: u64 = plan.iter().flat_map(|(_, v)| v).map(|(_, _, n)| n).sum();
    // About six lattice cells per grid; cells of ~110 m × 110 m.
    let side = ((total * 6) as f64).sqrt().ceil() as i64 + 2;
    let lattice = Lattice {
        origin,
        cell: (0.0013, 0.001),
        jitter: 0.2,
        seed: county.parse().unwrap_or(1),
    };
    let county_rect = Rect {
        x0: 0,
        y0: 0,
        x1: side,
        y1: side,
    };
    let t_weights: Vec<u64> = plan
        .iter()
        .map(|(_, v)| v.iter().map(|x| x.2).sum())
        .collect();
    let t_rects =
        treemap(county_rect, &t_weights).ok_or_else(|| anyhow::anyhow!("网格布局失败"))?;
    let mut tx = db.begin().await?;
    let mut count = 0;
    let at = now();
    for ((_, villages), t_rect) in plan.iter().zip(t_rects) {
        let v_weights: Vec<u64> = villages.iter().map(|x| x.2).collect();
        let v_rects = treemap(t_rect, &v_weights).ok_or_else(|| anyhow::anyhow!("网格布局失败"))?;
        for ((code, name, n), v_rect) in villages.iter().zip(v_rects) {
            let g_rects = treemap(v_rect, &vec![1; *n as usize])
                .ok_or_else(|| anyhow::anyhow!("网格布局失败"))?;
            let village = AreaCode::parse(code)?;
            let short = name
                .trim_end_matches("居民委员会")
                .trim_end_matches("居委会")
                .trim_end_matches("村民委员会")
                .trim_end_matches("村委会");
            for (i, r) in g_rects.into_iter().enumerate() {
                let seq = i as u32 + 1;
                let gcode = village
                    .grid_child(seq)
                    .expect("few grids per village")
                    .to_string();
                let dedicated = *n == 3 && seq == 3;
                let row = GridRow {
                    code: gcode.clone(),
                    village_code: code.clone(),
                    name: if dedicated {
                        format!("{short}商贸专属网格")
                    } else {
                        format!("{short}第{seq}网格")
                    },
                    grid_type: if dedicated { "dedicated" } else { "basic" }.into(),
                    household_target: Some(
                        300 + (noise(5, seq as i64, count as i64).abs() * 200.0) as i64,
                    ),
                    population_target: Some(1000),
                    status: "active".into(),
                    created_at: at.clone(),
                };
                store::insert_grid(&mut tx, &row, "demo").await?;
                store::set_boundary(&mut tx, &gcode, &lattice.block(r), "demo", None).await?;
                count += 1;
            }
        }
    }
    audit::write(
        &mut tx,
        Audit {
            username: Some("demo".into()),
            action: "seed_grids",
            object_type: "area",
            object_id: county.into(),
            area_code: Some(county.into()),
            result: "success",
            detail: Some(format!("{count} grids")),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(count)
}
