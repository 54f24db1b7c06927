//! SQL of the areas domain. Portable: runs unchanged on SQLite and PostgreSQL.

use super::model::*;
use crate::db::{Tx, now, prefix_range};
use civgrid_core::geo::Boundary;
use civgrid_core::locate::GridIndex;
use sqlx::AnyPool;
use std::collections::HashMap;

const AREA_COLS: &str = "code, name, level, parent_code, valid_from, valid_to";

pub async fn get_area(pool: &AnyPool, code: &str) -> Result<Option<AreaRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {AREA_COLS} FROM areas WHERE code = $1 AND valid_to IS NULL"
    ))
    .bind(code)
    .fetch_optional(pool)
    .await
}

/// Every row of one code, current and end-dated, oldest first.
pub async fn area_versions(pool: &AnyPool, code: &str) -> Result<Vec<AreaRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {AREA_COLS} FROM areas WHERE code = $1 ORDER BY valid_from"
    ))
    .bind(code)
    .fetch_all(pool)
    .await
}

/// Current rows of several codes in one query, ordered by code (so ancestors come top down).
pub async fn get_areas(pool: &AnyPool, codes: &[String]) -> Result<Vec<AreaRow>, sqlx::Error> {
    if codes.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {AREA_COLS} FROM areas WHERE valid_to IS NULL AND code IN ({}) ORDER BY code",
        marks.join(", ")
    );
    let mut q = sqlx::query_as(&sql);
    for c in codes {
        q = q.bind(c);
    }
    q.fetch_all(pool).await
}

pub async fn children(pool: &AnyPool, code: &str) -> Result<Vec<AreaRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {AREA_COLS} FROM areas WHERE parent_code = $1 AND valid_to IS NULL ORDER BY code"
    ))
    .bind(code)
    .fetch_all(pool)
    .await
}

/// Current divisions strictly below `prefix`.
pub async fn subtree(pool: &AnyPool, prefix: &str) -> Result<Vec<AreaRow>, sqlx::Error> {
    let (lo, hi) = prefix_range(prefix);
    sqlx::query_as(&format!(
        "SELECT {AREA_COLS} FROM areas WHERE code > $1 AND code < $2 AND valid_to IS NULL ORDER BY code"
    ))
    .bind(lo)
    .bind(hi)
    .fetch_all(pool)
    .await
}

/// Counts of townships, villages and grids strictly below each node whose code has
/// `key_len` digits, within `prefix`.
pub async fn counts_by_prefix(
    pool: &AnyPool,
    prefix: &str,
    key_len: usize,
) -> Result<HashMap<String, Counts>, sqlx::Error> {
    let (lo, hi) = prefix_range(prefix);
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT substr(code, 1, CAST($3 AS INTEGER)) AS k, level, COUNT(*) FROM areas
          WHERE code >= $1 AND code < $2 AND valid_to IS NULL AND level IN ('township', 'village')
            AND length(code) > CAST($3 AS INTEGER)
          GROUP BY 1, 2",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(key_len as i64)
    .fetch_all(pool)
    .await?;
    let mut out: HashMap<String, Counts> = HashMap::new();
    for (k, level, n) in rows {
        let c = out.entry(k).or_default();
        match level.as_str() {
            "township" => c.townships = n,
            _ => c.villages = n,
        }
    }
    let grids: Vec<(String, i64)> = sqlx::query_as(
        "SELECT substr(code, 1, CAST($3 AS INTEGER)) AS k, COUNT(*) FROM grids
          WHERE code >= $1 AND code < $2 AND status = 'active' GROUP BY 1",
    )
    .bind(&lo)
    .bind(&hi)
    .bind(key_len as i64)
    .fetch_all(pool)
    .await?;
    for (k, n) in grids {
        out.entry(k).or_default().grids = n;
    }
    Ok(out)
}

/// Current divisions whose name contains `q`, within `prefix`.
pub async fn search(
    pool: &AnyPool,
    prefix: &str,
    q: &str,
    limit: i64,
) -> Result<Vec<AreaRow>, sqlx::Error> {
    let (lo, hi) = prefix_range(prefix);
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    sqlx::query_as(&format!(
        "SELECT {AREA_COLS} FROM areas
          WHERE code >= $1 AND code < $2 AND valid_to IS NULL AND name LIKE $3 ESCAPE '\\'
          ORDER BY length(code), code LIMIT $4"
    ))
    .bind(lo)
    .bind(hi)
    .bind(pattern)
    .bind(limit)
    .fetch_all(pool)
    .await
}

// ---------------------------------------------------------------- import

