//! What every handler gets: the database, the configuration and the grid index.

use crate::config::Config;
use crate::db::Db;
use civgrid_core::locate::GridIndex;
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub cfg: Arc<Config>,
    /// Current approved grid boundaries, kept in step with approvals.
    pub grids: Arc<RwLock<GridIndex<String>>>,
}

impl AppState {
    /// Builds the state and loads every current boundary into the index.
    pub async fn new(db: Db, cfg: Config) -> anyhow::Result<AppState> {
        let index = crate::areas::store::load_index(&db.pool).await?;
        Ok(AppState {
            db,
            cfg: Arc::new(cfg),
            grids: Arc::new(RwLock::new(index)),
        })
    }
}
