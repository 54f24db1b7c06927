//! Request, response and row types of evaluation, bulletins, online patrol and the dashboard.

use civgrid_core::evaluation::{Band, SchemeItem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An indicator a scheme may weigh.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorInfo {
    pub key: String,
    pub label: String,
    pub unit: String,
    /// `higher` | `lower`
    pub better: String,
    /// The subject kinds it applies to.
    pub subjects: Vec<String>,
}

/// One weighed indicator of a scheme.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = SchemeItem)]
pub struct SchemeItemDoc {
    pub key: String,
    /// Relative weight (> 0); weights are scaled to 100.
    pub weight: f64,
    /// The value that earns the full weight (for lower-is-better indicators, the most that
    /// still earns it).
    pub target: f64,
}

/// A grade band.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = Band)]
pub struct BandDoc {
    /// A–E (any short label).
    pub grade: String,
    /// Lowest score of the band (0–100).
    pub min: f64,
    /// Stars (0–5).
    pub stars: u8,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SchemeRow {
    pub id: String,
    pub subject_kind: String,
    pub version: i64,
    pub name: String,
    pub valid_from: String,
    pub body: String,
    pub created_at: String,
    pub created_by: Option<String>,
    pub created_by_name: String,
}

/// One version of an evaluation scheme (考核方案).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SchemeView {
    pub id: String,
    /// `worker` | `grid` | `community` | `township` | `county` | `department`
    pub subject_kind: String,
    pub version: i64,
    pub name: String,
    /// China day from which periods are scored under this version.
    pub valid_from: String,
    #[schema(value_type = Vec<SchemeItemDoc>)]
    pub items: Vec<SchemeItem>,
    #[schema(value_type = Vec<BandDoc>)]
    pub bands: Vec<Band>,
    pub created_at: String,
    pub created_by_name: String,
}

/// A new version of a subject kind's scheme.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewScheme {
    pub subject_kind: String,
    pub name: String,
    /// `YYYY-MM-DD`
    pub valid_from: String,
    #[schema(value_type = Vec<SchemeItemDoc>)]
    pub items: Vec<SchemeItem>,
    #[schema(value_type = Vec<BandDoc>)]
    pub bands: Vec<Band>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ScoresQuery {
    /// `week` | `month` | `quarter` | `year` (default `month`).
    pub period_kind: Option<String>,
    /// Any China day of the period; the latest scored period when absent.
    pub period: Option<String>,
    /// Default: the level below the caller's area.
    pub subject_kind: Option<String>,
    /// Area subtree (default: the caller's area).
    pub area: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScoreDbRow {
    pub id: String,
    pub period_kind: String,
    pub period_start: String,
    pub subject_kind: String,
    pub subject_code: String,
    pub subject_name: String,
    pub area_code: String,
    pub scheme_id: String,
    pub score: f64,
    pub grade: String,
    pub stars: i64,
    pub detail: String,
}

/// One subject's place in a ranking.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScoreRow {
    pub id: String,
    pub subject_code: String,
    pub subject_name: String,
    pub score: f64,
    pub grade: String,
    pub stars: i64,
    /// Rank within this list (ties share a rank).
    pub rank: i64,
    /// Subjects ranked.
    pub of: i64,
}

/// A ranking: every subject of a kind in an area for one period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreBoard {
    pub period_kind: String,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub period_label: Option<String>,
    pub subject_kind: String,
    pub scheme: Option<SchemeView>,
    pub rows: Vec<ScoreRow>,
}

/// A raw count behind an indicator.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RawCount {
    pub name: String,
    pub label: String,
    pub value: f64,
}

/// One indicator's part of a score.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScoreItem {
    pub key: String,
    pub label: String,
    pub unit: String,
    /// The measured value (`null`: nothing to measure, the indicator left the score).
    pub value: Option<f64>,
    pub target: f64,
    pub weight: f64,
    /// 0–1: share of the target reached.
    pub attainment: Option<f64>,
    /// Points earned out of 100.
    pub points: Option<f64>,
    /// The counts the value comes from.
    pub raw: Vec<RawCount>,
}

