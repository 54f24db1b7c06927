//! The append-only, hash-chained audit log. Rows are written in the same transaction as the
//! change they record; `verify` walks the chain and reports the first broken link.

use crate::auth::CurrentUser;
use crate::db::{self, Tx};
use sha2::{Digest, Sha256};

/// One audit row before it is chained.
#[derive(Debug, Clone, Default)]
pub struct Audit {
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub role: Option<String>,
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: String,
    pub area_code: Option<String>,
    pub result: &'static str,
    pub source_ip: Option<String>,
    pub detail: Option<String>,
}

impl Audit {
    /// A successful action by `user` on one object.
    pub fn by(
        user: &CurrentUser,
        action: &'static str,
        object_type: &'static str,
        object_id: impl Into<String>,
    ) -> Audit {
        Audit {
            user_id: Some(user.id.clone()),
            username: Some(user.username.clone()),
            role: Some(user.roles_str()),
            action,
            object_type,
            object_id: object_id.into(),
            area_code: None,
            result: "success",
            source_ip: user.ip.clone(),
            detail: None,
        }
    }

    pub fn area(mut self, area: impl Into<String>) -> Audit {
        self.area_code = Some(area.into());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Audit {
        self.detail = Some(detail.into());
        self
    }
}

#[derive(sqlx::FromRow, Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub role: Option<String>,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub area_code: Option<String>,
    pub result: String,
    pub source_ip: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

fn row_hash(r: &AuditRow) -> String {
    let mut h = Sha256::new();
    let o = |s: &Option<String>| s.clone().unwrap_or_default();
    for part in [
        r.prev_hash.clone(),
        r.seq.to_string(),
        r.at.clone(),
        o(&r.user_id),
        o(&r.username),
        o(&r.role),
        r.action.clone(),
        o(&r.object_type),
        o(&r.object_id),
        o(&r.area_code),
        r.result.clone(),
        o(&r.source_ip),
        o(&r.detail),
    ] {
        h.update(part.len().to_string().as_bytes());
        h.update(b":");
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends `a` to the chain inside `tx`.
pub async fn write(tx: &mut Tx, a: Audit) -> Result<(), sqlx::Error> {
    write_many(tx, vec![a]).await
}

/// Appends several rows at once (one head update, multi-row inserts): the intake writer
/// records a whole batch of reports this way.
pub async fn write_many(c: &mut sqlx::AnyConnection, items: Vec<Audit>) -> Result<(), sqlx::Error> {
    if items.is_empty() {
        return Ok(());
    }
    // Taking the head row's lock serialises writers on PostgreSQL; SQLite has one writer.
    let (last, mut prev_hash): (i64, String) = sqlx::query_as(
        "UPDATE audit_chain SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq, last_hash",
    )
    .bind(items.len() as i64)
    .fetch_one(&mut *c)
    .await?;
    let at = db::now();
    let first = last - items.len() as i64 + 1;
    let mut rows = Vec::with_capacity(items.len());
    for (i, a) in items.into_iter().enumerate() {
        let mut row = AuditRow {
            seq: first + i as i64,
            at: at.clone(),
            user_id: a.user_id,
            username: a.username,
            role: a.role,
            action: a.action.to_owned(),
            object_type: Some(a.object_type.to_owned()).filter(|s| !s.is_empty()),
            object_id: Some(a.object_id).filter(|s| !s.is_empty()),
            area_code: a.area_code,
            result: a.result.to_owned(),
            source_ip: a.source_ip,
            detail: a.detail,
            prev_hash: prev_hash.clone(),
            hash: String::new(),
        };
        row.hash = row_hash(&row);
        prev_hash = row.hash.clone();
        rows.push(row);
    }
    for chunk in db::chunks(c, &rows, 14) {
        let sql = format!(
            "INSERT INTO audit_log (seq, at, user_id, username, role, action, object_type, object_id,
                                    area_code, result, source_ip, detail, prev_hash, hash) VALUES {}",
            db::bulk_values(c, chunk.len(), 14)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.seq)
                .bind(&r.at)
                .bind(&r.user_id)
                .bind(&r.username)
                .bind(&r.role)
                .bind(&r.action)
                .bind(&r.object_type)
                .bind(&r.object_id)
                .bind(&r.area_code)
                .bind(&r.result)
                .bind(&r.source_ip)
                .bind(&r.detail)
                .bind(&r.prev_hash)
                .bind(&r.hash);
        }
        q.execute(&mut *c).await?;
    }
    sqlx::query("UPDATE audit_chain SET last_hash = $1 WHERE id = 1")
        .bind(&prev_hash)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Outcome of walking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact {
        rows: i64,
    },
    /// The first row (by sequence) at which the chain breaks, and why.
    Broken {
        seq: i64,
        reason: &'static str,
    },
}

/// Recomputes every link. Detects edited rows (hash), deleted rows (gap or head mismatch)
/// and rows spliced in (prev_hash).
pub async fn verify(pool: &sqlx::AnyPool) -> Result<Verdict, sqlx::Error> {
    use futures_util::TryStreamExt;
    let (head_seq, head_hash): (i64, String) =
        sqlx::query_as("SELECT last_seq, last_hash FROM audit_chain WHERE id = 1")
            .fetch_one(pool)
            .await?;
    let mut rows =
        sqlx::query_as::<_, AuditRow>("SELECT * FROM audit_log ORDER BY seq").fetch(pool);
    let mut expect_seq = 1;
    let mut prev = "0".repeat(64);
    while let Some(r) = rows.try_next().await? {
        if r.seq != expect_seq {
            return Ok(Verdict::Broken {
                seq: expect_seq,
                reason: "missing_row",
            });
        }
        if r.prev_hash != prev {
            return Ok(Verdict::Broken {
                seq: r.seq,
                reason: "prev_hash_mismatch",
            });
        }
        if row_hash(&r) != r.hash {
            return Ok(Verdict::Broken {
                seq: r.seq,
                reason: "row_modified",
            });
        }
        prev = r.hash;
        expect_seq += 1;
    }
    if expect_seq - 1 != head_seq || prev != head_hash {
        return Ok(Verdict::Broken {
            seq: expect_seq,
            reason: "tail_missing",
        });
    }
    Ok(Verdict::Intact { rows: head_seq })
}
