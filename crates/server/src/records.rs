//! What every base-data record (people, houses, organisations, addresses) shares: field
//! issues, the change history (who, when, field, old → new), and the bigram search index.

use crate::auth::CurrentUser;
use crate::db::{Tx, new_id};
use crate::error::{AppError, AppResult};
use serde::Serialize;
use sqlx::AnyPool;
use utoipa::ToSchema;

/// One thing wrong with one field of a record (or one cell of an import row).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Issue {
    pub field: String,
    /// Stable snake_case code: `required`, `id_check`, `unknown_code` …
    pub code: String,
    pub message: String,
}

impl Issue {
    pub fn new(field: &str, code: &str, message: impl Into<String>) -> Issue {
        Issue {
            field: field.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// The id a client chose for a record it creates (a UUID), so that an offline queue sending
/// the same create again gets the stored record instead of a second one.
pub fn client_id(raw: Option<&str>) -> AppResult<Option<String>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => Ok(Some(
            uuid::Uuid::parse_str(id)
                .map_err(|_| AppError::validation("id", "编号须为 UUID"))?
                .to_string(),
        )),
        None => Ok(None),
    }
}

/// One changed field.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Field-by-field differences of two flat JSON objects (values compared as text).
pub fn diff(old: &serde_json::Value, new: &serde_json::Value) -> Vec<Change> {
    let text = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(v) => Some(v.to_string()),
    };
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return vec![];
    };
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let (a, b) = (text(o.get(k)), text(n.get(k)));
            (a != b).then(|| Change {
                field: k.clone(),
                old: a,
                new: b,
            })
        })
        .collect()
}

/// Records the changes of one record, in the caller's transaction.
pub async fn write_changes(
    tx: &mut Tx,
    entity: &str,
    entity_id: &str,
    actor: &CurrentUser,
    at: &str,
    changes: &[Change],
) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(tx, changes, 9) {
        let sql = format!(
            "INSERT INTO record_changes (id, entity, entity_id, field, old_value, new_value, \
             actor_id, actor_name, at) VALUES {}",
            crate::db::bulk_values(tx, chunk.len(), 9)
        );
        let mut q = sqlx::query(&sql);
        for c in chunk {
            q = q
                .bind(new_id())
                .bind(entity)
                .bind(entity_id)
                .bind(&c.field)
                .bind(&c.old)
                .bind(&c.new)
                .bind(&actor.id)
                .bind(&actor.display_name)
                .bind(at);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct ChangeRow {
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub at: String,
}

/// A record's history, newest first.
pub async fn history(pool: &AnyPool, entity_id: &str) -> Result<Vec<ChangeRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT field, old_value, new_value, actor_id, actor_name, at FROM record_changes \
         WHERE entity_id = $1 ORDER BY at DESC, id DESC LIMIT 500",
    )
    .bind(entity_id)
    .fetch_all(pool)
    .await
}

/// The search grams of a text: every pair of neighbouring letters (汉字 or alphanumerics),
/// lower-cased; a one-letter text is its own gram. Duplicates removed.
pub fn grams(text: &str) -> Vec<String> {
    let cs: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let mut out: Vec<String> = match cs.len() {
        0 => vec![],
        1 => vec![cs[0].to_string()],
        _ => cs.windows(2).map(|w| w.iter().collect()).collect(),
    };
    out.sort();
    out.dedup();
    out
}

/// A row of the search index.
pub struct GramRow<'a> {
    pub gram: String,
    pub kind: &'static str,
    pub ref_id: &'a str,
    pub area_code: &'a str,
}

/// Index rows for `ref_id` from its texts. People's names (kind `p`) of three letters or
/// more are also indexed whole, so a full-name query is one exact lookup.
pub fn gram_rows<'a>(
    kind: &'static str,
    ref_id: &'a str,
    area_code: &'a str,
    texts: &[&str],
) -> Vec<GramRow<'a>> {
    let mut gs: Vec<String> = texts.iter().flat_map(|t| grams(t)).collect();
    if kind == "p" {
        gs.extend(
            texts
                .iter()
                .map(|t| letters(t))
                .filter(|t| t.chars().count() >= 3),
        );
    }
    gs.sort();
    gs.dedup();
    gs.into_iter()
        .map(|gram| GramRow {
            gram,
            kind,
            ref_id,
            area_code,
        })
        .collect()
}

pub async fn insert_grams(tx: &mut Tx, rows: &[GramRow<'_>]) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(tx, rows, 4) {
        let sql = format!(
            "INSERT INTO search_grams (gram, kind, ref_id, area_code) VALUES {}",
            crate::db::bulk_values(tx, chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(&r.gram)
                .bind(r.kind)
                .bind(r.ref_id)
                .bind(r.area_code);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Replaces the index rows of one record of `kind`: those of its old texts and area go (found
/// through the lookup index, which ends in `ref_id`), those of the new ones come.
pub async fn reindex(
    tx: &mut Tx,
    kind: &'static str,
    ref_id: &str,
    old: (&str, &[&str]),
    new: (&str, &[&str]),
) -> Result<(), sqlx::Error> {
    for g in gram_rows(kind, ref_id, old.0, old.1) {
        sqlx::query(
            "DELETE FROM search_grams WHERE gram = $1 AND kind = $2 AND area_code = $3 AND ref_id = $4",
        )
        .bind(&g.gram)
        .bind(kind)
        .bind(old.0)
        .bind(ref_id)
        .execute(&mut **tx)
        .await?;
    }
    insert_grams(tx, &gram_rows(kind, ref_id, new.0, new.1)).await
}

/// The letters of a text, lower-cased (what grams are made of).
fn letters(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Like [`query_gram`] for people's names: a query of three letters or more is looked up
/// whole (names are indexed whole too), a shorter one by its pair.
pub fn query_name(q: &str) -> Option<(String, String)> {
    let l = letters(q);
    match l.chars().count() {
        0 | 1 => None,
        2 => query_gram(q),
        _ => Some((l.clone(), format!("%{l}%"))),
    }
}

/// The gram to look a query up by (the first pair; the caller checks the whole text) and the
/// `LIKE` pattern that checks it.
pub fn query_gram(q: &str) -> Option<(String, String)> {
    let cs: Vec<char> = q
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if cs.len() < 2 {
        return None;
    }
    let gram: String = cs[..2].iter().collect();
    let pat = format!("%{}%", cs.iter().collect::<String>());
    Some((gram, pat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_of_names() {
        assert_eq!(grams("王芳"), vec!["王芳"]);
        assert_eq!(grams("张小明"), vec!["小明", "张小"]);
        assert_eq!(grams("李"), vec!["李"]);
        assert_eq!(grams("幸福 小区"), vec!["小区", "幸福", "福小"]);
        assert_eq!(
            query_gram("小明").unwrap(),
            ("小明".into(), "%小明%".into())
        );
        assert!(query_gram("王").is_none());
        assert_eq!(query_name("张小明").unwrap().0, "张小明");
        let rows = gram_rows("p", "x", "a", &["张小明"]);
        let gs: Vec<&str> = rows.iter().map(|r| r.gram.as_str()).collect();
        assert_eq!(gs, vec!["小明", "张小", "张小明"]);
    }

    #[test]
    fn diffs() {
        let a = serde_json::json!({"name": "王芳", "phone": null, "n": 1});
        let b = serde_json::json!({"name": "王芳", "phone": "138****1234", "n": 2});
        let d = diff(&a, &b);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].field, "n");
        assert_eq!(d[1].new.as_deref(), Some("138****1234"));
    }
}
