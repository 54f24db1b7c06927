//! Bulk people: the template (xlsx with drop-downs, or CSV), import with a row-level report
//! (strict: all or nothing; valid-only: the good rows), and export within scope, masked.
//!
//! An import streams: a blocking thread reads the file, checks each row, matches its address
//! and seals its personal data, handing batches to the writer, which stores them in one
//! transaction. Rows are matched by the blind index of their ID number, so importing the
//! same file again changes nothing.

use super::handlers::{history_form, new_row, scope_of, seal_person};
use super::model::*;
use super::store;
use crate::addresses::handlers::{new_row as new_address, search_texts};
use crate::addresses::model::AddressRow;
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm};
use crate::catalog::Dicts;
use crate::db::{new_id, now, prefix_range};
use crate::error::{AppError, AppResult, ErrorBody, Query};
use crate::privacy::Kind;
use crate::records::{self, GramRow};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::Response;
use civgrid_core::address::Gazetteer;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// One column of the people template.
pub struct Col {
    pub header: &'static str,
    pub field: &'static str,
    pub dict: Option<&'static str>,
    pub required: bool,
}

const fn col(
    header: &'static str,
    field: &'static str,
    dict: Option<&'static str>,
    required: bool,
) -> Col {
    Col {
        header,
        field,
        dict,
        required,
    }
}

pub const COLUMNS: [Col; 20] = [
    col("人员类别", "kind", Some("person_kind"), true),
    col("姓名", "name", None, true),
    col("证件类型", "id_type", Some("id_type"), false),
    col("证件号码", "id_no", None, true),
    col("性别", "sex", Some("sex"), false),
    col("出生日期", "birth_date", None, false),
    col("民族", "nation", Some("nation"), false),
    col("籍贯", "native_place", None, false),
    col("婚姻状况", "marriage", Some("marriage"), false),
    col("政治面貌", "party", Some("party"), false),
    col("学历", "education", Some("education"), false),
    col("宗教信仰", "religion", Some("religion"), false),
    col("职业", "occupation", None, false),
    col("服务处所", "employer", None, false),
    col("联系电话", "phone", None, false),
    col("现住地址", "address", None, true),
    col("网格编码", "grid", None, false),
    col("户号", "household_no", None, false),
    col("与户主关系", "relation", Some("relation"), false),
    col("居住方式", "residence", Some("residence"), false),
];

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// xlsx (default) or csv
    pub format: Option<String>,
    /// Export only: area subtree (default the caller's).
    pub area: Option<String>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// strict (default: all or nothing) or valid_only
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowIssue {
    /// Spreadsheet row number (the header is row 1).
    pub row: usize,
    /// Column header.
    pub column: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportReport {
    pub mode: String,
    /// Data rows read.
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Whether anything was written.
    pub written: bool,
    /// Errors (the first 1,000), row by row.
    pub errors: Vec<RowIssue>,
    /// Warnings that did not stop a row (the first 1,000).
    pub warnings: Vec<RowIssue>,
    pub errors_total: usize,
}

fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn attachment(name: &str, mime: &str, body: Body) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename*=UTF-8''{}", urlencode(name)),
        )
        .body(body)
        .expect("static headers")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn is_csv(format: Option<&str>) -> AppResult<bool> {
    match format.unwrap_or("xlsx") {
        "xlsx" => Ok(false),
        "csv" => Ok(true),
        _ => Err(AppError::validation("format", "格式只能是 xlsx 或 csv")),
    }
}

