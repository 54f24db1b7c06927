//! HTTP handlers of people and households.

use super::model::*;
use super::store::{self, Find, ListFilter};
use crate::addresses;
use crate::audit::{self, Audit};
use crate::auth::{CurrentUser, Perm};
use crate::db::{Tx, is_unique_violation, new_id, now};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::privacy::{Kind, Vault};
use crate::records::{self, Change, ChangeRow, Issue};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use civgrid_core::AreaCode;
use serde_json::Value;

/// The subtree a list covers: `area` when given (inside the caller's), else the caller's.
pub fn scope_of(user: &CurrentUser, area: Option<&str>) -> AppResult<String> {
    match area.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok(user.area.as_str().to_owned()),
        Some(a) => {
            let code = AreaCode::parse(a).map_err(|_| AppError::InvalidAreaCode)?;
            user.require_scope(&code)?;
            Ok(code.as_str().to_owned())
        }
    }
}

/// Seals the ID number and phone of `c` into `row` (blind indexes included).
pub fn seal_person(vault: &Vault, c: &CheckedPerson, row: &mut PersonRow) {
    if let Some(id) = &c.id_no {
        row.id_enc = Some(vault.seal(id));
        row.id_blind = Some(vault.blind("id", &format!("{}:{id}", c.id_type)));
        let tail = |n: usize| id.get(id.len().saturating_sub(n)..).unwrap_or(id);
        row.id_tail4 = Some(vault.blind("tail4", tail(4)));
        row.id_tail6 = Some(vault.blind("tail6", tail(6)));
    }
    row.id_type = c.id_type.clone();
    match c.phone.as_deref() {
        Some(p) => {
            row.phone_enc = Some(vault.seal(p));
            row.phone_blind = Some(vault.blind("phone", p));
        }
        None => {
            row.phone_enc = None;
            row.phone_blind = None;
        }
    }
}

/// The row of a checked person (links and area filled by the caller).
pub fn new_row(c: &CheckedPerson, area_code: String, actor: Option<&str>, at: &str) -> PersonRow {
    PersonRow {
        id: new_id(),
        kind: c.kind.clone(),
        name: c.name.clone(),
        used_name: c.used_name.clone(),
        sex: c.sex.clone(),
        birth_date: c.birth_date.clone(),
        nation: c.nation.clone(),
        native_place: c.native_place.clone(),
        marriage: c.marriage.clone(),
        party: c.party.clone(),
        education: c.education.clone(),
        religion: c.religion.clone(),
        occupation: c.occupation.clone(),
        employer: c.employer.clone(),
        id_type: c.id_type.clone(),
        id_enc: None,
        id_blind: None,
        id_tail4: None,
        id_tail6: None,
        phone_enc: None,
        phone_blind: None,
        household_id: None,
        relation: c.relation.clone(),
        house_id: None,
        residence: c.residence.clone(),
        address_id: None,
        org_id: None,
        area_code,
        special_type: c.special_type.clone(),
        special: c.special.clone(),
        extra: c.extra.clone(),
        state: "active".into(),
        version: 1,
        created_by: actor.map(str::to_owned),
        created_at: at.to_owned(),
        updated_at: at.to_owned(),
    }
}

fn parse_json(s: &Option<String>) -> Option<Value> {
    s.as_deref().and_then(|s| serde_json::from_str(s).ok())
}