/// Current rows within `prefix` (and its ancestors), for diffing against an import.
pub async fn current_in(
    pool: &AnyPool,
    prefix: &str,
) -> Result<HashMap<String, AreaRow>, sqlx::Error> {
    let (lo, hi) = prefix_range(prefix);
    let rows: Vec<AreaRow> = sqlx::query_as(&format!(
        "SELECT {AREA_COLS} FROM areas WHERE valid_to IS NULL AND (code >= $1 AND code < $2 OR $1 LIKE code || '%')"
    ))
    .bind(lo)
    .bind(hi)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.code.clone(), r)).collect())
}

pub async fn newest_year(pool: &AnyPool) -> Result<Option<i64>, sqlx::Error> {
    let (y,): (Option<i64>,) = sqlx::query_as("SELECT MAX(valid_from) FROM areas")
        .fetch_one(pool)
        .await?;
    Ok(y)
}

/// A division row to insert.
pub struct NewArea<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub level: &'a str,
    pub parent_code: Option<&'a str>,
}

/// Inserts rows in multi-row statements (the bulk path of the importer).
pub async fn insert_areas(tx: &mut Tx, rows: &[NewArea<'_>], year: i64) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(tx, rows, 5) {
        let mut sql = String::with_capacity(64 + chunk.len() * 40);
        sql.push_str("INSERT INTO areas (code, name, level, parent_code, valid_from) VALUES ");
        for i in 0..chunk.len() {
            let b = i * 4;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                chunk.len() * 4 + 1
            ));
        }
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.code)
                .bind(r.name)
                .bind(r.level)
                .bind(r.parent_code);
        }
        q.bind(year).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Ends the current row of `code` in `year` (renamed, moved or abolished).
pub async fn end_area(tx: &mut Tx, code: &str, year: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE areas SET valid_to = $1 WHERE code = $2 AND valid_to IS NULL")
        .bind(year)
        .bind(code)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Corrects the current row in place (same year re-imported with a fix).
pub async fn update_area(tx: &mut Tx, a: &NewArea<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE areas SET name = $1, parent_code = $2 WHERE code = $3 AND valid_to IS NULL",
    )
    .bind(a.name)
    .bind(a.parent_code)
    .bind(a.code)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- grids

const GRID_COLS: &str =
    "code, village_code, name, grid_type, household_target, population_target, status, created_at";

pub async fn get_grid(pool: &AnyPool, code: &str) -> Result<Option<GridRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {GRID_COLS} FROM grids WHERE code = $1"))
        .bind(code)
        .fetch_optional(pool)
        .await
}

/// Active grids under `prefix`, with their current boundary, ordered by code.
pub async fn grids_within(
    pool: &AnyPool,
    prefix: &str,
) -> Result<Vec<(GridRow, Option<String>)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        grid: GridRow,
        geojson: Option<String>,
    }
    let (lo, hi) = prefix_range(prefix);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT g.code, g.village_code, g.name, g.grid_type, g.household_target, g.population_target,
                g.status, g.created_at, b.geojson
           FROM grids g LEFT JOIN grid_boundaries b ON b.grid_code = g.code AND b.valid_to IS NULL
          WHERE g.code >= $1 AND g.code < $2 AND g.status = 'active'
          ORDER BY g.code",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.grid, r.geojson)).collect())
}

/// Active grids under `prefix`, without their geometry (for trees and counts).
pub async fn grid_rows_within(pool: &AnyPool, prefix: &str) -> Result<Vec<GridRow>, sqlx::Error> {
    let (lo, hi) = prefix_range(prefix);
    sqlx::query_as(&format!(
        "SELECT {GRID_COLS} FROM grids WHERE code >= $1 AND code < $2 AND status = 'active' ORDER BY code"
    ))
    .bind(lo)
    .bind(hi)
    .fetch_all(pool)
    .await
}

/// Next free sequence number under a village (1-based).
pub async fn next_grid_seq(tx: &mut Tx, village: &str) -> Result<u32, sqlx::Error> {
    let (max,): (Option<String>,) =
        sqlx::query_as("SELECT MAX(code) FROM grids WHERE village_code = $1")
            .bind(village)
            .fetch_one(&mut **tx)
            .await?;
    Ok(max
        .and_then(|c| c[village.len()..].parse::<u32>().ok())
        .unwrap_or(0)
        + 1)
}