/// The xlsx template: Chinese headers, a drop-down on each coded column (its labels on a
/// hidden 代码表 sheet), and one example row.
pub fn template_xlsx(dicts: &Dicts) -> anyhow::Result<Vec<u8>> {
    use rust_xlsxwriter::{DataValidation, Format, Formula, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let mut lists: Vec<(usize, Vec<String>)> = Vec::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name("实有人口")?;
        for (i, c) in COLUMNS.iter().enumerate() {
            let h = if c.required {
                format!("{}*", c.header)
            } else {
                c.header.to_owned()
            };
            ws.write_string_with_format(0, i as u16, &h, &bold)?;
            ws.set_column_width(i as u16, if c.field == "address" { 40 } else { 14 })?;
            if let Some(d) = c.dict {
                lists.push((i, dicts.labels(d)));
            }
        }
        let example = [
            "户籍人口",
            "张伟",
            "居民身份证",
            "",
            "男性",
            "",
            "汉族",
            "371502",
            "已婚",
            "群众",
            "大学本科教育",
            "无宗教信仰",
            "教师",
            "聊城市实验小学",
            "13806351234",
            "东昌府区古楼街道古城社区光明路12号3号楼2单元301室",
            "",
            "",
            "户主",
            "房主自住",
        ];
        for (i, v) in example.iter().enumerate() {
            ws.write_string(1, i as u16, *v)?;
        }
        for (k, (i, _)) in lists.iter().enumerate() {
            let n = lists[k].1.len().max(1);
            let letter = (b'A' + k as u8) as char;
            let dv = DataValidation::new()
                .allow_list_formula(Formula::new(format!("=代码表!${letter}$1:${letter}${n}")));
            ws.add_data_validation(1, *i as u16, 100_000, *i as u16, &dv)?;
        }
    }
    let codes = wb.add_worksheet();
    codes.set_name("代码表")?;
    for (k, (_, labels)) in lists.iter().enumerate() {
        for (r, l) in labels.iter().enumerate() {
            codes.write_string(r as u32, k as u16, l)?;
        }
    }
    codes.set_hidden(true);
    Ok(wb.save_to_buffer()?)
}

/// The import template of people, xlsx (with drop-downs) or CSV (UTF-8 with BOM).
#[utoipa::path(get, path = "/api/people/template", tag = "people", params(FormatQuery),
    responses((status = 200, description = "模板文件"), (status = 403, body = ErrorBody)))]
pub async fn template(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormatQuery>,
) -> AppResult<Response> {
    user.require_perm(Perm::ImportPeople)?;
    let dicts = state.dicts().await?;
    if is_csv(q.format.as_deref())? {
        let mut s = String::from("\u{feff}");
        s.push_str(
            &COLUMNS
                .iter()
                .map(|c| c.header)
                .collect::<Vec<_>>()
                .join(","),
        );
        s.push_str("\r\n");
        return Ok(attachment(
            "实有人口导入模板.csv",
            "text/csv; charset=utf-8",
            Body::from(s),
        ));
    }
    let bytes = template_xlsx(&dicts)?;
    Ok(attachment("实有人口导入模板.xlsx", XLSX, Body::from(bytes)))
}

/// Rows of an uploaded file: the header first. xlsx cells come as text.
fn open_rows(
    path: &std::path::Path,
    csv: bool,
) -> AppResult<Box<dyn Iterator<Item = Result<Vec<String>, String>> + Send>> {
    if csv {
        let f = std::fs::File::open(path).map_err(|e| AppError::Internal(e.into()))?;
        let r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::BufReader::with_capacity(1 << 20, f));
        return Ok(Box::new(r.into_records().map(|r| {
            r.map(|rec| {
                rec.iter()
                    .map(|s| s.trim_start_matches('\u{feff}').to_owned())
                    .collect()
            })
            .map_err(|e| format!("CSV 格式错误：{e}"))
        })));
    }
    use calamine::{Reader, Xlsx, open_workbook};
    let mut wb: Xlsx<_> = open_workbook(path).map_err(|_| {
        AppError::InvalidImportFile("不是有效的 xlsx 文件（应为 Excel 2007 及以上格式）".into())
    })?;
    let sheet = wb
        .sheet_names()
        .into_iter()
        .find(|n| n == "实有人口")
        .or_else(|| wb.sheet_names().into_iter().next())
        .ok_or_else(|| AppError::InvalidImportFile("文件中没有工作表".into()))?;
    if sheet != "实有人口" {
        return Err(AppError::InvalidImportFile(
            "缺少名为“实有人口”的工作表，请使用下载的模板".into(),
        ));
    }
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| AppError::InvalidImportFile(format!("工作表无法读取：{e}")))?;
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    // Excel serial days from 1899-12-30.
                    calamine::Data::DateTime(d) => chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
                        .and_then(|e| {
                            e.checked_add_days(chrono::Days::new(d.as_f64().max(0.0) as u64))
                        })
                        .map(|t| t.format("%Y-%m-%d").to_string())
                        .unwrap_or_default(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    Ok(Box::new(rows.into_iter().map(Ok)))
}