/// A person as the caller may see them.
pub fn view(
    state: &AppState,
    special: bool,
    r: &PersonRow,
    address: Option<String>,
    grid_name: Option<String>,
    warnings: Vec<Issue>,
) -> PersonView {
    PersonView {
        id: r.id.clone(),
        kind: r.kind.clone(),
        name: r.name.clone(),
        used_name: r.used_name.clone(),
        sex: r.sex.clone(),
        birth_date: r.birth_date.clone(),
        nation: r.nation.clone(),
        native_place: r.native_place.clone(),
        marriage: r.marriage.clone(),
        party: r.party.clone(),
        education: r.education.clone(),
        religion: r.religion.clone(),
        occupation: r.occupation.clone(),
        employer: r.employer.clone(),
        id_type: r.id_type.clone(),
        id_no: state.vault.masked(Kind::Id, &r.id_enc),
        phone: state.vault.masked(Kind::Phone, &r.phone_enc),
        household_id: r.household_id.clone(),
        relation: r.relation.clone(),
        house_id: r.house_id.clone(),
        residence: r.residence.clone(),
        address_id: r.address_id.clone(),
        address,
        org_id: r.org_id.clone(),
        area_code: r.area_code.clone(),
        grid_name,
        special_type: r.special_type.clone().filter(|_| special),
        special: parse_json(&r.special).filter(|_| special),
        extra: parse_json(&r.extra),
        state: r.state.clone(),
        version: r.version,
        created_at: r.created_at.clone(),
        updated_at: r.updated_at.clone(),
        warnings,
    }
}

/// The masked, flat form of a row that history compares.
pub fn history_form(state: &AppState, r: &PersonRow) -> Value {
    let mut v = serde_json::to_value(view(state, true, r, None, None, vec![])).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        for k in [
            "id",
            "version",
            "created_at",
            "updated_at",
            "warnings",
            "address",
            "grid_name",
        ] {
            m.remove(k);
        }
        // Special data stays out of the history rows readable by everyone with the record.
        if r.special.is_some() {
            m.insert(
                "special".into(),
                Value::String("（特殊人群信息，已更新）".into()),
            );
        }
    }
    v
}

async fn grid_name(c: &mut sqlx::AnyConnection, code: &str) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM grids WHERE code = $1")
        .bind(code)
        .fetch_optional(c)
        .await?)
}

/// Links of a person checked and resolved: household, house, organisation, address, grid.
struct Placed {
    household_id: Option<String>,
    house_id: Option<String>,
    org_id: Option<String>,
    address_id: Option<String>,
    area_code: String,
}

async fn place(
    state: &AppState,
    user: &CurrentUser,
    tx: &mut Tx,
    p: &PersonInput,
    current: Option<&PersonRow>,
) -> AppResult<Placed> {
    let keep = |f: &Option<String>, cur: Option<&Option<String>>| match f {
        Some(v) if v.trim().is_empty() => None,
        Some(v) => Some(v.trim().to_owned()),
        None => cur.cloned().flatten(),
    };
    let household_id = keep(&p.household_id, current.map(|c| &c.household_id));
    let house_id = keep(&p.house_id, current.map(|c| &c.house_id));
    let org_id = keep(&p.org_id, current.map(|c| &c.org_id));
    let mut address_id = keep(&p.address_id, current.map(|c| &c.address_id));
    let mut area: Option<String> = None;
    if let Some(g) = p.grid.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        let code = AreaCode::parse(g).map_err(|_| AppError::InvalidAreaCode)?;
        if crate::areas::store::grid_exists(tx, g).await?.is_none() {
            return Err(AppError::GridNotFound);
        }
        user.require_scope(&code)?;
        area = Some(g.to_owned());
    }
    if let Some(h) = &household_id {
        let hh = store::get_household(tx, h)
            .await?
            .ok_or(AppError::RecordNotFound("household"))?;
        address_id.get_or_insert(hh.address_id.clone());
        area.get_or_insert(hh.area_code);
    }
    if let Some(h) = &house_id {
        let (addr, a): (String, String) =
            sqlx::query_as("SELECT address_id, area_code FROM houses WHERE id = $1")
                .bind(h)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(AppError::RecordNotFound("house"))?;
        address_id.get_or_insert(addr);
        area.get_or_insert(a);
    }
    if let Some(o) = &org_id {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs WHERE id = $1")
            .bind(o)
            .fetch_one(&mut **tx)
            .await?;
        if n == 0 {
            return Err(AppError::RecordNotFound("org"));
        }
    }
    if let Some(text) = p
        .address
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let a = addresses::resolve(state, tx, text, area.as_deref(), None).await?;
        area.get_or_insert(a.area_code.clone());
        address_id = Some(a.id);
    } else if let Some(a) = &address_id
        && area.is_none()
    {
        let row = addresses::store::get(tx, a)
            .await?
            .ok_or(AppError::RecordNotFound("address"))?;
        area = Some(row.area_code);
    }
    let area_code = match (area, current) {
        (Some(a), _) => a,
        (None, Some(c)) => c.area_code.clone(),
        (None, None) => {
            return Err(AppError::Invalid(vec![Issue::new(
                "address",
                "required",
                "请填写现住地址或选择网格",
            )]));
        }
    };
    let code = AreaCode::parse(&area_code).map_err(|_| AppError::InvalidAreaCode)?;
    user.require_scope(&code)?;
    Ok(Placed {
        household_id,
        house_id,
        org_id,
        address_id,
        area_code,
    })
}

