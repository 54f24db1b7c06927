//! HTTP handlers of organisations.

use super::model::*;
use super::store;
use crate::addresses;
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm};
use crate::db::{is_unique_violation, new_id, now};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::houses::handlers::check_owner;
use crate::people::handlers::{scope_of, unmask_reason};
use crate::people::model::{UnmaskRequest, Unmasked};
use crate::privacy::{Kind, Vault};
use crate::records::{self, Change, ChangeRow, Issue};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use civgrid_core::ids::Uscc;

pub fn view(vault: &Vault, o: &OrgRow, address: Option<String>) -> OrgView {
    OrgView {
        id: o.id.clone(),
        kind: o.kind.clone(),
        uscc: o.uscc.clone(),
        name: o.name.clone(),
        category: o.category.clone(),
        address_id: o.address_id.clone(),
        address,
        area_code: o.area_code.clone(),
        phone: vault.masked(Kind::Phone, &o.phone_enc),
        legal_rep_name: o.legal_rep_name.clone(),
        legal_rep_id_no: vault.masked(Kind::Id, &o.legal_rep_id_enc),
        legal_rep_phone: vault.masked(Kind::Phone, &o.legal_rep_phone_enc),
        employees: o.employees,
        extra: o
            .extra
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
        lon: o.lon,
        lat: o.lat,
        state: o.state.clone(),
        version: o.version,
        created_at: o.created_at.clone(),
        updated_at: o.updated_at.clone(),
    }
}

pub(super) async fn build(
    state: &AppState,
    user: &CurrentUser,
    tx: &mut crate::db::Tx,
    b: &OrgInput,
    old: Option<&OrgRow>,
) -> AppResult<OrgRow> {
    let dicts = state.dicts().await?;
    let mut is = Vec::new();
    let kind = match dicts.code_of("org_kind", b.kind.trim()) {
        Some(k) => k.to_owned(),
        None => {
            is.push(Issue::new(
                "kind",
                "unknown_code",
                "组织类别应为 非公有制经济组织 或 社会组织",
            ));
            String::new()
        }
    };
    let name = b.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        is.push(Issue::new(
            "name",
            "required",
            "请填写组织名称（不超过 100 个字）",
        ));
    }
    let uscc = match b.uscc.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(u) => match Uscc::parse(u) {
            Ok(u) => Some(u.as_str().to_owned()),
            Err(e) => {
                is.push(Issue::new("uscc", "uscc_invalid", e.to_string()));
                None
            }
        },
        None => None,
    };
    let (_, phone) = check_owner(&mut is, "", "111", None, "phone", b.phone.as_deref());
    let (rep_id, rep_phone) = check_owner(
        &mut is,
        "legal_rep_id_no",
        "111",
        b.legal_rep_id_no.as_deref(),
        "legal_rep_phone",
        b.legal_rep_phone.as_deref(),
    );
    if let Some(n) = b.employees
        && !(0..=10_000_000).contains(&n)
    {
        is.push(Issue::new("employees", "out_of_range", "员工数不正确"));
    }
    let extra = match &b.extra {
        None | Some(serde_json::Value::Null) => None,
        Some(v @ serde_json::Value::Object(_)) => Some(v.to_string()),
        Some(_) => {
            is.push(Issue::new("extra", "bad_object", "其他信息应为字段对象"));
            None
        }
    };
    if !is.is_empty() {
        return Err(AppError::Invalid(is));
    }
    let grid = b.grid.as_deref().map(str::trim).filter(|g| !g.is_empty());
    if let Some(g) = grid {
        crate::areas::store::grid_exists(tx, g)
            .await?
            .ok_or(AppError::GridNotFound)?;
    }
    let pt = b.lon.zip(b.lat);
    let typed = b
        .address
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let known = b
        .address_id
        .clone()
        .or(old.and_then(|o| o.address_id.clone()));
    let address = match (typed, known) {
        (Some(text), _) => addresses::resolve(state, tx, text, grid, pt).await?,
        (None, Some(id)) => addresses::store::get(tx, &id)
            .await?
            .ok_or(AppError::RecordNotFound("address"))?,
        (None, None) => {
            return Err(AppError::Invalid(vec![Issue::new(
                "address",
                "required",
                "请填写组织地址",
            )]));
        }
    };
    let area_code = grid.map(str::to_owned).unwrap_or(address.area_code.clone());
    user.require_scope(
        &civgrid_core::AreaCode::parse(&area_code).map_err(|_| AppError::InvalidAreaCode)?,
    )?;
    let vault = &state.vault;
    let at = now();
    let given = |v: &Option<String>| v.is_some();
    Ok(OrgRow {
        id: old.map(|o| o.id.clone()).unwrap_or_else(new_id),
        kind,
        uscc,
        name,
        category: b
            .category
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        address_id: Some(address.id.clone()),
        area_code,
        phone_enc: if given(&b.phone) {
            phone.as_deref().map(|p| vault.seal(p))
        } else {
            old.and_then(|o| o.phone_enc.clone())
        },
        phone_blind: if given(&b.phone) {
            phone.as_deref().map(|p| vault.blind("phone", p))
        } else {
            old.and_then(|o| o.phone_blind.clone())
        },
        legal_rep_name: b
            .legal_rep_name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        // Absent keeps the stored number; sent empty removes it.
        legal_rep_id_enc: match (&rep_id, old) {
            (Some(v), _) => Some(vault.seal(v)),
            (None, Some(o)) if !given(&b.legal_rep_id_no) => o.legal_rep_id_enc.clone(),
            _ => None,
        },
        legal_rep_id_blind: match (&rep_id, old) {
            (Some(v), _) => Some(vault.blind("id", &format!("111:{v}"))),
            (None, Some(o)) if !given(&b.legal_rep_id_no) => o.legal_rep_id_blind.clone(),
            _ => None,
        },
        legal_rep_phone_enc: if given(&b.legal_rep_phone) {
            rep_phone.as_deref().map(|p| vault.seal(p))
        } else {
            old.and_then(|o| o.legal_rep_phone_enc.clone())
        },
        employees: b.employees,
        extra,
        lon: b.lon.or(address.lon).or(old.and_then(|o| o.lon)),
        lat: b.lat.or(address.lat).or(old.and_then(|o| o.lat)),
        state: old
            .map(|o| o.state.clone())
            .unwrap_or_else(|| "active".into()),
        version: old.map(|o| o.version + 1).unwrap_or(1),
        created_at: old.map(|o| o.created_at.clone()).unwrap_or(at.clone()),
        updated_at: at,
    })
}