/// Where each template column sits in the file; wrong headers are an error of the file.
fn header_map(header: &[String]) -> AppResult<Vec<Option<usize>>> {
    let clean: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_end_matches('*').trim().to_owned())
        .collect();
    if let Some(unknown) = clean
        .iter()
        .find(|h| !h.is_empty() && !COLUMNS.iter().any(|c| c.header == h.as_str()))
    {
        return Err(AppError::InvalidImportFile(format!(
            "表头“{unknown}”不是模板中的列，请使用下载的模板"
        )));
    }
    let map: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|c| clean.iter().position(|h| h == c.header))
        .collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .zip(&map)
        .filter(|(c, m)| c.required && m.is_none())
        .map(|(c, _)| c.header)
        .collect();
    if !missing.is_empty() {
        return Err(AppError::InvalidImportFile(format!(
            "缺少必填列：{}",
            missing.join("、")
        )));
    }
    Ok(map)
}

fn header_of(field: &str) -> String {
    COLUMNS
        .iter()
        .find(|c| c.field == field)
        .map(|c| c.header.to_owned())
        .unwrap_or_else(|| field.to_owned())
}

/// What the reading thread needs, loaded before it starts.
struct Context {
    dicts: Arc<Dicts>,
    places: Arc<Gazetteer>,
    counties: Arc<HashSet<String>>,
    vault: crate::privacy::Vault,
    scope: String,
    /// (village, street key) → (address id, grid).
    addresses: HashMap<(String, String), (String, String)>,
    /// village → its first grid; every grid in scope.
    first_grid: HashMap<String, String>,
    grids: HashSet<String>,
    /// 户号 → (id, grid).
    households: HashMap<String, (String, String)>,
    user_id: String,
    today: chrono::NaiveDate,
}

#[derive(Default)]
struct Batch {
    people: Vec<(usize, PersonRow)>,
    addresses: Vec<AddressRow>,
    households: Vec<HouseholdRow>,
    errors: Vec<RowIssue>,
    warnings: Vec<RowIssue>,
    failed: usize,
    rows: usize,
}

const BATCH: usize = 2000;

