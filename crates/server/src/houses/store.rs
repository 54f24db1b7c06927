//! SQL of houses.

use super::model::*;
use crate::db::{Tx, prefix_range};
use sqlx::AnyConnection;

pub const COLS: [&str; 21] = [
    "id",
    "house_no",
    "address_id",
    "area_code",
    "name",
    "purpose",
    "use_type",
    "floor_area",
    "hazard",
    "owner_name",
    "owner_id_type",
    "owner_id_enc",
    "owner_id_blind",
    "owner_phone_enc",
    "is_rental",
    "lon",
    "lat",
    "state",
    "version",
    "created_at",
    "updated_at",
];

fn bind_row<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    h: &'q HouseRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&h.id)
        .bind(&h.house_no)
        .bind(&h.address_id)
        .bind(&h.area_code)
        .bind(&h.name)
        .bind(&h.purpose)
        .bind(&h.use_type)
        .bind(crate::db::Float(h.floor_area))
        .bind(&h.hazard)
        .bind(&h.owner_name)
        .bind(&h.owner_id_type)
        .bind(&h.owner_id_enc)
        .bind(&h.owner_id_blind)
        .bind(&h.owner_phone_enc)
        .bind(h.is_rental)
        .bind(crate::db::Float(h.lon))
        .bind(crate::db::Float(h.lat))
        .bind(&h.state)
        .bind(h.version)
        .bind(&h.created_at)
        .bind(&h.updated_at)
}

pub async fn insert_houses(tx: &mut Tx, rows: &[HouseRow]) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(tx, rows, COLS.len()) {
        let sql = format!(
            "INSERT INTO houses ({}) VALUES {}",
            COLS.join(", "),
            crate::db::bulk_values(tx, chunk.len(), COLS.len())
        );
        let mut q = sqlx::query(&sql);
        for h in chunk {
            q = bind_row(q, h);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes every column if the stored version is `expected`.
pub async fn update_house(tx: &mut Tx, h: &HouseRow, expected: i64) -> Result<bool, sqlx::Error> {
    let sets: Vec<String> = COLS
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE houses SET {} WHERE id = $1 AND version = ${}",
        sets.join(", "),
        COLS.len() + 1
    );
    let r = bind_row(sqlx::query(&sql), h)
        .bind(expected)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<HouseRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {} FROM houses WHERE id = $1",
        COLS.join(", ")
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn list(
    c: &mut AnyConnection,
    q: Option<(&str, &str)>,
    house_no: Option<&str>,
    address: Option<(&str, &str)>,
    scope: &str,
    rental: Option<bool>,
    limit: i64,
    offset: i64,
) -> Result<Vec<(HouseRow, Option<String>)>, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    let mut args: Vec<String> = vec![lo.clone(), hi.clone()];
    let mut wh = vec!["h.area_code >= $1 AND h.area_code < $2".to_owned()];
    let mut from = String::from("houses h");
    if let Some(no) = house_no {
        args.push(no.to_owned());
        wh.push(format!("h.house_no = ${}", args.len()));
    } else if let Some((gram, pat)) = q {
        from = "search_grams g JOIN houses h ON h.id = g.ref_id".into();
        args.push(gram.to_owned());
        args.push(pat.to_owned());
        wh.push(format!(
            "g.gram = ${} AND g.kind = 'h' AND g.area_code >= $1 AND g.area_code < $2 AND h.name LIKE ${}",
            args.len() - 1,
            args.len()
        ));
    }
    if let Some((gram, pat)) = address {
        args.push(gram.to_owned());
        args.push(pat.to_owned());
        wh.push(format!(
            "h.address_id IN (SELECT g2.ref_id FROM search_grams g2 JOIN addresses a2 ON a2.id = g2.ref_id \
             WHERE g2.gram = ${} AND g2.kind = 'a' AND g2.area_code >= $1 AND g2.area_code < $2 AND a2.full_text LIKE ${})",
            args.len() - 1,
            args.len()
        ));
    }
    if let Some(r) = rental {
        wh.push(format!("h.is_rental = {}", r as i64));
    }
    let cols = COLS
        .iter()
        .map(|c| format!("h.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols}, a.full_text AS address_text FROM {from} JOIN addresses a ON a.id = h.address_id \
         WHERE {} ORDER BY h.house_no LIMIT {limit} OFFSET {offset}",
        wh.join(" AND ")
    );
    let mut query = sqlx::query(&sql);
    for a in &args {
        query = query.bind(a);
    }
    use sqlx::{FromRow, Row};
    let rows = query.fetch_all(c).await?;
    rows.iter()
        .map(|r| Ok((HouseRow::from_row(r)?, r.try_get("address_text")?)))
        .collect()
}

/// The next 房屋编号 of a village: its 12 digits and a four-digit number.
pub async fn next_house_no(c: &mut AnyConnection, village: &str) -> Result<String, sqlx::Error> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM houses WHERE house_no >= $1 AND house_no < $2")
            .bind(village)
            .bind(format!("{village}:"))
            .fetch_one(c)
            .await?;
    Ok(format!("{village}{:04}", n + 1))
}

/// The house an import row stands for: by 房屋编号, or else the one at its standard address.
pub async fn matching(
    c: &mut AnyConnection,
    house_no: Option<&str>,
    address_id: &str,
) -> Result<Option<HouseRow>, sqlx::Error> {
    let (col, value) = match house_no {
        Some(n) => ("house_no", n),
        None => ("address_id", address_id),
    };
    sqlx::query_as(&format!(
        "SELECT {} FROM houses WHERE {col} = $1 ORDER BY created_at, id LIMIT 1",
        COLS.join(", ")
    ))
    .bind(value)
    .fetch_optional(c)
    .await
}

/// Houses in use within `scope`, with their address text (for the export).
pub async fn in_scope(
    c: &mut AnyConnection,
    scope: &str,
) -> Result<Vec<(HouseRow, Option<String>)>, sqlx::Error> {
    use sqlx::{FromRow, Row};
    let (lo, hi) = prefix_range(scope);
    let cols = COLS.map(|c| format!("h.{c}")).join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {cols}, a.full_text AS address_text FROM houses h
           LEFT JOIN addresses a ON a.id = h.address_id
          WHERE h.area_code >= $1 AND h.area_code < $2 AND h.state = 'active'
          ORDER BY h.house_no LIMIT 1000000"
    ))
    .bind(&lo)
    .bind(&hi)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((HouseRow::from_row(r)?, r.try_get("address_text")?)))
        .collect()
}
