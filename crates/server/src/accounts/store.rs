//! SQL of the accounts domain: users, failed-login counters and sessions.

use super::model::UserRow;
use crate::db::{Tx, now, prefix_range};
use sqlx::AnyPool;

const USER_COLS: &str = "id, username, display_name, area_code, roles, password_hash, status, failed_count, first_failed_at, locked_until, department_id";

pub async fn get_user(pool: &AnyPool, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub async fn by_username(pool: &AnyPool, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLS} FROM users WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(pool)
    .await
}

pub async fn by_username_tx(tx: &mut Tx, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLS} FROM users WHERE username = $1"
    ))
    .bind(username)
    .fetch_optional(&mut **tx)
    .await
}

/// Users whose area lies in `prefix`.
pub async fn list_in(pool: &AnyPool, prefix: &str) -> Result<Vec<UserRow>, sqlx::Error> {
    let (lo, hi) = prefix_range(prefix);
    sqlx::query_as(&format!(
        "SELECT {USER_COLS} FROM users WHERE area_code >= $1 AND area_code < $2 ORDER BY area_code, username LIMIT 1000"
    ))
    .bind(lo)
    .bind(hi)
    .fetch_all(pool)
    .await
}

pub async fn insert_user(
    tx: &mut Tx,
    id: &str,
    username: &str,
    display_name: &str,
    area_code: &str,
    roles: &str,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    let at = now();
    sqlx::query(
        "INSERT INTO users (id, username, display_name, area_code, roles, password_hash, status,
                            failed_count, password_changed_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'active', 0, $7, $7)",
    )
    .bind(id)
    .bind(username)
    .bind(display_name)
    .bind(area_code)
    .bind(roles)
    .bind(password_hash)
    .bind(&at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records the failed-login counter state.
pub async fn set_failures(
    tx: &mut Tx,
    id: &str,
    count: i64,
    first_failed_at: Option<&str>,
    locked_until: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET failed_count = $1, first_failed_at = $2, locked_until = $3 WHERE id = $4",
    )
    .bind(count)
    .bind(first_failed_at)
    .bind(locked_until)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn set_password(tx: &mut Tx, id: &str, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn insert_session(
    tx: &mut Tx,
    token_hash: &str,
    user_id: &str,
    ip: Option<&str>,
) -> Result<(), sqlx::Error> {
    let at = now();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, source_ip) VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(&at)
    .bind(ip)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends every session of a user except `keep` (after a password change).
pub async fn delete_other_sessions(
    tx: &mut Tx,
    user_id: &str,
    keep: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_department(tx: &mut Tx, id: &str, dept: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET department_id = $2 WHERE id = $1")
        .bind(id)
        .bind(dept)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Replaces an account's profile and status.
pub async fn update_profile(tx: &mut Tx, u: &UserRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET display_name = $2, area_code = $3, roles = $4, department_id = $5,
                          status = $6 WHERE id = $1",
    )
    .bind(&u.id)
    .bind(&u.display_name)
    .bind(&u.area_code)
    .bind(&u.roles)
    .bind(&u.department_id)
    .bind(&u.status)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends every session of a user.
pub async fn delete_sessions(tx: &mut Tx, user_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
