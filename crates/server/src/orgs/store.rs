//! SQL of organisations.

use super::model::*;
use crate::db::{Tx, prefix_range};
use sqlx::AnyConnection;

pub const COLS: [&str; 21] = [
    "id",
    "kind",
    "uscc",
    "name",
    "category",
    "address_id",
    "area_code",
    "phone_enc",
    "phone_blind",
    "legal_rep_name",
    "legal_rep_id_enc",
    "legal_rep_id_blind",
    "legal_rep_phone_enc",
    "employees",
    "extra",
    "lon",
    "lat",
    "state",
    "version",
    "created_at",
    "updated_at",
];

fn bind_row<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    o: &'q OrgRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&o.id)
        .bind(&o.kind)
        .bind(&o.uscc)
        .bind(&o.name)
        .bind(&o.category)
        .bind(&o.address_id)
        .bind(&o.area_code)
        .bind(&o.phone_enc)
        .bind(&o.phone_blind)
        .bind(&o.legal_rep_name)
        .bind(&o.legal_rep_id_enc)
        .bind(&o.legal_rep_id_blind)
        .bind(&o.legal_rep_phone_enc)
        .bind(o.employees)
        .bind(&o.extra)
        .bind(crate::db::Float(o.lon))
        .bind(crate::db::Float(o.lat))
        .bind(&o.state)
        .bind(o.version)
        .bind(&o.created_at)
        .bind(&o.updated_at)
}

pub async fn insert_orgs(tx: &mut Tx, rows: &[OrgRow]) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(tx, rows, COLS.len()) {
        let sql = format!(
            "INSERT INTO orgs ({}) VALUES {}",
            COLS.join(", "),
            crate::db::bulk_values(tx, chunk.len(), COLS.len())
        );
        let mut q = sqlx::query(&sql);
        for o in chunk {
            q = bind_row(q, o);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn update_org(tx: &mut Tx, o: &OrgRow, expected: i64) -> Result<bool, sqlx::Error> {
    let sets: Vec<String> = COLS
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, c)| format!("{c} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE orgs SET {} WHERE id = $1 AND version = ${}",
        sets.join(", "),
        COLS.len() + 1
    );
    let r = bind_row(sqlx::query(&sql), o)
        .bind(expected)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {} FROM orgs WHERE id = $1",
        COLS.join(", ")
    ))
    .bind(id)
    .fetch_optional(c)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn list(
    c: &mut AnyConnection,
    name: Option<(&str, &str)>,
    uscc: Option<&str>,
    address: Option<(&str, &str)>,
    scope: &str,
    kind: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<(OrgRow, Option<String>)>, sqlx::Error> {
    let (lo, hi) = prefix_range(scope);
    let mut args: Vec<String> = vec![lo, hi];
    let mut wh = vec!["o.area_code >= $1 AND o.area_code < $2".to_owned()];
    let mut from = String::from("orgs o");
    if let Some(u) = uscc {
        args.push(u.to_owned());
        wh.push(format!("o.uscc = ${}", args.len()));
    } else if let Some((gram, pat)) = name {
        from = "search_grams g JOIN orgs o ON o.id = g.ref_id".into();
        args.push(gram.to_owned());
        args.push(pat.to_owned());
        wh.push(format!(
            "g.gram = ${} AND g.kind = 'o' AND g.area_code >= $1 AND g.area_code < $2 AND o.name LIKE ${}",
            args.len() - 1,
            args.len()
        ));
    }
    if let Some((gram, pat)) = address {
        args.push(gram.to_owned());
        args.push(pat.to_owned());
        wh.push(format!(
            "o.address_id IN (SELECT g2.ref_id FROM search_grams g2 JOIN addresses a2 ON a2.id = g2.ref_id \
             WHERE g2.gram = ${} AND g2.kind = 'a' AND g2.area_code >= $1 AND g2.area_code < $2 AND a2.full_text LIKE ${})",
            args.len() - 1,
            args.len()
        ));
    }
    if let Some(k) = kind {
        args.push(k.to_owned());
        wh.push(format!("o.kind = ${}", args.len()));
    }
    let cols = COLS
        .iter()
        .map(|c| format!("o.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols}, a.full_text AS address_text FROM {from} LEFT JOIN addresses a ON a.id = o.address_id \
         WHERE {} ORDER BY o.name, o.id LIMIT {limit} OFFSET {offset}",
        wh.join(" AND ")
    );
    let mut query = sqlx::query(&sql);
    for a in &args {
        query = query.bind(a);
    }
    use sqlx::{FromRow, Row};
    let rows = query.fetch_all(c).await?;
    rows.iter()
        .map(|r| Ok((OrgRow::from_row(r)?, r.try_get("address_text")?)))
        .collect()
}

/// The organisation an import row stands for: by 统一社会信用代码, or else by name at the
/// same standard address.
pub async fn matching(
    c: &mut AnyConnection,
    uscc: Option<&str>,
    name: &str,
    address_id: Option<&str>,
) -> Result<Option<OrgRow>, sqlx::Error> {
    let cols = COLS.join(", ");
    match uscc {
        Some(u) => {
            sqlx::query_as(&format!("SELECT {cols} FROM orgs WHERE uscc = $1"))
                .bind(u)
                .fetch_optional(c)
                .await
        }
        None => {
            sqlx::query_as(&format!(
                "SELECT {cols} FROM orgs WHERE name = $1 AND address_id = $2
                  ORDER BY created_at, id LIMIT 1"
            ))
            .bind(name)
            .bind(address_id.unwrap_or_default())
            .fetch_optional(c)
            .await
        }
    }
}

/// Organisations in use within `scope`, with their address text (for the export).
pub async fn in_scope(
    c: &mut AnyConnection,
    scope: &str,
) -> Result<Vec<(OrgRow, Option<String>)>, sqlx::Error> {
    use sqlx::{FromRow, Row};
    let (lo, hi) = prefix_range(scope);
    let cols = COLS.map(|c| format!("o.{c}")).join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {cols}, a.full_text AS address_text FROM orgs o
           LEFT JOIN addresses a ON a.id = o.address_id
          WHERE o.area_code >= $1 AND o.area_code < $2 AND o.state = 'active'
          ORDER BY o.name, o.id LIMIT 1000000"
    ))
    .bind(&lo)
    .bind(&hi)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((OrgRow::from_row(r)?, r.try_get("address_text")?)))
        .collect()
}
