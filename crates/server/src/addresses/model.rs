//! Request, response and row types of standard addresses.

use civgrid_core::address::ParsedAddress;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct AddressRow {
    pub id: String,
    /// The village/community (12 digits).
    pub village: String,
    /// The grid it lies in (or the village when it has no grid yet).
    pub area_code: String,
    pub street_key: String,
    pub road: Option<String>,
    pub number: Option<String>,
    pub place: Option<String>,
    pub building: Option<String>,
    pub unit: Option<String>,
    pub room: Option<String>,
    pub full_text: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub created_at: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ParseRequest {
    pub text: String,
}

/// The parser's reading of a text and the standard addresses it matches.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParseResult {
    #[schema(value_type = Object)]
    pub parsed: ParsedAddress,
    /// Names of the divisions found, province first.
    pub divisions: Vec<String>,
    /// Standard addresses at the same place, best first, with a 0–1 score.
    pub matches: Vec<AddressMatch>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AddressMatch {
    pub address: AddressRow,
    pub score: f32,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddressQuery {
    /// A fragment: road, 小区, village name (两个字起).
    pub q: String,
    pub area: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Resident {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub house_id: Option<String>,
    pub household_id: Option<String>,
    pub relation: Option<String>,
    pub residence: Option<String>,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseBrief {
    pub id: String,
    pub house_no: String,
    pub is_rental: bool,
    pub purpose: Option<String>,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct OrgBrief {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub uscc: Option<String>,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct HouseholdBrief {
    pub id: String,
    pub household_no: String,
    pub head_person_id: Option<String>,
}

/// Everything at one address (五码关联 from the address side).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AddressDetail {
    pub address: AddressRow,
    pub houses: Vec<HouseBrief>,
    pub households: Vec<HouseholdBrief>,
    pub people: Vec<Resident>,
    pub orgs: Vec<OrgBrief>,
    pub events: Vec<crate::people::model::EventLink>,
}
