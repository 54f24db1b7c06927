//! HTTP handlers of houses.

use super::model::*;
use super::store;
use crate::addresses;
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm};
use crate::db::{is_unique_violation, new_id, now};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::people::handlers::{scope_of, unmask_reason};
use crate::people::model::{UnmaskRequest, Unmasked};
use crate::privacy::{Kind, Vault};
use crate::records::{self, Change, ChangeRow, Issue};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use civgrid_core::ids::{IdCardNo, PhoneNo};

/// Checks an ID number of `id_type` and a phone; returns them normalised.
pub fn check_owner(
    is: &mut Vec<Issue>,
    id_field: &str,
    id_type: &str,
    id_no: Option<&str>,
    phone_field: &str,
    phone: Option<&str>,
) -> (Option<String>, Option<String>) {
    let id = id_no
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|raw| {
            if id_type == "111" {
                match IdCardNo::parse(raw) {
                    Ok(id) => Some(id.as_str().to_owned()),
                    Err(e) => {
                        is.push(Issue::new(id_field, "id_format", e.to_string()));
                        None
                    }
                }
            } else if raw.len() <= 30 && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                Some(raw.to_ascii_uppercase())
            } else {
                is.push(Issue::new(
                    id_field,
                    "id_format",
                    "证件号码只能包含字母、数字和 -，不超过 30 位",
                ));
                None
            }
        });
    let phone =
        phone
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .and_then(|raw| match PhoneNo::parse(raw) {
                Ok(p) => Some(p.as_str().to_owned()),
                Err(e) => {
                    is.push(Issue::new(phone_field, "phone_format", e.to_string()));
                    None
                }
            });
    (id, phone)
}

pub fn view(vault: &Vault, h: &HouseRow, address: Option<String>) -> HouseView {
    HouseView {
        id: h.id.clone(),
        house_no: h.house_no.clone(),
        address_id: h.address_id.clone(),
        address,
        area_code: h.area_code.clone(),
        name: h.name.clone(),
        purpose: h.purpose.clone(),
        use_type: h.use_type.clone(),
        floor_area: h.floor_area,
        hazard: h.hazard.clone(),
        owner_name: h.owner_name.clone(),
        owner_id_type: h.owner_id_type.clone(),
        owner_id_no: vault.masked(Kind::Id, &h.owner_id_enc),
        owner_phone: vault.masked(Kind::Phone, &h.owner_phone_enc),
        is_rental: h.is_rental != 0,
        lon: h.lon,
        lat: h.lat,
        state: h.state.clone(),
        version: h.version,
        created_at: h.created_at.clone(),
        updated_at: h.updated_at.clone(),
    }
}

fn text(
    is: &mut Vec<Issue>,
    field: &str,
    label: &str,
    v: &Option<String>,
    max: usize,
) -> Option<String> {
    let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
    if v.chars().count() > max {
        is.push(Issue::new(
            field,
            "too_long",
            format!("{label}不能超过 {max} 个字"),
        ));
    }
    Some(v.to_owned())
}