fn duplicate_uscc(e: sqlx::Error) -> AppError {
    if is_unique_violation(&e) {
        AppError::Invalid(vec![Issue::new(
            "uscc",
            "duplicate",
            "该统一社会信用代码已登记",
        )])
    } else {
        e.into()
    }
}

pub(super) async fn address_text(
    c: &mut sqlx::AnyConnection,
    id: &Option<String>,
) -> AppResult<Option<String>> {
    Ok(match id {
        Some(a) => addresses::store::get(c, a).await?.map(|a| a.full_text),
        None => None,
    })
}

fn history_form(vault: &Vault, o: &OrgRow) -> serde_json::Value {
    let mut v = serde_json::to_value(view(vault, o, None)).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        for k in ["id", "version", "created_at", "updated_at", "address"] {
            m.remove(k);
        }
    }
    v
}

/// Registers an organisation.
#[utoipa::path(post, path = "/api/orgs", tag = "orgs", request_body = OrgInput,
    responses((status = 201, body = OrgView), (status = 200, description = "同一编号再次提交，返回已登记的组织", body = OrgView),
        (status = 422, body = ErrorBody)))]
pub async fn create_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<OrgInput>,
) -> AppResult<(StatusCode, Json<OrgView>)> {
    user.require_perm(Perm::EditPeople)?;
    let client_id = records::client_id(b.id.as_deref())?;
    if let Some(id) = &client_id {
        let mut c = state.db.read.acquire().await?;
        if let Some(old) = store::get(&mut c, id).await? {
            if !old.area_code.starts_with(user.area.as_str()) {
                return Err(AppError::Conflict);
            }
            let address = address_text(&mut c, &old.address_id).await?;
            return Ok((StatusCode::OK, Json(view(&state.vault, &old, address))));
        }
    }
    let mut tx = state.db.begin().await?;
    let mut o = build(&state, &user, &mut tx, &b, None).await?;
    if let Some(id) = client_id {
        o.id = id;
    }
    insert(&mut tx, &user, &o).await?;
    tx.commit().await?;
    let mut c = state.db.read.acquire().await?;
    let address = address_text(&mut c, &o.address_id).await?;
    Ok((StatusCode::CREATED, Json(view(&state.vault, &o, address))))
}

