//! Group commit for reports and moves. Handlers check a report or work out a move (the
//! reads, the state machine, deadlines) on their own; the writes go to one writer task that
//! takes every job waiting at that moment and stores them in one transaction with
//! multi-row statements: case numbers, events, timeline rows, photos, timers, notices and
//! the audit chain. A batch that fails (a move whose event moved meanwhile, a bad report)
//! is retried job by job, so one never takes others down with it.

use super::flow::{self, Actor, Planned};
use super::model::{EventRow, MoveRow};
use super::store;
use crate::audit::{self, Audit};
use crate::db::{Db, new_id};
use crate::error::{AppError, AppResult};
use crate::files::StoredPhoto;
use serde_json::Value;
use sqlx::AnyConnection;
use std::collections::BTreeMap;
use tokio::sync::{mpsc, oneshot};

/// Most jobs stored in one transaction.
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

enum Work {
    Report(Box<Report>),
    Move(Box<Planned>),
}

struct Job {
    work: Work,
    /// The report with its case number, or the event after the move.
    done: oneshot::Sender<AppResult<EventRow>>,
}

#[derive(Clone)]
pub struct Writer(mpsc::Sender<Job>);

impl Writer {
    /// Starts the writer on a thread of its own. On the shared runtime its task would wait
    /// behind every ready request handler at each of its statements, and the one writer
    /// connection would sit idle meanwhile.
    pub fn spawn(db: Db) -> Writer {
        let (tx, rx) = mpsc::channel(4096);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime for the event writer");
        std::thread::Builder::new()
            .name("event-writer".into())
            .spawn(move || rt.block_on(run(db, rx)))
            .expect("the event writer thread");
        Writer(tx)
    }

    /// Stores one report; returns it with its case number.
    pub async fn report(&self, r: Report) -> AppResult<EventRow> {
        self.submit(Work::Report(Box::new(r))).await
    }

    /// Writes one planned move; returns the event after it ([`AppError::Conflict`] when the
    /// event moved since the plan was made).
    pub async fn make(&self, p: Planned) -> AppResult<EventRow> {
        self.submit(Work::Move(Box::new(p))).await
    }

    async fn submit(&self, work: Work) -> AppResult<EventRow> {
        let (tx, rx) = oneshot::channel();
        self.0
            .send(Job { work, done: tx })
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("event writer stopped")))?;
        rx.await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("event writer dropped a job")))?
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
        if batch.len() > 1 {
            let (mut reports, mut moves, mut dones) = (Vec::new(), Vec::new(), Vec::new());
            for j in batch {
                match j.work {
                    Work::Report(r) => {
                        reports.push(*r);
                        dones.push((true, j.done));
                    }
                    Work::Move(p) => {
                        moves.push(*p);
                        dones.push((false, j.done));
                    }
                }
            }
            let started = std::time::Instant::now();
            let written = write(&db, &mut reports, &moves).await;
            tracing::debug!(
                reports = reports.len(),
                moves = moves.len(),
                ms = started.elapsed().as_secs_f64() * 1e3,
                ok = written.is_ok(),
                "event writer batch"
            );
            if written.is_ok() {
                let (mut r, mut m) = (reports.into_iter(), moves.into_iter());
                for (is_report, done) in dones {
                    let ev = if is_report {
                        r.next().map(|r| r.ev)
                    } else {
                        m.next().map(|m| m.after)
                    };
                    let _ = done.send(ev.ok_or_else(|| {
                        AppError::Internal(anyhow::anyhow!("event writer lost a job"))
                    }));
                }
                continue;
            }
            // The batch failed: each job in its own transaction.
            let (mut r, mut m) = (reports.into_iter(), moves.into_iter());
            batch = dones
                .into_iter()
                .filter_map(|(is_report, done)| {
                    let work = if is_report {
                        Work::Report(Box::new(r.next()?))
                    } else {
                        Work::Move(Box::new(m.next()?))
                    };
                    Some(Job { work, done })
                })
                .collect();
        }
        for j in batch {
            let res = match j.work {
                Work::Report(r) => {
                    let mut one = [*r];
                    let res = write(&db, &mut one, &[]).await;
                    let [r] = one;
                    res.map(|_| r.ev)
                }
                Work::Move(p) => {
                    let one = [*p];
                    let res = write(&db, &mut [], &one).await;
                    let [p] = one;
                    res.map(|_| p.after)
                }
            };
            let _ = j.done.send(res);
        }
    }
}

/// Stores reports and moves in one transaction. The moves' event rows are written first
/// and the indicator rollup last, the lock order of every transaction that moves events.
async fn write(db: &Db, reports: &mut [Report], moves: &[Planned]) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let mut facts = store::FactDelta::default();
    flow::apply(&mut tx, moves, &mut facts).await?;
    if !reports.is_empty() {
        write_reports(&mut tx, reports).await?;
    }
    facts.write(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn write_reports(c: &mut AnyConnection, jobs: &mut [Report]) -> AppResult<()> {
    let mut days: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, j) in jobs.iter().enumerate() {
        days.entry((j.city.clone(), j.day.clone()))
            .or_default()
            .push(i);
    }
    for ((city, day), idx) in days {
        let n = idx.len() as i64;
        let last = store::bump_case_seq(c, &city, &day, n).await?;
        for (k, i) in idx.into_iter().enumerate() {
            jobs[i].ev.case_no = format!("{city}{day}{:05}", last - n + 1 + k as i64);
        }
    }
    let evs: Vec<&EventRow> = jobs.iter().map(|j| &j.ev).collect();
    store::insert_events(c, &evs).await?;
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
    store::insert_keys(c, &keys).await?;
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
    store::insert_moves(c, &moves).await?;
    for (j, m) in jobs.iter().zip(&moves) {
        for p in &j.photos {
            store::insert_photo(c, &m.id, &j.ev.id, p).await?;
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
    store::insert_timers(c, &timers).await?;
    let audits = jobs
        .iter()
        .map(|j| {
            let mut a = j.audit.clone();
            a.object_id = j.ev.id.clone();
            a.detail = Some(j.ev.case_no.clone());
            a
        })
        .collect();
    audit::write_many(c, audits).await?;
    Ok(())
}
