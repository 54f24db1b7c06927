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
pub use crate::sheets::{Col, FormatQuery, ImportQuery, ImportReport, RowIssue};
use crate::sheets::{Sheet, col, receive_upload};
use crate::state::AppState;
use axum::extract::{Multipart, State};
use axum::response::Response;
use civgrid_core::address::Gazetteer;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// The people data set as a spreadsheet.
pub static PEOPLE: Sheet = Sheet {
    name: "实有人口",
    columns: &COLUMNS,
    example: &[
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
    ],
};

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

/// The import template of people, xlsx (with drop-downs) or CSV (UTF-8 with BOM).
#[utoipa::path(get, path = "/api/people/template", tag = "people", params(FormatQuery),
    responses((status = 200, description = "模板文件"), (status = 403, body = ErrorBody)))]
pub async fn template(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormatQuery>,
) -> AppResult<Response> {
    user.require_perm(Perm::ImportPeople)?;
    PEOPLE.template(&*state.dicts().await?, q.is_csv()?)
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
    let map = match PEOPLE.header_map(&header) {
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
            column: PEOPLE.header_of(f),
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
    let rows = PEOPLE.open_rows(&path, csv)?;
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
    let strict = q.is_strict()?;
    let (tmp, csv) = receive_upload(&mut mp).await?;
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
    let csv = q.is_csv()?;
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
    let cell = move |(p, addr, hh): &(PersonRow, Option<String>, Option<String>),
                     c: &Col|
          -> Option<String> {
        match c.field {
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
        }
    };
    PEOPLE.export(dicts, rows, cell, csv).await
}
