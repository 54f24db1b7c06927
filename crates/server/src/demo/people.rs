//! Demo base data: people in households and houses over the demo grids, organisations with
//! valid 统一社会信用代码. People go in through the importer (a CSV it writes), so the demo
//! exercises the same checks, address matching and sealing as a real import; the benchmark
//! imports the same kind of file.

use crate::auth::{CurrentUser, Role};
use crate::db::{Db, new_id, now};
use crate::orgs::model::OrgRow;
use crate::state::AppState;
use civgrid_core::AreaCode;
use civgrid_core::ids::{id_check_char, uscc_check_char};
use std::io::Write;

/// Surnames with their shares in ‰, the most common of the 2020 census (王 李 张 刘 陈 …).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 72),
    ("李", 72),
    ("张", 68),
    ("刘", 54),
    ("陈", 45),
    ("杨", 31),
    ("黄", 22),
    ("赵", 22),
    ("吴", 20),
    ("周", 19),
    ("徐", 15),
    ("孙", 14),
    ("马", 13),
    ("朱", 13),
    ("胡", 12),
    ("郭", 12),
    ("何", 10),
    ("林", 10),
    ("高", 10),
    ("罗", 9),
    ("郑", 8),
    ("梁", 8),
    ("谢", 6),
    ("宋", 6),
    ("唐", 6),
    ("许", 5),
    ("韩", 5),
    ("冯", 5),
    ("邓", 5),
    ("曹", 5),
    ("彭", 4),
    ("曾", 4),
    ("肖", 4),
    ("田", 4),
    ("董", 4),
    ("袁", 4),
    ("潘", 3),
    ("于", 3),
    ("蒋", 3),
    ("蔡", 3),
    ("余", 3),
    ("杜", 3),
    ("叶", 3),
    ("程", 3),
    ("苏", 3),
    ("魏", 3),
    ("吕", 3),
    ("丁", 3),
    ("任", 3),
    ("沈", 2),
    ("姚", 2),
    ("卢", 2),
    ("姜", 2),
    ("崔", 2),
    ("钟", 2),
    ("谭", 2),
    ("陆", 2),
    ("汪", 2),
    ("范", 2),
    ("金", 2),
    ("石", 2),
    ("廖", 2),
    ("贾", 2),
    ("夏", 2),
    ("韦", 2),
    ("付", 2),
    ("方", 2),
    ("白", 2),
    ("邹", 2),
    ("孟", 2),
    ("熊", 2),
    ("秦", 2),
    ("邱", 2),
    ("江", 2),
    ("尹", 2),
    ("薛", 2),
    ("闫", 2),
    ("段", 2),
    ("雷", 2),
    ("侯", 2),
];

/// Given-name characters, the more common first (weights fall off by position).
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国文辉鹏飞宇浩然梓涵子轩欣怡佳琪雨晨思博俊凯志宏海波东亮峰雪梅春燕萍晓丹丽芬淑珍云凤凤荣慧颖瑞嘉欢乐成林永德";

const ROADS: &[&str] = &[
    "光明路",
    "建设路",
    "东昌路",
    "柳园南路",
    "兴华西路",
    "振兴街",
    "育新街",
    "利民巷",
    "花园北路",
    "湖滨路",
    "运河路",
    "站前街",
];
const PLACES: &[&str] = &[
    "幸福小区",
    "阳光花园",
    "金色家园",
    "水城明珠",
    "东方苑",
    "龙湾小区",
    "丽水园",
    "和谐家园",
    "锦绣城",
    "新华苑",
];

/// Deterministic pseudo-random numbers (xorshift).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

pub fn name(r: &mut Rng) -> String {
    let total: u32 = SURNAMES.iter().map(|s| s.1).sum();
    let mut k = (r.next_u64() % total as u64) as u32;
    let mut surname = SURNAMES[0].0;
    for (s, w) in SURNAMES {
        if k < *w {
            surname = s;
            break;
        }
        k -= w;
    }
    let given: Vec<char> = GIVEN.chars().collect();
    // Zipf-like: the square of a uniform pick favours the common characters.
    let pick = |r: &mut Rng| {
        let u = (r.next_u64() % 10_000) as f64 / 10_000.0;
        given[((u * u) * given.len() as f64) as usize]
    };
    if r.below(10) < 3 {
        format!("{surname}{}", pick(r))
    } else {
        format!("{surname}{}{}", pick(r), pick(r))
    }
}

/// A valid 18-digit ID number of `county`, born `y-m-d`, sex by the sequence's parity.
pub fn id_number(county: &str, y: i32, m: u32, d: u32, seq: u32, male: bool) -> String {
    let seq = (seq % 500) * 2 + male as u32;
    let first = format!("{county}{y:04}{m:02}{d:02}{seq:03}");
    let c = id_check_char(first.as_bytes());
    format!("{first}{c}")
}

