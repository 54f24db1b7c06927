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

pub mod activity;
pub mod history;
pub mod people;

pub const DEFAULT_PASSWORD: &str = "Civgrid@2026";

/// Counties whose communities all get grids, with where their synthetic layout sits
/// (south-west corner, degrees) and its size in lattice cells.
const GRIDDED: &[(&str, [f64; 2])] = &[("371502", [115.86, 36.34]), ("371503", [116.14, 36.52])];

/// A demo account: user name, name, role, where it sits (resolved at creation).
pub struct DemoAccount {
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub area: String,
    /// A liaison's department.
    pub department: Option<String>,
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
    let a = |username: &str, display_name: &str, role, area: &str| DemoAccount {
        username: username.into(),
        display_name: display_name.into(),
        role,
        area: area.to_owned(),
        department: None,
    };
    let mut list = vec![
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
        DemoAccount {
            department: Some("371502-cgj".into()),
            ..a("dept_liaison", "区城管局联络员", "dept_liaison", "371502")
        },
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
    ];
    // One liaison for every other department of 东昌府区.
    for (code, name) in LIAISONS {
        list.push(DemoAccount {
            department: Some(format!("371502-{code}")),
            ..a(&format!("liaison_{code}"), name, "dept_liaison", "371502")
        });
    }
    Ok(list)
}

/// Liaisons of 东昌府区's departments besides 城管 (user name `liaison_<code>`).
const LIAISONS: &[(&str, &str)] = &[
    ("gaj", "区公安分局联络员"),
    ("sfj", "区司法局联络员"),
    ("yjj", "区应急管理局联络员"),
    ("xfjy", "区消防救援大队联络员"),
    ("sthj", "区生态环境分局联络员"),
    ("scjg", "区市场监管局联络员"),
    ("zjj", "区住建局联络员"),
    ("mzj", "区民政局联络员"),
    ("rsj", "区人社局联络员"),
    ("wjj", "区卫健局联络员"),
    ("slj", "区水利局联络员"),
];

/// Departments of the catalog for each gridded county (county-level ones) and each of its
/// townships (the township-level ones).
pub async fn seed_departments(db: &Db) -> anyhow::Result<usize> {
    let catalog = civgrid_core::catalog::Catalog::parse(civgrid_core::catalog::DEFAULT)?;
    let mut places_of = Vec::new();
    for (county, _) in GRIDDED {
        let county_name = store::get_area(&db.pool, county)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        let townships = store::children(&db.pool, county).await?;
        places_of.push((county, county_name, townships));
    }
    let mut tx = db.begin().await?;
    let mut n = 0;
    for (county, county_name, townships) in &places_of {
        for d in &catalog.departments {
            let places: Vec<(String, String)> = match d.level.as_str() {
                "county" => vec![(county.to_string(), county_name.clone())],
                "township" => townships
                    .iter()
                    .map(|t| (t.code.clone(), t.name.clone()))
                    .collect(),
                _ => vec![],
            };
            for (area, area_name) in places {
                let name = if d.level == "township" {
                    format!("{area_name}综治中心（自办）")
                } else {
                    format!("{area_name}{}", d.name)
                };
                let view = crate::catalog::model::DepartmentView {
                    id: format!("{area}-{}", d.code),
                    code: d.code.clone(),
                    name,
                    area_code: area,
                    webhook_url: None,
                };
                if crate::catalog::store::insert_department(&mut tx, &view).await? {
                    n += 1;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(n)
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "高", "罗",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明",
    "超", "秀英", "桂英", "建国", "海燕", "志强", "晓东", "雪梅",
];

/// A plausible Chinese name, the same for the same seed.
pub fn name_for(seed: u64) -> String {
    let s = SURNAMES[(seed % SURNAMES.len() as u64) as usize];
    let g = GIVEN[((seed / 7) % GIVEN.len() as u64) as usize];
    format!("{s}{g}")
}

/// A grid worker (user name `gw<grid code>`) for every grid that has none, sharing the demo
/// password (hashed once).
pub async fn seed_grid_workers(db: &Db, password: &str) -> anyhow::Result<usize> {
    let hash = crate::auth::hash_password(password.to_owned()).await?;
    let grids: Vec<(String,)> = sqlx::query_as(
        "SELECT code FROM grids g WHERE NOT EXISTS
             (SELECT 1 FROM grid_members m WHERE m.grid_code = g.code AND m.duty = 'worker')
          ORDER BY code",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut tx = db.begin().await?;
    for (i, (code,)) in grids.iter().enumerate() {
        let id = crate::db::new_id();
        crate::accounts::store::insert_user(
            &mut tx,
            &id,
            &format!("gw{code}"),
            &format!("网格员{}", name_for(i as u64 * 31 + 7)),
            code,
            "grid_worker",
            &hash,
        )
        .await?;
        store::set_members(&mut tx, code, &[(id, "worker")]).await?;
    }
    tx.commit().await?;
    Ok(grids.len())
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
    seed_departments(db).await?;
    let accounts = accounts(db).await?;
    for acc in &accounts {
        create_account(
            db,
            None,
            &CreateUser {
                username: acc.username.clone(),
                display_name: acc.display_name.clone(),
                area_code: acc.area.clone(),
                roles: vec![acc.role.into()],
                password: password.into(),
                department_id: acc.department.clone(),
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
    seed_grid_workers(db, password).await?;
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
