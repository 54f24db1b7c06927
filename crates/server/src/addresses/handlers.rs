//! HTTP handlers of standard addresses, and `resolve`, which the other base-data domains use
//! to turn a typed address into a standard one.

use super::model::*;
use super::store;
use crate::auth::{CurrentUser, Perm};
use crate::db::{Tx, new_id, now};
use crate::error::{AppError, AppResult, ErrorBody, Json, Path, Query};
use crate::records::{self, Issue};
use crate::state::AppState;
use axum::extract::State;
use civgrid_core::address::{Gazetteer, ParsedAddress};

/// The display form of a parsed address: division names, then the street parts.
pub fn display(gaz: &Gazetteer, p: &ParsedAddress) -> String {
    let mut s = String::new();
    for code in [&p.county, &p.township, &p.village].into_iter().flatten() {
        if let Some(n) = gaz.name_of(code) {
            s.push_str(n);
        }
    }
    street_text(p, &mut s);
    s
}

fn street_text(p: &ParsedAddress, s: &mut String) {
    let mut put = |v: &Option<String>, suffix: &str| {
        if let Some(v) = v {
            s.push_str(v);
            s.push_str(suffix);
        }
    };
    put(&p.road, "");
    put(&p.number, "号");
    put(&p.place, "");
    put(&p.building, "号楼");
    put(&p.unit, "单元");
    put(&p.room, "室");
}

/// A new standard address row for a parse (not yet stored).
pub fn new_row(
    gaz: &Gazetteer,
    p: &ParsedAddress,
    village: &str,
    area_code: &str,
    pt: Option<(f64, f64)>,
) -> AddressRow {
    let mut full = p.clone();
    full.village = Some(village.to_owned());
    full.township = Some(village[..9].to_owned());
    full.county = Some(village[..6].to_owned());
    AddressRow {
        id: new_id(),
        village: village.to_owned(),
        area_code: area_code.to_owned(),
        street_key: p.street_key(),
        road: p.road.clone(),
        number: p.number.clone(),
        place: p.place.clone(),
        building: p.building.clone(),
        unit: p.unit.clone(),
        room: p.room.clone(),
        full_text: display(gaz, &full),
        lon: pt.map(|p| p.0),
        lat: pt.map(|p| p.1),
        created_at: now(),
    }
}

/// The texts an address is found by.
pub fn search_texts(a: &AddressRow) -> Vec<&str> {
    [a.road.as_deref(), a.place.as_deref()]
        .into_iter()
        .flatten()
        .collect()
}

/// A typed address turned into a standard one: matched when the village and street parts
/// agree, else added (located in `grid`, in the grid containing `pt`, or in the village's
/// first grid). The street must say at least something beyond the village.
pub async fn resolve(
    state: &AppState,
    tx: &mut Tx,
    text: &str,
    grid: Option<&str>,
    pt: Option<(f64, f64)>,
) -> AppResult<AddressRow> {
    let gaz = state.places();
    let p = gaz.parse(text);
    let village = match (&p.village, grid) {
        (Some(v), Some(g)) if !g.starts_with(v.as_str()) => {
            return Err(AppError::Invalid(vec![Issue::new(
                "address",
                "address_grid_mismatch",
                "地址所在社区（村）与所选网格不一致",
            )]));
        }
        (Some(v), _) => v.clone(),
        (None, Some(g)) if g.len() >= 12 => g[..12].to_owned(),
        (None, _) => {
            return Err(AppError::Invalid(vec![Issue::new(
                "address",
                "address_unplaced",
                "地址无法定位到社区（村），请写明社区或村名，或选择网格",
            )]));
        }
    };
    if p.road.is_none() && p.place.is_none() && p.number.is_none() && p.building.is_none() {
        return Err(AppError::Invalid(vec![Issue::new(
            "address",
            "address_incomplete",
            "地址缺少街路巷、小区或门牌号",
        )]));
    }
    if let Some(a) = store::find(tx, &village, &p.street_key()).await? {
        return Ok(a);
    }
    let located = pt.and_then(|(x, y)| {
        state
            .grids
            .read()
            .ok()
            .and_then(|g| g.locate([x, y]).cloned())
            .filter(|g| g.starts_with(&village))
    });
    let area = match grid.map(str::to_owned).or(located) {
        Some(g) => g,
        None => store::first_grid(tx, &village)
            .await?
            .unwrap_or(village.clone()),
    };
    let row = new_row(&gaz, &p, &village, &area, pt);
    store::insert_many(tx, std::slice::from_ref(&row)).await?;
    let vname = gaz.name_of(&village).unwrap_or_default().to_owned();
    let mut texts = search_texts(&row);
    texts.push(&vname);
    records::insert_grams(
        tx,
        &records::gram_rows("a", &row.id, &row.area_code, &texts),
    )
    .await?;
    Ok(row)
}

