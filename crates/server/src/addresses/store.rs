//! SQL of standard addresses.

use super::model::*;
use crate::db::{Tx, prefix_range};
use crate::people::model::EventLink;
use sqlx::AnyConnection;

const COLS: &str = "id, village, area_code, street_key, road, number, place, building, unit, room, \
                    full_text, lon, lat, created_at";

pub async fn find(
    c: &mut AnyConnection,
    village: &str,
    street_key: &str,
) -> Result<Option<AddressRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM addresses WHERE village = $1 AND street_key = $2"
    ))
    .bind(village)
    .bind(street_key)
    .fetch_optional(c)
    .await
}

pub async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<AddressRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLS} FROM addresses WHERE id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
}

/// Addresses of a village sharing the road and number or the place (for fuzzy matches).
pub async fn near(
    c: &mut AnyConnection,
    village: &str,
    road: Option<&str>,
    place: Option<&str>,
) -> Result<Vec<AddressRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM addresses WHERE village = $1 AND (road = $2 OR place = $3) \
         ORDER BY street_key LIMIT 20"
    ))
    .bind(village)
    .bind(road)
    .bind(place)
    .fetch_all(c)
    .await
}

pub async fn insert_many(tx: &mut Tx, rows: &[AddressRow]) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(tx, rows, 14) {
        let sql = format!(
            "INSERT INTO addresses ({COLS}) VALUES {}",
            crate::db::bulk_values(tx, chunk.len(), 14)
        );
        let mut q = sqlx::query(&sql);
        for a in chunk {
            q = q
                .bind(&a.id)
                .bind(&a.village)
                .bind(&a.area_code)
                .bind(&a.street_key)
                .bind(&a.road)
                .bind(&a.number)
                .bind(&a.place)
                .bind(&a.building)
                .bind(&a.unit)
                .bind(&a.room)
                .bind(&a.full_text)
                .bind(crate::db::Float(a.lon))
                .bind(crate::db::Float(a.lat))
                .bind(&a.created_at);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Every address of a village (the importer matches against them in memory).
pub async fn of_villages(
    c: &mut AnyConnection,
    prefix: &str,
) -> Result<Vec<(String, String, String, String)>, sqlx::Error> {
    let (lo, hi) = prefix_range(prefix);
    sqlx::query_as(
        "SELECT village, street_key, id, area_code FROM addresses WHERE village >= $1 AND village < $2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(c)
    .await
}

/// Addresses whose road, place or village name contains `pat`, found through the gram index.
pub async fn search(
    c: &mut AnyConnection,
    gram: &str,
    pat: &str,
    scope: &str,
    limit: i64,
) -> Result<Vec<AddressRow>, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    sqlx::query_as(&format!(
        "SELECT {} FROM search_grams g JOIN addresses a ON a.id = g.ref_id \
         WHERE g.gram = $1 AND g.kind = 'a' AND g.area_code >= $2 AND g.area_code < $3 \
         AND a.full_text LIKE $4 ORDER BY a.full_text LIMIT $5",
        COLS.split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(gram)
    .bind(lo)
    .bind(hi)
    .bind(pat)
    .bind(limit)
    .fetch_all(c)
    .await
}

pub async fn houses_at(c: &mut AnyConnection, id: &str) -> Result<Vec<HouseBrief>, sqlx::Error> {
    let rows: Vec<(String, String, i64, Option<String>, String)> = sqlx::query_as(
        "SELECT id, house_no, is_rental, purpose, state FROM houses WHERE address_id = $1 ORDER BY house_no",
    )
    .bind(id)
    .fetch_all(c)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, house_no, rental, purpose, state)| HouseBrief {
            id,
            house_no,
            is_rental: rental != 0,
            purpose,
            state,
        })
        .collect())
}

pub async fn households_at(
    c: &mut AnyConnection,
    id: &str,
) -> Result<Vec<HouseholdBrief>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, household_no, head_person_id FROM households WHERE address_id = $1 ORDER BY household_no",
    )
    .bind(id)
    .fetch_all(c)
    .await
}

pub async fn people_at(
    c: &mut AnyConnection,
    column: &str,
    id: &str,
) -> Result<Vec<Resident>, sqlx::Error> {
    // `column` is one of our own names, never user input.
    debug_assert!(["address_id", "house_id", "household_id"].contains(&column));
    sqlx::query_as(&format!(
        "SELECT id, name, kind, house_id, household_id, relation, residence, state FROM people \
         WHERE {column} = $1 ORDER BY relation, name LIMIT 500"
    ))
    .bind(id)
    .fetch_all(c)
    .await
}

pub async fn orgs_at(c: &mut AnyConnection, id: &str) -> Result<Vec<OrgBrief>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, name, uscc, state FROM orgs WHERE address_id = $1 ORDER BY name",
    )
    .bind(id)
    .fetch_all(c)
    .await
}

/// Events within about 50 m of a point (the address's position).
pub async fn events_near(
    c: &mut AnyConnection,
    lon: f64,
    lat: f64,
) -> Result<Vec<EventLink>, sqlx::Error> {
    let (dx, dy) = (0.0006, 0.00045);
    sqlx::query_as(
        "SELECT id, case_no, category_code, state, reported_at, description FROM events \
         WHERE lon BETWEEN $1 AND $2 AND lat BETWEEN $3 AND $4 ORDER BY reported_at DESC LIMIT 20",
    )
    .bind(lon - dx)
    .bind(lon + dx)
    .bind(lat - dy)
    .bind(lat + dy)
    .fetch_all(c)
    .await
}

/// Events whose contact phone is `phone`.
pub async fn events_by_phone(
    c: &mut AnyConnection,
    phone: &str,
) -> Result<Vec<EventLink>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, case_no, category_code, state, reported_at, description FROM events \
         WHERE contact_phone = $1 ORDER BY reported_at DESC LIMIT 20",
    )
    .bind(phone)
    .fetch_all(c)
    .await
}

/// The first grid of a village, for addresses placed by their community.
pub async fn first_grid(
    c: &mut AnyConnection,
    village: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT code FROM grids WHERE village_code = $1 ORDER BY code LIMIT 1")
        .bind(village)
        .fetch_optional(c)
        .await
}