async fn address_text(
    c: &mut sqlx::AnyConnection,
    id: &Option<String>,
) -> AppResult<Option<String>> {
    Ok(match id {
        Some(a) => addresses::store::get(c, a).await?.map(|a| a.full_text),
        None => None,
    })
}

fn duplicate_id() -> AppError {
    AppError::Invalid(vec![Issue::new(
        "id_no",
        "duplicate",
        "该证件号码已登记，请查找后编辑",
    )])
}

/// Registers a person (实有人口), with the special-population data when the caller may.
#[utoipa::path(post, path = "/api/people", tag = "people", request_body = PersonInput,
    responses((status = 201, body = PersonView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_person(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(p): Json<PersonInput>,
) -> AppResult<(StatusCode, Json<PersonView>)> {
    user.require_perm(Perm::EditPeople)?;
    let dicts = state.dicts().await?;
    let checker = state.checker(&dicts);
    let c = checker.person(&p, false).map_err(AppError::Invalid)?;
    if c.special_type.is_some() && !user.can(Perm::ViewSpecial) {
        return Err(AppError::Forbidden);
    }
    let at = now();
    let client_id = records::client_id(p.id.as_deref())?;
    if let Some(id) = &client_id {
        let mut c2 = state.db.read.acquire().await?;
        if let Some(old) = store::get(&mut c2, id).await? {
            if old.created_by.as_deref() != Some(user.id.as_str()) {
                return Err(AppError::Conflict);
            }
            let address = address_text(&mut c2, &old.address_id).await?;
            let gname = grid_name(&mut c2, &old.area_code).await?;
            return Ok((
                StatusCode::OK,
                Json(view(
                    &state,
                    user.can(Perm::ViewSpecial),
                    &old,
                    address,
                    gname,
                    vec![],
                )),
            ));
        }
    }
    let mut tx = state.db.begin().await?;
    let placed = place(&state, &user, &mut tx, &p, None).await?;
    let mut row = new_row(&c, placed.area_code, Some(&user.id), &at);
    if let Some(id) = client_id {
        row.id = id;
    }
    row.household_id = placed.household_id;
    row.house_id = placed.house_id;
    row.org_id = placed.org_id;
    row.address_id = placed.address_id;
    seal_person(&state.vault, &c, &mut row);
    if let Some(b) = &row.id_blind
        && store::by_blind(&mut tx, b).await?.is_some()
    {
        return Err(duplicate_id());
    }
    store::insert_people(&mut tx, std::slice::from_ref(&row))
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                duplicate_id()
            } else {
                e.into()
            }
        })?;
    records::insert_grams(
        &mut tx,
        &records::gram_rows("p", &row.id, &row.area_code, &[&row.name]),
    )
    .await?;
    if row.relation.as_deref() == Some("02")
        && let Some(h) = &row.household_id
    {
        store::set_head(&mut tx, h, &row.id).await?;
    }
    records::write_changes(
        &mut tx,
        "person",
        &row.id,
        &user,
        &at,
        &[Change {
            field: "record".into(),
            old: None,
            new: Some("新增登记".into()),
        }],
    )
    .await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "person.create", "person", &row.id).area(&row.area_code),
    )
    .await?;
    tx.commit().await?;
    let mut c2 = state.db.read.acquire().await?;
    let address = address_text(&mut c2, &row.address_id).await?;
    let gname = grid_name(&mut c2, &row.area_code).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(
            &state,
            user.can(Perm::ViewSpecial),
            &row,
            address,
            gname,
            c.warnings,
        )),
    ))
}

