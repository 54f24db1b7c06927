//! Organisations in bulk: the template, import with a row-level report (strict or
//! valid-only, idempotent: a row is the organisation with its 统一社会信用代码, or else the one
//! of that name at its standard address) and export within scope, masked and audited.

use super::handlers::{apply, build, insert};
use super::model::{OrgInput, OrgRow};
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

const COLUMNS: [Col; 10] = [
    col("组织类别", "kind", Some("org_kind"), true),
    col("组织名称", "name", None, true),
    col("统一社会信用代码", "uscc", None, false),
    col("组织类型", "category", None, false),
    col("组织地址", "address", None, true),
    col("网格编码", "grid", None, false),
    col("联系电话", "phone", None, false),
    col("法定代表人", "legal_rep_name", None, false),
    col("法定代表人联系电话", "legal_rep_phone", None, false),
    col("从业人数", "employees", None, false),
];

/// The organisations data set as a spreadsheet.
pub static ORGS: Sheet = Sheet {
    name: "组织",
    columns: &COLUMNS,
    example: &[
        "非公有制经济组织",
        "聊城市古楼商贸有限公司",
        "",
        "有限责任公司",
        "东昌府区古楼街道古城社区光明路12号",
        "",
        "06358881234",
        "李强",
        "13806351234",
        "12",
    ],
};

/// One row as the input of the form; cells that are not text are checked here.
fn input(f: &Fields) -> Result<OrgInput, AppError> {
    let get = |k: &str| f.get(k).cloned();
    let employees = match f.get("employees") {
        Some(v) => Some(v.parse::<i64>().map_err(|_| {
            AppError::Invalid(vec![Issue::new(
                "employees",
                "not_a_number",
                "从业人数应为整数",
            )])
        })?),
        None => None,
    };
    Ok(OrgInput {
        kind: get("kind").unwrap_or_default(),
        uscc: get("uscc"),
        name: get("name").unwrap_or_default(),
        category: get("category"),
        address: get("address"),
        grid: get("grid"),
        phone: get("phone"),
        legal_rep_name: get("legal_rep_name"),
        legal_rep_phone: get("legal_rep_phone"),
        employees,
        ..OrgInput::default()
    })
}

/// The import template of organisations, xlsx (with drop-downs) or CSV (UTF-8 with BOM).
#[utoipa::path(get, path = "/api/orgs/template", tag = "orgs", params(FormatQuery),
    responses((status = 200, description = "模板文件"), (status = 403, body = ErrorBody)))]
pub async fn org_template(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<FormatQuery>,
) -> AppResult<Response> {
    user.require_perm(Perm::ImportPeople)?;
    ORGS.template(&*state.dicts().await?, q.is_csv()?)
}

/// Imports organisations from an uploaded xlsx or CSV file (`file` part), with a row-level
/// report. `mode=strict` (default) writes nothing if any row is wrong; `mode=valid_only`
/// writes the good rows. A row is matched by its 统一社会信用代码, or else by name at the
/// same standard address, so the same file imported twice changes nothing.
#[utoipa::path(post, path = "/api/orgs/import", tag = "orgs", params(ImportQuery),
    request_body(content_type = "multipart/form-data", description = "file: xlsx 或 csv 文件"),
    responses((status = 200, body = ImportReport), (status = 422, body = ErrorBody)))]
pub async fn import_orgs(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ImportQuery>,
    mut mp: Multipart,
) -> AppResult<axum::Json<ImportReport>> {
    user.require_perm(Perm::ImportPeople)?;
    let strict = q.is_strict()?;
    let (tmp, csv) = receive_upload(&mut mp).await?;
    let (mut imp, rows) = Import::start(&state, &ORGS, tmp.path(), csv, strict).await?;
    for (n, f) in rows {
        imp.savepoint().await?;
        let done = org_row(&state, &user, &mut imp.tx, &f).await;
        imp.settle(n, done).await?;
    }
    let report = imp.finish(&user).await?;
    Ok(axum::Json(report))
}

/// Organisations in scope as CSV (streamed) or xlsx, phones masked; audited.
#[utoipa::path(get, path = "/api/orgs/export", tag = "orgs", params(FormatQuery),
    responses((status = 200, description = "导出文件"), (status = 403, body = ErrorBody)))]
pub async fn export_orgs(
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
        Audit::by(&user, "orgs.export", "orgs", "")
            .area(&scope)
            .detail(format!("{} 行（脱敏）", rows.len())),
    )
    .await?;
    tx.commit().await?;
    let vault = state.vault.clone();
    let cell = move |(o, addr): &(OrgRow, Option<String>), c: &Col| -> Option<String> {
        match c.field {
            "kind" => Some(o.kind.clone()),
            "name" => Some(o.name.clone()),
            "uscc" => o.uscc.clone(),
            "category" => o.category.clone(),
            "address" => addr.clone(),
            "grid" => Some(o.area_code.clone()),
            "phone" => vault.masked(Kind::Phone, &o.phone_enc),
            "legal_rep_name" => o.legal_rep_name.clone(),
            "legal_rep_phone" => vault.masked(Kind::Phone, &o.legal_rep_phone_enc),
            "employees" => o.employees.map(|n| n.to_string()),
            _ => None,
        }
    };
    ORGS.export(state.dicts().await?, rows, cell, csv).await
}

/// Stores one row: `None` when it created a record, `Some(changed)` when it matched one.
async fn org_row(
    state: &AppState,
    user: &CurrentUser,
    tx: &mut Tx,
    f: &Fields,
) -> AppResult<Option<bool>> {
    let b = input(f)?;
    let fresh = build(state, user, tx, &b, None).await?;
    let found = store::matching(
        tx,
        fresh.uscc.as_deref(),
        &fresh.name,
        fresh.address_id.as_deref(),
    )
    .await?;
    match found {
        Some(old) => {
            if !old.area_code.starts_with(user.area.as_str()) {
                return Err(AppError::OutOfScope);
            }
            let o = build(state, user, tx, &b, Some(&old)).await?;
            Ok(Some(apply(&state.vault, tx, user, &old, &o).await?))
        }
        None => {
            insert(tx, user, &fresh).await?;
            Ok(None)
        }
    }
}
