//! `civgrid import divisions`: loads the NBS statistical-division CSVs in the layout of npm
//! `china-division` (`provinces.csv`, `cities.csv`, `areas.csv`, `streets.csv`,
//! `villages.csv`), for the whole country or a code prefix, and keeps history: codes that a
//! newer year renames, moves or drops are end-dated, never deleted.

use super::store::{self, NewArea};
use crate::audit::{self, Audit};
use crate::db::Db;
use civgrid_core::{AreaCode, Level};
use std::collections::HashSet;
use std::path::Path;

/// The files, the level each holds, and the column that names the parent.
const FILES: &[(&str, Level, Option<&str>)] = &[
    ("provinces.csv", Level::Province, None),
    ("cities.csv", Level::City, Some("provinceCode")),
    ("areas.csv", Level::County, Some("cityCode")),
    ("streets.csv", Level::Township, Some("areaCode")),
    ("villages.csv", Level::Village, Some("streetCode")),
];

#[derive(Debug, Clone, serde::Serialize)]
pub struct RowError {
    pub file: String,
    pub line: u64,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub read: usize,
    pub valid: usize,
    pub invalid: usize,
    pub inserted: usize,
    pub renamed: usize,
    pub ended: usize,
    pub unchanged: usize,
    pub errors: Vec<RowError>,
    /// True when `--strict` refused the whole file set.
    pub refused: bool,
}

/// Where the five CSV files come from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Dir(&'a Path),
    /// (file name, content) pairs compiled into the binary.
    Embedded(&'a [(&'a str, &'a str)]),
}

/// 聊城市 (3715) from china-division 2.7.0 (NBS 2023), for the demo and the tests.
pub const LIAOCHENG: &[(&str, &str)] = &[
    (
        "provinces.csv",
        include_str!("../../fixtures/liaocheng/provinces.csv"),
    ),
    (
        "cities.csv",
        include_str!("../../fixtures/liaocheng/cities.csv"),
    ),
    (
        "areas.csv",
        include_str!("../../fixtures/liaocheng/areas.csv"),
    ),
    (
        "streets.csv",
        include_str!("../../fixtures/liaocheng/streets.csv"),
    ),
    (
        "villages.csv",
        include_str!("../../fixtures/liaocheng/villages.csv"),
    ),
];

impl Source<'_> {
    fn open(&self, file: &str) -> anyhow::Result<Box<dyn std::io::Read + '_>> {
        match self {
            Source::Dir(dir) => {
                let path = dir.join(file);
                let f = std::fs::File::open(&path)
                    .map_err(|e| anyhow::anyhow!("无法读取 {}：{e}", path.display()))?;
                Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, f)))
            }
            Source::Embedded(files) => {
                let (_, content) = files
                    .iter()
                    .find(|(n, _)| *n == file)
                    .ok_or_else(|| anyhow::anyhow!("缺少文件 {file}"))?;
                Ok(Box::new(content.as_bytes()))
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Only this code's subtree (and its ancestors), e.g. `3715` for 聊城市.
    pub within: Option<AreaCode>,
    /// Import nothing when any row is bad.
    pub strict: bool,
    /// The division year of the files (NBS 2023 for china-division 2.7.0).
    pub year: i64,
}

struct Parsed {
    file: &'static str,
    line: u64,
    code: String,
    name: String,
    level: Level,
    parent: Option<String>,
}

/// Reads and checks every row; returns the valid rows and every code named.
fn read_rows(
    src: Source<'_>,
    opts: &Options,
    report: &mut Report,
) -> anyhow::Result<(Vec<Parsed>, HashSet<String>)> {
    let within = opts
        .within
        .as_ref()
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default();
    let in_scope = |code: &str| code.starts_with(&within) || within.starts_with(code);
    let mut rows: Vec<Parsed> = Vec::new();
    // Every code named in the files, good or bad: a second row with the same code is a
    // duplicate, and codes in none of the rows are the abolished ones.
    let mut seen: HashSet<String> = HashSet::with_capacity(1 << 20);
    for &(file, level, parent_col) in FILES {
        let mut rdr = csv::ReaderBuilder::new().from_reader(src.open(file)?);
        let headers = rdr.byte_headers()?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name.as_bytes());
        let (Some(code_i), Some(name_i)) = (col("code"), col("name")) else {
            anyhow::bail!("{file} 缺少 code 或 name 列");
        };
        let parent_i = match parent_col {
            Some(p) => Some(col(p).ok_or_else(|| anyhow::anyhow!("{file} 缺少 {p} 列"))?),
            None => None,
        };
        let mut rec = csv::ByteRecord::new();
        loop {
            let line = rdr.position().line();
            match rdr.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    report.read += 1;
                    push_err(
                        report,
                        file,
                        line,
                        "malformed_row",
                        format!("无法解析该行：{e}"),
                    );
                    continue;
                }
            }
            let line = rec.position().map(|p| p.line()).unwrap_or(line);
            let raw_code = rec.get(code_i).unwrap_or_default();
            let code_str = String::from_utf8_lossy(raw_code).trim().to_owned();
            if !in_scope(&code_str) {
                continue;
            }
            report.read += 1;
            if !seen.insert(code_str.clone()) {
                push_err(
                    report,
                    file,
                    line,
                    "duplicate_code",
                    format!("代码重复：{code_str}"),
                );
                continue;
            }
            let err = |code: &'static str, msg: String| (code, msg);
            let result = (|| {
                let name = std::str::from_utf8(rec.get(name_i).unwrap_or_default())
                    .map_err(|_| err("bad_encoding", "名称不是有效的 UTF-8 编码".into()))?
                    .trim()
                    .to_owned();
                if code_str.len() != level.code_len() {
                    return Err(err(
                        "bad_code_length",
                        format!(
                            "{}代码应为 {} 位：{code_str}",
                            level.label(),
                            level.code_len()
                        ),
                    ));
                }
                let code = AreaCode::parse(&code_str)
                    .map_err(|e| err("bad_code", format!("区划代码无效：{code_str}（{e}）")))?;
                if name.is_empty() {
                    return Err(err("empty_name", "名称为空".into()));
                }
                let parent = code.parent().map(|p| p.as_str().to_owned());
                if let (Some(pi), Some(p)) = (parent_i, &parent) {
                    let stated = String::from_utf8_lossy(rec.get(pi).unwrap_or_default())
                        .trim()
                        .to_owned();
                    if &stated != p {
                        return Err(err(
                            "parent_mismatch",
                            format!("上级代码 {stated} 与代码 {code_str} 不符"),
                        ));
                    }
                }
                Ok(Parsed {
                    file,
                    line,
                    code: code.as_str().to_owned(),
                    name,
                    level,
                    parent,
                })
            })();
            match result {
                Ok(p) => rows.push(p),
                Err((code, msg)) => push_err(report, file, line, code, msg),
            }
        }
    }
    Ok((rows, seen))
}

