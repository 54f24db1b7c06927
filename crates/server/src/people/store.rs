//! SQL of people and households.

use super::model::*;
use crate::db::{Tx, prefix_range};
use sqlx::AnyConnection;

pub const COLS: [&str; 36] = [
    "id",
    "kind",
    "name",
    "used_name",
    "sex",
    "birth_date",
    "nation",
    "native_place",
    "marriage",
    "party",
    "education",
    "religion",
    "occupation",
    "employer",
    "id_type",
    "id_enc",
    "id_blind",
    "id_tail4",
    "id_tail6",
    "phone_enc",
    "phone_blind",
    "household_id",
    "relation",
    "house_id",
    "residence",
    "address_id",
    "org_id",
    "area_code",
    "special_type",
    "special",
    "extra",
    "state",
    "version",
    "created_by",
    "created_at",
    "updated_at",
];

fn cols() -> String {
    COLS.join(", ")
}

/// Inserts people with multi-row statements (25 rows, 900 parameters, per statement).
pub async fn insert_people(tx: &mut Tx, rows: &[PersonRow]) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(tx, rows, COLS.len()) {
        let sql = format!(
            "INSERT INTO people ({}) VALUES {}",
            cols(),
            crate::db::bulk_values(tx, chunk.len(), COLS.len())
        );
        let mut q = sqlx::query(&sql);
        for p in chunk {
            q = q
                .bind(&p.id)
                .bind(&p.kind)
                .bind(&p.name)
                .bind(&p.used_name)
                .bind(&p.sex)
                .bind(&p.birth_date)
                .bind(&p.nation)
                .bind(&p.native_place)
                .bind(&p.marriage)
                .bind(&p.party)
                .bind(&p.education)
                .bind(&p.religion)
                .bind(&p.occupation)
                .bind(&p.employer)
                .bind(&p.id_type)
                .bind(&p.id_enc)
                .bind(&p.id_blind)
                .bind(&p.id_tail4)
                .bind(&p.id_tail6)
                .bind(&p.phone_enc)
                .bind(&p.phone_blind)
                .bind(&p.household_id)
                .bind(&p.relation)
                .bind(&p.house_id)
                .bind(&p.residence)
                .bind(&p.address_id)
                .bind(&p.org_id)
                .bind(&p.area_code)
                .bind(&p.special_type)
                .bind(&p.special)
                .bind(&p.extra)
                .bind(&p.state)
                .bind(p.version)
                .bind(&p.created_by)
                .bind(&p.created_at)
                .bind(&p.updated_at);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes every column of `p` (its version already bumped) if the stored version is
/// `expected`; false when someone else changed it first.
pub async fn update_person(tx: &mut Tx, p: &PersonRow, expected: i64) -> Result<bool, sqlx::Error> {
    let sets: Vec<String> = COLS[1..]
        .iter()
        .enumerate()
        .filter(|(_, c)| !matches!(**c, "created_by" | "created_at"))
        .map(|(i, c)| format!("{c} = ${}", i + 2))
        .collect();
    let sql = format!(
        "UPDATE people SET {} WHERE id = $1 AND version = ${}",
        sets.join(", "),
        COLS.len() + 1
    );
    let r = sqlx::query(&sql)
        .bind(&p.id)
        .bind(&p.kind)
        .bind(&p.name)
        .bind(&p.used_name)
        .bind(&p.sex)
        .bind(&p.birth_date)
        .bind(&p.nation)
        .bind(&p.native_place)
        .bind(&p.marriage)
        .bind(&p.party)
        .bind(&p.education)
        .bind(&p.religion)
        .bind(&p.occupation)
        .bind(&p.employer)
        .bind(&p.id_type)
        .bind(&p.id_enc)
        .bind(&p.id_blind)
        .bind(&p.id_tail4)
        .bind(&p.id_tail6)
        .bind(&p.phone_enc)
        .bind(&p.phone_blind)
        .bind(&p.household_id)
        .bind(&p.relation)
        .bind(&p.house_id)
        .bind(&p.residence)
        .bind(&p.address_id)
        .bind(&p.org_id)
        .bind(&p.area_code)
        .bind(&p.special_type)
        .bind(&p.special)
        .bind(&p.extra)
        .bind(&p.state)
        .bind(p.version)
        .bind(&p.created_by)
        .bind(&p.created_at)
        .bind(&p.updated_at)
        .bind(expected)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn get(c: &mut AnyConnection, id: &str) -> Result<Option<PersonRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {} FROM people WHERE id = $1", cols()))
        .bind(id)
        .fetch_optional(c)
        .await
}

pub async fn by_blind(
    c: &mut AnyConnection,
    blind: &str,
) -> Result<Option<PersonRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {} FROM people WHERE id_blind = $1",
        cols()
    ))
    .bind(blind)
    .fetch_optional(c)
    .await
}

/// People by blind index, for the importer (those of one batch at once).
pub async fn by_blinds(
    c: &mut AnyConnection,
    blinds: &[String],
) -> Result<Vec<PersonRow>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in blinds.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT {} FROM people WHERE id_blind IN ({})",
            cols(),
            marks.join(", ")
        );
        let mut q = sqlx::query_as(&sql);
        for b in chunk {
            q = q.bind(b);
        }
        out.extend(q.fetch_all(&mut *c).await?);
    }
    Ok(out)
}

/// How a list is narrowed.
pub enum Find {
    All,
    IdBlind(String),
    Tail4(String),
    Tail6(String),
    Phone(String),
    /// A name through the gram index: (gram, LIKE pattern).
    Name(String, String),
}

