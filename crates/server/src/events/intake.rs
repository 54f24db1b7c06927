//! Group commit for reports. Handlers check a report and do their reads (grid, category,
//! duplicates) on their own; the writes go to one writer task that takes every report
//! waiting at that moment and stores them in one transaction with multi-row statements:
//! case numbers, events, timeline rows, photos, timers and the audit chain. A batch that
//! fails is retried report by report, so one bad report never takes others down with it.

use super::flow::Actor;
use super::model::{EventRow, MoveRow};
use super::store;
use crate::audit::{self, Audit};
use crate::db::{Db, new_id};
use crate::error::{AppError, AppResult};
use crate::files::StoredPhoto;
use serde_json::Value;
use std::collections::BTreeMap;
use tokio::sync::{mpsc, oneshot};

/// Most reports stored in one transaction.
const MAX_BATCH: usize = 256;

/// One checked report, waiting to be stored.
pub struct Report {
    /// Complete but for `case_no`, which the writer assigns.
    pub ev: EventRow,
    /// City code and China-time date (`YYYYMMDD`) of the case number.
    pub city: String,
    pub day: String,
    pub reporter: Actor,
    pub photos: Vec<StoredPhoto>,
    pub detail: Value,
    pub timers: Vec<(&'static str, String)>,
    pub audit: Audit,
}

struct Job {
    r: Report,
    done: oneshot::Sender<AppResult<EventRow>>,
}

#[derive(Clone)]
pub struct Intake(mpsc::Sender<Job>);

impl Intake {
    /// Starts the writer task.
    pub fn spawn(db: Db) -> Intake {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(run(db, rx));
        Intake(tx)
    }

    /// Stores one report; returns it with its case number.
    pub async fn submit(&self, r: Report) -> AppResult<EventRow> {
        let (tx, rx) = oneshot::channel();
        self.0
            .send(Job { r, done: tx })
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("intake writer stopped")))?;
        rx.await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("intake writer dropped a report")))?
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let (mut reports, dones): (Vec<Report>, Vec<_>) =
            batch.into_iter().map(|j| (j.r, j.done)).unzip();
        if reports.len() > 1 && write(&db, &mut reports).await.is_ok() {
            for (r, done) in reports.into_iter().zip(dones) {
                let _ = done.send(Ok(r.ev));
            }
            continue;
        }
        // Alone, or the batch failed: each report in its own transaction.
        for (r, done) in reports.into_iter().zip(dones) {
            let mut one = [r];
            let res = write(&db, &mut one).await;
            let [r] = one;
            let _ = done.send(res.map(|_| r.ev));
        }
    }
}

async fn write(db: &Db, jobs: &mut [Report]) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let mut days: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, j) in jobs.iter().enumerate() {
        days.entry((j.city.clone(), j.day.clone()))
            .or_default()
            .push(i);
    }
    for ((city, day), idx) in days {
        let n = idx.len() as i64;
        let last = store::bump_case_seq(&mut tx, &city, &day, n).await?;
        for (k, i) in idx.into_iter().enumerate() {
            jobs[i].ev.case_no = format!("{city}{day}{:05}", last - n + 1 + k as i64);
        }
    }
    let evs: Vec<&EventRow> = jobs.iter().map(|j| &j.ev).collect();
    store::insert_events(&mut tx, &evs).await?;
    let keys: Vec<(&str, &str, &str, &str)> = evs
        .iter()
        .filter_map(|e| {
            let k = e.idempotency_key.as_deref()?;
            Some((
                e.reporter_id.as_str(),
                k,
                e.id.as_str(),
                e.reported_at.as_str(),
            ))
        })
        .collect();
    store::insert_keys(&mut tx, &keys).await?;
    let moves: Vec<MoveRow> = jobs
        .iter()
        .map(|j| MoveRow {
            id: new_id(),
            event_id: j.ev.id.clone(),
            seq: 1,
            action: "report".into(),
            from_state: None,
            to_state: j.ev.state.clone(),
            actor_id: j.reporter.id.clone(),
            actor_name: j.reporter.name.clone(),
            actor_role: Some(j.reporter.role.clone()),
            at: j.ev.reported_at.clone(),
            note: None,
            detail: Some(j.detail.to_string()),
        })
        .collect();
    store::insert_moves(&mut tx, &moves).await?;
    for (j, m) in jobs.iter().zip(&moves) {
        for p in &j.photos {
            store::insert_photo(&mut tx, &m.id, &j.ev.id, p).await?;
        }
    }
    let timers: Vec<(&str, &str, &str)> = jobs
        .iter()
        .flat_map(|j| {
            j.timers
                .iter()
                .map(|(k, due)| (j.ev.id.as_str(), *k, due.as_str()))
        })
        .collect();
    for chunk in crate::db::chunks(&tx, &timers, 3) {
        let sql = format!(
            "INSERT INTO event_timers (event_id, kind, due_at) VALUES {}",
            crate::db::bulk_values(&tx, chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (id, kind, due) in chunk {
            q = q.bind(*id).bind(*kind).bind(*due);
        }
        q.execute(&mut *tx).await?;
    }
    let audits = jobs
        .iter()
        .map(|j| {
            let mut a = j.audit.clone();
            a.object_id = j.ev.id.clone();
            a.detail = Some(j.ev.case_no.clone());
            a
        })
        .collect();
    audit::write_many(&mut tx, audits).await?;
    tx.commit().await?;
    Ok(())
}
