//! Database plumbing shared by every domain: one `AnyPool` over SQLite or PostgreSQL,
//! per-backend migrations with the same tables, and small portable helpers.

use anyhow::Context;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    /// Reads and writes. On SQLite this is the one writer connection.
    pub pool: AnyPool,
    /// Reads that may run beside the writer (SQLite: read-only connections on the WAL; on
    /// PostgreSQL the same pool). They see committed data only.
    pub read: AnyPool,
    pub backend: Backend,
}

/// (file name, SQL) for each migration, in order. Both lists carry the same names.
/// The migrations of one backend's folder, in order: `(name, sql)`.
macro_rules! migrations {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")))),*]
    };
}

/// Every migration (the same names in both folders; a test checks none is left out).
macro_rules! all_migrations {
    ($dir:literal) => {
        migrations!($dir:
    "0001_foundation",
    "0002_events",
    "0003_case_counters",
    "0004_event_facts",
    "0005_base_data",
    "0006_duplicate_index",
    "0007_field_work",
    "0008_users_department",
        )
    };
}

const SQLITE_MIGRATIONS: &[(&str, &str)] = all_migrations!("sqlite");
const POSTGRES_MIGRATIONS: &[(&str, &str)] = all_migrations!("postgres");

impl Db {
    /// Connects to `url`; the scheme picks the backend. SQLite files (and their folder) are
    /// created when absent.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            anyhow::bail!("database_url 必须以 sqlite:// 或 postgres:// 开头");
        };
        let url = match backend {
            Backend::Sqlite => {
                let path = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or(path);
                if let Some(dir) = std::path::Path::new(path).parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("无法创建数据目录 {}", dir.display()))?;
                }
                format!("sqlite://{path}?mode=rwc")
            }
            Backend::Postgres => url.to_owned(),
        };
        let opts = || AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        let pool = match backend {
            // One connection: SQLite has one writer, and a single connection never meets
            // SQLITE_BUSY on a read-to-write upgrade. WAL keeps other processes' reads going.
            Backend::Sqlite => {
                opts()
                    .max_connections(1)
                    // A file connection does not go stale: no ping before every use.
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
                                 PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; \
                                 PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await
            }
            Backend::Postgres => opts().max_connections(16).connect(&url).await,
        }
        .with_context(|| format!("无法连接数据库 {}", crate::config::redact_url(&url)))?;
        let read = match backend {
            Backend::Sqlite => {
                // The writer has created the file and switched it to WAL by now.
                sqlx::query("SELECT 1").execute(&pool).await?;
                // Eight: a request holds its connection between statements, so with four the
                // pool, not the cores, bounded the whole loop (each connection is a thread).
                opts()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA busy_timeout=10000; PRAGMA cache_size=-16384;")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(&url.replace("mode=rwc", "mode=ro"))
                    .await?
            }
            Backend::Postgres => pool.clone(),
        };
        Ok(Db {
            pool,
            read,
            backend,
        })
    }

    /// Applies the migrations not yet applied, each in its own transaction.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        let list = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        for (name, sql) in list {
            let done: Option<(String,)> =
                sqlx::query_as("SELECT name FROM schema_migrations WHERE name = $1")
                    .bind(*name)
                    .fetch_optional(&self.pool)
                    .await?;
            if done.is_some() {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sql)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("迁移 {name} 失败"))?;
            sqlx::query("INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)")
                .bind(*name)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            if *name == "0004_event_facts" {
                crate::events::store::rebuild_facts(&mut tx, self.backend).await?;
            }
            tx.commit().await?;
        }
        // Reference data the schema needs to be useful: the default catalog and calendar.
        crate::catalog::store::seed_defaults(self).await?;
        crate::catalog::store::seed_dicts(&self.pool).await?;
        crate::evaluation::store::seed_schemes(self).await?;
        Ok(())
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.pool.begin().await
    }
}

/// Current time as stored: RFC 3339 UTC with microseconds, so text order is time order.
pub fn now() -> String {
    fmt_time(chrono::Utc::now())
}

pub fn fmt_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The instant a China calendar day begins (00:00 UTC+8), as stored.
pub fn day_start(day: chrono::NaiveDate) -> String {
    let t = day
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_local_timezone(civgrid_core::calendar::cst())
        .single()
        .expect("a fixed offset has one midnight");
    fmt_time(t.with_timezone(&chrono::Utc))
}

/// The China day of an instant.
pub fn china_day(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    t.with_timezone(&civgrid_core::calendar::cst()).date_naive()
}

/// Parses a `YYYY-MM-DD` request field.
pub fn parse_day(field: &'static str, s: &str) -> crate::error::AppResult<chrono::NaiveDate> {
    s.trim()
        .parse()
        .map_err(|_| crate::error::AppError::validation(field, "日期格式应为 YYYY-MM-DD"))
}

pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// An optional `f64` to bind. sqlx 0.8's Any driver turns a NULL `f64` into a PostgreSQL
/// `float4` parameter (it swaps its two float kinds there), and the statement prepared with
/// it then refuses the next real `f64` ("incorrect binary data format"): a NULL goes as the
/// other kind, which arrives as `float8`.
#[derive(Debug, Clone, Copy)]
pub struct Float(pub Option<f64>);

impl sqlx::Type<sqlx::Any> for Float {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <f64 as sqlx::Type<sqlx::Any>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Any> for Float {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self.0 {
            Some(v) => <f64 as sqlx::Encode<'q, sqlx::Any>>::encode_by_ref(&v, buf),
            None => <Option<f32> as sqlx::Encode<'q, sqlx::Any>>::encode_by_ref(&None, buf),
        }
    }
}

/// Time-ordered unique key (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Bounds `[lo, hi)` of every code starting with `prefix` (codes are digits, and ':' sorts
/// right after '9'), so subtree filters use the index on both backends.
pub fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}:"))
}

/// True when `e` is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Rows per multi-row INSERT of `cols` columns (for [`bulk_values`]). SQLite looks up every
/// `$n` by a linear scan of the statement's parameter names, so `$n` statements cost the
/// square of their parameters there; with anonymous `?` about 3,000 parameters are fine. PostgreSQL prefers few
/// round trips (up to 1,000 rows, within its 65,535 parameters).
pub fn bulk_rows(c: &sqlx::AnyConnection, cols: usize) -> usize {
    if c.backend_name() == "SQLite" {
        (3_000 / cols).clamp(1, 500)
    } else {
        (30_000 / cols).clamp(1, 1000)
    }
}

/// Splits `rows` into multi-row INSERTs of `cols` columns on `c`: full statements of the
/// largest power of two within [`bulk_rows`], then the rest by its binary digits (…, 4, 2,
/// 1). Statements so come in a handful of shapes that stay prepared in the connection's
/// statement cache, instead of a new SQL text to parse for every batch size.
pub fn chunks<'a, T>(c: &sqlx::AnyConnection, rows: &'a [T], cols: usize) -> Vec<&'a [T]> {
    pow2_chunks(rows, bulk_rows(c, cols))
}

fn pow2_chunks<T>(rows: &[T], most: usize) -> Vec<&[T]> {
    let max = 1usize << most.max(1).ilog2();
    let mut out = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let n = max.min(1 << rest.len().ilog2());
        let (chunk, tail) = rest.split_at(n);
        out.push(chunk);
        rest = tail;
    }
    out
}

/// A multi-row `VALUES` list for `c`'s backend: anonymous `?` on SQLite (bound by position,
/// so no name lookups at all), `$n` on PostgreSQL.
pub fn bulk_values(c: &sqlx::AnyConnection, rows: usize, cols: usize) -> String {
    if c.backend_name() == "SQLite" {
        let row = format!("({})", vec!["?"; cols].join(", "));
        vec![row; rows].join(", ")
    } else {
        values(rows, cols)
    }
}

/// `($1, …, $cols), ($cols+1, …)` for a multi-row `VALUES` of `rows` rows.
fn values(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS, pow2_chunks};

    #[test]
    fn every_migration_file_is_applied() {
        for (dir, list) in [
            ("sqlite", SQLITE_MIGRATIONS),
            ("postgres", POSTGRES_MIGRATIONS),
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut files: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| {
                    e.unwrap()
                        .file_name()
                        .to_string_lossy()
                        .trim_end_matches(".sql")
                        .to_string()
                })
                .collect();
            files.sort();
            let listed: Vec<String> = list.iter().map(|(n, _)| n.to_string()).collect();
            assert_eq!(files, listed, "{dir}");
        }
    }

    #[test]
    fn chunks_come_in_few_shapes_and_cover_every_row() {
        let rows: Vec<usize> = (0..1000).collect();
        for n in 0..=rows.len() {
            let parts = pow2_chunks(&rows[..n], 60);
            assert_eq!(parts.concat(), rows[..n].to_vec());
            assert!(
                parts
                    .iter()
                    .all(|p| [32, 16, 8, 4, 2, 1].contains(&p.len()))
            );
            // Largest first, and the tail is the binary digits of the rest: no size twice.
            let tail: Vec<usize> = parts.iter().map(|p| p.len()).filter(|&l| l < 32).collect();
            assert!(tail.windows(2).all(|w| w[0] > w[1]), "{n}: {tail:?}");
        }
        assert_eq!(pow2_chunks(&rows[..5], 0).len(), 5);
    }
}
