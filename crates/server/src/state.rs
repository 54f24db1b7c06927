//! What every handler gets: the database, the configuration, the grid index, the working-day
//! calendar and the clock.

use crate::config::Config;
use crate::db::Db;
use chrono::{DateTime, Utc};
use civgrid_core::address::Gazetteer;
use civgrid_core::calendar::{WorkCalendar, WorkingHours};
use civgrid_core::locate::GridIndex;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};

/// A catalog snapshot and when it was loaded.
type Loaded = (std::time::Instant, Arc<crate::catalog::Snapshot>);

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cfg: Arc<Config>,
    /// Current approved grid boundaries, kept in step with approvals.
    pub grids: Arc<RwLock<GridIndex<String>>>,
    /// Holidays and working hours; reloaded when a year file changes.
    pub calendar: Arc<RwLock<Arc<WorkCalendar>>>,
    pub clock: Clock,
    /// The group-commit writer of reports.
    pub intake: crate::events::intake::Intake,
    /// The catalog in memory, with when it was loaded.
    catalog: Arc<RwLock<Option<Loaded>>>,
    /// Failed sign-ins under names that have no account, counted like real ones so that the
    /// answers do not tell which names exist.
    pub unknown_logins: Arc<std::sync::Mutex<crate::accounts::Failures>>,
    /// The keys that seal personal data.
    pub vault: Arc<crate::privacy::Vault>,
    /// The division names the address parser reads with.
    places: Arc<Gazetteer>,
    /// County codes of the current divisions (ID numbers' address codes are checked on them).
    pub counties: Arc<HashSet<String>>,
    /// The code tables in memory (dropped on edit).
    dicts: Arc<RwLock<Option<Arc<crate::catalog::Dicts>>>>,
}

/// The time the workflow runs on: the system clock, or a fixed instant set by tests and by
/// the demo's history generator.
#[derive(Clone, Default)]
pub struct Clock(Arc<RwLock<Option<DateTime<Utc>>>>);

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        self.0
            .read()
            .map(|g| g.unwrap_or_else(Utc::now))
            .unwrap_or_else(|_| Utc::now())
    }

    /// Fixes the clock at `t` (`None`: back to the system clock).
    pub fn set(&self, t: Option<DateTime<Utc>>) {
        if let Ok(mut g) = self.0.write() {
            *g = t;
        }
    }
}

impl AppState {
    /// Builds the state: loads every current boundary into the index and the calendar.
    pub async fn new(db: Db, cfg: Config) -> anyhow::Result<AppState> {
        let index = crate::areas::store::load_index(&db.pool).await?;
        let hours = WorkingHours::parse(&cfg.working_hours)
            .map_err(|e| anyhow::anyhow!("working_hours: {e}"))?;
        let calendar = crate::catalog::store::load_calendar(&db.pool, hours).await?;
        let vault = crate::privacy::Vault::load(&cfg)?;
        let divisions: Vec<(String, String)> =
            sqlx::query_as("SELECT code, name FROM areas WHERE valid_to IS NULL")
                .fetch_all(&db.pool)
                .await?;
        let places = Gazetteer::new(divisions.iter().map(|(c, n)| (c.as_str(), n.as_str())));
        let counties = divisions
            .iter()
            .filter(|(c, _)| c.len() == 6)
            .map(|(c, _)| c.clone())
            .collect();
        Ok(AppState {
            vault: Arc::new(vault),
            places: Arc::new(places),
            counties: Arc::new(counties),
            dicts: Arc::default(),
            intake: crate::events::intake::Intake::spawn(db.clone()),
            db,
            cfg: Arc::new(cfg),
            grids: Arc::new(RwLock::new(index)),
            calendar: Arc::new(RwLock::new(Arc::new(calendar))),
            clock: Clock::default(),
            catalog: Arc::default(),
            unknown_logins: Arc::default(),
        })
    }

    /// The catalog snapshot, reloaded when older than `SNAPSHOT_TTL` or after an edit.
    pub async fn catalog(&self) -> crate::error::AppResult<Arc<crate::catalog::Snapshot>> {
        if let Ok(g) = self.catalog.read()
            && let Some((at, snap)) = g.as_ref()
            && at.elapsed() < crate::catalog::SNAPSHOT_TTL
        {
            return Ok(snap.clone());
        }
        let mut c = self.db.read.acquire().await?;
        let snap = Arc::new(crate::catalog::Snapshot::load(&mut c).await?);
        if let Ok(mut g) = self.catalog.write() {
            *g = Some((std::time::Instant::now(), snap.clone()));
        }
        Ok(snap)
    }

    /// Drops the snapshot after an edit of categories, limits or the admission list.
    pub fn catalog_changed(&self) {
        if let Ok(mut g) = self.catalog.write() {
            *g = None;
        }
    }

    /// The address parser's divisions.
    pub fn places(&self) -> Arc<Gazetteer> {
        self.places.clone()
    }

    /// The code tables in force.
    pub async fn dicts(&self) -> crate::error::AppResult<Arc<crate::catalog::Dicts>> {
        if let Ok(g) = self.dicts.read()
            && let Some(d) = g.as_ref()
        {
            return Ok(d.clone());
        }
        let mut c = self.db.read.acquire().await?;
        let d = Arc::new(crate::catalog::Dicts::load(&mut c).await?);
        if let Ok(mut g) = self.dicts.write() {
            *g = Some(d.clone());
        }
        Ok(d)
    }

    pub fn dicts_changed(&self) {
        if let Ok(mut g) = self.dicts.write() {
            *g = None;
        }
    }

    /// The person checks, with today's date in China.
    pub fn checker<'a>(
        &'a self,
        dicts: &'a crate::catalog::Dicts,
    ) -> crate::people::model::Checker<'a> {
        crate::people::model::Checker {
            dicts,
            counties: &self.counties,
            today: self
                .clock
                .now()
                .with_timezone(&civgrid_core::calendar::cst())
                .date_naive(),
        }
    }

    /// The calendar in force (no lock is held across awaits).
    pub fn calendar(&self) -> Arc<WorkCalendar> {
        self.calendar.read().map(|c| c.clone()).unwrap_or_default()
    }
}
