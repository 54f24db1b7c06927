//! SQL of the notifications domain: the inbox and the webhook outbox.

use super::model::*;
use sqlx::{AnyConnection, AnyPool};

/// Who a notice goes to.
#[derive(Debug, Clone)]
pub enum Recipients {
    /// Centre operators sitting at exactly this area.
    Centre(String),
    /// Liaisons of a department.
    Department(String),
    /// Grid workers of a grid.
    GridWorkers(String),
    User(String),
}

impl Recipients {
    fn sql(&self) -> (&'static str, &str) {
        match self {
            Recipients::Centre(a) => (
                "area_code = $1 AND (',' || roles || ',') LIKE '%,centre_operator,%'",
                a,
            ),
            Recipients::Department(d) => ("department_id = $1", d),
            Recipients::GridWorkers(g) => (
                "area_code = $1 AND (',' || roles || ',') LIKE '%,grid_worker,%'",
                g,
            ),
            Recipients::User(u) => ("id = $1", u),
        }
    }
}

/// One notice to every active recipient. `key` makes the ids deterministic, so the same
/// notice (a timer firing twice, a retried job) is stored once.
#[allow(clippy::too_many_arguments)]
pub async fn notify(
    c: &mut AnyConnection,
    to: &Recipients,
    key: &str,
    event_id: Option<&str>,
    kind: &str,
    title: &str,
    body: &str,
    at: &str,
) -> Result<u64, sqlx::Error> {
    let (cond, arg) = to.sql();
    let sql = format!(
        "INSERT INTO notifications (id, user_id, event_id, kind, title, body, created_at)
         SELECT $2 || ':' || id, id, $3, $4, $5, $6, $7 FROM users
          WHERE status = 'active' AND {cond}
         ON CONFLICT (id) DO NOTHING"
    );
    let r = sqlx::query(&sql)
        .bind(arg)
        .bind(key)
        .bind(event_id)
        .bind(kind)
        .bind(title)
        .bind(body)
        .bind(at)
        .execute(c)
        .await?;
    Ok(r.rows_affected())
}

pub async fn inbox(
    pool: &AnyPool,
    user: &str,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<NotificationView>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT id, event_id, kind, title, body, created_at, read_at FROM notifications
          WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL)
          ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
    ))
    .bind(user)
    .bind(unread_only as i64)
    .fetch_all(pool)
    .await
}

pub async fn unread_count(pool: &AnyPool, user: &str) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL")
            .bind(user)
            .fetch_one(pool)
            .await?;
    Ok(n)
}

/// Marks one (or, with `id` None, every) notice of `user` read; how many changed.
pub async fn mark_read(
    pool: &AnyPool,
    user: &str,
    id: Option<&str>,
    at: &str,
) -> Result<u64, sqlx::Error> {
    let r = sqlx::query(
        "UPDATE notifications SET read_at = $3
          WHERE user_id = $1 AND ($2 = '' OR id = $2) AND read_at IS NULL",
    )
    .bind(user)
    .bind(id.unwrap_or(""))
    .bind(at)
    .execute(pool)
    .await?;
    Ok(r.rows_affected())
}

pub async fn exists(pool: &AnyPool, user: &str, id: &str) -> Result<bool, sqlx::Error> {
    let r: Option<(String,)> =
        sqlx::query_as("SELECT id FROM notifications WHERE user_id = $1 AND id = $2")
            .bind(user)
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(r.is_some())
}

/// The active users a notice to `to` reaches.
pub async fn recipients(
    c: &mut AnyConnection,
    to: &Recipients,
) -> Result<Vec<String>, sqlx::Error> {
    let (cond, arg) = to.sql();
    let rows: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT id FROM users WHERE status = 'active' AND {cond} ORDER BY id"
    ))
    .bind(arg)
    .fetch_all(c)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// One notice to one user, its recipients already resolved (see [`recipients`]).
pub struct NoticeRow<'a> {
    pub id: String,
    pub user_id: &'a str,
    pub event_id: Option<&'a str>,
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub at: &'a str,
}

/// Stores notices with multi-row statements; an id already stored is kept as it was.
pub async fn insert_notices(
    c: &mut AnyConnection,
    rows: &[NoticeRow<'_>],
) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(c, rows, 7) {
        let sql = format!(
            "INSERT INTO notifications (id, user_id, event_id, kind, title, body, created_at)
             VALUES {} ON CONFLICT (id) DO NOTHING",
            crate::db::bulk_values(c, chunk.len(), 7)
        );
        let mut q = sqlx::query(&sql);
        for n in chunk {
            q = q
                .bind(&n.id)
                .bind(n.user_id)
                .bind(n.event_id)
                .bind(n.kind)
                .bind(n.title)
                .bind(n.body)
                .bind(n.at);
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

/// Whether the department has a webhook to deliver to.
pub async fn has_webhook(c: &mut AnyConnection, department: &str) -> Result<bool, sqlx::Error> {
    let r: Option<(String,)> =
        sqlx::query_as("SELECT id FROM departments WHERE id = $1 AND webhook_url IS NOT NULL")
            .bind(department)
            .fetch_optional(c)
            .await?;
    Ok(r.is_some())
}

/// A webhook delivery to queue: (id, department, event, kind, payload, time).
pub type WebhookRow<'a> = (String, &'a str, &'a str, &'a str, &'a str, &'a str);

/// Queues webhook deliveries (to departments known to have a webhook, see [`has_webhook`]).
pub async fn enqueue_webhooks(
    c: &mut AnyConnection,
    rows: &[WebhookRow<'_>],
) -> Result<(), sqlx::Error> {
    for chunk in crate::db::chunks(c, rows, 9) {
        let sql = format!(
            "INSERT INTO webhook_deliveries (id, department_id, event_id, kind, payload, status,
                                             attempts, next_attempt_at, created_at) VALUES {}",
            crate::db::bulk_values(c, chunk.len(), 9)
        );
        let mut q = sqlx::query(&sql);
        for (id, dept, event, kind, payload, at) in chunk {
            q = q
                .bind(id)
                .bind(*dept)
                .bind(*event)
                .bind(*kind)
                .bind(*payload)
                .bind("pending")
                .bind(0i64)
                .bind(*at)
                .bind(*at);
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct DueDelivery {
    pub id: String,
    pub payload: String,
    pub attempts: i64,
    pub url: Option<String>,
    pub secret: Option<String>,
}

pub async fn due_deliveries(pool: &AnyPool, now: &str) -> Result<Vec<DueDelivery>, sqlx::Error> {
    sqlx::query_as(
        "SELECT w.id, w.payload, w.attempts, d.webhook_url AS url, d.webhook_secret AS secret
           FROM webhook_deliveries w JOIN departments d ON d.id = w.department_id
          WHERE w.status = 'pending' AND w.next_attempt_at <= $1
          ORDER BY w.next_attempt_at LIMIT 100",
    )
    .bind(now)
    .fetch_all(pool)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn record_attempt(
    pool: &AnyPool,
    id: &str,
    status: &str,
    attempts: i64,
    next: &str,
    http_status: Option<i64>,
    error: Option<&str>,
    delivered_at: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = $4,
                last_status = $5, last_error = $6, delivered_at = $7
          WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(attempts)
    .bind(next)
    .bind(http_status)
    .bind(error)
    .bind(delivered_at)
    .execute(pool)
    .await?;
    Ok(())
}