/// The row of an input, on top of `old` when editing.
pub(super) async fn build(
    state: &AppState,
    user: &CurrentUser,
    tx: &mut crate::db::Tx,
    b: &HouseInput,
    old: Option<&HouseRow>,
) -> AppResult<HouseRow> {
    let dicts = state.dicts().await?;
    let mut is = Vec::new();
    let purpose = match b
        .purpose
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(p) => match dicts.code_of("house_purpose", p) {
            Some(c) => Some(c.to_owned()),
            None => {
                is.push(Issue::new(
                    "purpose",
                    "unknown_code",
                    format!("建筑用途“{p}”不在代码表中"),
                ));
                None
            }
        },
        None => None,
    };
    let id_type = match b
        .owner_id_type
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(t) => match dicts.code_of("id_type", t) {
            Some(c) => c.to_owned(),
            None => {
                is.push(Issue::new(
                    "owner_id_type",
                    "unknown_code",
                    format!("证件类型“{t}”不在代码表中"),
                ));
                "111".into()
            }
        },
        None => "111".into(),
    };
    let (owner_id, owner_phone) = check_owner(
        &mut is,
        "owner_id_no",
        &id_type,
        b.owner_id_no.as_deref(),
        "owner_phone",
        b.owner_phone.as_deref(),
    );
    if let Some(a) = b.floor_area
        && !(a.is_finite() && a > 0.0 && a < 1_000_000.0)
    {
        is.push(Issue::new(
            "floor_area",
            "out_of_range",
            "建筑面积应为正数（平方米）",
        ));
    }
    let name = text(&mut is, "name", "房屋名称", &b.name, 100);
    let use_type = text(&mut is, "use_type", "房屋用途", &b.use_type, 30);
    let hazard = text(&mut is, "hazard", "隐患类型", &b.hazard, 100);
    let owner_name = text(&mut is, "owner_name", "房主姓名", &b.owner_name, 50);
    let house_no = text(&mut is, "house_no", "房屋编号", &b.house_no, 30);
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
    let address = match (
        b.address
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty()),
        &b.address_id,
        old,
    ) {
        (Some(text), _, _) => addresses::resolve(state, tx, text, grid, pt).await?,
        (None, Some(id), _) => addresses::store::get(tx, id)
            .await?
            .ok_or(AppError::RecordNotFound("address"))?,
        (None, None, Some(o)) => addresses::store::get(tx, &o.address_id)
            .await?
            .ok_or(AppError::RecordNotFound("address"))?,
        (None, None, None) => {
            return Err(AppError::Invalid(vec![Issue::new(
                "address",
                "required",
                "请填写房屋地址",
            )]));
        }
    };
    let area_code = grid.map(str::to_owned).unwrap_or(address.area_code.clone());
    user.require_scope(
        &civgrid_core::AreaCode::parse(&area_code).map_err(|_| AppError::InvalidAreaCode)?,
    )?;
    let at = now();
    let house_no = match (house_no, old) {
        (Some(n), _) => n,
        (None, Some(o)) => o.house_no.clone(),
        (None, None) => store::next_house_no(tx, &address.village).await?,
    };
    let vault = &state.vault;
    // Absent keeps the stored number; sent empty removes it (like the phone).
    let keep_id = b.owner_id_no.is_none();
    let owner_id_enc = match (&owner_id, old) {
        (Some(v), _) => Some(vault.seal(v)),
        (None, Some(o)) if keep_id => o.owner_id_enc.clone(),
        _ => None,
    };
    let owner_phone_enc = if b.owner_phone.is_some() {
        owner_phone.as_deref().map(|p| vault.seal(p))
    } else {
        old.and_then(|o| o.owner_phone_enc.clone())
    };
    Ok(HouseRow {
        id: old.map(|o| o.id.clone()).unwrap_or_else(new_id),
        house_no,
        address_id: address.id.clone(),
        area_code,
        name,
        purpose,
        use_type,
        floor_area: b.floor_area,
        hazard,
        owner_name,
        owner_id_type: Some(id_type.clone()),
        owner_id_blind: match (&owner_id, old) {
            (Some(v), _) => Some(vault.blind("id", &format!("{id_type}:{v}"))),
            (None, Some(o)) if keep_id => o.owner_id_blind.clone(),
            _ => None,
        },
        owner_id_enc,
        owner_phone_enc,
        is_rental: b.is_rental as i64,
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

pub(super) async fn address_text(
    c: &mut sqlx::AnyConnection,
    id: &str,
) -> AppResult<Option<String>> {
    Ok(addresses::store::get(c, id).await?.map(|a| a.full_text))
}

fn history_form(vault: &Vault, h: &HouseRow) -> serde_json::Value {
    let mut v = serde_json::to_value(view(vault, h, None)).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        for k in ["id", "version", "created_at", "updated_at", "address"] {
            m.remove(k);
        }
    }
    v
}

/// Registers a house (出租房屋 with `is_rental`).
#[utoipa::path(post, path = "/api/houses", tag = "houses", request_body = HouseInput,
    responses((status = 201, body = HouseView), (status = 200, description = "同一编号再次提交，返回已登记的房屋", body = HouseView),
        (status = 422, body = ErrorBody)))]
