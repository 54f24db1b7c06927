//! Request, response and row types of the catalog domain: categories, time limits, the
//! admission list, departments, the working-day calendar and API keys.

use civgrid_core::catalog::Limits;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub code: String,
    pub parent_code: Option<String>,
    pub name: String,
    pub department_code: Option<String>,
    pub priority: Option<String>,
    pub sources: Option<String>,
    pub photo_required: i64,
    pub duplicate_radius_m: i64,
    pub auto_escalate: i64,
    pub limits: Option<String>,
    pub sort: i64,
}

/// Time limits of the five steps, each `"<n>h"` (working hours) or `"<n>d"` (working days).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LimitsView {
    /// 受理
    pub accept: String,
    /// 派遣
    pub dispatch: String,
    /// 签收
    pub sign: String,
    /// 处置
    pub handle: String,
    /// 核查
    pub verify: String,
}

impl From<Limits> for LimitsView {
    fn from(l: Limits) -> Self {
        LimitsView {
            accept: l.accept.into(),
            dispatch: l.dispatch.into(),
            sign: l.sign.into(),
            handle: l.handle.into(),
            verify: l.verify.into(),
        }
    }
}

/// A category events are reported under.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CategoryView {
    pub code: String,
    pub name: String,
    pub group_code: String,
    /// Code of the default department (职能部门 kind, e.g. `gaj`).
    pub department_code: String,
    /// urgent | high | normal
    pub priority: String,
    /// Sources allowed to report it.
    pub sources: Vec<String>,
    pub photo_required: bool,
    pub duplicate_radius_m: i64,
    /// Overdue events are escalated to the parent centre automatically.
    pub auto_escalate: bool,
    /// The limits in force for the area asked about.
    pub limits: LimitsView,
    /// The area whose override gives these limits (absent: the catalog default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits_from: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryGroup {
    pub code: String,
    pub name: String,
    pub categories: Vec<CategoryView>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AreaQuery {
    /// Area the limits and lists are for (default: the caller's).
    pub area: Option<String>,
}

/// Edits of a category's attributes (admin). Absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategory {
    pub name: Option<String>,
    pub department_code: Option<String>,
    pub priority: Option<String>,
    pub sources: Option<Vec<String>>,
    pub photo_required: Option<bool>,
    pub duplicate_radius_m: Option<i64>,
    pub auto_escalate: Option<bool>,
    /// Default limits (all levels).
    pub limits: Option<LimitsView>,
}

/// Limits of a category overridden for one area and everything below it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetLimits {
    pub area_code: String,
    pub limits: LimitsView,
}

/// An entry of an area's admission list (事项准入清单) for grid workers.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdmissionItem {
    pub code: String,
    pub name: String,
    pub group_code: String,
    /// `default` (the catalog lets grid workers report it) or `approved` (added for an area).
    pub origin: String,
    /// The area that approved the addition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdmissionRequest {
    /// The area whose list should include the category (township, county or city).
    pub area_code: String,
    pub category_code: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AdmissionRequestView {
    pub id: String,
    pub area_code: String,
    pub category_code: String,
    pub reason: String,
    /// pending | approved | rejected
    pub status: String,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AdmissionRequestQuery {
    pub area: Option<String>,
    /// pending | approved | rejected
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionNote {
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DepartmentView {
    /// `<area code>-<department code>`, e.g. `371502-gaj`.
    pub id: String,
    pub code: String,
    pub name: String,
    pub area_code: String,
    /// Outbound webhook (the secret is never shown).
    pub webhook_url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    pub area_code: String,
    /// Lower-case letters, e.g. `gaj`.
    pub code: String,
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetWebhook {
    /// `http://` or `https://` URL; null removes the webhook.
    pub url: Option<String>,
    /// Shared secret for the `X-Civgrid-Signature` HMAC-SHA256 (at least 16 characters).
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeliveryView {
    pub id: String,
    pub event_id: Option<String>,
    pub kind: String,
    /// pending | delivered | failed
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarInfo {
    /// Years with a holiday file.
    pub years: Vec<i32>,
    /// Working periods, `HH:MM-HH:MM,…`.
    pub working_hours: String,
    pub minutes_per_day: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeadlineQuery {
    /// Start (RFC 3339); default now.
    pub start: Option<String>,
    /// `<n>h` or `<n>d`.
    pub limit: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineView {
    pub start: String,
    pub limit: String,
    pub deadline: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
    /// The area the key may report in.
    pub area_code: String,
    /// The source its reports carry (default `video_alarm`).
    pub source: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    pub id: String,
    pub name: String,
    /// Shown once; send it as `X-Api-Key`.
    pub key: String,
}

/// One code of a code table, valid from `valid_from` until `valid_to` (exclusive).
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct DictItem {
    pub dict_type: String,
    pub code: String,
    pub label: String,
    pub standard_ref: Option<String>,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub sort: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DictEdit {
    /// The new label; absent with `retire` to end the code.
    pub label: Option<String>,
    pub standard_ref: Option<String>,
    /// End the code from today (it stays readable in history).
    #[serde(default)]
    pub retire: bool,
}