/// A valid 统一社会信用代码 of a company registered in `county`.
pub fn uscc(county: &str, r: &mut Rng) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let body: String = (0..9).map(|_| CHARS[r.below(31)] as char).collect();
    let first = format!("91{county}{body}");
    let c = uscc_check_char(first.as_bytes());
    format!("{first}{c}")
}

/// A village with grids: its code and its name written under its county and township
/// (东昌府区古楼街道古城社区居委会), which no other village shares.
pub struct Village {
    pub code: String,
    pub name: String,
}

pub async fn gridded_villages(db: &Db) -> anyhow::Result<Vec<Village>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT a.code, c.name, t.name, a.name FROM areas a \
         JOIN areas t ON t.code = a.parent_code AND t.valid_to IS NULL \
         JOIN areas c ON c.code = t.parent_code AND c.valid_to IS NULL \
         WHERE a.valid_to IS NULL AND a.level = 'village' \
         AND EXISTS (SELECT 1 FROM grids g WHERE g.village_code = a.code) ORDER BY a.code",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(code, county, town, name)| Village {
            code,
            name: format!("{county}{town}{name}"),
        })
        .collect())
}

/// Writes `n` people as an import CSV: households of 1–5 living at one address each, mostly
/// 户籍人口 of the village's county, some 流动人口 from other provinces.
pub fn write_csv(
    path: &std::path::Path,
    villages: &[Village],
    n: usize,
    seed: u64,
) -> anyhow::Result<usize> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let headers: Vec<&str> = crate::people::import::COLUMNS
        .iter()
        .map(|c| c.header)
        .collect();
    writeln!(f, "{}", headers.join(","))?;
    let mut r = Rng::new(seed);
    let mut written = 0;
    let mut household = 0usize;
    let mut seen = std::collections::HashSet::new();
    let far = ["410102", "130102", "320102", "340102", "420102", "510104"];
    while written < n {
        household += 1;
        let v = &villages[r.below(villages.len())];
        let county = &v.code[..6];
        let address = if r.below(2) == 0 {
            format!(
                "{}{}{}号",
                v.name,
                ROADS[r.below(ROADS.len())],
                1 + r.below(400)
            )
        } else {
            format!(
                "{}{}{}号楼{}单元{}室",
                v.name,
                PLACES[r.below(PLACES.len())],
                1 + r.below(30),
                1 + r.below(6),
                (1 + r.below(18)) * 100 + 1 + r.below(4)
            )
        };
        let hh_no = format!("{household:09}");
        let floating = r.below(10) == 0;
        let size = 1 + r.below(5);
        let head_year = 1940 + r.below(60) as i32;
        for k in 0..size.min(n - written) {
            let male = r.below(2) == 0;
            let (relation, year) = match k {
                0 => ("户主", head_year),
                1 => ("配偶", head_year + r.below(5) as i32 - 2),
                _ => (
                    if male { "子" } else { "女" },
                    (head_year + 22 + r.below(15) as i32).min(2024),
                ),
            };
            let (m, d) = (1 + r.below(12) as u32, 1 + r.below(28) as u32);
            let origin = if floating {
                far[r.below(far.len())]
            } else {
                county
            };
            let mut id = id_number(origin, year, m, d, r.below(500) as u32, male);
            while !seen.insert(id.clone()) {
                id = id_number(origin, year, m, d, r.below(500) as u32, male);
            }
            let phone = if year < 2010 && r.below(10) < 8 {
                format!(
                    "1{}{:09}",
                    [3, 5, 7, 8, 9][r.below(5)],
                    r.next_u64() % 1_000_000_000
                )
            } else {
                String::new()
            };
            let kind = if floating {
                "流动人口"
            } else {
                "户籍人口"
            };
            let nation = if r.below(100) == 0 {
                "回族"
            } else {
                "汉族"
            };
            let marriage = if year < 1998 { "已婚" } else { "未婚" };
            writeln!(
                f,
                "{kind},{},居民身份证,{id},,,{nation},,{marriage},群众,,,,,{phone},{address},,{},{relation},{}",
                name(&mut r),
                if floating {
                    String::new()
                } else {
                    hh_no.clone()
                },
                if floating {
                    "承租"
                } else if k == 0 {
                    "房主自住"
                } else {
                    "居住"
                }
            )?;
            written += 1;
        }
    }
    f.flush()?;
    Ok(written)
}

/// The city administrator as the importer's actor.
pub async fn admin(db: &Db) -> anyhow::Result<CurrentUser> {
    let (id, username, display_name): (String, String, String) =
        sqlx::query_as("SELECT id, username, display_name FROM users WHERE username = 'admin'")
            .fetch_one(&db.pool)
            .await?;
    Ok(CurrentUser {
        id,
        username,
        display_name,
        area: AreaCode::parse("3715")?,
        roles: vec![Role::Admin],
        ip: None,
        department_id: None,
        api_source: None,
    })
}

/// What the demo's base data came to.
pub struct Seeded {
    pub people: usize,
    pub houses: usize,
    pub orgs: usize,
}

