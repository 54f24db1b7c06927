//! The closed loop in motion: who may make which move, and what a move changes — state (by
//! the core state machine), the timed step and its deadline (by the working-day calendar),
//! the raw indicator facts, the timeline row, photos, timers, notices and webhook outbox —
//! all inside the caller's transaction.

use super::model::*;
use super::store;
use crate::auth::{CurrentUser, Perm, Role};
use crate::catalog;
use crate::db::{fmt_time, new_id};
use crate::error::{AppError, AppResult};
use crate::files::StoredPhoto;
use crate::notifications::{self, Recipients};
use chrono::{DateTime, FixedOffset, Utc};
use civgrid_core::calendar::{Light, WorkCalendar, cst};
use civgrid_core::catalog::Limits;
use civgrid_core::event::{self, Move, State};
use civgrid_core::indicators::Evaluation;
use civgrid_core::{AreaCode, Level};
use serde_json::{Value, json};
use sqlx::AnyConnection;

/// Who makes a move: a person, or the system (the deadline job).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<String>,
    pub name: String,
    pub role: String,
    pub area: String,
}

impl Actor {
    pub fn of(u: &CurrentUser) -> Actor {
        Actor {
            id: Some(u.id.clone()),
            name: u.display_name.clone(),
            role: u.main_role(),
            area: u.area.as_str().to_owned(),
        }
    }

    pub fn system() -> Actor {
        Actor {
            id: None,
            name: "系统".into(),
            role: "system".into(),
            area: String::new(),
        }
    }
}

/// Where a dispatch sends the event.
#[derive(Debug, Clone)]
pub enum Target {
    Department { id: String, name: String },
    Centre { area: String, name: String },
}

/// A move with everything it needs, already checked for shape by the handler.
#[derive(Debug, Default)]
pub struct Input {
    pub note: Option<String>,
    pub target: Option<Target>,
    pub days: Option<i64>,
    pub extension_id: Option<String>,
    /// Filled by [`look_up`]: the days of the pending extension `extension_id`, and whether
    /// the event has a pending extension at all.
    pub extension_days: Option<i64>,
    pub extension_pending: bool,
    pub approve: Option<bool>,
    pub evaluation: Option<Evaluation>,
    pub reply_days: Option<i64>,
    pub supervision_id: Option<String>,
    pub merge_into: Option<EventRow>,
    pub photos: Vec<StoredPhoto>,
}

pub fn parse_time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|_| Utc::now().fixed_offset())
}

fn local(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&cst())
}

fn ts(t: DateTime<FixedOffset>) -> String {
    fmt_time(t.with_timezone(&Utc))
}

/// The timed step of a state.
pub fn step_of(s: State) -> Option<&'static str> {
    match s {
        State::Reported => Some("accept"),
        State::Accepted => Some("dispatch"),
        State::Dispatched => Some("sign"),
        State::Handling => Some("handle"),
        State::Verifying => Some("verify"),
        _ => None,
    }
}

fn limit_of(step: &str, l: &Limits, per_day: i64) -> i64 {
    match step {
        "accept" => l.accept,
        "dispatch" => l.dispatch,
        "sign" => l.sign,
        "handle" => l.handle,
        _ => l.verify,
    }
    .minutes(per_day)
}

/// Working minutes used of the current step (time on hold excluded).
pub fn used(ev: &EventRow, cal: &WorkCalendar, now: DateTime<Utc>) -> i64 {
    let running = match (&ev.step_started_at, &ev.held_from) {
        (Some(s), None) => cal.minutes_between(parse_time(s), local(now)),
        _ => 0,
    };
    ev.step_used_min + running
}

pub fn light_view(ev: &EventRow, cal: &WorkCalendar, now: DateTime<Utc>) -> Option<LightView> {
    let step = ev.step.clone()?;
    let limit = ev.step_limit_min?;
    let used = used(ev, cal, now);
    let deadline = match (&ev.held_from, &ev.step_started_at) {
        (None, Some(s)) => ts(cal.add_minutes(parse_time(s), limit - ev.step_used_min)),
        _ => ev.deadline_at.clone().unwrap_or_default(),
    };
    Some(LightView {
        light: light_str(Light::of(used, limit)).into(),
        step,
        limit_minutes: limit,
        used_minutes: used,
        remaining_minutes: limit - used,
        deadline,
        on_hold: ev.held_from.is_some(),
    })
}

pub fn light_str(l: Light) -> &'static str {
    match l {
        Light::Green => "green",
        Light::Yellow => "yellow",
        Light::Red => "red",
    }
}

/// Ends the running step; an overdue step leaves its mark for the indicators.
fn end_step(ev: &mut EventRow, cal: &WorkCalendar, now: DateTime<Utc>) {
    if let (Some(step), Some(limit)) = (ev.step.clone(), ev.step_limit_min)
        && used(ev, cal, now) > limit
    {
        mark_late(ev, &step);
    }
    ev.step = None;
    ev.step_started_at = None;
    ev.step_limit_min = None;
    ev.step_used_min = 0;
    ev.deadline_at = None;
    ev.light = None;
}