/// Stores a new organisation with its search grams, first history line and audit row.
pub(super) async fn insert(
    tx: &mut crate::db::Tx,
    user: &CurrentUser,
    o: &OrgRow,
) -> AppResult<()> {
    store::insert_orgs(tx, std::slice::from_ref(o))
        .await
        .map_err(duplicate_uscc)?;
    records::insert_grams(
        tx,
        &records::gram_rows("o", &o.id, &o.area_code, &[&o.name]),
    )
    .await?;
    records::write_changes(
        tx,
        "org",
        &o.id,
        user,
        &o.created_at,
        &[Change {
            field: "record".into(),
            old: None,
            new: Some("新增登记".into()),
        }],
    )
    .await?;
    audit::write(
        tx,
        Audit::by(user, "org.create", "org", &o.id).area(&o.area_code),
    )
    .await?;
    Ok(())
}

/// Stores `o` over `old` when anything differs, with history and audit; false when nothing
/// changed (nothing is written then).
pub(super) async fn apply(
    vault: &Vault,
    tx: &mut crate::db::Tx,
    user: &CurrentUser,
    old: &OrgRow,
    o: &OrgRow,
) -> AppResult<bool> {
    let changes = records::diff(&history_form(vault, old), &history_form(vault, o));
    if changes.is_empty() {
        return Ok(false);
    }
    if !store::update_org(tx, o, old.version)
        .await
        .map_err(duplicate_uscc)?
    {
        return Err(AppError::Conflict);
    }
    if o.name != old.name || o.area_code != old.area_code {
        records::reindex(
            tx,
            "o",
            &o.id,
            (&old.area_code, &[&old.name]),
            (&o.area_code, &[&o.name]),
        )
        .await?;
    }
    records::write_changes(tx, "org", &o.id, user, &o.updated_at, &changes).await?;
    audit::write(
        tx,
        Audit::by(user, "org.update", "org", &o.id)
            .area(&o.area_code)
            .detail(
                changes
                    .iter()
                    .map(|c| c.field.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
    )
    .await?;
    Ok(true)
}

async fn load(c: &mut sqlx::AnyConnection, user: &CurrentUser, id: &str) -> AppResult<OrgRow> {
    let o = store::get(c, id)
        .await?
        .ok_or(AppError::RecordNotFound("org"))?;
    if !o.area_code.starts_with(user.area.as_str()) {
        return Err(AppError::OutOfScope);
    }
    Ok(o)
}

/// Edits an organisation (full form with `version`).
#[utoipa::path(put, path = "/api/orgs/{id}", tag = "orgs", request_body = OrgInput,
    params(("id" = String, Path, description = "组织编号")),
    responses((status = 200, body = OrgView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<OrgInput>,
) -> AppResult<Json<OrgView>> {
    user.require_perm(Perm::EditPeople)?;
    let version = b
        .version
        .ok_or_else(|| AppError::validation("version", "请提供读取时的版本号"))?;
    let mut tx = state.db.begin().await?;
    let old = load(&mut tx, &user, &id).await?;
    if old.version != version {
        return Err(AppError::Conflict);
    }
    let o = build(&state, &user, &mut tx, &b, Some(&old)).await?;
    let shown = if apply(&state.vault, &mut tx, &user, &old, &o).await? {
        tx.commit().await?;
        &o
    } else {
        tx.rollback().await?;
        &old
    };
    let mut c = state.db.read.acquire().await?;
    let address = address_text(&mut c, &shown.address_id).await?;
    Ok(Json(view(&state.vault, shown, address)))
}

/// Organisations in the caller's area by name, 统一社会信用代码 or address fragment.
#[utoipa::path(get, path = "/api/orgs", tag = "orgs", params(OrgQuery),
    responses((status = 200, body = OrgPage), (status = 422, body = ErrorBody)))]
pub async fn list_orgs(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<OrgQuery>,
) -> AppResult<Json<OrgPage>> {
    user.require_perm(Perm::ViewPeople)?;
    let scope = scope_of(&user, q.area.as_deref())?;
    let per_page = q.per_page.unwrap_or(20).clamp(1, 200);
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let uscc = text
        .and_then(|t| Uscc::parse(t).ok())
        .map(|u| u.as_str().to_owned());
    let name = match text.filter(|_| uscc.is_none()) {
        Some(t) => Some(
            records::query_gram(t)
                .ok_or_else(|| AppError::validation("q", "名称请至少输入两个字"))?,
        ),
        None => None,
    };
    let address = match q
        .address
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(a) => Some(
            records::query_gram(a)
                .ok_or_else(|| AppError::validation("address", "地址请至少输入两个字"))?,
        ),
        None => None,
    };
    let mut c = state.db.read.acquire().await?;
    let mut rows = store::list(
        &mut c,
        name.as_ref().map(|(g, p)| (g.as_str(), p.as_str())),
        uscc.as_deref(),
        address.as_ref().map(|(g, p)| (g.as_str(), p.as_str())),
        &scope,
        q.kind.as_deref().filter(|k| !k.is_empty()),
        per_page + 1,
        (page - 1) * per_page,
    )
    .await?;
    let has_more = rows.len() as i64 > per_page;
    rows.truncate(per_page as usize);
    Ok(Json(OrgPage {
        items: rows
            .into_iter()
            .map(|(o, a)| view(&state.vault, &o, a))
            .collect(),
        page,
        per_page,
        has_more,
    }))
}

