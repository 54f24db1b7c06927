//! The deadline job. Timers are rows (`event_timers`), so nothing is lost across restarts:
//! each run takes the timers that have fallen due, turns lights yellow or red, tells the
//! people responsible and their supervisors, marks overdue steps for the indicators and
//! escalates red events of auto-escalating categories to the parent centre. Then it
//! delivers the webhooks that are due.

use super::flow::{self, Actor};
use super::store;
use crate::catalog;
use crate::db::fmt_time;
use crate::notifications::{self, Recipients};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use civgrid_core::AreaCode;
use civgrid_core::calendar::Light;
use civgrid_core::event::{Move, State};
use std::collections::HashMap;
use std::time::Duration;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    pub timers: usize,
    pub yellow: usize,
    pub red: usize,
    pub escalated: usize,
    pub webhooks: usize,
}

const BATCH: i64 = 500;

/// One run of the job at `now`.
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<TickReport> {
    let mut rep = TickReport::default();
    let cal = state.calendar();
    let at = fmt_time(now);
    let mut auto: HashMap<String, bool> = HashMap::new();
    let snap = state.catalog().await?;
    loop {
        let mut tx = state.db.begin().await?;
        let mut facts = store::FactDelta::default();
        let due = store::due_timers(&mut tx, &at, BATCH, state.db.backend).await?;
        if due.is_empty() {
            break;
        }
        let batch = due.len();
        rep.timers += batch;
        for (id, kind) in &due {
            store::delete_timer(&mut tx, id, kind).await?;
            let Some(before) = store::get(&mut tx, id).await? else {
                continue;
            };
            let mut ev = before.clone();
            let (Some(step), Some(limit)) = (ev.step.clone(), ev.step_limit_min) else {
                continue;
            };
            if ev.held_from.is_some() {
                continue;
            }
            let light = Light::of(flow::used(&ev, &cal, now), limit);
            let red = light == Light::Red;
            if light == Light::Green {
                continue;
            }
            if red {
                flow::mark_late(&mut ev, &step);
            }
            ev.light = Some(flow::light_str(light).into());
            store::set_light(&mut tx, &before, &ev, &mut facts).await?;
            let (kind_str, title) = if red {
                rep.red += 1;
                (
                    "red",
                    format!("事件 {} 已超期（红灯），请立即处理", ev.case_no),
                )
            } else {
                rep.yellow += 1;
                ("yellow", format!("事件 {} 即将超期（黄灯）", ev.case_no))
            };
            let started = ev.step_started_at.clone().unwrap_or_default();
            let mut to = vec![flow::responsible(&ev)];
            if !matches!(to[0], Recipients::Centre(ref a) if *a == ev.centre_area) {
                to.push(Recipients::Centre(ev.centre_area.clone()));
            }
            if let Some(p) = flow::parent_centre(&ev.centre_area) {
                to.push(Recipients::Centre(p));
            }
            for (i, r) in to.iter().enumerate() {
                let key = format!("{}:{step}:{started}:{kind_str}:{i}", ev.id);
                notifications::notify(
                    &mut tx,
                    r,
                    &key,
                    Some(&ev.id),
                    kind_str,
                    &title,
                    &ev.description,
                    &at,
                )
                .await?;
            }
            if !red {
                continue;
            }
            let escalates = match auto.get(&ev.category_code) {
                Some(a) => *a,
                None => {
                    let centre = AreaCode::parse(&ev.centre_area)?;
                    let a = catalog::resolve(&mut tx, &ev.category_code, &centre)
                        .await
                        .map(|r| r.category.auto_escalate)
                        .unwrap_or(false);
                    auto.insert(ev.category_code.clone(), a);
                    a
                }
            };
            let state_ok = matches!(
                State::parse(&ev.state),
                Some(State::Accepted | State::Dispatched | State::Handling)
            );
            if escalates && state_ok && flow::parent_centre(&ev.centre_area).is_some() {
                flow::perform(
                    &mut tx,
                    &snap,
                    &cal,
                    now,
                    &mut ev,
                    &Actor::system(),
                    Move::Escalate,
                    flow::Input {
                        note: Some("超期未办结，系统自动上报上级".into()),
                        ..Default::default()
                    },
                    &mut facts,
                )
                .await
                .map_err(|e| anyhow::anyhow!("auto escalation of {}: {e}", ev.id))?;
                rep.escalated += 1;
            }
        }
        facts.write(&mut tx).await?;
        tx.commit().await?;
        if (batch as i64) < BATCH {
            break;
        }
    }
    rep.webhooks = notifications::webhooks::deliver_due(state, now).await?;
    Ok(rep)
}

/// Runs this job, then the evaluation job, every `tick_seconds` until the process ends.
pub fn spawn(state: AppState) {
    let every = Duration::from_secs(state.cfg.tick_seconds.max(1));
    tokio::spawn(async move {
        let mut iv = tokio::time::interval(every);
        iv.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            iv.tick().await;
            let now = state.clock.now();
            match tick(&state, now).await {
                Ok(r) if r != TickReport::default() => tracing::info!(?r, "deadline job"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "deadline job failed"),
            }
            match crate::evaluation::jobs::tick(&state, now).await {
                Ok(r) if r != Default::default() => tracing::info!(?r, "evaluation job"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "evaluation job failed"),
            }
        }
    });
}