pub fn mark_late(ev: &mut EventRow, step: &str) {
    match step {
        "accept" | "dispatch" => ev.dispatch_late = 1,
        "sign" | "handle" => ev.handle_late = 1,
        _ => ev.verify_late = 1,
    }
}

/// Starts the step of `state` (if it is timed) at `now`.
fn start_step(
    ev: &mut EventRow,
    state: State,
    limits: &Limits,
    cal: &WorkCalendar,
    now: DateTime<Utc>,
) {
    let Some(step) = step_of(state) else {
        return;
    };
    let limit = limit_of(step, limits, cal.hours().minutes_per_day());
    ev.step = Some(step.into());
    ev.step_started_at = Some(fmt_time(now));
    ev.step_limit_min = Some(limit);
    ev.step_used_min = 0;
    ev.deadline_at = Some(ts(cal.add_minutes(local(now), limit)));
    ev.light = Some("green".into());
}

/// The timers of the running step: when it turns yellow (80 % used) and red (over).
pub fn timers(ev: &EventRow, cal: &WorkCalendar) -> Vec<(&'static str, String)> {
    let (Some(start), Some(limit), None) = (&ev.step_started_at, ev.step_limit_min, &ev.held_from)
    else {
        return vec![];
    };
    let start = parse_time(start);
    let before = ev.step_used_min;
    let yellow_at = (limit * 4 + 4) / 5;
    let mut out = Vec::new();
    if before < yellow_at {
        out.push(("yellow", ts(cal.add_minutes(start, yellow_at - before))));
    }
    if before <= limit {
        out.push(("red", ts(cal.add_minutes(start, limit - before + 1))));
    }
    out
}

fn is_grid_role(r: &Role) -> bool {
    matches!(r, Role::GridWorker | Role::GridChief | Role::GridInstructor)
}

fn contains(outer: &AreaCode, inner: &str) -> bool {
    AreaCode::parse(inner).is_ok_and(|i| outer.contains(&i))
}

/// Whether the caller may see the event at all.
pub fn visible(u: &CurrentUser, ev: &EventRow) -> bool {
    if u.api_source.is_some() || u.has_role(Role::Citizen) && u.roles.len() == 1 {
        return ev.reporter_id == u.id;
    }
    if u.has_role(Role::DeptLiaison)
        && u.department_id.is_some()
        && (ev.dept_id == u.department_id || ev.assignee == u.department_id)
    {
        return true;
    }
    u.can(Perm::ViewEvents) && contains(&u.area, &ev.area_code)
}

/// Whether `u` may make `m` on `ev` now, state aside (the state machine decides that).
pub fn may(u: &CurrentUser, ev: &EventRow, m: Move) -> AppResult<()> {
    let centre = u.has_role(Role::CentreOperator) && u.area.as_str() == ev.centre_area;
    let assignee = match ev.assignee_kind.as_deref() {
        Some("department") => {
            u.has_role(Role::DeptLiaison)
                && u.department_id.is_some()
                && u.department_id == ev.assignee
        }
        Some("centre") => {
            u.has_role(Role::CentreOperator) && Some(u.area.as_str()) == ev.assignee.as_deref()
        }
        _ => false,
    };
    let grid = u.roles.iter().any(is_grid_role) && contains(&u.area, &ev.area_code);
    use Move as M;
    let ok = match m {
        M::Accept
        | M::Void
        | M::Dispatch
        | M::Escalate
        | M::Hold
        | M::Resume
        | M::DecideExtension
        | M::Merge => u.can(Perm::ProcessEvents) && centre,
        M::SignFor | M::Return | M::RequestExtension | M::Handle => {
            u.can(Perm::HandleEvents) && assignee
        }
        M::SelfHandle => {
            u.can(Perm::ReportEvent)
                && grid
                && (u.has_role(Role::GridWorker) || u.has_role(Role::GridChief))
        }
        M::VerifyPass | M::VerifyFail => u.can(Perm::VerifyEvents) && (grid || centre),
        M::Evaluate => {
            (u.can(Perm::ProcessEvents) && centre)
                || (u.has_role(Role::Citizen) && u.id == ev.reporter_id)
        }
        M::Supervise => {
            u.can(Perm::SuperviseEvents)
                && contains(&u.area, &ev.area_code)
                && (u.has_role(Role::Leader)
                    || (u.has_role(Role::CentreOperator)
                        && u.area.as_str() != ev.centre_area
                        && contains(&u.area, &ev.centre_area)))
        }
        M::Reply => assignee || centre,
    };
    if !ok {
        return Err(AppError::Forbidden);
    }
    // 采办分离: who handled it does not verify it; who reported it does not close it.
    let me = Some(u.id.as_str());
    if matches!(m, M::VerifyPass | M::VerifyFail) && ev.handler_id.as_deref() == me {
        return Err(AppError::SeparationOfDuties);
    }
    if m == M::Evaluate && ev.reporter_id == u.id && ev.reporter_role != Role::Citizen.as_str() {
        return Err(AppError::SeparationOfDuties);
    }
    Ok(())
}

