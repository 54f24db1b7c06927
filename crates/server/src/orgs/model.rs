//! Request, response and row types of organisations.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct OrgInput {
    /// Create only: an id chosen by the client (UUID). Sending the same create again (an
    /// offline queue retrying) answers 200 with the stored record instead of a second one.
    pub id: Option<String>,
    /// nonpublic 非公有制经济组织 / social 社会组织
    pub kind: String,
    /// 统一社会信用代码 (GB 32100)
    pub uscc: Option<String>,
    pub name: String,
    /// 企业类别 / 社会组织类型
    pub category: Option<String>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub grid: Option<String>,
    pub phone: Option<String>,
    pub legal_rep_name: Option<String>,
    /// Edit: absent keeps the stored value; empty removes it.
    pub legal_rep_id_no: Option<String>,
    pub legal_rep_phone: Option<String>,
    pub employees: Option<i64>,
    /// The data set's other fields (治保负责人, 党组织 …).
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Value>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub version: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub id: String,
    pub kind: String,
    pub uscc: Option<String>,
    pub name: String,
    pub category: Option<String>,
    pub address_id: Option<String>,
    pub area_code: String,
    pub phone_enc: Option<String>,
    pub phone_blind: Option<String>,
    pub legal_rep_name: Option<String>,
    pub legal_rep_id_enc: Option<String>,
    pub legal_rep_id_blind: Option<String>,
    pub legal_rep_phone_enc: Option<String>,
    pub employees: Option<i64>,
    pub extra: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub state: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgView {
    pub id: String,
    pub kind: String,
    pub uscc: Option<String>,
    pub name: String,
    pub category: Option<String>,
    pub address_id: Option<String>,
    pub address: Option<String>,
    pub area_code: String,
    /// Masked.
    pub phone: Option<String>,
    pub legal_rep_name: Option<String>,
    /// Masked.
    pub legal_rep_id_no: Option<String>,
    /// Masked.
    pub legal_rep_phone: Option<String>,
    pub employees: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Value>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub state: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgDetail {
    pub org: OrgView,
    /// People registered as working there.
    pub people: Vec<crate::addresses::model::Resident>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgQuery {
    /// Name (两个字起) or 统一社会信用代码
    pub q: Option<String>,
    pub address: Option<String>,
    pub area: Option<String>,
    pub kind: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgPage {
    pub items: Vec<OrgView>,
    pub page: i64,
    pub per_page: i64,
    pub has_more: bool,
}
