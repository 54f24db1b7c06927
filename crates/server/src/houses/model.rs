//! Request, response and row types of houses.

use crate::addresses::model::{HouseholdBrief, Resident};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct HouseInput {
    /// Create only: an id chosen by the client (UUID). Sending the same create again (an
    /// offline queue retrying) answers 200 with the stored record instead of a second one.
    pub id: Option<String>,
    /// 房屋编号; generated from the address when absent.
    pub house_no: Option<String>,
    /// Free-text address (parsed and matched to a standard address).
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub grid: Option<String>,
    pub name: Option<String>,
    /// 建筑用途 (code table house_purpose)
    pub purpose: Option<String>,
    /// 房屋用途 (free text)
    pub use_type: Option<String>,
    /// 建筑面积 m²
    pub floor_area: Option<f64>,
    /// 隐患类型
    pub hazard: Option<String>,
    pub owner_name: Option<String>,
    /// 房主证件类型 (GA/T 517), default 111
    pub owner_id_type: Option<String>,
    /// Edit: absent keeps the stored value; empty removes it.
    pub owner_id_no: Option<String>,
    pub owner_phone: Option<String>,
    #[serde(default)]
    pub is_rental: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// Edits only.
    pub version: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseRow {
    pub id: String,
    pub house_no: String,
    pub address_id: String,
    pub area_code: String,
    pub name: Option<String>,
    pub purpose: Option<String>,
    pub use_type: Option<String>,
    pub floor_area: Option<f64>,
    pub hazard: Option<String>,
    pub owner_name: Option<String>,
    pub owner_id_type: Option<String>,
    pub owner_id_enc: Option<String>,
    pub owner_id_blind: Option<String>,
    pub owner_phone_enc: Option<String>,
    pub is_rental: i64,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub state: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseView {
    pub id: String,
    pub house_no: String,
    pub address_id: String,
    pub address: Option<String>,
    pub area_code: String,
    pub name: Option<String>,
    pub purpose: Option<String>,
    pub use_type: Option<String>,
    pub floor_area: Option<f64>,
    pub hazard: Option<String>,
    pub owner_name: Option<String>,
    pub owner_id_type: Option<String>,
    /// Masked.
    pub owner_id_no: Option<String>,
    /// Masked.
    pub owner_phone: Option<String>,
    pub is_rental: bool,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub state: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// A house and everyone living there.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseDetail {
    pub house: HouseView,
    pub residents: Vec<Resident>,
    pub households: Vec<HouseholdBrief>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HouseQuery {
    /// 房屋编号 or name (两个字起)
    pub q: Option<String>,
    /// Address fragment (两个字起)
    pub address: Option<String>,
    pub area: Option<String>,
    /// Only let houses (出租房屋).
    pub rental: Option<bool>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HousePage {
    pub items: Vec<HouseView>,
    pub page: i64,
    pub per_page: i64,
    pub has_more: bool,
}