/// The moves `u` may make on `ev` now.
pub fn actions(u: &CurrentUser, ev: &EventRow) -> Vec<String> {
    let Some(s) = State::parse(&ev.state) else {
        return vec![];
    };
    event::allowed(s)
        .into_iter()
        .filter(|m| may(u, ev, *m).is_ok())
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// The centre above a centre: township → county → city.
pub fn parent_centre(area: &str) -> Option<String> {
    let a = AreaCode::parse(area).ok()?;
    match a.level() {
        Level::Township | Level::County => a.parent().map(|p| p.as_str().to_owned()),
        _ => None,
    }
}

fn note_required(inp: &Input, field: &'static str, what: &str) -> AppResult<String> {
    inp.note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| AppError::validation(field, format!("请填写{what}")))
}

/// Who is responsible for the event's current step.
pub fn responsible(ev: &EventRow) -> Recipients {
    match (
        ev.step.as_deref(),
        ev.assignee_kind.as_deref(),
        &ev.assignee,
    ) {
        (Some("sign" | "handle"), Some("department"), Some(d)) => Recipients::Department(d.clone()),
        (Some("sign" | "handle"), Some("centre"), Some(a)) => Recipients::Centre(a.clone()),
        (Some("verify"), _, _) => Recipients::GridWorkers(ev.area_code.clone()),
        _ => Recipients::Centre(ev.centre_area.clone()),
    }
}

struct Notice {
    to: Recipients,
    kind: &'static str,
    title: String,
    /// Who it reaches, filled by [`address`].
    users: Vec<String>,
}

/// A row of a side table that a move writes.
enum Side {
    Supervision {
        id: String,
        by_id: String,
        by_name: String,
        by_area: String,
        opinion: String,
        due: String,
    },
    Reply {
        id: String,
        reply: String,
        by: String,
    },
    Extension {
        id: String,
        days: i64,
        reason: String,
        by: String,
    },
    Decision {
        id: String,
        status: &'static str,
        by: String,
        note: Option<String>,
    },
}

