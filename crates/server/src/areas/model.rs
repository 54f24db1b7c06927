//! Request, response and row types of the areas domain (divisions, grids, boundaries).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// A current division row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AreaRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
}

/// How many nodes of each lower level a node holds.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct Counts {
    pub townships: i64,
    pub villages: i64,
    pub grids: i64,
}

/// One node of the area tree (division or grid).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaNode {
    /// Code in significant form: 2/4/6/9/12 digits, 15 for a grid.
    pub code: String,
    pub name: String,
    /// province | city | county | township | village | grid
    pub level: String,
    pub parent_code: Option<String>,
    /// Descendants per level (absent for grids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
}

/// A node with the chain above it (breadcrumb).
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaDetail {
    pub area: AreaNode,
    /// From the province down to the parent.
    pub ancestors: Vec<AreaNode>,
}

/// A node with its whole subtree.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubtreeNode {
    pub code: String,
    pub name: String,
    pub level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<SubtreeNode>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Part of a name (e.g. 东昌 or 社区).
    pub q: String,
    /// At most this many results (default 20, at most 100).
    pub limit: Option<i64>,
}

/// A division row with its validity years.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaVersion {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub valid_from: i64,
    pub valid_to: Option<i64>,
}

// ---------------------------------------------------------------- grids

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GridType {
    /// 基础网格
    Basic,
    /// 专属网格（学校、医院、园区、市场等）
    Dedicated,
}

impl GridType {
    pub fn as_str(self) -> &'static str {
        match self {
            GridType::Basic => "basic",
            GridType::Dedicated => "dedicated",
        }
    }
    pub fn label(s: &str) -> &'static str {
        if s == "dedicated" {
            "专属网格"
        } else {
            "基础网格"
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GridRow {
    pub code: String,
    pub village_code: String,
    pub name: String,
    pub grid_type: String,
    pub household_target: Option<i64>,
    pub population_target: Option<i64>,
    pub status: String,
    pub created_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateGrid {
    /// The village/community (12 digits) the grid belongs to.
    pub village_code: String,
    pub name: String,
    pub grid_type: GridType,
    pub household_target: Option<i64>,
    pub population_target: Option<i64>,
    /// GeoJSON Polygon or MultiPolygon, WGS-84.
    #[schema(value_type = Object)]
    pub boundary: Value,
}

/// A grid with its current boundary and members.
#[derive(Debug, Serialize, ToSchema)]
pub struct GridDetail {
    pub code: String,
    pub name: String,
    pub grid_type: String,
    pub grid_type_label: String,
    pub village_code: String,
    pub household_target: Option<i64>,
    pub population_target: Option<i64>,
    pub status: String,
    #[schema(value_type = Object)]
    pub boundary: Option<Value>,
    pub members: Vec<GridMember>,
    /// Pending boundary change requests.
    pub pending_requests: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct GridMember {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    /// worker（网格员） | chief（网格长）
    pub duty: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetMembers {
    /// User ids of the grid workers (at least one).
    pub workers: Vec<String>,
    /// User id of the grid chief.
    pub chief: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WithinQuery {
    /// Area code whose grids to return (default: the caller's own area).
    pub within: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LocateQuery {
    pub lon: f64,
    pub lat: f64,
}

/// Result of a point lookup.
#[derive(Debug, Serialize, ToSchema)]
pub struct Located {
    /// inside: the point lies in the grid; nearest: it lies in no grid and this is the
    /// closest one within the configured distance; none: nothing near.
    pub match_type: String,
    pub grid: Option<AreaNode>,
    /// Metres to the grid (0 when inside).
    pub distance_m: Option<f64>,
    /// From the province down to the village.
    pub ancestors: Vec<AreaNode>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BoundaryRequestBody {
    /// Proposed GeoJSON Polygon or MultiPolygon.
    #[schema(value_type = Object)]
    pub boundary: Value,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ChangeRequest {
    pub id: String,
    pub grid_code: String,
    /// pending | approved | rejected
    pub status: String,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    #[serde(skip)]
    pub geojson: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeRequestView {
    #[serde(flatten)]
    pub request: ChangeRequest,
    #[schema(value_type = Object)]
    pub boundary: Value,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RequestListQuery {
    /// pending | approved | rejected (default pending)
    pub status: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Decision {
    pub note: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BoundaryRow {
    pub id: String,
    pub grid_code: String,
    pub geojson: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub approved_by: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoundaryVersion {
    pub id: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub approved_by: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub boundary: Value,
}