async fn load(
    state: &AppState,
    user: &CurrentUser,
    c: &mut sqlx::AnyConnection,
    id: &str,
) -> AppResult<PersonRow> {
    let row = store::get(c, id)
        .await?
        .ok_or(AppError::RecordNotFound("person"))?;
    if !row.area_code.starts_with(user.area.as_str()) {
        return Err(AppError::OutOfScope);
    }
    let _ = state;
    Ok(row)
}

/// Edits a person (full form; `version` from the read). Every changed field is kept in the
/// history; a new grid moves the person (both grids must be in the caller's area).
#[utoipa::path(put, path = "/api/people/{id}", tag = "people", request_body = PersonInput,
    params(("id" = String, Path, description = "人员编号")),
    responses((status = 200, body = PersonView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_person(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(p): Json<PersonInput>,
) -> AppResult<Json<PersonView>> {
    user.require_perm(Perm::EditPeople)?;
    let version = p
        .version
        .ok_or_else(|| AppError::validation("version", "请提供读取时的版本号"))?;
    let dicts = state.dicts().await?;
    let checker = state.checker(&dicts);
    let c = checker.person(&p, true).map_err(AppError::Invalid)?;
    let mut tx = state.db.begin().await?;
    let old = load(&state, &user, &mut tx, &id).await?;
    if old.version != version {
        return Err(AppError::Conflict);
    }
    if (c.special_type.is_some() || old.special_type.is_some()) && !user.can(Perm::ViewSpecial) {
        return Err(AppError::Forbidden);
    }
    let placed = place(&state, &user, &mut tx, &p, Some(&old)).await?;
    let at = now();
    let mut row = new_row(
        &c,
        placed.area_code,
        old.created_by.as_deref(),
        &old.created_at,
    );
    row.id = old.id.clone();
    row.household_id = placed.household_id;
    row.house_id = placed.house_id;
    row.org_id = placed.org_id;
    row.address_id = placed.address_id;
    row.state = old.state.clone();
    row.version = old.version + 1;
    row.updated_at = at.clone();
    // An absent ID number keeps the stored one; an absent phone too (an empty one clears).
    let mut sealed = c.clone();
    if c.id_no.is_none() {
        row.id_enc = old.id_enc.clone();
        row.id_blind = old.id_blind.clone();
        row.id_tail4 = old.id_tail4.clone();
        row.id_tail6 = old.id_tail6.clone();
        sealed.id_no = None;
    }
    seal_person(&state.vault, &sealed, &mut row);
    if c.id_no.is_none() {
        row.id_type = old.id_type.clone();
        row.id_enc = old.id_enc.clone();
        row.id_blind = old.id_blind.clone();
        row.id_tail4 = old.id_tail4.clone();
        row.id_tail6 = old.id_tail6.clone();
    }
    if p.phone.is_none() {
        row.phone_enc = old.phone_enc.clone();
        row.phone_blind = old.phone_blind.clone();
    }
    if row.id_blind != old.id_blind
        && let Some(b) = &row.id_blind
        && store::by_blind(&mut tx, b)
            .await?
            .is_some_and(|o| o.id != row.id)
    {
        return Err(duplicate_id());
    }
    let changes = records::diff(&history_form(&state, &old), &history_form(&state, &row));
    if changes.is_empty() {
        tx.rollback().await?;
        let mut c2 = state.db.read.acquire().await?;
        let address = address_text(&mut c2, &old.address_id).await?;
        let gname = grid_name(&mut c2, &old.area_code).await?;
        return Ok(Json(view(
            &state,
            user.can(Perm::ViewSpecial),
            &old,
            address,
            gname,
            c.warnings,
        )));
    }
    if !store::update_person(&mut tx, &row, version)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                duplicate_id()
            } else {
                e.into()
            }
        })?
    {
        return Err(AppError::Conflict);
    }
    if row.name != old.name || row.area_code != old.area_code {
        records::reindex(
            &mut tx,
            "p",
            &row.id,
            (&old.area_code, &[&old.name]),
            (&row.area_code, &[&row.name]),
        )
        .await?;
    }
    if row.relation.as_deref() == Some("02")
        && let Some(h) = &row.household_id
    {
        store::set_head(&mut tx, h, &row.id).await?;
    }
    records::write_changes(&mut tx, "person", &row.id, &user, &at, &changes).await?;
    let moved = if row.area_code != old.area_code {
        format!("；网格 {} → {}", old.area_code, row.area_code)
    } else {
        String::new()
    };
    audit::write(
        &mut tx,
        Audit::by(&user, "person.update", "person", &row.id)
            .area(&row.area_code)
            .detail(format!(
                "{}{moved}",
                changes
                    .iter()
                    .map(|c| c.field.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            )),
    )
    .await?;
    tx.commit().await?;
    let mut c2 = state.db.read.acquire().await?;
    let address = address_text(&mut c2, &row.address_id).await?;
    let gname = grid_name(&mut c2, &row.area_code).await?;
    Ok(Json(view(
        &state,
        user.can(Perm::ViewSpecial),
        &row,
        address,
        gname,
        c.warnings,
    )))
}