/// Everything a move writes, worked out by [`plan`] before any write; [`apply`] writes it.
pub struct Planned {
    pub before: EventRow,
    pub after: EventRow,
    pub mv: MoveRow,
    photos: Vec<StoredPhoto>,
    /// The timers of the new step, unless the move leaves them as they are.
    timers: Option<Vec<(&'static str, String)>>,
    notices: Vec<Notice>,
    /// (department, payload) for the department's webhook outbox.
    webhook: Option<(String, String)>,
    side: Option<Side>,
    /// The kept event of a merge: before, after, and its timeline line.
    merged_in: Option<(EventRow, EventRow, MoveRow)>,
    /// The audit row, written with the move (the handler's; the jobs' moves have none).
    pub audit: Option<crate::audit::Audit>,
}

/// The reads a move needs besides the event itself, on any connection, before [`plan`]:
/// the pending extension to decide, whether one is pending, and that a supervision to
/// answer is open. A change between these reads and the write moves the event's version,
/// so [`apply`] refuses the stale plan.
pub async fn look_up(
    c: &mut AnyConnection,
    ev: &EventRow,
    m: Move,
    inp: &mut Input,
) -> AppResult<()> {
    match m {
        Move::RequestExtension => {
            inp.extension_pending = store::extensions(c, &ev.id)
                .await?
                .iter()
                .any(|x| x.status == "pending");
        }
        Move::DecideExtension => {
            if let Some(id) = &inp.extension_id {
                inp.extension_days = Some(
                    store::pending_extension(c, id, &ev.id)
                        .await?
                        .ok_or(AppError::RecordNotFound("extension"))?,
                );
            }
        }
        Move::Reply => {
            if let Some(id) = &inp.supervision_id
                && !store::open_supervision(c, id, &ev.id).await?
            {
                return Err(AppError::RecordNotFound("supervision"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Makes move `m` on `ev` as `actor` at `now` inside `c`'s transaction: [`look_up`],
/// [`plan`], [`address`] and [`apply`] in one (the jobs and the demo history; the API hands its plans to
/// the group-commit writer). `ev` becomes the event after the move.
#[allow(clippy::too_many_arguments)] // the connection, the rules in force, the time, who, what
pub async fn perform(
    c: &mut AnyConnection,
    snap: &catalog::Snapshot,
    cal: &WorkCalendar,
    now: DateTime<Utc>,
    ev: &mut EventRow,
    actor: &Actor,
    m: Move,
    mut inp: Input,
    facts: &mut store::FactDelta,
) -> AppResult<MoveRow> {
    look_up(c, ev, m, &mut inp).await?;
    let mut p = plan(snap, cal, now, ev, actor, m, inp)?;
    address(c, &mut p).await?;
    apply(c, std::slice::from_ref(&p), facts).await?;
    *ev = p.after;
    Ok(p.mv)
}

/// Works out move `m` on `ev` as `actor` at `now`: the state (by the core state machine),
/// the timed step and its deadline (by the working-day calendar), the timeline line,
/// timers, notices and webhook. Writes nothing.
pub fn plan(
    snap: &catalog::Snapshot,
    cal: &WorkCalendar,
    now: DateTime<Utc>,
    ev: &EventRow,
    actor: &Actor,
    m: Move,
    inp: Input,
) -> AppResult<Planned> {
    let before = ev.clone();
    let mut after = ev.clone();
    let ev = &mut after;
    let mut side = None;
    let from = State::parse(&ev.state)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("stored state {}", ev.state)))?;
    let resume_to = ev.resume_state.as_deref().and_then(State::parse);
    let to =
        event::next(from, m, resume_to).map_err(|e| AppError::MoveNotAllowed(e.to_string()))?;
    let at = fmt_time(now);
    let centre_code = AreaCode::parse(&ev.centre_area).map_err(|_| AppError::InvalidAreaCode)?;
    let limits = snap
        .resolve(&ev.category_code, &centre_code)?
        .category
        .limits;
    let per_day = cal.hours().minutes_per_day();
    let mut note = inp
        .note
        .clone()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    let mut detail = json!({});
    let mut notices: Vec<Notice> = Vec::new();
    let case = ev.case_no.clone();
    use Move as M;
    match m {
        M::Accept => {
            end_step(ev, cal, now);
            ev.accepted_at = Some(at.clone());
            start_step(ev, to, &limits, cal, now);
        }
        M::Void => {
            note = Some(note_required(&inp, "note", "不予受理或作废的理由")?);
            end_step(ev, cal, now);
            notices.push(Notice {
                to: Recipients::User(ev.reporter_id.clone()),
                kind: "voided",
                title: format!("您上报的事件 {case} 未予受理"),
                users: vec![],
            });
        }
        M::Dispatch => {
            let target = inp.target.clone().ok_or_else(|| {
                AppError::validation("department_id", "请选择派遣的部门或下级中心")
            })?;
            end_step(ev, cal, now);
            ev.dispatched_at.get_or_insert(at.clone());
            match &target {
                Target::Department { id, name } => {
                    ev.assignee_kind = Some("department".into());
                    ev.assignee = Some(id.clone());
                    ev.dept_id = Some(id.clone());
                    detail = json!({"department_id": id, "department_name": name});
                    notices.push(Notice {
                        to: Recipients::Department(id.clone()),
                        kind: "dispatched",
                        title: format!("新派遣事件 {case}，请及时签收"),
                        users: vec![],
                    });
                }
                Target::Centre { area, name } => {
                    ev.assignee_kind = Some("centre".into());
                    ev.assignee = Some(area.clone());
                    detail = json!({"centre_area": area, "centre_name": name});
                    notices.push(Notice {
                        to: Recipients::Centre(area.clone()),
                        kind: "dispatched",
                        title: format!("上级派遣事件 {case}，请及时签收"),
                        users: vec![],
                    });
                }
            }
            start_step(ev, to, &limits, cal, now);
            detail["deadline"] = json!(ev.deadline_at);
        }
        M::SignFor => {
            end_step(ev, cal, now);
            start_step(ev, to, &limits, cal, now);
            detail = json!({"deadline": ev.deadline_at});
        }
        M::Return => {
            note = Some(note_required(&inp, "note", "退回理由")?);
            end_step(ev, cal, now);
            detail = json!({"returned_from": ev.assignee});
            ev.return_count += 1;
            ev.assignee_kind = None;
            ev.assignee = None;
            start_step(ev, to, &limits, cal, now);
            notices.push(Notice {
                to: Recipients::Centre(ev.centre_area.clone()),
                kind: "returned",
                title: format!("事件 {case} 被退回，请重新派遣"),
                users: vec![],
            });
        }
        M::Escalate => {
            let parent = parent_centre(&ev.centre_area).ok_or_else(|| {
                AppError::MoveNotAllowed("已是市级综治中心，不能再上报上级".into())
            })?;
            if actor.id.is_some() {
                note = Some(note_required(&inp, "note", "上报上级的理由")?);
            }
            end_step(ev, cal, now);
            detail = json!({"from_centre": ev.centre_area, "to_centre": parent, "auto": actor.id.is_none()});
            ev.centre_area = parent.clone();
            ev.assignee_kind = None;
            ev.assignee = None;
            ev.escalation_count += 1;
            // The new centre's limits apply from here on.
            let parent_code = AreaCode::parse(&parent).map_err(|_| AppError::InvalidAreaCode)?;
            let limits = snap
                .resolve(&ev.category_code, &parent_code)?
                .category
                .limits;
            start_step(ev, to, &limits, cal, now);
            notices.push(Notice {
                to: Recipients::Centre(parent),
                kind: "escalated",
                title: format!("下级上报事件 {case}，请受理派遣"),
                users: vec![],
            });
        }
        M::RequestExtension => {
            let days = inp
                .days
                .filter(|d| (1..=30).contains(d))
                .ok_or_else(|| AppError::validation("days", "延期天数须为 1–30 个工作日"))?;
            let reason = note_required(&inp, "note", "延期理由")?;
            if inp.extension_pending {
                return Err(AppError::MoveNotAllowed("已有待审批的延期申请".into()));
            }
            let id = new_id();
            side = Some(Side::Extension {
                id: id.clone(),
                days,
                reason,
                by: actor.id.clone().unwrap_or_default(),
            });
            detail = json!({"extension_id": id, "days": days});
            notices.push(Notice {
                to: Recipients::Centre(ev.centre_area.clone()),
                kind: "extension",
                title: format!("事件 {case} 申请延期 {days} 个工作日"),
                users: vec![],
            });
        }
        M::DecideExtension => {
            let id = inp
                .extension_id
                .clone()
                .ok_or_else(|| AppError::validation("extension_id", "请指明延期申请"))?;
            let approve = inp
                .approve
                .ok_or_else(|| AppError::validation("approve", "请选择批准或驳回"))?;
            let status = if approve { "approved" } else { "denied" };
            let days = inp
                .extension_days
                .ok_or(AppError::RecordNotFound("extension"))?;
            side = Some(Side::Decision {
                id: id.clone(),
                status,
                by: actor.id.clone().unwrap_or_default(),
                note: note.clone(),
            });
            if approve && let Some(limit) = ev.step_limit_min {
                ev.step_limit_min = Some(limit + days * per_day);
                if let Some(s) = &ev.step_started_at {
                    ev.deadline_at = Some(ts(
                        cal.add_minutes(parse_time(s), limit + days * per_day - ev.step_used_min)
                    ));
                }
            }
            detail = json!({"extension_id": id, "approved": approve, "days": days, "deadline": ev.deadline_at});
            notices.push(Notice {
                to: responsible(ev),
                kind: "extension",
                title: format!(
                    "事件 {case} 的延期申请已{}",
                    if approve { "批准" } else { "驳回" }
                ),
                users: vec![],
            });
        }
        M::Hold => {
            note = Some(note_required(&inp, "note", "挂账理由")?);
            ev.step_used_min = used(ev, cal, now);
            ev.held_from = Some(at.clone());
            ev.resume_state = Some(from.as_str().into());
        }
        M::Resume => {
            if let Some(h) = &ev.held_from {
                ev.hold_minutes += cal.minutes_between(parse_time(h), local(now));
            }
            ev.held_from = None;
            ev.resume_state = None;
            if let Some(limit) = ev.step_limit_min {
                ev.step_started_at = Some(at.clone());
                ev.deadline_at = Some(ts(cal.add_minutes(local(now), limit - ev.step_used_min)));
            }
        }
        M::SelfHandle | M::Handle => {
            if inp.photos.is_empty() && m == M::SelfHandle {
                return Err(AppError::PhotoRequired);
            }
            note = Some(note_required(&inp, "note", "处置情况")?);
            end_step(ev, cal, now);
            ev.handled_at.get_or_insert(at.clone());
            ev.handler_id = actor.id.clone();
            if m == M::SelfHandle {
                ev.accepted_at.get_or_insert(at.clone());
            }
            start_step(ev, to, &limits, cal, now);
            notices.push(Notice {
                to: Recipients::GridWorkers(ev.area_code.clone()),
                kind: "to_verify",
                title: format!("事件 {case} 已处置，请核查回访"),
                users: vec![],
            });
            if m == M::SelfHandle {
                // The grid worker who fixed it cannot verify it: the centre is told too.
                notices.push(Notice {
                    to: Recipients::Centre(ev.centre_area.clone()),
                    kind: "to_verify",
                    title: format!("网格员已自行处置事件 {case}，请核查"),
                    users: vec![],
                });
            }
        }
        M::VerifyPass => {
            end_step(ev, cal, now);
            ev.verified_at = Some(at.clone());
            let to_evaluate = if ev.reporter_role == Role::Citizen.as_str() {
                Recipients::User(ev.reporter_id.clone())
            } else {
                Recipients::Centre(ev.centre_area.clone())
            };
            notices.push(Notice {
                to: to_evaluate,
                kind: "to_evaluate",
                title: format!("事件 {case} 核查通过，请评价"),
                users: vec![],
            });
        }
        M::VerifyFail => {
            note = Some(note_required(&inp, "note", "核查不通过的原因")?);
            end_step(ev, cal, now);
            ev.rework_count += 1;
            start_step(ev, to, &limits, cal, now);
            notices.push(Notice {
                to: responsible(ev),
                kind: "rework",
                title: format!("事件 {case} 核查不通过，请返工"),
                users: vec![],
            });
        }
        M::Evaluate => {
            let e = inp.evaluation.ok_or_else(|| {
                AppError::validation("evaluation", "请选择满意、基本满意或不满意")
            })?;
            end_step(ev, cal, now);
            ev.evaluation = Some(e.as_str().into());
            ev.evaluation_comment = note.clone();
            ev.closed_at = Some(at.clone());
            ev.work_minutes = Some(
                (cal.minutes_between(parse_time(&ev.reported_at), local(now)) - ev.hold_minutes)
                    .max(0),
            );
            detail = json!({"evaluation": e.as_str(), "label": e.label()});
            notices.push(Notice {
                to: Recipients::User(ev.reporter_id.clone()),
                kind: "closed",
                title: format!("您上报的事件 {case} 已办结（{}）", e.label()),
                users: vec![],
            });
        }
        M::Supervise => {
            let opinion = note_required(&inp, "note", "督办意见")?;
            let days = inp.reply_days.unwrap_or(2);
            if !(1..=30).contains(&days) {
                return Err(AppError::validation(
                    "reply_days",
                    "回复期限须为 1–30 个工作日",
                ));
            }
            let due = ts(cal.add_days(local(now), days));
            let id = new_id();
            side = Some(Side::Supervision {
                id: id.clone(),
                by_id: actor.id.clone().unwrap_or_default(),
                by_name: actor.name.clone(),
                by_area: actor.area.clone(),
                opinion,
                due: due.clone(),
            });
            ev.supervision_count += 1;
            detail = json!({"supervision_id": id, "reply_due": due});
            notices.push(Notice {
                to: responsible(ev),
                kind: "supervised",
                title: format!("事件 {case} 被督办，请于期限内回复"),
                users: vec![],
            });
            if !matches!(responsible(ev), Recipients::Centre(ref a) if *a == ev.centre_area) {
                notices.push(Notice {
                    to: Recipients::Centre(ev.centre_area.clone()),
                    kind: "supervised",
                    title: format!("事件 {case} 被督办"),
                    users: vec![],
                });
            }
        }
        M::Reply => {
            let id = inp
                .supervision_id
                .clone()
                .ok_or_else(|| AppError::validation("supervision_id", "请指明督办"))?;
            let reply = note_required(&inp, "note", "回复内容")?;
            side = Some(Side::Reply {
                id: id.clone(),
                reply,
                by: actor.id.clone().unwrap_or_default(),
            });
            detail = json!({"supervision_id": id});
        }
        M::Merge => {
            let target = inp
                .merge_into
                .as_ref()
                .ok_or_else(|| AppError::validation("target_id", "请指明保留的事件"))?;
            end_step(ev, cal, now);
            ev.merged_into = Some(target.id.clone());
            detail = json!({"merged_into": target.id, "target_case_no": target.case_no});
            let mut reporters = vec![&ev.reporter_id, &target.reporter_id];
            reporters.dedup();
            for r in reporters {
                notices.push(Notice {
                    to: Recipients::User(r.clone()),
                    kind: "merged",
                    title: format!("事件 {case} 与 {} 为同一事项，已合并办理", target.case_no),
                    users: vec![],
                });
            }
        }
    }
    ev.state = to.as_str().into();
    ev.version += 1;
    ev.updated_at = at.clone();
    if let Some(limit) = ev.step_limit_min {
        ev.light = Some(light_str(Light::of(used(ev, cal, now), limit)).into());
    }
    let mv = MoveRow {
        id: new_id(),
        event_id: ev.id.clone(),
        seq: ev.version,
        action: m.as_str().into(),
        from_state: Some(from.as_str().into()),
        to_state: to.as_str().into(),
        actor_id: actor.id.clone(),
        actor_name: actor.name.clone(),
        actor_role: Some(actor.role.clone()),
        at: at.clone(),
        note,
        detail: Some(detail.to_string()),
    };
    let webhook = match (ev.assignee_kind.as_deref(), &ev.assignee) {
        (Some("department"), Some(dept)) => {
            let payload = json!({
                "kind": m.as_str(),
                "event": webhook_event(ev),
                "move": {"seq": mv.seq, "action": mv.action, "label": m.label(), "at": mv.at,
                         "actor": mv.actor_name, "note": mv.note, "detail": detail},
            });
            Some((dept.clone(), payload.to_string()))
        }
        _ => None,
    };
    let keeps_timers = matches!(m, M::Supervise | M::Reply | M::RequestExtension);
    Ok(Planned {
        timers: (!keeps_timers).then(|| timers(ev, cal)),
        merged_in: inp.merge_into.map(|t| merged_in(t, ev, actor, &at)),
        after,
        before,
        mv,
        photos: inp.photos,
        notices,
        webhook,
        side,
        audit: None,
    })
}

/// Resolves who the notices of `p` reach and whether its department has a webhook, on any
/// connection, so that [`apply`] only writes.
pub async fn address(c: &mut AnyConnection, p: &mut Planned) -> AppResult<()> {
    for n in &mut p.notices {
        n.users = notifications::store::recipients(c, &n.to).await?;
    }
    if let Some((dept, _)) = &p.webhook
        && !notifications::store::has_webhook(c, dept).await?
    {
        p.webhook = None;
    }
    Ok(())
}

/// Writes moves worked out by [`plan`] and [`address`]ed, in `c`'s transaction, with
/// multi-row statements: the event rows (if each version is still the one its plan was made
/// from, else [`AppError::Conflict`]), side rows, timeline lines, photos, notices, webhooks,
/// timers and audit rows. The indicator changes go into `facts`, which the caller writes
/// last.
pub async fn apply(
    c: &mut AnyConnection,
    plans: &[Planned],
    facts: &mut store::FactDelta,
) -> AppResult<()> {
    if plans.is_empty() {
        return Ok(());
    }
    let events: Vec<(&EventRow, &EventRow)> = plans
        .iter()
        .flat_map(|p| {
            std::iter::once((&p.before, &p.after))
                .chain(p.merged_in.as_ref().map(|(b, a, _)| (b, a)))
        })
        .collect();
    if !store::update_events(c, &events, facts).await? {
        return Err(AppError::Conflict);
    }
    for p in plans {
        if let Some(side) = &p.side
            && !write_side(c, &p.after.id, &p.mv.at, side).await?
        {
            return Err(AppError::Conflict);
        }
    }
    let moves: Vec<MoveRow> = plans
        .iter()
        .flat_map(|p| std::iter::once(&p.mv).chain(p.merged_in.as_ref().map(|m| &m.2)))
        .cloned()
        .collect();
    store::insert_moves(c, &moves).await?;
    for p in plans {
        for photo in &p.photos {
            store::insert_photo(c, &p.mv.id, &p.after.id, photo).await?;
        }
    }
    let notices: Vec<notifications::store::NoticeRow> = plans
        .iter()
        .flat_map(|p| {
            p.notices.iter().enumerate().flat_map(move |(i, n)| {
                n.users
                    .iter()
                    .map(move |u| notifications::store::NoticeRow {
                        // The same notice stored once, whoever retries it.
                        id: format!("{}:{}:{i}:{u}", p.after.id, p.mv.seq),
                        user_id: u,
                        event_id: Some(&p.after.id),
                        kind: n.kind,
                        title: &n.title,
                        body: &p.after.description,
                        at: &p.mv.at,
                    })
            })
        })
        .collect();
    notifications::store::insert_notices(c, &notices).await?;
    let webhooks: Vec<notifications::store::WebhookRow> = plans
        .iter()
        .filter_map(|p| {
            let (dept, payload) = p.webhook.as_ref()?;
            Some((
                new_id(),
                dept.as_str(),
                p.after.id.as_str(),
                p.mv.action.as_str(),
                payload.as_str(),
                p.mv.at.as_str(),
            ))
        })
        .collect();
    notifications::store::enqueue_webhooks(c, &webhooks).await?;
    let timers: Vec<(&str, &[(&str, String)])> = plans
        .iter()
        .filter_map(|p| Some((p.after.id.as_str(), p.timers.as_deref()?)))
        .collect();
    store::replace_timers(c, &timers).await?;
    let audits = plans.iter().filter_map(|p| p.audit.clone()).collect();
    crate::audit::write_many(c, audits).await?;
    Ok(())
}

/// Writes a move's side row; false when the row it answers is no longer open.
async fn write_side(c: &mut AnyConnection, event: &str, at: &str, side: &Side) -> AppResult<bool> {
    Ok(match side {
        Side::Supervision {
            id,
            by_id,
            by_name,
            by_area,
            opinion,
            due,
        } => {
            store::insert_supervision(c, id, event, by_id, by_name, by_area, opinion, due, at)
                .await?;
            true
        }
        Side::Reply { id, reply, by } => {
            store::reply_supervision(c, id, event, reply, by, at).await?
        }
        Side::Extension {
            id,
            days,
            reason,
            by,
        } => {
            store::insert_extension(c, id, event, *days, reason, by, at).await?;
            true
        }
        Side::Decision {
            id,
            status,
            by,
            note,
        } => store::decide_extension(c, id, event, status, by, note.as_deref(), at).await?,
    })
}

fn webhook_event(ev: &EventRow) -> Value {
    json!({
        "id": ev.id, "case_no": ev.case_no, "category": ev.category_code, "state": ev.state,
        "description": ev.description, "address": ev.address, "lon": ev.lon, "lat": ev.lat,
        "grid_code": ev.area_code, "deadline": ev.deadline_at, "reported_at": ev.reported_at,
    })
}

/// The kept event of a merge gets a line on its timeline (its state does not change):
/// (before, after, the line).
fn merged_in(
    target: EventRow,
    merged: &EventRow,
    actor: &Actor,
    at: &str,
) -> (EventRow, EventRow, MoveRow) {
    let mut after = target.clone();
    after.version += 1;
    after.updated_at = at.into();
    let line = MoveRow {
        id: new_id(),
        event_id: after.id.clone(),
        seq: after.version,
        action: "merged_in".into(),
        from_state: Some(after.state.clone()),
        to_state: after.state.clone(),
        actor_id: actor.id.clone(),
        actor_name: actor.name.clone(),
        actor_role: Some(actor.role.clone()),
        at: at.into(),
        note: Some(format!("合并重复事件 {}", merged.case_no)),
        detail: Some(json!({"merged_id": merged.id, "merged_case_no": merged.case_no}).to_string()),
    };
    (target, after, line)
}

/// A new report (待受理) in `grid`, handled first by the centre at `centre`.
pub fn new_event(
    case_no: String,
    cat: &civgrid_core::catalog::Category,
    grid: &str,
    centre: &str,
    source: civgrid_core::catalog::Source,
    reporter: &Actor,
    now: DateTime<Utc>,
) -> EventRow {
    let at = fmt_time(now);
    EventRow {
        id: new_id(),
        case_no,
        category_code: cat.code.clone(),
        area_code: grid.into(),
        centre_area: centre.into(),
        assignee_kind: None,
        assignee: None,
        dept_id: None,
        state: State::Reported.as_str().into(),
        source: source.as_str().into(),
        priority: cat.priority.as_str().into(),
        description: String::new(),
        address: None,
        lon: None,
        lat: None,
        reporter_id: reporter.id.clone().unwrap_or_default(),
        reporter_name: reporter.name.clone(),
        reporter_role: reporter.role.clone(),
        contact_name: None,
        contact_phone: None,
        idempotency_key: None,
        version: 1,
        step: None,
        step_started_at: None,
        step_limit_min: None,
        step_used_min: 0,
        deadline_at: None,
        light: None,
        held_from: None,
        resume_state: None,
        handler_id: None,
        reported_at: at.clone(),
        accepted_at: None,
        dispatched_at: None,
        handled_at: None,
        verified_at: None,
        closed_at: None,
        updated_at: at,
        dispatch_late: 0,
        handle_late: 0,
        verify_late: 0,
        rework_count: 0,
        return_count: 0,
        escalation_count: 0,
        supervision_count: 0,
        hold_minutes: 0,
        work_minutes: None,
        evaluation: None,
        evaluation_comment: None,
        merged_into: None,
    }
}

/// Starts a new report's first timed step (受理) at its report time.
pub fn start_report(ev: &mut EventRow, cat: &civgrid_core::catalog::Category, cal: &WorkCalendar) {
    let now = parse_time(&ev.reported_at).with_timezone(&Utc);
    start_step(ev, State::Reported, &cat.limits, cal, now);
}

/// Writes a new report: the event with its first timed step (受理), the `report` line of
/// its timeline with the photos, and its timers.
pub async fn insert_report(
    c: &mut AnyConnection,
    cal: &WorkCalendar,
    ev: &mut EventRow,
    reporter: &Actor,
    cat: &civgrid_core::catalog::Category,
    photos: &[StoredPhoto],
    detail: Value,
) -> AppResult<()> {
    start_report(ev, cat, cal);
    store::insert_event(c, ev).await?;
    let mv = MoveRow {
        id: new_id(),
        event_id: ev.id.clone(),
        seq: 1,
        action: "report".into(),
        from_state: None,
        to_state: ev.state.clone(),
        actor_id: reporter.id.clone(),
        actor_name: reporter.name.clone(),
        actor_role: Some(reporter.role.clone()),
        at: ev.reported_at.clone(),
        note: None,
        detail: Some(detail.to_string()),
    };
    store::insert_moves(c, std::slice::from_ref(&mv)).await?;
    for p in photos {
        store::insert_photo(c, &mv.id, &ev.id, p).await?;
    }
    store::replace_timers(c, &[(ev.id.as_str(), &timers(ev, cal))]).await?;
    Ok(())
}
