//! What every handler gets: the database, the configuration, the grid index, the working-day
//! calendar and the clock.

use crate::config::Config;
use crate::db::Db;
use chrono::{DateTime, Utc};
use civgrid_core::address::Gazetteer;
use civgrid_core::calendar::{WorkCalendar, WorkingHours};
use civgrid_core::locate::GridIndex;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

/// A catalog snapshot and when it was loaded.
type Loaded = (std::time::Instant, Arc<crate::catalog::Snapshot>);

/// What a name is looked up for: an area or a grid by code, a department by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameOf {
    Area,
    Grid,
    Department,
}

/// How long a looked-up name is trusted (an edit in this process drops them all at once).
const NAMES_TTL: std::time::Duration = std::time::Duration::from_secs(60);

type Names = HashMap<(NameOf, String), (std::time::Instant, Option<String>)>;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cfg: Arc<Config>,
    /// Current approved grid boundaries, kept in step with approvals.
    pub grids: Arc<RwLock<GridIndex<String>>>,
    /// Holidays and working hours; reloaded when a year file changes.
    pub calendar: Arc<RwLock<Arc<WorkCalendar>>>,
    pub clock: Clock,
    /// The group-commit writer of reports and moves.
    pub writer: crate::events::writer::Writer,
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
    /// Names of areas, grids and departments as event details show them.
    names: Arc<std::sync::Mutex<Names>>,
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
            writer: crate::events::writer::Writer::spawn(db.clone()),
            db,
            cfg: Arc::new(cfg),
            grids: Arc::new(RwLock::new(index)),
            calendar: Arc::new(RwLock::new(Arc::new(calendar))),
            clock: Clock::default(),
            catalog: Arc::default(),
            names: Arc::default(),
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

    /// The current name of an area, grid or department: from memory when looked up in the
    /// last minute, else read on `c`.
    pub async fn name_of(
        &self,
        c: &mut sqlx::AnyConnection,
        of: NameOf,
        key: &str,
    ) -> crate::error::AppResult<Option<String>> {
        let k = (of, key.to_owned());
        if let Ok(m) = self.names.lock()
            && let Some((at, name)) = m.get(&k)
            && at.elapsed() < NAMES_TTL
        {
            return Ok(name.clone());
        }
        let name = match of {
            NameOf::Area => crate::events::store::area_name(c, key).await?,
            NameOf::Grid => crate::events::store::grid_name(c, key).await?,
            NameOf::Department => crate::catalog::store::department(c, key)
                .await?
                .map(|d| d.name),
        };
        if let Ok(mut m) = self.names.lock() {
            m.insert(k, (std::time::Instant::now(), name.clone()));
        }
        Ok(name)
    }

    /// Drops the remembered names after an edit of areas, grids or departments.
    pub fn names_changed(&self) {
        if let Ok(mut m) = self.names.lock() {
            m.clear();
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