/// Marks a person moved out, dead or cancelled (or back to active). Never deletes.
#[utoipa::path(post, path = "/api/people/{id}/state", tag = "people", request_body = StateChange,
    params(("id" = String, Path, description = "人员编号")),
    responses((status = 200, body = PersonView), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn change_state(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<StateChange>,
) -> AppResult<Json<PersonView>> {
    user.require_perm(Perm::EditPeople)?;
    let label = match b.state.as_str() {
        "active" => "在册",
        "moved_out" => "迁出",
        "dead" => "死亡",
        "cancelled" => "注销",
        _ => {
            return Err(AppError::validation(
                "state",
                "状态只能是 在册、迁出、死亡 或 注销",
            ));
        }
    };
    let mut tx = state.db.begin().await?;
    let mut row = load(&state, &user, &mut tx, &id).await?;
    if row.version != b.version {
        return Err(AppError::Conflict);
    }
    if row.state == b.state {
        return Err(AppError::validation(
            "state",
            format!("该人员已是“{label}”状态"),
        ));
    }
    if row.state == "dead" && b.state != "active" {
        return Err(AppError::validation(
            "state",
            "已登记死亡的人员只能恢复为在册（更正错误登记）",
        ));
    }
    let at = now();
    if !store::set_state(&mut tx, &id, &b.state, b.version, &at).await? {
        return Err(AppError::Conflict);
    }
    let note = b.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    records::write_changes(
        &mut tx,
        "person",
        &id,
        &user,
        &at,
        &[Change {
            field: "state".into(),
            old: Some(row.state.clone()),
            new: Some(match note {
                Some(n) => format!("{}（{n}）", b.state),
                None => b.state.clone(),
            }),
        }],
    )
    .await?;
    audit::write(
        &mut tx,
        Audit::by(&user, "person.state", "person", &id)
            .area(&row.area_code)
            .detail(format!("{} → {}", row.state, b.state)),
    )
    .await?;
    tx.commit().await?;
    row.state = b.state;
    row.version += 1;
    row.updated_at = at;
    let mut c2 = state.db.read.acquire().await?;
    let address = address_text(&mut c2, &row.address_id).await?;
    let gname = grid_name(&mut c2, &row.area_code).await?;
    Ok(Json(view(
        &state,
        user.can(Perm::ViewSpecial),
        &row,
        address,
        gname,
        vec![],
    )))
}

/// A person's history of changes, newest first.
#[utoipa::path(get, path = "/api/people/{id}/history", tag = "people",
    params(("id" = String, Path, description = "人员编号")),
    responses((status = 200, body = Vec<ChangeRow>), (status = 404, body = ErrorBody)))]