fn produce(
    mut ctx: Context,
    mut rows: Box<dyn Iterator<Item = Result<Vec<String>, String>> + Send>,
    tx: tokio::sync::mpsc::Sender<AppResult<Batch>>,
) {
    let header = match rows.next() {
        None => {
            let _ = tx.blocking_send(Err(AppError::InvalidImportFile("文件是空的".into())));
            return;
        }
        Some(Err(e)) => {
            let _ = tx.blocking_send(Err(AppError::InvalidImportFile(e)));
            return;
        }
        Some(Ok(h)) => h,
    };
    let map = match header_map(&header) {
        Ok(m) => m,
        Err(e) => {
            let _ = tx.blocking_send(Err(e));
            return;
        }
    };
    let checker = Checker {
        dicts: &ctx.dicts,
        counties: &ctx.counties,
        today: ctx.today,
    };
    let mut seen: HashSet<String> = HashSet::new();
    let mut b = Batch::default();
    let at = now();
    for (i, r) in rows.enumerate() {
        let rownum = i + 2;
        let cells = match r {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.blocking_send(Err(AppError::InvalidImportFile(format!(
                    "第 {rownum} 行：{e}"
                ))));
                return;
            }
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        b.rows += 1;
        let get = |field: &str| -> Option<String> {
            let k = COLUMNS.iter().position(|c| c.field == field)?;
            map[k]
                .and_then(|j| cells.get(j))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let input = PersonInput {
            kind: get("kind").unwrap_or_default(),
            name: get("name").unwrap_or_default(),
            id_type: get("id_type"),
            id_no: get("id_no"),
            sex: get("sex"),
            birth_date: get("birth_date"),
            nation: get("nation"),
            native_place: get("native_place"),
            marriage: get("marriage"),
            party: get("party"),
            education: get("education"),
            religion: get("religion"),
            occupation: get("occupation"),
            employer: get("employer"),
            phone: get("phone"),
            relation: get("relation"),
            residence: get("residence"),
            ..Default::default()
        };
        let mut issues: Vec<RowIssue> = Vec::new();
        let issue = |f: &str, code: &str, m: String| RowIssue {
            row: rownum,
            column: header_of(f),
            code: code.into(),
            message: m,
        };
        let checked = match checker.person(&input, false) {
            Ok(c) => Some(c),
            Err(is) => {
                issues.extend(is.into_iter().map(|x| issue(&x.field, &x.code, x.message)));
                None
            }
        };
        // Address → standard address → grid.
        let grid = get("grid");
        let mut placed: Option<(String, String)> = None;
        if let Some(g) = &grid
            && !ctx.grids.contains(g)
        {
            issues.push(issue(
                "grid",
                "grid_not_found",
                format!("网格“{g}”不存在或不在本辖区"),
            ));
        } else if let Some(text) = get("address") {
            let p = ctx.places.parse(&text);
            let village = p
                .village
                .clone()
                .or_else(|| grid.as_ref().map(|g| g[..12.min(g.len())].to_owned()));
            match village {
                None => issues.push(issue(
                    "address",
                    "address_unplaced",
                    "地址无法定位到社区（村），请写明社区或村名".into(),
                )),
                Some(v) if grid.as_ref().is_some_and(|g| !g.starts_with(&v)) => issues.push(issue(
                    "address",
                    "address_grid_mismatch",
                    "地址所在社区（村）与网格编码不一致".into(),
                )),
                Some(v)
                    if p.road.is_none()
                        && p.place.is_none()
                        && p.number.is_none()
                        && p.building.is_none() =>
                {
                    let _ = v;
                    issues.push(issue(
                        "address",
                        "address_incomplete",
                        "地址缺少街路巷、小区或门牌号".into(),
                    ))
                }
                Some(v) => {
                    let key = (v.clone(), p.street_key());
                    if let Some((id, area)) = ctx.addresses.get(&key) {
                        placed = Some((id.clone(), grid.clone().unwrap_or(area.clone())));
                    } else {
                        let area = grid.clone().or_else(|| ctx.first_grid.get(&v).cloned());
                        match area {
                            Some(area) if area.starts_with(&ctx.scope) => {
                                let row = new_address(&ctx.places, &p, &v, &area, None);
                                ctx.addresses.insert(key, (row.id.clone(), area.clone()));
                                placed = Some((row.id.clone(), area));
                                b.addresses.push(row);
                            }
                            Some(_) => issues.push(issue(
                                "address",
                                "out_of_scope",
                                "地址不在本辖区内".into(),
                            )),
                            None => issues.push(issue(
                                "address",
                                "no_grid",
                                "地址所在社区（村）尚未划分网格".into(),
                            )),
                        }
                    }
                }
            }
        }
        if let Some((_, area)) = &placed
            && !area.starts_with(&ctx.scope)
        {
            issues.push(issue("address", "out_of_scope", "地址不在本辖区内".into()));
        }
        let (Some(c), Some((address_id, area)), true) = (checked, placed, issues.is_empty()) else {
            b.failed += 1;
            b.errors.extend(issues);
            if b.rows >= BATCH && tx.blocking_send(Ok(std::mem::take(&mut b))).is_err() {
                return;
            }
            continue;
        };
        let mut row = new_row(&c, area.clone(), Some(&ctx.user_id), &at);
        row.address_id = Some(address_id.clone());
        seal_person(&ctx.vault, &c, &mut row);
        if let Some(bl) = &row.id_blind
            && !seen.insert(bl.clone())
        {
            b.failed += 1;
            b.errors.push(issue(
                "id_no",
                "duplicate_in_file",
                "证件号码在文件中重复出现".into(),
            ));
            continue;
        }
        if let Some(no) = get("household_no") {
            if no.chars().count() > 9 || !no.chars().all(|c| c.is_ascii_alphanumeric()) {
                b.failed += 1;
                b.errors.push(issue(
                    "household_no",
                    "bad_format",
                    "户号为不超过 9 位的字母或数字".into(),
                ));
                continue;
            }
            let hid = match ctx.households.get(&no) {
                Some((id, _)) => id.clone(),
                None => {
                    let h = HouseholdRow {
                        id: new_id(),
                        household_no: no.clone(),
                        address_id: address_id.clone(),
                        house_id: None,
                        area_code: area.clone(),
                        head_person_id: None,
                        state: "active".into(),
                    };
                    ctx.households.insert(no, (h.id.clone(), area.clone()));
                    let id = h.id.clone();
                    b.households.push(h);
                    id
                }
            };
            row.household_id = Some(hid);
        }
        b.warnings.extend(
            c.warnings
                .into_iter()
                .map(|x| issue(&x.field, &x.code, x.message)),
        );
        b.people.push((rownum, row));
        if b.rows >= BATCH && tx.blocking_send(Ok(std::mem::take(&mut b))).is_err() {
            return;
        }
    }
    let _ = tx.blocking_send(Ok(b));
}

/// Imports people from a file on disk (CSV or xlsx). Strict mode writes nothing when any
/// row fails; valid-only writes the good rows. Used by the API and the benchmark.
pub async fn import_file(
    state: &AppState,
    user: &CurrentUser,
    path: PathBuf,
    csv: bool,
    strict: bool,
) -> AppResult<ImportReport> {
    let scope = user.area.as_str().to_owned();
    let (lo, hi) = prefix_range(&scope);
    let mut c = state.db.read.acquire().await?;
    let addresses = crate::addresses::store::of_villages(&mut c, &scope[..scope.len().min(12)])
        .await?
        .into_iter()
        .map(|(v, k, id, area)| ((v, k), (id, area)))
        .collect();
    let grid_rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT code, village_code FROM grids WHERE code >= $1 AND code < $2 ORDER BY code",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(&mut *c)
    .await?;
    let mut first_grid = HashMap::new();
    for (g, v) in &grid_rows {
        first_grid.entry(v.clone()).or_insert(g.clone());
    }
    let households: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT household_no, id, area_code FROM households WHERE area_code >= $1 AND area_code < $2",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(&mut *c)
    .await?;
    drop(c);
    let ctx = Context {
        dicts: state.dicts().await?,
        places: state.places(),
        counties: state.counties.clone(),
        vault: (*state.vault).clone(),
        scope: scope.clone(),
        addresses,
        first_grid,
        grids: grid_rows.into_iter().map(|(g, _)| g).collect(),
        households: households
            .into_iter()
            .map(|(n, id, a)| (n, (id, a)))
            .collect(),
        user_id: user.id.clone(),
        today: state
            .clock
            .now()
            .with_timezone(&civgrid_core::calendar::cst())
            .date_naive(),
    };
    let rows = open_rows(&path, csv)?;
    let (btx, mut brx) = tokio::sync::mpsc::channel::<AppResult<Batch>>(4);
    let reader = tokio::task::spawn_blocking(move || produce(ctx, rows, btx));
    let mut report = ImportReport {
        mode: if strict { "strict" } else { "valid_only" }.into(),
        ..Default::default()
    };
    let mut tx = state.db.begin().await?;
    // One transaction holds the whole file: on SQLite let its pages stay in memory (up to
    // 4 GiB) rather than spill into the WAL again and again before the commit.
    let sqlite = state.db.backend == crate::db::Backend::Sqlite;
    if sqlite {
        sqlx::query("PRAGMA cache_size = -4194304")
            .execute(&mut *tx)
            .await?;
    }
    let result = write_batches(state, user, &mut tx, &mut brx, &mut report, strict, &scope).await;
    reader.await.map_err(|e| AppError::Internal(e.into()))?;
    let finished = match result {
        Ok(changed) => finish(state, user, tx, &mut report, strict, changed, &scope).await,
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    };
    if sqlite {
        sqlx::query("PRAGMA cache_size = -65536")
            .execute(&state.db.pool)
            .await?;
    }
    finished.map(|()| report)
}

/// Stores the batches the reader hands over; returns whether any household was added.
async fn write_batches(
    state: &AppState,
    user: &CurrentUser,
    tx: &mut crate::db::Tx,
    brx: &mut tokio::sync::mpsc::Receiver<AppResult<Batch>>,
    report: &mut ImportReport,
    strict: bool,
    scope: &str,
) -> AppResult<bool> {
    let at = now();
    let mut changed_households: Vec<String> = Vec::new();
    while let Some(batch) = brx.recv().await {
        let b = batch?;
        report.rows += b.rows;
        report.failed += b.failed;
        report.errors_total += b.errors.len();
        let room = 1000usize.saturating_sub(report.errors.len());
        report.errors.extend(b.errors.into_iter().take(room));
        let room = 1000usize.saturating_sub(report.warnings.len());
        report.warnings.extend(b.warnings.into_iter().take(room));
        if strict && report.failed > 0 {
            continue; // Keep reading to report every error; write nothing more.
        }
        crate::addresses::store::insert_many(tx, &b.addresses).await?;
        let mut grams: Vec<GramRow> = Vec::new();
        let village_names: Vec<String> = b
            .addresses
            .iter()
            .map(|a| {
                state
                    .places()
                    .name_of(&a.village)
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        for (a, vname) in b.addresses.iter().zip(&village_names) {
            let mut texts = search_texts(a);
            texts.push(vname);
            grams.extend(records::gram_rows("a", &a.id, &a.area_code, &texts));
        }
        store::insert_households(tx, &b.households, &at).await?;
        changed_households.extend(b.households.iter().map(|h| h.id.clone()));
        let blinds: Vec<String> = b
            .people
            .iter()
            .filter_map(|(_, p)| p.id_blind.clone())
            .collect();
        let existing: HashMap<String, PersonRow> = store::by_blinds(tx, &blinds)
            .await?
            .into_iter()
            .filter_map(|p| Some((p.id_blind.clone()?, p)))
            .collect();
        let mut fresh: Vec<PersonRow> = Vec::new();
        for (rownum, mut p) in b.people {
            match p.id_blind.as_ref().and_then(|bl| existing.get(bl)) {
                None => fresh.push(p),
                Some(old) => {
                    if !old.area_code.starts_with(scope) {
                        report.failed += 1;
                        report.errors_total += 1;
                        report.errors.push(RowIssue {
                            row: rownum,
                            column: "证件号码".into(),
                            code: "out_of_scope".into(),
                            message: "该人员已登记在本辖区以外".into(),
                        });
                        continue;
                    }
                    p.id = old.id.clone();
                    p.created_by = old.created_by.clone();
                    p.created_at = old.created_at.clone();
                    p.state = old.state.clone();
                    p.household_id = p.household_id.or(old.household_id.clone());
                    p.house_id = old.house_id.clone();
                    p.org_id = old.org_id.clone();
                    p.special_type = old.special_type.clone();
                    p.special = old.special.clone();
                    p.extra = p.extra.or(old.extra.clone());
                    // Same values re-sealed under fresh nonces are no change.
                    p.id_enc = old.id_enc.clone();
                    if state
                        .vault
                        .open(old.phone_enc.as_deref().unwrap_or(""))
                        .ok()
                        .map(|x| state.vault.blind("phone", &x))
                        == p.phone_blind
                    {
                        p.phone_enc = old.phone_enc.clone();
                    }
                    let changes =
                        records::diff(&history_form(state, old), &history_form(state, &p));
                    if changes.is_empty() {
                        report.unchanged += 1;
                        continue;
                    }
                    p.version = old.version + 1;
                    p.updated_at = at.clone();
                    if !store::update_person(tx, &p, old.version).await? {
                        return Err(AppError::Conflict);
                    }
                    if p.name != old.name || p.area_code != old.area_code {
                        records::reindex(
                            tx,
                            "p",
                            &p.id,
                            (&old.area_code, &[&old.name]),
                            (&p.area_code, &[&p.name]),
                        )
                        .await?;
                    }
                    records::write_changes(tx, "person", &p.id, user, &at, &changes).await?;
                    report.updated += 1;
                }
            }
        }
        store::insert_people(tx, &fresh).await?;
        for p in &fresh {
            grams.extend(records::gram_rows("p", &p.id, &p.area_code, &[&p.name]));
        }
        records::insert_grams(tx, &grams).await?;
        report.created += fresh.len();
    }
    Ok(!changed_households.is_empty())
}

/// Commits (or, for a strict import with errors or an import that changed nothing, rolls
/// back) with the heads of households and the audit row.
async fn finish(
    state: &AppState,
    user: &CurrentUser,
    mut tx: crate::db::Tx,
    report: &mut ImportReport,
    strict: bool,
    changed_households: bool,
    scope: &str,
) -> AppResult<()> {
    let _ = state;
    let (lo, hi) = prefix_range(scope);
    if strict && report.failed > 0 {
        tx.rollback().await?;
        report.created = 0;
        report.updated = 0;
        return Err(AppError::ImportRejected(
            serde_json::to_value(&*report).unwrap_or_default(),
        ));
    }
    if report.created + report.updated == 0 && !changed_households {
        tx.rollback().await?;
        return Ok(());
    }
    // Heads of households: the member registered as 户主.
    sqlx::query(
        "UPDATE households SET head_person_id = (SELECT p.id FROM people p WHERE p.household_id = households.id \
         AND p.relation = '02' ORDER BY p.id LIMIT 1) WHERE head_person_id IS NULL AND area_code >= $1 AND area_code < $2",
    )
    .bind(&lo)
    .bind(&hi)
    .execute(&mut *tx)
    .await?;
    audit::write(
        &mut tx,
        Audit::by(user, "people.import", "people", "")
            .area(scope)
            .detail(format!(
                "{}：{} 行，新增 {}，更新 {}，未变 {}，失败 {}",
                report.mode,
                report.rows,
                report.created,
                report.updated,
                report.unchanged,
                report.failed
            )),
    )
    .await?;
    tx.commit().await?;
    report.written = true;
    Ok(())
}

/// Imports people from an uploaded xlsx or CSV file (`file` part), with a row-level report.
/// `mode=strict` (default) writes nothing if any row is wrong; `mode=valid_only` writes the
/// good rows. The same file imported twice changes nothing.
#[utoipa::path(post, path = "/api/people/import", tag = "people", params(ImportQuery),
    request_body(content_type = "multipart/form-data", description = "file: xlsx 或 csv 文件"),
    responses((status = 200, body = ImportReport), (status = 422, body = ErrorBody)))]
pub async fn import_people(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ImportQuery>,
    mut mp: Multipart,
) -> AppResult<axum::Json<ImportReport>> {
    user.require_perm(Perm::ImportPeople)?;
    let strict = match q.mode.as_deref().unwrap_or("strict") {
        "strict" => true,
        "valid_only" => false,
        _ => {
            return Err(AppError::validation(
                "mode",
                "导入方式只能是 strict（全部或全不）或 valid_only（只导入正确的行）",
            ));
        }
    };
    let tmp = tempfile::NamedTempFile::new().map_err(|e| AppError::Internal(e.into()))?;
    let mut name = String::new();
    let mut got = false;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| AppError::InvalidBody(e.body_text()))?
    {
        if field.name() != Some("file") {
            continue;
        }
        name = field.file_name().unwrap_or_default().to_lowercase();
        let mut f = tokio::fs::File::create(tmp.path())
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        use tokio::io::AsyncWriteExt;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| AppError::InvalidBody(e.body_text()))?
        {
            f.write_all(&chunk)
                .await
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        f.flush().await.map_err(|e| AppError::Internal(e.into()))?;
        got = true;
    }
    if !got {
        return Err(AppError::validation("file", "请选择要导入的文件"));
    }
    let head = std::fs::read(tmp.path())
        .map(|b| b.get(..4).map(<[u8]>::to_vec))
        .ok()
        .flatten()
        .unwrap_or_default();
    let csv = match (name.rsplit('.').next(), head.starts_with(b"PK\x03\x04")) {
        (Some("csv"), _) => true,
        (Some("xlsx"), true) => false,
        (Some("xlsx"), false) => {
            return Err(AppError::InvalidImportFile(
                "不是有效的 xlsx 文件（文件内容不是 zip）".into(),
            ));
        }
        _ => {
            return Err(AppError::InvalidImportFile(
                "只支持 .xlsx 和 .csv 文件".into(),
            ));
        }
    };
    let report = import_file(&state, &user, tmp.path().to_owned(), csv, strict).await?;
    Ok(axum::Json(report))
}

