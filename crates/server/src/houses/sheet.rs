//! Houses in bulk: the template, import with a row-level report (strict or valid-only,
//! idempotent: a row is the house with its 房屋编号, or else the one at its standard
//! address) and export within scope, masked and audited.

use super::handlers::{apply, build, insert};
use super::model::{HouseInput, HouseRow};
use super::store;
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm};
use crate::db::Tx;
use crate::error::{AppError, AppResult, ErrorBody, Query};
use crate::people::handlers::scope_of;
use crate::privacy::Kind;
use crate::records::Issue;
use crate::sheets::{
    Col, Fields, FormatQuery, Import, ImportQuery, ImportReport, Sheet, col, receive_upload,
};
use crate::state::AppState;
use axum::extract::{Multipart, State};
use axum::response::Response;

const COLUMNS: [Col; 14] = [
    col("房屋编号", "house_no", None, false),
    col("房屋地址", "address", None, true),
    col("网格编码", "grid", None, false),
    col("房屋名称", "name", None, false),
    col("建筑用途", "purpose", Some("house_purpose"), false),
    col("房屋用途", "use_type", None, false),
    col("建筑面积", "floor_area", None, false),
    col("隐患类型", "hazard", None, false),
    col("房主姓名", "owner_name", None, false),
    col("房主证件类型", "owner_id_type", Some("id_type"), false),
    col("房主证件号码", "owner_id_no", None, false),
    col("房主联系电话", "owner_phone", None, false),
    col("是否出租", "is_rental", None, false),
    col("经纬度", "lonlat", None, false),
];

/// The houses data set as a spreadsheet.
pub static HOUSES: Sheet = Sheet {
    name: "实有房屋",
    columns: &COLUMNS,
    example: &[
        "",
        "东昌府区古楼街道古城社区光明路12号3号楼2单元301室",
        "",
        "",
        "住宅",
        "自住",
        "89.5",
        "",
        "王芳",
        "居民身份证",
        "",
        "13806351234",
        "否",
        "",
    ],
};

/// One row as the input of the form; cells that are not text are checked here.
fn input(f: &Fields) -> Result<HouseInput, AppError> {
    let get = |k: &str| f.get(k).cloned();
    let mut is = Vec::new();
    let floor_area = f.get("floor_area").and_then(|v| {
        let a = v.parse::<f64>().ok();
        if a.is_none() {
            is.push(Issue::new(
                "floor_area",
                "not_a_number",
                "建筑面积应为数字（平方米）",
            ));
        }
        a
    });
    let is_rental = match f.get("is_rental").map(String::as_str) {
        None | Some("否") | Some("0") => false,
        Some("是") | Some("1") => true,
        Some(_) => {
            is.push(Issue::new(
                "is_rental",
                "not_a_choice",
                "是否出租应填“是”或“否”",
            ));
            false
        }
    };
    let (lon, lat) = match f.get("lonlat") {
        Some(v) => {
            let mut it = v.split([',', '，', ' ']).filter(|s| !s.is_empty());
            match (
                it.next().and_then(|x| x.parse::<f64>().ok()),
                it.next().and_then(|y| y.parse::<f64>().ok()),
            ) {
                (Some(x), Some(y))
                    if (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y) =>
                {
                    (Some(x), Some(y))
                }
                _ => {
                    is.push(Issue::new(
                        "lonlat",
                        "bad_point",
                        "经纬度应写作“经度,纬度”，如 115.98,36.45",
                    ));
                    (None, None)
                }
            }
        }
        None => (None, None),
    };
    if !is.is_empty() {
        return Err(AppError::Invalid(is));
    }
    Ok(HouseInput {
        id: None,
        house_no: get("house_no"),
        address: get("address"),
        address_id: None,
        grid: get("grid"),
        name: get("name"),
        purpose: get("purpose"),
        use_type: get("use_type"),
        floor_area,
        hazard: get("hazard"),
        owner_name: get("owner_name"),
        owner_id_type: get("owner_id_type"),
        owner_id_no: get("owner_id_no"),
        owner_phone: get("owner_phone"),
        is_rental,
        lon,
        lat,
        version: None,
    })
}

/// The import template of houses, xlsx (with drop-downs) or CSV (UTF-8 with BOM).
#[utoipa::path(get, path = "/api/houses/template", tag = "houses", params(FormatQuery),
    responses((status = 200, description = "模板文件"), (status = 403, body = ErrorBody)))]