fn push_err(report: &mut Report, file: &str, line: u64, code: &'static str, message: String) {
    report.invalid += 1;
    report.errors.push(RowError {
        file: file.to_owned(),
        line,
        code,
        message,
    });
}

/// Runs an import. Writes nothing when nothing changed, or (with `strict`) when a row is bad.
pub async fn import(db: &Db, src: Source<'_>, opts: &Options) -> anyhow::Result<Report> {
    let mut report = Report::default();
    if let Some(newest) = store::newest_year(&db.pool).await?
        && opts.year < newest
    {
        anyhow::bail!(
            "库中已有 {newest} 年的区划数据，不能导入更早的 {} 年数据",
            opts.year
        );
    }
    let (rows, seen) = read_rows(src, opts, &mut report)?;
    let prefix = opts
        .within
        .as_ref()
        .map(|c| c.as_str().to_owned())
        .unwrap_or_default();
    let current = store::current_in(&db.pool, &prefix).await?;

    // Parents must exist: in this file set or already in the database. Files are read top
    // down, so a parent row always comes before its children.
    let mut known: HashSet<&str> = current.keys().map(String::as_str).collect();
    let mut accepted: Vec<&Parsed> = Vec::with_capacity(rows.len());
    let mut orphans = Vec::new();
    for r in &rows {
        match &r.parent {
            Some(p) if !known.contains(p.as_str()) => orphans.push(r),
            _ => {
                known.insert(&r.code);
                accepted.push(r);
            }
        }
    }
    for r in orphans {
        report.invalid += 1;
        report.errors.push(RowError {
            file: r.file.to_owned(),
            line: r.line,
            code: "unknown_parent",
            message: format!(
                "{} {} 的上级 {} 不存在",
                r.code,
                r.name,
                r.parent.as_deref().unwrap_or("")
            ),
        });
    }
    report.valid = accepted.len();
    if opts.strict && !report.errors.is_empty() {
        report.refused = true;
        return Ok(report);
    }

    let mut inserts: Vec<NewArea> = Vec::new();
    let mut updates: Vec<NewArea> = Vec::new();
    let mut ends: Vec<&str> = Vec::new();
    for r in &accepted {
        let new = NewArea {
            code: &r.code,
            name: &r.name,
            level: r.level.as_str(),
            parent_code: r.parent.as_deref(),
        };
        match current.get(&r.code) {
            None => inserts.push(new),
            Some(cur) if cur.name == r.name && cur.parent_code == r.parent => report.unchanged += 1,
            Some(cur) if cur.valid_from == opts.year => updates.push(new),
            Some(_) => {
                ends.push(&r.code);
                inserts.push(new);
                report.renamed += 1;
            }
        }
    }
    // Codes in scope that the new files no longer name are abolished.
    let abolished: Vec<&str> = current
        .keys()
        .filter(|c| c.starts_with(&prefix) && !seen.contains(*c))
        .map(String::as_str)
        .collect();
    report.ended = abolished.len();
    report.inserted = inserts.len() - report.renamed;
    if inserts.is_empty() && updates.is_empty() && abolished.is_empty() {
        return Ok(report);
    }
    let mut tx = db.begin().await?;
    for code in ends.iter().chain(&abolished) {
        store::end_area(&mut tx, code, opts.year).await?;
    }
    for u in &updates {
        store::update_area(&mut tx, u).await?;
    }
    store::insert_areas(&mut tx, &inserts, opts.year).await?;
    audit::write(
        &mut tx,
        Audit {
            action: "import_divisions",
            object_type: "areas",
            object_id: if prefix.is_empty() {
                "全国".into()
            } else {
                prefix.clone()
            },
            result: "success",
            username: Some("cli".into()),
            detail: Some(format!(
                "year={} inserted={} renamed={} ended={} corrected={}",
                opts.year,
                report.inserted,
                report.renamed,
                report.ended,
                updates.len()
            )),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}