pub async fn insert_grid(tx: &mut Tx, g: &GridRow, created_by: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO grids (code, village_code, name, grid_type, household_target, population_target,
                            status, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&g.code)
    .bind(&g.village_code)
    .bind(&g.name)
    .bind(&g.grid_type)
    .bind(g.household_target)
    .bind(g.population_target)
    .bind(&g.status)
    .bind(&g.created_at)
    .bind(created_by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Makes `boundary` the grid's current boundary, closing the previous one.
pub async fn set_boundary(
    tx: &mut Tx,
    grid: &str,
    boundary: &Boundary,
    approved_by: &str,
    request_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    let at = now();
    sqlx::query(
        "UPDATE grid_boundaries SET valid_to = $1 WHERE grid_code = $2 AND valid_to IS NULL",
    )
    .bind(&at)
    .bind(grid)
    .execute(&mut **tx)
    .await?;
    let [x0, y0, x1, y1] = boundary.bbox();
    sqlx::query(
        "INSERT INTO grid_boundaries (id, grid_code, geojson, min_lon, min_lat, max_lon, max_lat,
                                      valid_from, approved_by, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(crate::db::new_id())
    .bind(grid)
    .bind(boundary.to_geojson().to_string())
    .bind(x0)
    .bind(y0)
    .bind(x1)
    .bind(y1)
    .bind(&at)
    .bind(approved_by)
    .bind(request_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn current_boundary(pool: &AnyPool, grid: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT geojson FROM grid_boundaries WHERE grid_code = $1 AND valid_to IS NULL",
    )
    .bind(grid)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(g,)| g))
}

pub async fn boundary_history(pool: &AnyPool, grid: &str) -> Result<Vec<BoundaryRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, grid_code, geojson, valid_from, valid_to, approved_by, request_id
           FROM grid_boundaries WHERE grid_code = $1 ORDER BY valid_from DESC",
    )
    .bind(grid)
    .fetch_all(pool)
    .await
}

/// Every current boundary, for the in-memory index.
pub async fn load_index(pool: &AnyPool) -> anyhow::Result<GridIndex<String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT b.grid_code, b.geojson FROM grid_boundaries b JOIN grids g ON g.code = b.grid_code
          WHERE b.valid_to IS NULL AND g.status = 'active'",
    )
    .fetch_all(pool)
    .await?;
    let mut grids = Vec::with_capacity(rows.len());
    for (code, json) in rows {
        let v: serde_json::Value = serde_json::from_str(&json)?;
        let b = Boundary::from_geojson(&v)
            .map_err(|e| anyhow::anyhow!("网格 {code} 的边界无效：{e}"))?;
        grids.push((code, b));
    }
    Ok(GridIndex::new(grids))
}

pub async fn members(pool: &AnyPool, grid: &str) -> Result<Vec<GridMember>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.user_id, u.username, u.display_name, m.duty
           FROM grid_members m JOIN users u ON u.id = m.user_id
          WHERE m.grid_code = $1 ORDER BY m.duty, u.username",
    )
    .bind(grid)
    .fetch_all(pool)
    .await
}

pub async fn set_members(
    tx: &mut Tx,
    grid: &str,
    members: &[(String, &str)],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM grid_members WHERE grid_code = $1")
        .bind(grid)
        .execute(&mut **tx)
        .await?;
    let at = now();
    for (user, duty) in members {
        sqlx::query("INSERT INTO grid_members (grid_code, user_id, duty, assigned_at) VALUES ($1, $2, $3, $4)")
            .bind(grid)
            .bind(user)
            .bind(*duty)
            .bind(&at)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- change requests

const CR_COLS: &str = "id, grid_code, status, reason, requested_by, requested_at, decided_by, decided_at, decision_note, geojson";

pub async fn insert_request(tx: &mut Tx, r: &ChangeRequest) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO grid_change_requests (id, grid_code, geojson, reason, status, requested_by, requested_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&r.id)
    .bind(&r.grid_code)
    .bind(&r.geojson)
    .bind(&r.reason)
    .bind(&r.status)
    .bind(&r.requested_by)
    .bind(&r.requested_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get_request(tx: &mut Tx, id: &str) -> Result<Option<ChangeRequest>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {CR_COLS} FROM grid_change_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn list_requests(
    pool: &AnyPool,
    prefix: &str,
    status: &str,
) -> Result<Vec<ChangeRequest>, sqlx::Error> {
    let (lo, hi) = prefix_range(prefix);
    sqlx::query_as(&format!(
        "SELECT {CR_COLS} FROM grid_change_requests
          WHERE grid_code >= $1 AND grid_code < $2 AND status = $3 ORDER BY requested_at DESC LIMIT 500"
    ))
    .bind(lo)
    .bind(hi)
    .bind(status)
    .fetch_all(pool)
    .await
}

pub async fn count_pending(pool: &AnyPool, grid: &str) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM grid_change_requests WHERE grid_code = $1 AND status = 'pending'",
    )
    .bind(grid)
    .fetch_one(pool)
    .await?;
    Ok(n)
}

/// Decides a pending request. Returns false when someone decided it first.
pub async fn decide_request(
    tx: &mut Tx,
    id: &str,
    status: &str,
    by: &str,
    note: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE grid_change_requests SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4
          WHERE id = $5 AND status = 'pending'",
    )
    .bind(status)
    .bind(by)
    .bind(now())
    .bind(note)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether a grid exists, inside a transaction.
pub async fn grid_exists(
    c: &mut sqlx::AnyConnection,
    code: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT code FROM grids WHERE code = $1")
        .bind(code)
        .fetch_optional(c)
        .await
}