pub async fn person_history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<ChangeRow>>> {
    user.require_perm(Perm::ViewPeople)?;
    let mut c = state.db.read.acquire().await?;
    load(&state, &user, &mut c, &id).await?;
    drop(c);
    Ok(Json(records::history(&state.db.read, &id).await?))
}

/// Shows a person's ID number and phone in clear, for a stated reason (audited).
#[utoipa::path(post, path = "/api/people/{id}/unmask", tag = "people", request_body = UnmaskRequest,
    params(("id" = String, Path, description = "人员编号")),
    responses((status = 200, body = Unmasked), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn unmask_person(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Json(b): Json<UnmaskRequest>,
) -> AppResult<Json<Unmasked>> {
    user.require_perm(Perm::ViewSensitive)?;
    let reason = unmask_reason(&b.reason)?;
    let mut tx = state.db.begin().await?;
    let row = load(&state, &user, &mut tx, &id).await?;
    let out = Unmasked {
        id_no: state.vault.open_opt(&row.id_enc)?,
        phone: state.vault.open_opt(&row.phone_enc)?,
        org_phone: None,
    };
    audit::write(
        &mut tx,
        Audit::by(&user, "person.unmask", "person", &id)
            .area(&row.area_code)
            .detail(reason),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(out))
}

/// A reason for showing personal data: said in at least a few words.
pub fn unmask_reason(r: &str) -> AppResult<String> {
    let r = r.trim();
    if r.chars().count() < 4 {
        return Err(AppError::validation(
            "reason",
            "请说明查看原因（至少 4 个字），查看将被记录审计",
        ));
    }
    if r.chars().count() > 200 {
        return Err(AppError::validation("reason", "查看原因不能超过 200 个字"));
    }
    Ok(r.to_owned())
}

/// How a query string is searched.
pub fn find_of(vault: &Vault, q: &str) -> AppResult<Find> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(Find::All);
    }
    let upper = q.to_ascii_uppercase();
    let idish = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b == b'X');
    if (upper.len() == 18 || upper.len() == 15) && idish(&upper) {
        return match civgrid_core::ids::IdCardNo::parse(&upper) {
            Ok(id) => Ok(Find::IdBlind(
                vault.blind("id", &format!("111:{}", id.as_str())),
            )),
            Err(e) => Err(AppError::validation("q", e.to_string())),
        };
    }
    if upper.len() == 4 && idish(&upper) {
        return Ok(Find::Tail4(vault.blind("tail4", &upper)));
    }
    if upper.len() == 6 && idish(&upper) {
        return Ok(Find::Tail6(vault.blind("tail6", &upper)));
    }
    if let Ok(p) = civgrid_core::ids::PhoneNo::parse(q) {
        return Ok(Find::Phone(vault.blind("phone", p.as_str())));
    }
    if q.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::validation(
            "q",
            "数字请输入完整身份证号、身份证号后 4 位或后 6 位、或完整电话号码",
        ));
    }
    match records::query_name(q) {
        Some((g, p)) => Ok(Find::Name(g, p)),
        None => Err(AppError::validation("q", "姓名请至少输入两个字")),
    }
}

