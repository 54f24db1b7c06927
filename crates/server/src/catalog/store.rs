//! SQL of the catalog domain (portable: runs on SQLite and PostgreSQL).

use super::model::*;
use crate::db::{self, Db, Tx};
use civgrid_core::calendar::{BUILT_IN_YEARS, WorkCalendar, WorkingHours, YearRules};
use civgrid_core::catalog::{Catalog, DEFAULT};
use sqlx::{AnyConnection, AnyPool};

/// Seeds the default catalog (when no category exists yet) and the built-in calendar years
/// (when absent). Safe to run at every start.
pub async fn seed_defaults(db: &Db) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM categories")
        .fetch_one(&mut *tx)
        .await?;
    if n == 0 {
        let c = Catalog::parse(DEFAULT)?;
        for (i, (code, name)) in c.groups.iter().enumerate() {
            sqlx::query(
                "INSERT INTO categories (code, parent_code, name, sort) VALUES ($1, NULL, $2, $3)",
            )
            .bind(code)
            .bind(name)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        }
        for (i, cat) in c.categories.iter().enumerate() {
            let sources: Vec<&str> = cat.sources.iter().map(|s| s.as_str()).collect();
            sqlx::query(
                "INSERT INTO categories (code, parent_code, name, department_code, priority, sources,
                     photo_required, duplicate_radius_m, auto_escalate, limits, sort)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&cat.code)
            .bind(&cat.group_code)
            .bind(&cat.name)
            .bind(&cat.department)
            .bind(cat.priority.as_str())
            .bind(sources.join(","))
            .bind(cat.photo_required as i64)
            .bind(cat.duplicate_radius_m as i64)
            .bind(cat.auto_escalate as i64)
            .bind(serde_json::to_string(&cat.limits)?)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        }
    }
    for body in BUILT_IN_YEARS {
        let (year, _) = YearRules::parse(body)?;
        sqlx::query(
            "INSERT INTO calendar_years (year, body, updated_by, updated_at) VALUES ($1, $2, NULL, $3)
             ON CONFLICT (year) DO NOTHING",
        )
        .bind(year as i64)
        .bind(*body)
        .bind(db::now())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The calendar from the stored year files.
pub async fn load_calendar(pool: &AnyPool, hours: WorkingHours) -> anyhow::Result<WorkCalendar> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT body FROM calendar_years ORDER BY year")
        .fetch_all(pool)
        .await?;
    let bodies: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    Ok(WorkCalendar::with_years(&bodies, hours)?)
}

pub async fn put_year(tx: &mut Tx, year: i32, body: &str, by: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO calendar_years (year, body, updated_by, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (year) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by,
                                          updated_at = excluded.updated_at",
    )
    .bind(year as i64)
    .bind(body)
    .bind(by)
    .bind(db::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get_year(pool: &AnyPool, year: i32) -> Result<Option<String>, sqlx::Error> {
    let r: Option<(String,)> = sqlx::query_as("SELECT body FROM calendar_years WHERE year = $1")
        .bind(year as i64)
        .fetch_optional(pool)
        .await?;
    Ok(r.map(|r| r.0))
}

const CATEGORY_COLS: &str = "code, parent_code, name, department_code, priority, sources, \
    photo_required, duplicate_radius_m, auto_escalate, limits, sort";

pub async fn categories(c: &mut AnyConnection) -> Result<Vec<CategoryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {CATEGORY_COLS} FROM categories ORDER BY sort, code"
    ))
    .fetch_all(c)
    .await
}

pub async fn category(
    c: &mut AnyConnection,
    code: &str,
) -> Result<Option<CategoryRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {CATEGORY_COLS} FROM categories WHERE code = $1"
    ))
    .bind(code)
    .fetch_optional(c)
    .await
}

pub async fn update_category(c: &mut AnyConnection, r: &CategoryRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE categories SET name = $2, department_code = $3, priority = $4, sources = $5,
             photo_required = $6, duplicate_radius_m = $7, auto_escalate = $8, limits = $9
          WHERE code = $1",
    )
    .bind(&r.code)
    .bind(&r.name)
    .bind(&r.department_code)
    .bind(&r.priority)
    .bind(&r.sources)
    .bind(r.photo_required)
    .bind(r.duplicate_radius_m)
    .bind(r.auto_escalate)
    .bind(&r.limits)
    .execute(c)
    .await?;
    Ok(())
}