/// People (through the importer), a house for every household address, organisations.
pub async fn seed(state: &AppState, people: usize) -> anyhow::Result<Seeded> {
    let db = &state.db;
    let villages = gridded_villages(db).await?;
    anyhow::ensure!(!villages.is_empty(), "演示城市没有网格");
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("people.csv");
    write_csv(&path, &villages, people, 2026)?;
    let user = admin(db).await?;
    let report = crate::people::import::import_file(state, &user, path, true, false)
        .await
        .map_err(|e| anyhow::anyhow!("演示人口导入失败：{e:?}"))?;
    anyhow::ensure!(
        report.failed == 0,
        "演示人口有 {} 行未通过：{:?}",
        report.failed,
        report.errors.first()
    );
    // A house for every address people live at; let when nobody there is its owner.
    let at = now();
    let mut tx = db.begin().await?;
    let houses = sqlx::query(
        "INSERT INTO houses (id, house_no, address_id, area_code, purpose, is_rental, state, version, created_at, updated_at) \
         SELECT a.id, a.id, a.id, a.area_code, '01', \
                CASE WHEN EXISTS (SELECT 1 FROM people p WHERE p.address_id = a.id AND p.residence = 'tenant') THEN 1 ELSE 0 END, \
                'active', 1, $1, $1 FROM addresses a \
         WHERE NOT EXISTS (SELECT 1 FROM houses h WHERE h.address_id = a.id)",
    )
    .bind(&at)
    .execute(&mut *tx)
    .await?
    .rows_affected() as usize;
    sqlx::query("UPDATE houses SET house_no = (SELECT a.village FROM addresses a WHERE a.id = houses.address_id) || substr(houses.id, 25, 12) WHERE house_no = id")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE people SET house_id = address_id WHERE house_id IS NULL AND address_id IS NOT NULL",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE households SET house_id = address_id WHERE house_id IS NULL")
        .execute(&mut *tx)
        .await?;
    // Organisations: a few per village, at one of its addresses.
    let addrs: Vec<(String, String, String)> =
        sqlx::query_as("SELECT MIN(id), village, MIN(area_code) FROM addresses GROUP BY village")
            .fetch_all(&mut *tx)
            .await?;
    let mut r = Rng::new(7);
    let kinds = [
        "商贸有限公司",
        "建材有限公司",
        "食品加工厂",
        "物流有限公司",
        "农业专业合作社",
        "餐饮管理有限公司",
    ];
    let mut orgs = Vec::new();
    for (addr, village, area) in &addrs {
        for _ in 0..3 {
            let social = r.below(5) == 0;
            let base = format!(
                "聊城{}{}",
                name(&mut r).chars().next().unwrap_or('王'),
                ["鑫", "华", "盛", "康", "泰", "隆"][r.below(6)]
            );
            orgs.push(OrgRow {
                id: new_id(),
                kind: if social { "social" } else { "nonpublic" }.into(),
                uscc: Some(uscc(&village[..6], &mut r)),
                name: if social {
                    format!("{base}志愿服务协会")
                } else {
                    format!("{base}{}", kinds[r.below(kinds.len())])
                },
                category: None,
                address_id: Some(addr.clone()),
                area_code: area.clone(),
                phone_enc: None,
                phone_blind: None,
                legal_rep_name: Some(name(&mut r)),
                legal_rep_id_enc: None,
                legal_rep_id_blind: None,
                legal_rep_phone_enc: None,
                employees: Some(3 + r.below(200) as i64),
                extra: None,
                lon: None,
                lat: None,
                state: "active".into(),
                version: 1,
                created_at: at.clone(),
                updated_at: at.clone(),
            });
        }
    }
    crate::orgs::store::insert_orgs(&mut tx, &orgs).await?;
    let grams: Vec<_> = orgs
        .iter()
        .flat_map(|o| crate::records::gram_rows("o", &o.id, &o.area_code, &[&o.name]))
        .collect();
    crate::records::insert_grams(&mut tx, &grams).await?;
    tx.commit().await?;
    Ok(Seeded {
        people: report.created,
        houses,
        orgs: orgs.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use civgrid_core::ids::{IdCardNo, Uscc};

    #[test]
    fn generated_identifiers_are_valid() {
        let mut r = Rng::new(1);
        for i in 0..2000 {
            let id = id_number(
                "371502",
                1950 + (i % 70),
                1 + (i as u32 % 12),
                1 + (i as u32 % 28),
                i as u32,
                i % 2 == 0,
            );
            assert!(IdCardNo::parse(&id).is_ok(), "{id}");
            assert_eq!(
                IdCardNo::parse(&id).unwrap().sex() == civgrid_core::ids::Sex::Male,
                i % 2 == 0
            );
            assert!(Uscc::parse(&uscc("371502", &mut r)).is_ok());
            let n = name(&mut r);
            assert!((2..=3).contains(&n.chars().count()), "{n}");
        }
    }
}
