//! Scoring a period: measure every subject, score it under the scheme in force when the
//! period began, and store the scores (replacing an earlier run of the same period).

use super::measure;
use super::model::*;
use super::store;
use crate::db::{Db, fmt_time, new_id};
use chrono::{DateTime, Utc};
use civgrid_core::evaluation::{Period, Scheme, SubjectKind, indicator};

/// What scoring a period did.
#[derive(Debug, Clone, Copy)]
pub struct Computed {
    pub scores: usize,
    pub seconds: f64,
}

/// Scores every subject of every kind for `period`, as of `at`.
pub async fn compute(db: &Db, period: &Period, at: DateTime<Utc>) -> anyhow::Result<Computed> {
    let started = std::time::Instant::now();
    // Reads run beside the writer (SQLite: several read-only connections on the WAL).
    let measured = measure::measure(&db.read, period).await?;
    let start = period.start.to_string();
    let mut rows = Vec::new();
    let mut c = db.read.acquire().await?;
    for kind in SubjectKind::ALL {
        let Some(subjects) = measured.get(&kind) else {
            continue;
        };
        let Some(row) = store::scheme_in_force(&mut c, kind.as_str(), &start).await? else {
            continue;
        };
        let scheme: Scheme = serde_json::from_str(&row.body)?;
        for (code, m) in subjects {
            let scored = scheme.score(|key| m.value(kind, key));
            // A subject with nothing to measure (no events, no grid workers) is not ranked.
            if scored.items.iter().all(|i| i.value.is_none()) {
                continue;
            }
            let items: Vec<ScoreItem> = scored
                .items
                .iter()
                .map(|it| {
                    let def = indicator(&it.key);
                    ScoreItem {
                        key: it.key.clone(),
                        label: def.map_or(it.key.as_str(), |d| d.label).into(),
                        unit: def.map_or("", |d| d.unit).into(),
                        value: it.value,
                        target: it.target,
                        weight: it.weight,
                        attainment: it.attainment,
                        points: it.points,
                        raw: m.raw(kind, &it.key),
                    }
                })
                .collect();
            rows.push(ScoreDbRow {
                id: new_id(),
                period_kind: period.kind.as_str().into(),
                period_start: start.clone(),
                subject_kind: kind.as_str().into(),
                subject_code: code.clone(),
                subject_name: m.name.clone(),
                area_code: m.area_code.clone(),
                scheme_id: row.id.clone(),
                score: scored.score,
                grade: scored.grade,
                stars: scored.stars.into(),
                detail: serde_json::to_string(&items)?,
            });
        }
    }
    drop(c);
    let mut tx = db.begin().await?;
    store::replace_scores(
        &mut tx,
        period.kind.as_str(),
        &start,
        &period.end.to_string(),
        &fmt_time(at),
        &rows,
    )
    .await?;
    tx.commit().await?;
    Ok(Computed {
        scores: rows.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