/// Limit overrides of `areas` (an area and its ancestors): (area, category, limits JSON).
pub async fn overrides(
    c: &mut AnyConnection,
    areas: &[String],
    category: Option<&str>,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    if areas.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (2..areas.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT area_code, category_code, limits FROM category_limits
          WHERE ($1 = '' OR category_code = $1) AND area_code IN ({})",
        marks.join(",")
    );
    let mut q = sqlx::query_as(&sql).bind(category.unwrap_or(""));
    for a in areas {
        q = q.bind(a);
    }
    q.fetch_all(c).await
}

pub async fn set_override(
    tx: &mut Tx,
    area: &str,
    category: &str,
    limits: &str,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO category_limits (area_code, category_code, limits, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (area_code, category_code) DO UPDATE SET limits = excluded.limits,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(area)
    .bind(category)
    .bind(limits)
    .bind(by)
    .bind(db::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Categories approved onto the admission lists of `areas`: (category, area).
pub async fn admitted(
    c: &mut AnyConnection,
    areas: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    if areas.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (1..=areas.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT category_code, area_code FROM admission_requests
          WHERE status = 'approved' AND area_code IN ({})",
        marks.join(",")
    );
    let mut q = sqlx::query_as(&sql);
    for a in areas {
        q = q.bind(a);
    }
    q.fetch_all(c).await
}

const REQUEST_COLS: &str = "id, area_code, category_code, reason, status, requested_by, \
    requested_at, decided_by, decided_at, decision_note";

pub async fn insert_request(tx: &mut Tx, r: &AdmissionRequestView) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO admission_requests ({REQUEST_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, NULL)"
    ))
    .bind(&r.id)
    .bind(&r.area_code)
    .bind(&r.category_code)
    .bind(&r.reason)
    .bind(&r.status)
    .bind(&r.requested_by)
    .bind(&r.requested_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn get_request(
    c: &mut AnyConnection,
    id: &str,
) -> Result<Option<AdmissionRequestView>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {REQUEST_COLS} FROM admission_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

pub async fn list_requests(
    pool: &AnyPool,
    prefix: &str,
    status: Option<&str>,
) -> Result<Vec<AdmissionRequestView>, sqlx::Error> {
    let (lo, hi) = db::prefix_range(prefix);
    sqlx::query_as(&format!(
        "SELECT {REQUEST_COLS} FROM admission_requests
          WHERE area_code >= $1 AND area_code < $2 AND ($3 = '' OR status = $3)
          ORDER BY requested_at DESC LIMIT 500"
    ))
    .bind(lo)
    .bind(hi)
    .bind(status.unwrap_or(""))
    .fetch_all(pool)
    .await
}

/// Decides a pending request; false when it was no longer pending.
pub async fn decide_request(
    tx: &mut Tx,
    id: &str,
    status: &str,
    by: &str,
    note: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE admission_requests SET status = $2, decided_by = $3, decided_at = $4, decision_note = $5
          WHERE id = $1 AND status = 'pending'",
    )
    .bind(id)
    .bind(status)
    .bind(by)
    .bind(db::now())
    .bind(note)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

const DEPT_COLS: &str = "id, code, name, area_code, webhook_url";

/// Departments attached to any of `areas`.
pub async fn departments_in(
    c: &mut AnyConnection,
    areas: &[String],
) -> Result<Vec<DepartmentView>, sqlx::Error> {
    if areas.is_empty() {
        return Ok(vec![]);
    }
    let marks: Vec<String> = (1..=areas.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {DEPT_COLS} FROM departments WHERE area_code IN ({}) ORDER BY area_code DESC, code",
        marks.join(",")
    );
    let mut q = sqlx::query_as(&sql);
    for a in areas {
        q = q.bind(a);
    }
    q.fetch_all(c).await
}

pub async fn department(
    c: &mut AnyConnection,
    id: &str,
) -> Result<Option<DepartmentView>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DEPT_COLS} FROM departments WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

/// Inserts a department; false when the area already has one with that code.
pub async fn insert_department(tx: &mut Tx, d: &DepartmentView) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO departments (id, code, name, area_code, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&d.id)
    .bind(&d.code)
    .bind(&d.name)
    .bind(&d.area_code)
    .bind(db::now())
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn set_webhook(
    tx: &mut Tx,
    id: &str,
    url: Option<&str>,
    secret: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE departments SET webhook_url = $2, webhook_secret = $3 WHERE id = $1")
        .bind(id)
        .bind(url)
        .bind(secret)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn deliveries(pool: &AnyPool, dept: &str) -> Result<Vec<DeliveryView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_id, kind, status, attempts, next_attempt_at, last_status, last_error,
                created_at, delivered_at
           FROM webhook_deliveries WHERE department_id = $1 ORDER BY created_at DESC LIMIT 200",
    )
    .bind(dept)
    .fetch_all(pool)
    .await
}

pub async fn insert_api_key(
    tx: &mut Tx,
    id: &str,
    name: &str,
    key_hash: &str,
    area: &str,
    source: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (id, name, key_hash, area_code, source, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(name)
    .bind(key_hash)
    .bind(area)
    .bind(source)
    .bind(db::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn all_overrides(
    c: &mut AnyConnection,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT area_code, category_code, limits FROM category_limits")
        .fetch_all(c)
        .await
}

pub async fn all_admitted(c: &mut AnyConnection) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT category_code, area_code FROM admission_requests WHERE status = 'approved'",
    )
    .fetch_all(c)
    .await
}

const DICT_COLS: &str = "dict_type, code, label, standard_ref, valid_from, valid_to, sort";

/// Code-table items in force.
pub async fn current_dicts(c: &mut AnyConnection) -> Result<Vec<DictItem>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DICT_COLS} FROM dict_items WHERE valid_to IS NULL ORDER BY dict_type, sort, code"
    ))
    .fetch_all(c)
    .await
}

