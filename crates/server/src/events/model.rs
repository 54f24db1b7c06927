//! Request, response and row types of the events domain.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An event as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub case_no: String,
    pub category_code: String,
    pub area_code: String,
    pub centre_area: String,
    pub assignee_kind: Option<String>,
    pub assignee: Option<String>,
    pub dept_id: Option<String>,
    pub state: String,
    pub source: String,
    pub priority: String,
    pub description: String,
    pub address: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub reporter_id: String,
    pub reporter_name: String,
    pub reporter_role: String,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub idempotency_key: Option<String>,
    pub version: i64,
    pub step: Option<String>,
    pub step_started_at: Option<String>,
    pub step_limit_min: Option<i64>,
    pub step_used_min: i64,
    pub deadline_at: Option<String>,
    pub light: Option<String>,
    pub held_from: Option<String>,
    pub resume_state: Option<String>,
    pub handler_id: Option<String>,
    pub reported_at: String,
    pub accepted_at: Option<String>,
    pub dispatched_at: Option<String>,
    pub handled_at: Option<String>,
    pub verified_at: Option<String>,
    pub closed_at: Option<String>,
    pub updated_at: String,
    pub dispatch_late: i64,
    pub handle_late: i64,
    pub verify_late: i64,
    pub rework_count: i64,
    pub return_count: i64,
    pub escalation_count: i64,
    pub supervision_count: i64,
    pub hold_minutes: i64,
    pub work_minutes: Option<i64>,
    pub evaluation: Option<String>,
    pub evaluation_comment: Option<String>,
    pub merged_into: Option<String>,
}

/// A report. Sent as JSON, or as `multipart/form-data` with this object as JSON in the
/// `data` part and up to nine photos in `photo` parts.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Category code (a leaf of the catalog, e.g. `0602`).
    pub category: String,
    pub description: String,
    /// WGS-84 position; the grid is found from it.
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// A grid worker may name their own grid instead of (or besides) a position.
    pub grid_code: Option<String>,
    pub address: Option<String>,
    /// grid_worker | citizen | hotline | department | leader (default from the caller's role).
    pub source: Option<String>,
    /// Caller of a hotline report.
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// Chosen by the client per report; a retry with the same key returns the first event.
    pub idempotency_key: Option<String>,
}

/// Schema of the multipart form of a report or a move.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct MultipartForm {
    /// The JSON object of the request.
    pub data: String,
    /// Photos (JPEG, PNG or WebP), repeated.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub photo: Vec<Vec<u8>>,
}

/// A move on an event. Fields other than `action` depend on it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// accept | void | dispatch | sign_for | return | request_extension | decide_extension |
    /// hold | resume | escalate | self_handle | handle | verify_pass | verify_fail | evaluate |
    /// supervise | reply | merge
    pub action: String,
    /// The version the client saw; a different current version is a conflict.
    pub version: Option<i64>,
    /// Reason, feedback, opinion or comment.
    pub note: Option<String>,
    /// dispatch: the department (`371502-gaj`) …
    pub department_id: Option<String>,
    /// … or the lower centre (area code) to dispatch to.
    pub centre_area: Option<String>,
    /// request_extension: working days asked for (1–30).
    pub days: Option<i64>,
    /// decide_extension
    pub extension_id: Option<String>,
    pub approve: Option<bool>,
    /// evaluate: satisfied | basically_satisfied | unsatisfied
    pub evaluation: Option<String>,
    /// supervise: working days to reply (default 2).
    pub reply_days: Option<i64>,
    /// reply
    pub supervision_id: Option<String>,
    /// merge: the event this one duplicates (kept).
    pub target_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LightView {
    /// green | yellow | red
    pub light: String,
    /// The step being timed: accept | dispatch | sign | handle | verify.
    pub step: String,
    pub limit_minutes: i64,
    pub used_minutes: i64,
    pub remaining_minutes: i64,
    pub deadline: String,
    pub on_hold: bool,
}