/// An organisation with the people registered as working there.
#[utoipa::path(get, path = "/api/orgs/{id}", tag = "orgs",
    params(("id" = String, Path, description = "组织编号")),
    responses((status = 200, body = OrgDetail), (status = 404, body = ErrorBody)))]
pub async fn get_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<OrgDetail>> {
    user.require_perm(Perm::ViewPeople)?;
    let mut c = state.db.read.acquire().await?;
    let o = load(&mut c, &user, &id).await?;
    let address = address_text(&mut c, &o.address_id).await?;
    let people = sqlx::query_as(
        "SELECT id, name, kind, house_id, household_id, relation, residence, state FROM people \
         WHERE org_id = $1 ORDER BY name LIMIT 500",
    )
    .bind(&id)
    .fetch_all(&mut *c)
    .await?;
    Ok(Json(OrgDetail {
        org: view(&state.vault, &o, address),
        people,
    }))
}

/// An organisation's history, newest first.
#[utoipa::path(get, path = "/api/orgs/{id}/history", tag = "orgs",
    params(("id" = String, Path, description = "组织编号")),
    responses((status = 200, body = Vec<ChangeRow>), (status = 404, body = ErrorBody)))]
pub async fn org_history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<ChangeRow>>> {
    user.require_perm(Perm::ViewPeople)?;
    let mut c = state.db.read.acquire().await?;
    load(&mut c, &user, &id).await?;
    drop(c);
    Ok(Json(records::history(&state.db.read, &id).await?))
}

/// The legal representative's ID number and phone, and the organisation's own phone, in clear,
/// for a stated reason (audited).
#[utoipa::path(post, path = "/api/orgs/{id}/unmask", tag = "orgs", request_body = UnmaskRequest,
    params(("id" = String, Path, description = "组织编号")),
    responses((status = 200, body = Unmasked), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn unmask_org(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<UnmaskRequest>,
) -> AppResult<Json<Unmasked>> {
    user.require_perm(Perm::ViewSensitive)?;
    let reason = unmask_reason(&b.reason)?;
    let mut tx = state.db.begin().await?;
    let o = load(&mut tx, &user, &id).await?;
    let out = Unmasked {
        id_no: state.vault.open_opt(&o.legal_rep_id_enc)?,
        phone: state.vault.open_opt(&o.legal_rep_phone_enc)?,
        org_phone: state.vault.open_opt(&o.phone_enc)?,
    };
    audit::write(
        &mut tx,
        Audit::by(&user, "org.unmask", "org", &id)
            .area(&o.area_code)
            .detail(reason),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(out))
}
