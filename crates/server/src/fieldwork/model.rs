//! Request, response and row types of field work.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One row of `activities`: a shift, a patrol or a visit.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: String,
    pub kind: String,
    pub user_id: String,
    pub area_code: String,
    pub day: String,
    pub started_at: String,
    pub last_at: String,
    pub ended_at: Option<String>,
    pub seconds: i64,
    pub meters: i64,
    pub points: i64,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub subject_label: Option<String>,
    pub note: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub photos: Option<String>,
}

/// A position sent with a check-in or heartbeat (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CheckIn {
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

/// A shift: from check-in to check-out.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftView {
    pub id: String,
    pub user_id: String,
    pub grid_code: String,
    pub started_at: String,
    pub last_beat_at: String,
    pub ended_at: Option<String>,
    /// Online time counted by heartbeats (minutes).
    pub online_minutes: i64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct StartPatrol {
    /// Chosen by the client (UUID) so that a retried start is answered with the same patrol.
    pub id: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FinishPatrol {
    pub note: Option<String>,
    /// When the worker finished (RFC 3339), for a finish sent late from offline; now when
    /// absent.
    pub ended_at: Option<String>,
}

/// A patrol (巡查) and what its track measured.
#[derive(Debug, Serialize, ToSchema)]
pub struct PatrolView {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub grid_code: String,
    pub grid_name: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Length of the track in metres.
    pub meters: i64,
    /// Track points recorded.
    pub points: i64,
    pub note: Option<String>,
}

/// What the caller has open now.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldStatus {
    pub shift: Option<ShiftView>,
    pub patrol: Option<PatrolView>,
}

/// One location sample as the device took it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewPoint {
    /// When the position was taken (RFC 3339); points sent late keep their own time.
    pub at: String,
    pub lon: f64,
    pub lat: f64,
    /// Accuracy in metres, as the device reports it.
    pub accuracy: Option<f64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TrackBatch {
    /// At most 1,000 points per batch.
    pub points: Vec<NewPoint>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrackAccepted {
    /// Points stored now (points already stored are not counted again).
    pub accepted: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct TrackPoint {
    pub at: String,
    pub lon: f64,
    pub lat: f64,
    pub patrol_id: Option<String>,
}

/// One worker's track over one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackView {
    pub user_id: String,
    pub user_name: String,
    pub day: String,
    pub points: Vec<TrackPoint>,
    pub patrols: Vec<PatrolView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TrackQuery {
    pub user_id: String,
    /// China day `YYYY-MM-DD`; today when absent.
    pub day: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ActivityQuery {
    /// One worker; the caller when absent and the caller is a grid worker.
    pub user_id: Option<String>,
    /// Area subtree (supervisors).
    pub area: Option<String>,
    /// Visits to this record.
    pub subject_id: Option<String>,
    /// From this China day (inclusive).
    pub from: Option<String>,
    /// To this China day (inclusive).
    pub to: Option<String>,
}

/// A visit (走访) to a person, household, house or organisation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewVisit {
    /// Chosen by the client (UUID), so that a retried visit is stored once.
    pub id: Option<String>,
    /// `person` | `household` | `house` | `org`
    pub subject_kind: String,
    pub subject_id: String,
    pub note: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VisitView {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub grid_code: String,
    pub subject_kind: String,
    pub subject_id: String,
    pub subject_label: String,
    pub note: String,
    /// SHA-256 of each photo (`GET /api/files/{sha256}?visit={id}`).
    pub photos: Vec<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub visited_at: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WeekQuery {
    /// Any China day of the week; today when absent.
    pub day: Option<String>,
}

/// A grid worker's figures for one week (Monday to Sunday).
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct WeekFigures {
    pub from: String,
    pub to: String,
    pub online_minutes: i64,
    pub patrols: i64,
    pub patrol_meters: i64,
    pub visits: i64,
    /// Base records collected (新增登记).
    pub records_new: i64,
    /// Base records updated (distinct records changed).
    pub records_updated: i64,
    /// Events reported (not voided).
    pub events_reported: i64,
    /// 核查回访 done.
    pub verifications: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WorkersQuery {
    pub area: Option<String>,
}

/// A grid worker as their supervisor sees them today.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerStatus {
    pub user_id: String,
    pub name: String,
    pub grid_code: String,
    pub grid_name: String,
    /// Checked in with a heartbeat in the last five minutes.
    pub online: bool,
    pub last_beat_at: Option<String>,
    pub today_minutes: i64,
}