pub struct ListFilter {
    pub find: Find,
    /// Address fragment: (gram, LIKE pattern).
    pub address: Option<(String, String)>,
    pub scope: String,
    pub kind: Option<String>,
    pub state: Option<String>,
    pub special_type: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A list row with its sealed values (the handler masks them).
#[derive(Debug, sqlx::FromRow)]
pub struct ListRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub id_enc: Option<String>,
    pub phone_enc: Option<String>,
    pub area_code: String,
    pub address: Option<String>,
    pub special_type: Option<String>,
    pub state: String,
}

pub async fn list(c: &mut AnyConnection, f: &ListFilter) -> Result<Vec<ListRow>, sqlx::Error> {
    let mut args: Vec<String> = Vec::new();
    let mut arg = |v: &str| {
        args.push(v.to_owned());
        format!("${}", args.len())
    };
    let (lo, hi) = prefix_range(&f.scope);
    let mut sql = String::from(
        "SELECT p.id, p.kind, p.name, p.sex, p.birth_date, p.id_enc, p.phone_enc, p.area_code, \
         a.full_text AS address, p.special_type, p.state FROM people p ",
    );
    let mut wh: Vec<String> = Vec::new();
    match &f.find {
        Find::Name(gram, pat) => {
            sql.push_str("JOIN search_grams g ON g.ref_id = p.id ");
            wh.push(format!(
                "g.gram = {} AND g.kind = 'p' AND g.area_code >= {} AND g.area_code < {} AND p.name LIKE {}",
                arg(gram),
                arg(&lo),
                arg(&hi),
                arg(pat)
            ));
        }
        Find::IdBlind(b) => wh.push(format!("p.id_blind = {}", arg(b))),
        Find::Tail4(b) => wh.push(format!("p.id_tail4 = {}", arg(b))),
        Find::Tail6(b) => wh.push(format!("p.id_tail6 = {}", arg(b))),
        Find::Phone(b) => wh.push(format!("p.phone_blind = {}", arg(b))),
        Find::All => {}
    }
    sql.push_str("LEFT JOIN addresses a ON a.id = p.address_id ");
    wh.push(format!(
        "p.area_code >= {} AND p.area_code < {}",
        arg(&lo),
        arg(&hi)
    ));
    if let Some((gram, pat)) = &f.address {
        wh.push(format!(
            "p.address_id IN (SELECT g2.ref_id FROM search_grams g2 JOIN addresses a2 ON a2.id = g2.ref_id \
             WHERE g2.gram = {} AND g2.kind = 'a' AND g2.area_code >= {} AND g2.area_code < {} AND a2.full_text LIKE {})",
            arg(gram),
            arg(&lo),
            arg(&hi),
            arg(pat)
        ));
    }
    if let Some(k) = &f.kind {
        wh.push(format!("p.kind = {}", arg(k)));
    }
    if let Some(s) = &f.state {
        wh.push(format!("p.state = {}", arg(s)));
    }
    match f.special_type.as_deref() {
        Some("any") => wh.push("p.special_type IS NOT NULL".into()),
        Some(t) => wh.push(format!("p.special_type = {}", arg(t))),
        None => {}
    }
    sql.push_str("WHERE ");
    sql.push_str(&wh.join(" AND "));
    // A name search pages in the gram index's order, so it stops at the page's last row.
    let order = if matches!(f.find, Find::Name(..)) {
        "g.area_code, g.ref_id"
    } else {
        "p.id DESC"
    };
    sql.push_str(&format!(
        " ORDER BY {order} LIMIT {} OFFSET {}",
        f.limit, f.offset
    ));
    let mut q = sqlx::query_as(&sql);
    for a in &args {
        q = q.bind(a);
    }
    q.fetch_all(c).await
}

pub async fn set_state(
    tx: &mut Tx,
    id: &str,
    state: &str,
    version: i64,
    at: &str,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE people SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4",
    )
    .bind(state)
    .bind(at)
    .bind(id)
    .bind(version)
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_households(
    tx: &mut Tx,
    rows: &[HouseholdRow],
    at: &str,
) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(tx, rows, 10) {
        let sql = format!(
            "INSERT INTO households (id, household_no, address_id, house_id, area_code, head_person_id, \
             state, version, created_at, updated_at) VALUES {}",
            crate::db::bulk_values(tx, chunk.len(), 10)
        );
        let mut q = sqlx::query(&sql);
        for h in chunk {
            q = q
                .bind(&h.id)
                .bind(&h.household_no)
                .bind(&h.address_id)
                .bind(&h.house_id)
                .bind(&h.area_code)
                .bind(&h.head_person_id)
                .bind(&h.state)
                .bind(1i64)
                .bind(at)
                .bind(at);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn get_household(
    c: &mut AnyConnection,
    id: &str,
) -> Result<Option<HouseholdRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, household_no, address_id, house_id, area_code, head_person_id, state FROM households WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await
}

pub async fn members(c: &mut AnyConnection, household: &str) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, name, relation, residence, sex, birth_date, state FROM people WHERE household_id = $1 \
         ORDER BY relation, birth_date",
    )
    .bind(household)
    .fetch_all(c)
    .await
}

pub async fn set_head(tx: &mut Tx, household: &str, person: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE households SET head_person_id = $1, version = version + 1 WHERE id = $2")
        .bind(person)
        .bind(household)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The next free 户号 of a village: the village's last six digits and a three-digit number.
pub async fn next_household_no(
    c: &mut AnyConnection,
    village: &str,
) -> Result<String, sqlx::Error> {
    let stem = &village[village.len().saturating_sub(6)..];
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM households WHERE household_no >= $1 AND household_no < $2",
    )
    .bind(stem)
    .bind(format!("{stem}:"))
    .fetch_one(c)
    .await?;
    Ok(format!("{stem}{:03}", n + 1))
}