/// People in the caller's area: by name (两个字起), ID number or its last 4/6, phone, or
/// address fragment; masked.
#[utoipa::path(get, path = "/api/people", tag = "people", params(PersonQuery),
    responses((status = 200, body = PersonPage), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn list_people(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<PersonQuery>,
) -> AppResult<Json<PersonPage>> {
    user.require_perm(Perm::ViewPeople)?;
    if q.special_type.is_some() && !user.can(Perm::ViewSpecial) {
        return Err(AppError::Forbidden);
    }
    let scope = scope_of(&user, q.area.as_deref())?;
    let per_page = q.per_page.unwrap_or(20).clamp(1, 200);
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let address = match q
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(a) => Some(
            records::query_gram(a)
                .ok_or_else(|| AppError::validation("address", "地址请至少输入两个字"))?,
        ),
        None => None,
    };
    let f = ListFilter {
        find: find_of(&state.vault, q.q.as_deref().unwrap_or(""))?,
        address,
        scope,
        kind: q.kind.filter(|k| !k.is_empty()),
        state: match q.state.as_deref() {
            None | Some("") => Some("active".into()),
            Some("all") => None,
            Some(s) => Some(s.to_owned()),
        },
        special_type: q.special_type.filter(|s| !s.is_empty()),
        limit: per_page + 1,
        offset: (page - 1) * per_page,
    };
    let mut c = state.db.read.acquire().await?;
    let mut rows = store::list(&mut c, &f).await?;
    let has_more = rows.len() as i64 > per_page;
    rows.truncate(per_page as usize);
    let special = user.can(Perm::ViewSpecial);
    let items = rows
        .into_iter()
        .map(|r| PersonListItem {
            id_no: state.vault.masked(Kind::Id, &r.id_enc),
            phone: state.vault.masked(Kind::Phone, &r.phone_enc),
            id: r.id,
            kind: r.kind,
            name: r.name,
            sex: r.sex,
            birth_date: r.birth_date,
            area_code: r.area_code,
            address: r.address,
            special_type: r.special_type.filter(|_| special),
            state: r.state,
        })
        .collect();
    Ok(Json(PersonPage {
        items,
        page,
        per_page,
        has_more,
    }))
}

async fn household_view(c: &mut sqlx::AnyConnection, h: HouseholdRow) -> AppResult<HouseholdView> {
    let address = addresses::store::get(c, &h.address_id)
        .await?
        .map(|a| a.full_text);
    let members = store::members(c, &h.id).await?;
    Ok(HouseholdView {
        household: h,
        address,
        members,
    })
}

/// One person with everything linked to them (五码关联): address, household and its members,
/// house, organisation, phone and events.
#[utoipa::path(get, path = "/api/people/{id}", tag = "people",
    params(("id" = String, Path, description = "人员编号")),
    responses((status = 200, body = PersonLinks), (status = 404, body = ErrorBody)))]