/// People in scope as CSV (streamed) or xlsx, ID numbers and phones masked; audited.
#[utoipa::path(get, path = "/api/people/export", tag = "people", params(FormatQuery),
    responses((status = 200, description = "导出文件"), (status = 403, body = ErrorBody)))]
pub async fn export_people(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormatQuery>,
) -> AppResult<Response> {
    user.require_perm(Perm::ImportPeople)?;
    let scope = scope_of(&user, q.area.as_deref())?;
    let csv = is_csv(q.format.as_deref())?;
    let dicts = state.dicts().await?;
    let (lo, hi) = prefix_range(&scope);
    let cols = store::COLS
        .iter()
        .map(|c| format!("p.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut c = state.db.read.acquire().await?;
    let rows: Vec<(PersonRow, Option<String>, Option<String>)> = {
        use futures_util::TryStreamExt;
        let sql = format!(
            "SELECT {cols}, a.full_text AS address_text, h.household_no FROM people p \
             LEFT JOIN addresses a ON a.id = p.address_id LEFT JOIN households h ON h.id = p.household_id \
             WHERE p.area_code >= $1 AND p.area_code < $2 AND p.state = 'active' ORDER BY p.id LIMIT 1000000"
        );
        let mut s = sqlx::query(&sql).bind(&lo).bind(&hi).fetch(&mut *c);
        let mut out = Vec::new();
        use sqlx::{FromRow, Row};
        while let Some(r) = s.try_next().await? {
            out.push((
                PersonRow::from_row(&r)?,
                r.try_get("address_text")?,
                r.try_get("household_no")?,
            ));
        }
        out
    };
    drop(c);
    let mut tx = state.db.begin().await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "people.export", "people", "")
            .area(&scope)
            .detail(format!("{} 行（脱敏）", rows.len())),
    )
    .await?;
    tx.commit().await?;
    let vault = state.vault.clone();
    let cell = move |p: &PersonRow,
                     addr: &Option<String>,
                     hh: &Option<String>,
                     field: &str,
                     dict: Option<&str>|
          -> String {
        let v: Option<String> = match field {
            "kind" => Some(p.kind.clone()),
            "name" => Some(p.name.clone()),
            "id_type" => Some(p.id_type.clone()),
            "id_no" => vault.masked(Kind::Id, &p.id_enc),
            "phone" => vault.masked(Kind::Phone, &p.phone_enc),
            "sex" => p.sex.clone(),
            "birth_date" => p.birth_date.clone(),
            "nation" => p.nation.clone(),
            "native_place" => p.native_place.clone(),
            "marriage" => p.marriage.clone(),
            "party" => p.party.clone(),
            "education" => p.education.clone(),
            "religion" => p.religion.clone(),
            "occupation" => p.occupation.clone(),
            "employer" => p.employer.clone(),
            "address" => addr.clone(),
            "grid" => Some(p.area_code.clone()),
            "household_no" => hh.clone(),
            "relation" => p.relation.clone(),
            "residence" => p.residence.clone(),
            _ => None,
        };
        let v = v.unwrap_or_default();
        match dict {
            Some(d) => dicts.label(d, &v).map(str::to_owned).unwrap_or(v),
            None => v,
        }
    };
    if csv {
        let (txc, rxc) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(8);
        tokio::task::spawn_blocking(move || {
            let mut buf = String::from("\u{feff}");
            buf.push_str(
                &COLUMNS
                    .iter()
                    .map(|c| c.header)
                    .collect::<Vec<_>>()
                    .join(","),
            );
            buf.push_str("\r\n");
            for (p, a, h) in &rows {
                let line: Vec<String> = COLUMNS
                    .iter()
                    .map(|c| csv_escape(&cell(p, a, h, c.field, c.dict)))
                    .collect();
                buf.push_str(&line.join(","));
                buf.push_str("\r\n");
                if buf.len() > 256 * 1024
                    && txc.blocking_send(Ok(std::mem::take(&mut buf))).is_err()
                {
                    return;
                }
            }
            let _ = txc.blocking_send(Ok(buf));
        });
        let stream = tokio_stream_from(rxc);
        return Ok(attachment(
            "实有人口.csv",
            "text/csv; charset=utf-8",
            Body::from_stream(stream),
        ));
    }
    let bytes = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        ws.set_name("实有人口")?;
        for (i, c) in COLUMNS.iter().enumerate() {
            ws.write_string(0, i as u16, c.header)?;
        }
        for (r, (p, a, h)) in rows.iter().enumerate() {
            for (i, c) in COLUMNS.iter().enumerate() {
                ws.write_string(r as u32 + 1, i as u16, cell(p, a, h, c.field, c.dict))?;
            }
        }
        Ok(wb.save_to_buffer()?)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))??;
    Ok(attachment("实有人口.xlsx", XLSX, Body::from(bytes)))
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<String, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<String, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