/// An event in lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventSummary {
    pub id: String,
    pub case_no: String,
    pub category: String,
    pub category_name: String,
    pub grid_code: String,
    pub centre_area: String,
    pub state: String,
    pub state_label: String,
    pub source: String,
    pub priority: String,
    pub description: String,
    pub address: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// department | centre
    pub assignee_kind: Option<String>,
    pub assignee: Option<String>,
    pub reporter_name: String,
    pub reported_at: String,
    pub closed_at: Option<String>,
    pub light: Option<String>,
    pub deadline: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhotoView {
    pub sha256: String,
    pub mime: String,
    pub width: i64,
    pub height: i64,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// `/api/files/<sha256>?event=<id>`: the photo, checked against this event's visibility.
    pub url: String,
    /// The same with `&thumb=1`: the 320-pixel thumbnail.
    pub thumb_url: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MoveRow {
    pub id: String,
    pub event_id: String,
    pub seq: i64,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub actor_role: Option<String>,
    pub at: String,
    pub note: Option<String>,
    pub detail: Option<String>,
}

/// One step of the timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MoveView {
    pub seq: i64,
    pub action: String,
    pub action_label: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_name: String,
    pub actor_role: Option<String>,
    pub at: String,
    pub note: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub photos: Vec<PhotoView>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct SupervisionView {
    pub id: String,
    pub by_name: String,
    pub by_area: String,
    pub opinion: String,
    pub reply_due: String,
    pub created_at: String,
    pub reply: Option<String>,
    pub replied_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ExtensionView {
    pub id: String,
    pub days: i64,
    pub reason: String,
    /// pending | approved | denied
    pub status: String,
    pub requested_at: String,
    pub decided_at: Option<String>,
    pub note: Option<String>,
}

/// An open event near a new report: what the duplicate check reads.
#[derive(Debug, sqlx::FromRow)]
pub struct NearbyRow {
    pub id: String,
    pub case_no: String,
    pub state: String,
    pub description: String,
    pub reported_at: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DuplicateCandidate {
    pub id: String,
    pub case_no: String,
    pub state: String,
    pub description: String,
    pub reported_at: String,
    pub distance_m: f64,
}

/// An event with everything about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventSummary,
    pub group_code: String,
    /// Names of the grid, the centre holding the event and whoever it is dispatched to.
    pub grid_name: Option<String>,
    pub centre_name: Option<String>,
    pub assignee_name: Option<String>,
    pub reporter_role: String,
    /// Masked (e.g. `138****5678`).
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    pub current: Option<LightView>,
    pub rework_count: i64,
    pub return_count: i64,
    pub escalation_count: i64,
    pub evaluation: Option<String>,
    pub evaluation_comment: Option<String>,
    pub merged_into: Option<String>,
    pub timeline: Vec<MoveView>,
    pub supervisions: Vec<SupervisionView>,
    pub extensions: Vec<ExtensionView>,
    /// Moves the caller may make now.
    pub actions: Vec<String>,
}

/// Answer to a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reported {
    pub event: EventSummary,
    /// True when this was a retry of an earlier submission (same idempotency key).
    pub replayed: bool,
    /// Open events of the same category nearby in the last 72 hours.
    pub duplicates: Vec<DuplicateCandidate>,
}

#[derive(Debug, Deserialize, IntoParams, Default, Clone)]
pub struct EventQuery {
    /// Comma-separated states.
    pub state: Option<String>,
    /// A category or a group code.
    pub category: Option<String>,
    /// Area subtree (default: the caller's area).
    pub area: Option<String>,
    /// green | yellow | red
    pub light: Option<String>,
    pub source: Option<String>,
    /// Reported on or after this date (YYYY-MM-DD, China time).
    pub from: Option<String>,
    /// Reported before the end of this date.
    pub to: Option<String>,
    /// Case number or words of the description or address.
    pub q: Option<String>,
    /// A work queue: to_accept | to_dispatch | to_sign | handling | to_verify | to_evaluate |
    /// supervised | overdue | mine
    pub queue: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A work queue of the caller with how many events wait in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCount {
    /// The `queue` filter of `GET /api/events`.
    pub queue: String,
    pub label: String,
    pub count: i64,
}

/// A located event for the map.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapPoint {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
    pub light: Option<String>,
    pub state: String,
    pub category_name: String,
}

/// The located events of a map view (open ones unless `state` says otherwise).
#[derive(Debug, Serialize, ToSchema)]
pub struct MapPoints {
    pub total: i64,
    /// True when more events matched than `items` holds (the newest are kept).
    pub truncated: bool,
    pub items: Vec<MapPoint>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub items: Vec<EventSummary>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsQuery {
    /// Area (any level; default the caller's).
    pub area: Option<String>,
    /// area (the next level down) | grid (every grid in the area) | department | category |
    /// group | none
    pub by: Option<String>,
    /// Reported on or after (YYYY-MM-DD, China time).
    pub from: Option<String>,
    /// Reported up to and including (YYYY-MM-DD).
    pub to: Option<String>,
    /// Only this department.
    pub department: Option<String>,
    /// Only this category or group.
    pub category: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsRow {
    pub key: String,
    pub name: String,
    #[schema(value_type = Object)]
    pub counts: civgrid_core::indicators::Counts,
    #[schema(value_type = Object)]
    pub rates: civgrid_core::indicators::Rates,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatsView {
    pub area: String,
    pub from: String,
    pub to: String,
    pub by: String,
    pub total: StatsRow,
    pub rows: Vec<StatsRow>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FileQuery {
    /// Any value: the 320-pixel thumbnail.
    pub thumb: Option<String>,
    /// The event the photo is shown with (the links of an event's timeline carry it). Without
    /// it, the photo is served if one of the first events that carry it is visible.
    pub event: Option<String>,
    /// The visit (走访) the photo belongs to, when it is a visit's photo.
    pub visit: Option<String>,
}