pub async fn house_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormatQuery>,
) -> AppResult<Response> {
    user.require_perm(Perm::ImportPeople)?;
    HOUSES.template(&*state.dicts().await?, q.is_csv()?)
}

/// Imports houses from an uploaded xlsx or CSV file (`file` part), with a row-level report.
/// `mode=strict` (default) writes nothing if any row is wrong; `mode=valid_only` writes the
/// good rows. A row is matched to the house with its 房屋编号, or else to the house at its
/// standard address, so the same file imported twice changes nothing.
#[utoipa::path(post, path = "/api/houses/import", tag = "houses", params(ImportQuery),
    request_body(content_type = "multipart/form-data", description = "file: xlsx 或 csv 文件"),
    responses((status = 200, body = ImportReport), (status = 422, body = ErrorBody)))]
pub async fn import_houses(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ImportQuery>,
    mut mp: Multipart,
) -> AppResult<axum::Json<ImportReport>> {
    user.require_perm(Perm::ImportPeople)?;
    let strict = q.is_strict()?;
    let (tmp, csv) = receive_upload(&mut mp).await?;
    let (mut imp, rows) = Import::start(&state, &HOUSES, tmp.path(), csv, strict).await?;
    for (n, f) in rows {
        imp.savepoint().await?;
        let done = house_row(&state, &user, &mut imp.tx, &f).await;
        imp.settle(n, done).await?;
    }
    let report = imp.finish(&user).await?;
    Ok(axum::Json(report))
}

/// Houses in scope as CSV (streamed) or xlsx, the owner's ID number and phone masked; audited.
#[utoipa::path(get, path = "/api/houses/export", tag = "houses", params(FormatQuery),
    responses((status = 200, description = "导出文件"), (status = 403, body = ErrorBody)))]
pub async fn export_houses(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormatQuery>,
) -> AppResult<Response> {
    user.require_perm(Perm::ImportPeople)?;
    let scope = scope_of(&user, q.area.as_deref())?;
    let csv = q.is_csv()?;
    let mut c = state.db.read.acquire().await?;
    let rows = store::in_scope(&mut c, &scope).await?;
    drop(c);
    let mut tx = state.db.begin().await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "houses.export", "houses", "")
            .area(&scope)
            .detail(format!("{} 行（脱敏）", rows.len())),
    )
    .await?;
    tx.commit().await?;
    let vault = state.vault.clone();
    let cell = move |(h, addr): &(HouseRow, Option<String>), c: &Col| -> Option<String> {
        match c.field {
            "house_no" => Some(h.house_no.clone()),
            "address" => addr.clone(),
            "grid" => Some(h.area_code.clone()),
            "name" => h.name.clone(),
            "purpose" => h.purpose.clone(),
            "use_type" => h.use_type.clone(),
            "floor_area" => h.floor_area.map(|a| a.to_string()),
            "hazard" => h.hazard.clone(),
            "owner_name" => h.owner_name.clone(),
            "owner_id_type" => h.owner_id_type.clone(),
            "owner_id_no" => vault.masked(Kind::Id, &h.owner_id_enc),
            "owner_phone" => vault.masked(Kind::Phone, &h.owner_phone_enc),
            "is_rental" => Some(if h.is_rental != 0 { "是" } else { "否" }.into()),
            "lonlat" => h.lon.zip(h.lat).map(|(x, y)| format!("{x},{y}")),
            _ => None,
        }
    };
    HOUSES.export(state.dicts().await?, rows, cell, csv).await
}

/// Stores one row: `None` when it created a record, `Some(changed)` when it matched one.
async fn house_row(
    state: &AppState,
    user: &CurrentUser,
    tx: &mut Tx,
    f: &Fields,
) -> AppResult<Option<bool>> {
    let b = input(f)?;
    let fresh = build(state, user, tx, &b, None).await?;
    let given = b.house_no.as_deref().map(str::trim);
    match store::matching(tx, given, &fresh.address_id).await? {
        Some(old) => {
            if !old.area_code.starts_with(user.area.as_str()) {
                return Err(AppError::OutOfScope);
            }
            let h = build(state, user, tx, &b, Some(&old)).await?;
            Ok(Some(apply(&state.vault, tx, user, &old, &h).await?))
        }
        None => {
            insert(tx, user, &fresh).await?;
            Ok(None)
        }
    }
}