/// A score with everything it comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreDetail {
    pub row: ScoreRow,
    pub period_kind: String,
    pub period_start: String,
    pub period_end: String,
    pub period_label: String,
    pub subject_kind: String,
    pub scheme: SchemeView,
    pub items: Vec<ScoreItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ComputeRequest {
    pub period_kind: String,
    /// Any China day of the period.
    pub period: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComputeReport {
    pub period_start: String,
    pub period_end: String,
    pub scores: i64,
    pub seconds: f64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeriodsQuery {
    pub period_kind: Option<String>,
}

/// A period that has been scored.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ScoredPeriod {
    pub period_kind: String,
    pub period_start: String,
    pub period_end: String,
    pub computed_at: String,
    pub scores: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BulletinRow {
    pub id: String,
    pub area_code: String,
    pub period_kind: String,
    pub period_start: String,
    pub period_end: String,
    pub title: String,
    pub created_at: String,
    pub pdf_bytes: i64,
    pub xlsx_bytes: i64,
}

/// A bulletin (通报) as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinView {
    pub id: String,
    pub area_code: String,
    pub area_name: String,
    pub period_kind: String,
    pub period_start: String,
    pub period_end: String,
    pub title: String,
    pub created_at: String,
    pub pdf_bytes: i64,
    pub xlsx_bytes: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewBulletin {
    /// `week` | `month` | `quarter` | `year`
    pub period_kind: String,
    /// Any China day of the period.
    pub period: String,
    /// Area (default: the caller's).
    pub area: Option<String>,
}

/// The editable template of a period kind's bulletin. `title`, `intro` and `closing` may use
/// {area} {period} {reported} {closed} {closure_rate} {on_time_rate} {satisfaction_rate}
/// {overdue}.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct BulletinTemplate {
    pub period_kind: String,
    pub title: String,
    pub intro: String,
    pub closing: String,
    /// 发文单位
    pub issuer: String,
    /// Rows in the ranking tables (5–50).
    pub top_n: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TemplateQuery {
    pub period_kind: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AreaQuery {
    pub area: Option<String>,
}

/// Today's counts on the leader dashboard.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct TodayCounts {
    pub reported: i64,
    pub closed: i64,
    /// Open events (not closed, voided or merged).
    pub open: i64,
    /// Open events past their time limit (red).
    pub overdue: i64,
    pub online_workers: i64,
    pub workers: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendDay {
    pub day: String,
    pub reported: i64,
    pub closed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashRanking {
    pub period_kind: String,
    pub period_start: String,
    pub period_label: String,
    pub subject_kind: String,
    pub rows: Vec<ScoreRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueItem {
    pub id: String,
    pub case_no: String,
    pub category_name: String,
    pub area_name: String,
    pub deadline_at: Option<String>,
    pub hours_over: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DashPoint {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
    pub light: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NameCount {
    pub name: String,
    pub count: i64,
}

/// 领导驾驶舱: one screen of the area.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub area_code: String,
    pub area_name: String,
    pub at: String,
    pub today: TodayCounts,
    /// The last 30 China days.
    pub trend: Vec<TrendDay>,
    pub ranking: Option<DashRanking>,
    pub overdue: Vec<OverdueItem>,
    pub points: Vec<DashPoint>,
    /// This month's reports by category group.
    pub by_category: Vec<NameCount>,
}

/// 网上巡查: draw samples of what grid workers entered in an area over some days.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DrawRequest {
    pub area: Option<String>,
    /// First China day (inclusive).
    pub from: String,
    /// Last China day (inclusive).
    pub to: String,
    /// Random samples on top of the rule-based ones (0–100).
    pub random: i64,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DrawReport {
    pub drawn: i64,
    pub new_records: i64,
    pub changed: i64,
    pub suspicious: i64,
    pub random: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InspectionRow {
    pub id: String,
    pub area_code: String,
    pub record_kind: String,
    pub record_id: String,
    pub record_label: String,
    pub worker_id: String,
    pub worker_name: String,
    pub reason: String,
    pub changes: String,
    pub status: String,
    pub note: Option<String>,
    pub created_at: String,
    pub created_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub reviewer_id: Option<String>,
    pub reviewer_name: Option<String>,
    pub fixed_at: Option<String>,
    pub fixed_note: Option<String>,
}

/// A sample under review.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionView {
    pub id: String,
    pub area_code: String,
    /// `person` | `house` | `org`
    pub record_kind: String,
    pub record_id: String,
    pub record_label: String,
    pub worker_id: String,
    pub worker_name: String,
    /// `new` | `changed` | `suspicious` | `random`
    pub reason: String,
    pub reason_label: String,
    /// `pending` | `fine` | `returned` | `fixed`
    pub status: String,
    pub note: Option<String>,
    /// What the worker entered: `字段：旧 → 新`.
    pub changes: Vec<String>,
    pub created_at: String,
    pub reviewed_at: Option<String>,
    pub reviewer_name: Option<String>,
    pub fixed_at: Option<String>,
    pub fixed_note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InspectionQuery {
    pub status: Option<String>,
    pub area: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionPage {
    pub total: i64,
    pub items: Vec<InspectionView>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Review {
    /// `fine` (合格) | `returned` (退回, with a reason)
    pub result: String,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Fixed {
    pub note: String,
}
