//! Request, response and row types of the accounts domain.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub area_code: String,
    pub roles: String,
    pub password_hash: String,
    pub status: String,
    pub failed_count: i64,
    pub first_failed_at: Option<String>,
    pub locked_until: Option<String>,
    pub department_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A signed-in session: the cookie is set too; API clients send `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub user: UserView,
    /// Minutes of inactivity after which the session ends.
    pub idle_timeout_minutes: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleView {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub area_code: String,
    pub area_name: Option<String>,
    /// province | city | county | township | village | grid
    pub area_level: String,
    pub roles: Vec<RoleView>,
    /// active | disabled
    pub status: String,
    /// Set while the account is locked after failed logins.
    pub locked_until: Option<String>,
    /// The department a liaison works for (`371502-gaj`).
    pub department_id: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub old_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    pub area_code: String,
    /// Role codes, e.g. ["grid_worker"].
    pub roles: Vec<String>,
    pub password: String,
    /// For department liaisons: their department (`371502-gaj`).
    #[serde(default)]
    pub department_id: Option<String>,
}

/// Changes to an account; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUser {
    pub display_name: Option<String>,
    pub area_code: Option<String>,
    pub roles: Option<Vec<String>>,
    /// For liaisons; cleared when the account is no longer a liaison.
    pub department_id: Option<String>,
    /// active | disabled (a disabled account cannot sign in; its sessions end).
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPassword {
    /// The new password (the password rules apply).
    pub password: String,
}

/// Failures of one name: count, first failure, end of the lock.
type Tally = (i64, DateTime<Utc>, Option<DateTime<Utc>>);

/// Failed sign-ins per name (for names without an account).
#[derive(Debug, Default)]
pub struct Failures(std::collections::HashMap<String, Tally>);

/// What a failed sign-in leads to.
#[derive(Debug, PartialEq, Eq)]
pub enum Failed {
    /// Attempts left before the lock.
    Remaining(i64),
    /// Locked for this many more seconds.
    Locked(i64),
}

impl Failures {
    /// The most names remembered; older entries are dropped first.
    const CAP: usize = 10_000;

    /// Counts a failure of `name` at `now` under the same rule as real accounts.
    pub fn fail(
        &mut self,
        name: &str,
        now: DateTime<Utc>,
        window: chrono::Duration,
        max: i64,
        lock: chrono::Duration,
    ) -> Failed {
        if self.0.len() >= Self::CAP {
            self.0.retain(|_, (_, first, until)| {
                now - *first <= window || until.is_some_and(|u| u > now)
            });
            if self.0.len() >= Self::CAP {
                self.0.clear();
            }
        }
        let e = self.0.entry(name.to_owned()).or_insert((0, now, None));
        if let Some(u) = e.2.filter(|u| *u > now) {
            return Failed::Locked((u - now).num_seconds().max(1));
        }
        if e.2.is_some() || now - e.1 > window {
            *e = (0, now, None);
        }
        e.0 += 1;
        if e.0 >= max {
            e.2 = Some(now + lock);
            return Failed::Locked(lock.num_seconds());
        }
        Failed::Remaining(max - e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_lock_like_accounts() {
        let mut f = Failures::default();
        let t0 = Utc::now();
        let (w, l) = (chrono::Duration::minutes(10), chrono::Duration::minutes(15));
        let seq: Vec<Failed> = (0..6).map(|_| f.fail("nobody", t0, w, 5, l)).collect();
        assert_eq!(
            seq,
            [
                Failed::Remaining(4),
                Failed::Remaining(3),
                Failed::Remaining(2),
                Failed::Remaining(1),
                Failed::Locked(900),
                Failed::Locked(900)
            ]
        );
        // After the lock, counting starts again; outside the window it starts again too.
        assert_eq!(
            f.fail("nobody", t0 + l + chrono::Duration::seconds(1), w, 5, l),
            Failed::Remaining(4)
        );
        assert_eq!(f.fail("other", t0, w, 5, l), Failed::Remaining(4));
        assert_eq!(
            f.fail("other", t0 + chrono::Duration::minutes(11), w, 5, l),
            Failed::Remaining(4)
        );
    }
}