/// Every version of one code.
pub async fn dict_versions(
    c: &mut AnyConnection,
    dict_type: &str,
    code: &str,
) -> Result<Vec<DictItem>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {DICT_COLS} FROM dict_items WHERE dict_type = $1 AND code = $2 ORDER BY valid_from"
    ))
    .bind(dict_type)
    .bind(code)
    .fetch_all(c)
    .await
}

pub async fn insert_dict_items(tx: &mut Tx, rows: &[DictItem]) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(tx, rows, 7) {
        let sql = format!(
            "INSERT INTO dict_items ({DICT_COLS}) VALUES {}",
            crate::db::bulk_values(tx, chunk.len(), 7)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(&r.dict_type)
                .bind(&r.code)
                .bind(&r.label)
                .bind(&r.standard_ref)
                .bind(&r.valid_from)
                .bind(&r.valid_to)
                .bind(r.sort);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Ends the version in force of a code on `day`.
pub async fn end_dict_item(
    tx: &mut Tx,
    dict_type: &str,
    code: &str,
    day: &str,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE dict_items SET valid_to = $1 WHERE dict_type = $2 AND code = $3 AND valid_to IS NULL",
    )
    .bind(day)
    .bind(dict_type)
    .bind(code)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

/// Seeds the code tables once (the verified values of DOMAIN.md §5 and editable defaults).
pub async fn seed_dicts(pool: &sqlx::AnyPool) -> anyhow::Result<()> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dict_items")
        .fetch_one(pool)
        .await?;
    if n > 0 {
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    struct Seed {
        #[serde(rename = "type")]
        dict_type: String,
        code: String,
        label: String,
        #[serde(rename = "ref")]
        standard_ref: String,
    }
    let seeds: Vec<Seed> = serde_json::from_str(include_str!("../../fixtures/dicts.json"))?;
    let rows: Vec<DictItem> = seeds
        .into_iter()
        .enumerate()
        .map(|(i, s)| DictItem {
            dict_type: s.dict_type,
            code: s.code,
            label: s.label,
            standard_ref: Some(s.standard_ref),
            valid_from: "2000-01-01".into(),
            valid_to: None,
            sort: i as i64,
        })
        .collect();
    let mut tx = pool.begin().await?;
    insert_dict_items(&mut tx, &rows).await?;
    tx.commit().await?;
    Ok(())
}