pub async fn create_house(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<HouseInput>,
) -> AppResult<(StatusCode, Json<HouseView>)> {
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
    let mut h = build(&state, &user, &mut tx, &b, None).await?;
    if let Some(id) = client_id {
        h.id = id;
    }
    insert(&mut tx, &user, &h).await?;
    tx.commit().await?;
    let mut c = state.db.read.acquire().await?;
    let address = address_text(&mut c, &h.address_id).await?;
    Ok((StatusCode::CREATED, Json(view(&state.vault, &h, address))))
}

/// Stores a new house with its search grams, first history line and audit row.
pub(super) async fn insert(
    tx: &mut crate::db::Tx,
    user: &CurrentUser,
    h: &HouseRow,
) -> AppResult<()> {
    store::insert_houses(tx, std::slice::from_ref(h))
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::Invalid(vec![Issue::new("house_no", "duplicate", "房屋编号已存在")])
            } else {
                e.into()
            }
        })?;
    if let Some(n) = &h.name {
        records::insert_grams(tx, &records::gram_rows("h", &h.id, &h.area_code, &[n])).await?;
    }
    records::write_changes(
        tx,
        "house",
        &h.id,
        user,
        &h.created_at,
        &[Change {
            field: "record".into(),
            old: None,
            new: Some("新增登记".into()),
        }],
    )
    .await?;
    audit::write(
        tx,
        Audit::by(user, "house.create", "house", &h.id).area(&h.area_code),
    )
    .await?;
    Ok(())
}

/// Stores `h` over `old` when anything differs, with history and audit; false when nothing
/// changed (nothing is written then).
pub(super) async fn apply(
    vault: &Vault,
    tx: &mut crate::db::Tx,
    user: &CurrentUser,
    old: &HouseRow,
    h: &HouseRow,
) -> AppResult<bool> {
    let changes = records::diff(&history_form(vault, old), &history_form(vault, h));
    if changes.is_empty() {
        return Ok(false);
    }
    if !store::update_house(tx, h, old.version).await? {
        return Err(AppError::Conflict);
    }
    if h.name != old.name || h.area_code != old.area_code {
        let (was, now) = (
            old.name.clone().unwrap_or_default(),
            h.name.clone().unwrap_or_default(),
        );
        records::reindex(
            tx,
            "h",
            &h.id,
            (&old.area_code, &[&was]),
            (&h.area_code, &[&now]),
        )
        .await?;
    }
    records::write_changes(tx, "house", &h.id, user, &h.updated_at, &changes).await?;
    audit::write(
        tx,
        Audit::by(user, "house.update", "house", &h.id)
            .area(&h.area_code)
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

async fn load(c: &mut sqlx::AnyConnection, user: &CurrentUser, id: &str) -> AppResult<HouseRow> {
    let h = store::get(c, id)
        .await?
        .ok_or(AppError::RecordNotFound("house"))?;
    if !h.area_code.starts_with(user.area.as_str()) {
        return Err(AppError::OutOfScope);
    }
    Ok(h)
}

/// Edits a house (full form with `version`); changes go to its history.
#[utoipa::path(put, path = "/api/houses/{id}", tag = "houses", request_body = HouseInput,
    params(("id" = String, Path, description = "房屋编号（内部）")),
    responses((status = 200, body = HouseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_house(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<HouseInput>,
) -> AppResult<Json<HouseView>> {
    user.require_perm(Perm::EditPeople)?;
    let version = b
        .version
        .ok_or_else(|| AppError::validation("version", "请提供读取时的版本号"))?;
    let mut tx = state.db.begin().await?;
    let old = load(&mut tx, &user, &id).await?;
    if old.version != version {
        return Err(AppError::Conflict);
    }
    let h = build(&state, &user, &mut tx, &b, Some(&old)).await?;
    let shown = if apply(&state.vault, &mut tx, &user, &old, &h).await? {
        tx.commit().await?;
        &h
    } else {
        tx.rollback().await?;
        &old
    };
    let mut c = state.db.read.acquire().await?;
    let address = address_text(&mut c, &shown.address_id).await?;
    Ok(Json(view(&state.vault, shown, address)))
}

/// Houses in the caller's area by 房屋编号, name or address fragment.
#[utoipa::path(get, path = "/api/houses", tag = "houses", params(HouseQuery),
    responses((status = 200, body = HousePage), (status = 422, body = ErrorBody)))]
pub async fn list_houses(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<HouseQuery>,
) -> AppResult<Json<HousePage>> {
    user.require_perm(Perm::ViewPeople)?;
    let scope = scope_of(&user, q.area.as_deref())?;
    let per_page = q.per_page.unwrap_or(20).clamp(1, 200);
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    // A house number is Latin letters and digits, maybe with '-' (GL-0066); anything else is
    // a name.
    let house_no = text.filter(|t| {
        t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && t.chars().any(|c| c.is_ascii_alphanumeric())
    });
    let name = match text.filter(|_| house_no.is_none()) {
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
        house_no,
        address.as_ref().map(|(g, p)| (g.as_str(), p.as_str())),
        &scope,
        q.rental,
        per_page + 1,
        (page - 1) * per_page,
    )
    .await?;
    let has_more = rows.len() as i64 > per_page;
    rows.truncate(per_page as usize);
    Ok(Json(HousePage {
        items: rows
            .into_iter()
            .map(|(h, a)| view(&state.vault, &h, a))
            .collect(),
        page,
        per_page,
        has_more,
    }))
}

/// A house with everyone living there (residents, tenants) and its households.
#[utoipa::path(get, path = "/api/houses/{id}", tag = "houses",
    params(("id" = String, Path, description = "房屋编号（内部）")),
    responses((status = 200, body = HouseDetail), (status = 404, body = ErrorBody)))]