/// Parses a free-text address and lists the standard addresses it matches.
#[utoipa::path(post, path = "/api/addresses/parse", tag = "addresses", request_body = ParseRequest,
    responses((status = 200, body = ParseResult), (status = 401, body = ErrorBody)))]
pub async fn parse_address(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(b): Json<ParseRequest>,
) -> AppResult<Json<ParseResult>> {
    user.require_perm(Perm::ViewPeople)?;
    if b.text.chars().count() > 200 {
        return Err(AppError::validation("text", "地址不能超过 200 个字"));
    }
    let gaz = state.places();
    let parsed = gaz.parse(&b.text);
    let divisions = [
        &parsed.province,
        &parsed.city,
        &parsed.county,
        &parsed.township,
        &parsed.village,
    ]
    .into_iter()
    .flatten()
    .filter_map(|c| gaz.name_of(c).map(str::to_owned))
    .collect();
    let mut matches = Vec::new();
    if let Some(v) = &parsed.village
        && user
            .area
            .as_str()
            .get(..v.len().min(user.area.as_str().len()))
            == v.get(..user.area.as_str().len().min(v.len()))
    {
        let mut c = state.db.read.acquire().await?;
        let key = parsed.street_key();
        for a in store::near(&mut c, v, parsed.road.as_deref(), parsed.place.as_deref()).await? {
            if !user.area.as_str().is_empty() && !a.area_code.starts_with(user.area.as_str()) {
                continue;
            }
            let score = if a.street_key == key {
                parsed.confidence.max(0.9)
            } else {
                let same =
                    |x: &Option<String>, y: &Option<String>| (x.is_some() && x == y) as u8 as f32;
                parsed.confidence
                    * (0.3
                        + 0.2 * same(&a.road, &parsed.road)
                        + 0.2 * same(&a.number, &parsed.number)
                        + 0.15 * same(&a.place, &parsed.place)
                        + 0.15 * same(&a.building, &parsed.building))
            };
            matches.push(AddressMatch { address: a, score });
        }
        matches.sort_by(|a, b| b.score.total_cmp(&a.score));
        matches.truncate(10);
    }
    Ok(Json(ParseResult {
        parsed,
        divisions,
        matches,
    }))
}

/// Standard addresses by a fragment (road, 小区, village), within the caller's area.
#[utoipa::path(get, path = "/api/addresses", tag = "addresses", params(AddressQuery),
    responses((status = 200, body = Vec<AddressRow>), (status = 422, body = ErrorBody)))]
pub async fn search_addresses(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AddressQuery>,
) -> AppResult<Json<Vec<AddressRow>>> {
    user.require_perm(Perm::ViewPeople)?;
    let scope = crate::people::handlers::scope_of(&user, q.area.as_deref())?;
    let (gram, pat) =
        records::query_gram(&q.q).ok_or_else(|| AppError::validation("q", "请至少输入两个字"))?;
    let mut c = state.db.read.acquire().await?;
    Ok(Json(
        store::search(
            &mut c,
            &gram,
            &pat,
            &scope,
            q.limit.unwrap_or(20).clamp(1, 100),
        )
        .await?,
    ))
}

/// Everything at one address: houses, households, people, organisations, events.
#[utoipa::path(get, path = "/api/addresses/{id}", tag = "addresses",
    params(("id" = String, Path, description = "地址编号")),
    responses((status = 200, body = AddressDetail), (status = 404, body = ErrorBody)))]
pub async fn address_detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<AddressDetail>> {
    user.require_perm(Perm::ViewPeople)?;
    let mut c = state.db.read.acquire().await?;
    let address = store::get(&mut c, &id)
        .await?
        .ok_or(AppError::RecordNotFound("address"))?;
    if !address.area_code.starts_with(user.area.as_str()) {
        return Err(AppError::OutOfScope);
    }
    let events = match (address.lon, address.lat) {
        (Some(x), Some(y)) => store::events_near(&mut c, x, y).await?,
        _ => vec![],
    };
    Ok(Json(AddressDetail {
        houses: store::houses_at(&mut c, &id).await?,
        households: store::households_at(&mut c, &id).await?,
        people: store::people_at(&mut c, "address_id", &id).await?,
        orgs: store::orgs_at(&mut c, &id).await?,
        events,
        address,
    }))
}
