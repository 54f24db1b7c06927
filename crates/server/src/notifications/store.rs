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

/// Queues a webhook delivery when the department has a webhook.
pub async fn enqueue_webhook(
    c: &mut AnyConnection,
    id: &str,
    department: &str,
    event_id: &str,
    kind: &str,
    payload: &str,
    at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, department_id, event_id, kind, payload, status,
                                         attempts, next_attempt_at, created_at)
         SELECT $1, id, $3, $4, $5, 'pending', 0, $6, $6 FROM departments
          WHERE id = $2 AND webhook_url IS NOT NULL",
    )
    .bind(id)
    .bind(department)
    .bind(event_id)
    .bind(kind)
    .bind(payload)
    .bind(at)
    .execute(c)
    .await?;
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