pub async fn get_house(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<HouseDetail>> {
    user.require_perm(Perm::ViewPeople)?;
    let mut c = state.db.read.acquire().await?;
    let h = load(&mut c, &user, &id).await?;
    let address = address_text(&mut c, &h.address_id).await?;
    let mut residents = addresses::store::people_at(&mut c, "house_id", &id).await?;
    // People registered at the house's address without a house link live there too.
    for r in addresses::store::people_at(&mut c, "address_id", &h.address_id).await? {
        if !residents.iter().any(|x| x.id == r.id) {
            residents.push(r);
        }
    }
    let households: Vec<_> = addresses::store::households_at(&mut c, &h.address_id).await?;
    Ok(Json(HouseDetail {
        house: view(&state.vault, &h, address),
        residents,
        households,
    }))
}

/// A house's history, newest first.
#[utoipa::path(get, path = "/api/houses/{id}/history", tag = "houses",
    params(("id" = String, Path, description = "房屋编号（内部）")),
    responses((status = 200, body = Vec<ChangeRow>), (status = 404, body = ErrorBody)))]
pub async fn house_history(
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

/// The owner's ID number and phone in clear, for a stated reason (audited).
#[utoipa::path(post, path = "/api/houses/{id}/unmask", tag = "houses", request_body = UnmaskRequest,
    params(("id" = String, Path, description = "房屋编号（内部）")),
    responses((status = 200, body = Unmasked), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn unmask_house(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<UnmaskRequest>,
) -> AppResult<Json<Unmasked>> {
    user.require_perm(Perm::ViewSensitive)?;
    let reason = unmask_reason(&b.reason)?;
    let mut tx = state.db.begin().await?;
    let h = load(&mut tx, &user, &id).await?;
    let out = Unmasked {
        id_no: state.vault.open_opt(&h.owner_id_enc)?,
        phone: state.vault.open_opt(&h.owner_phone_enc)?,
        org_phone: None,
    };
    audit::write(
        &mut tx,
        Audit::by(&user, "house.unmask", "house", &id)
            .area(&h.area_code)
            .detail(reason),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(out))
}