pub async fn get_person(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<PersonLinks>> {
    user.require_perm(Perm::ViewPeople)?;
    let mut c = state.db.read.acquire().await?;
    let row = load(&state, &user, &mut c, &id).await?;
    let address = match &row.address_id {
        Some(a) => addresses::store::get(&mut c, a).await?,
        None => None,
    };
    let household = match &row.household_id {
        Some(h) => match store::get_household(&mut c, h).await? {
            Some(h) => Some(household_view(&mut c, h).await?),
            None => None,
        },
        None => None,
    };
    let house = match &row.house_id {
        Some(h) => sqlx::query_as::<_, (String, String, i64)>(
            "SELECT id, house_no, is_rental FROM houses WHERE id = $1",
        )
        .bind(h)
        .fetch_optional(&mut *c)
        .await?
        .map(|(id, house_no, r)| HouseLink {
            id,
            house_no,
            is_rental: r != 0,
        }),
        None => None,
    };
    let org = match &row.org_id {
        Some(o) => sqlx::query_as::<_, (String, String, Option<String>)>(
            "SELECT id, name, uscc FROM orgs WHERE id = $1",
        )
        .bind(o)
        .fetch_optional(&mut *c)
        .await?
        .map(|(id, name, uscc)| OrgLink { id, name, uscc }),
        None => None,
    };
    let mut events = Vec::new();
    if let Some(p) = &row.phone_enc
        && let Ok(clear) = state.vault.open(p)
    {
        events = addresses::store::events_by_phone(&mut c, &clear).await?;
    }
    if let Some(a) = &address
        && let (Some(x), Some(y)) = (a.lon, a.lat)
    {
        for e in addresses::store::events_near(&mut c, x, y).await? {
            if !events.iter().any(|k| k.id == e.id) {
                events.push(e);
            }
        }
    }
    let gname = grid_name(&mut c, &row.area_code).await?;
    let person = view(
        &state,
        user.can(Perm::ViewSpecial),
        &row,
        address.as_ref().map(|a| a.full_text.clone()),
        gname,
        vec![],
    );
    Ok(Json(PersonLinks {
        phone: person.phone.clone(),
        person,
        address,
        household,
        house,
        org,
        events,
    }))
}

/// Registers a household (户) at an address.
#[utoipa::path(post, path = "/api/households", tag = "people", request_body = HouseholdInput,
    responses((status = 201, body = HouseholdView), (status = 422, body = ErrorBody)))]
pub async fn create_household(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<HouseholdInput>,
) -> AppResult<(StatusCode, Json<HouseholdView>)> {
    user.require_perm(Perm::EditPeople)?;
    let mut tx = state.db.begin().await?;
    let input = PersonInput {
        address: b.address.clone(),
        address_id: b.address_id.clone(),
        house_id: b.house_id.clone(),
        grid: b.grid.clone(),
        ..Default::default()
    };
    let placed = place(&state, &user, &mut tx, &input, None).await?;
    let address_id = placed.address_id.ok_or_else(|| {
        AppError::Invalid(vec![Issue::new("address", "required", "请填写户的地址")])
    })?;
    let village = placed
        .area_code
        .get(..12)
        .unwrap_or(&placed.area_code)
        .to_owned();
    let no = match b
        .household_no
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        Some(n) if n.chars().count() <= 9 && n.chars().all(|c| c.is_ascii_alphanumeric()) => {
            n.to_owned()
        }
        Some(_) => {
            return Err(AppError::validation(
                "household_no",
                "户号为不超过 9 位的字母或数字",
            ));
        }
        None => store::next_household_no(&mut tx, &village).await?,
    };
    let at = now();
    let h = HouseholdRow {
        id: new_id(),
        household_no: no,
        address_id,
        house_id: placed.house_id,
        area_code: placed.area_code,
        head_person_id: None,
        state: "active".into(),
    };
    store::insert_households(&mut tx, std::slice::from_ref(&h), &at)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                AppError::validation("household_no", "户号已存在")
            } else {
                e.into()
            }
        })?;
    audit::write(
        &mut tx,
        Audit::by(&user, "household.create", "household", &h.id).area(&h.area_code),
    )
    .await?;
    tx.commit().await?;
    let mut c = state.db.read.acquire().await?;
    Ok((StatusCode::CREATED, Json(household_view(&mut c, h).await?)))
}

/// A household with its members.
#[utoipa::path(get, path = "/api/households/{id}", tag = "people",
    params(("id" = String, Path, description = "户编号")),
    responses((status = 200, body = HouseholdView), (status = 404, body = ErrorBody)))]
pub async fn get_household(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<HouseholdView>> {
    user.require_perm(Perm::ViewPeople)?;
    let mut c = state.db.read.acquire().await?;
    let h = store::get_household(&mut c, &id)
        .await?
        .ok_or(AppError::RecordNotFound("household"))?;
    if !h.area_code.starts_with(user.area.as_str()) {
        return Err(AppError::OutOfScope);
    }
    Ok(Json(household_view(&mut c, h).await?))
}
