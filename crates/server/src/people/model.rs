//! Request, response and row types of people and households, and the one check every person
//! goes through (the API and the importer alike).

use crate::catalog::Dicts;
use crate::records::Issue;
use chrono::NaiveDate;
use civgrid_core::ids::{IdCardNo, PhoneNo, gb2260_name};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;
use utoipa::{IntoParams, ToSchema};

/// A person as entered (create and full edit). On edit, absent `id_no`/`phone` keep the stored
/// values; an empty `phone` clears it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct PersonInput {
    /// Create only: an id chosen by the client (UUID). Sending the same create again (an
    /// offline queue retrying) answers 200 with the stored person instead of a second one.
    pub id: Option<String>,
    /// registered 户籍 / floating 流动 / foreign 境外 / left_behind 留守
    pub kind: String,
    pub name: String,
    pub used_name: Option<String>,
    /// 证件代码 (GA/T 517), default 111 居民身份证
    pub id_type: Option<String>,
    pub id_no: Option<String>,
    /// GB/T 2261.1; derived from the ID number when absent
    pub sex: Option<String>,
    /// YYYY-MM-DD; derived from the ID number when absent
    pub birth_date: Option<String>,
    pub nation: Option<String>,
    /// 籍贯 (6-digit division code)
    pub native_place: Option<String>,
    pub marriage: Option<String>,
    pub party: Option<String>,
    pub education: Option<String>,
    pub religion: Option<String>,
    pub occupation: Option<String>,
    pub employer: Option<String>,
    pub phone: Option<String>,
    /// Grid code; when absent the address's grid.
    pub grid: Option<String>,
    /// Free-text address, parsed and matched to (or added as) a standard address.
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub household_id: Option<String>,
    /// 与户主关系 (GB/T 4761)
    pub relation: Option<String>,
    pub house_id: Option<String>,
    /// owner / resident / tenant
    pub residence: Option<String>,
    pub org_id: Option<String>,
    /// released / correction / mental / drug / aids / key_youth
    pub special_type: Option<String>,
    /// The special-population or key-youth data set's fields.
    pub special: Option<Value>,
    /// The kind's own fields (流入原因, 人户一致标识 …).
    pub extra: Option<Value>,
    /// Edits only: the version read.
    pub version: Option<i64>,
}

/// A person that passed every check, with clear values still to be sealed.
#[derive(Debug, Clone)]
pub struct CheckedPerson {
    pub kind: String,
    pub name: String,
    pub used_name: Option<String>,
    pub id_type: String,
    pub id_no: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub nation: Option<String>,
    pub native_place: Option<String>,
    pub marriage: Option<String>,
    pub party: Option<String>,
    pub education: Option<String>,
    pub religion: Option<String>,
    pub occupation: Option<String>,
    pub employer: Option<String>,
    pub phone: Option<String>,
    pub relation: Option<String>,
    pub residence: Option<String>,
    pub special_type: Option<String>,
    pub special: Option<String>,
    pub extra: Option<String>,
    pub warnings: Vec<Issue>,
}

/// What the checks look codes up in.
pub struct Checker<'a> {
    pub dicts: &'a Dicts,
    /// County codes of the current divisions held.
    pub counties: &'a HashSet<String>,
    pub today: NaiveDate,
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Checker<'_> {
    /// A dictionary value: a code, or its label (汉族 → 01) as people type in spreadsheets.
    fn code(
        &self,
        issues: &mut Vec<Issue>,
        field: &str,
        dict: &str,
        label: &str,
        v: &Option<String>,
    ) -> Option<String> {
        let v = trimmed(v)?;
        match self.dicts.code_of(dict, &v) {
            Some(c) => Some(c.to_owned()),
            None => {
                issues.push(Issue::new(
                    field,
                    "unknown_code",
                    format!("{label}“{v}”不在代码表中"),
                ));
                None
            }
        }
    }

    fn text(
        issues: &mut Vec<Issue>,
        field: &str,
        label: &str,
        v: &Option<String>,
        max: usize,
    ) -> Option<String> {
        let v = trimmed(v)?;
        if v.chars().count() > max {
            issues.push(Issue::new(
                field,
                "too_long",
                format!("{label}不能超过 {max} 个字"),
            ));
            return None;
        }
        Some(v)
    }

    /// Checks a person. Issues that reject come back as `Err`; the rest (an ID number's county
    /// code known to nobody) ride along as warnings.
    pub fn person(&self, p: &PersonInput, editing: bool) -> Result<CheckedPerson, Vec<Issue>> {
        let mut is = Vec::new();
        let mut warnings = Vec::new();
        let kind = self.code(
            &mut is,
            "kind",
            "person_kind",
            "人员类别",
            &Some(p.kind.clone()),
        );
        if p.kind.trim().is_empty() {
            is.retain(|i| i.field != "kind");
            is.push(Issue::new("kind", "required", "请选择人员类别"));
        }
        let name = p.name.trim().to_owned();
        if name.is_empty() {
            is.push(Issue::new("name", "required", "请填写姓名"));
        } else if name.chars().count() > 50 {
            is.push(Issue::new("name", "too_long", "姓名不能超过 50 个字"));
        }
        let id_type = self
            .code(&mut is, "id_type", "id_type", "证件类型", &p.id_type)
            .unwrap_or_else(|| "111".into());
        let mut sex = self.code(&mut is, "sex", "sex", "性别", &p.sex);
        let mut birth_date = trimmed(&p.birth_date);
        if let Some(b) = &birth_date {
            match NaiveDate::parse_from_str(b, "%Y-%m-%d") {
                Ok(d) if d <= self.today => {}
                _ => {
                    is.push(Issue::new(
                        "birth_date",
                        "bad_date",
                        format!("出生日期“{b}”不正确（格式 YYYY-MM-DD，不晚于今天）"),
                    ));
                    birth_date = None;
                }
            }
        }
        let mut id_no = trimmed(&p.id_no);
        match (&id_no, id_type.as_str()) {
            (None, _) if editing => {}
            (None, "111") => is.push(Issue::new("id_no", "required", "请填写公民身份号码")),
            (None, _) => is.push(Issue::new("id_no", "required", "请填写证件号码")),
            (Some(raw), "111") => match IdCardNo::parse(raw) {
                Ok(id) => {
                    let derived_sex = id.sex().code().to_owned();
                    match &sex {
                        Some(s) if *s != derived_sex && (s == "1" || s == "2") => {
                            is.push(Issue::new(
                                "sex",
                                "sex_mismatch",
                                "性别与身份证号不符（第 17 位奇数为男、偶数为女）",
                            ))
                        }
                        Some(_) => {}
                        None => sex = Some(derived_sex),
                    }
                    let derived_birth = id.birth_date().format("%Y-%m-%d").to_string();
                    if id.birth_date() > self.today {
                        is.push(Issue::new(
                            "id_no",
                            "id_date",
                            "身份证号中的出生日期晚于今天",
                        ));
                    }
                    match &birth_date {
                        Some(b) if *b != derived_birth => is.push(Issue::new(
                            "birth_date",
                            "birth_mismatch",
                            format!("出生日期与身份证号不符（应为 {derived_birth}）"),
                        )),
                        Some(_) => {}
                        None => birth_date = Some(derived_birth),
                    }
                    if !self.counties.contains(id.county()) && gb2260_name(id.county()).is_none() {
                        warnings.push(Issue::new(
                            "id_no",
                            "county_unknown",
                            format!(
                                "身份证号的地址码 {} 不在现行及已知的历史区划代码中，请核实",
                                id.county()
                            ),
                        ));
                    }
                    id_no = Some(id.as_str().to_owned());
                }
                Err(e) => {
                    let code = match e {
                        civgrid_core::ids::IdCardError::Check(_) => "id_check",
                        civgrid_core::ids::IdCardError::Date(_) => "id_date",
                        civgrid_core::ids::IdCardError::Province(_) => "id_province",
                        _ => "id_format",
                    };
                    is.push(Issue::new("id_no", code, e.to_string()));
                }
            },
            (Some(raw), _) => {
                if raw.chars().count() > 30
                    || !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    is.push(Issue::new(
                        "id_no",
                        "id_format",
                        "证件号码只能包含字母、数字和 -，不超过 30 位",
                    ));
                }
                id_no = Some(raw.to_ascii_uppercase());
            }
        }
        let phone = match trimmed(&p.phone) {
            None => None,
            Some(raw) => match PhoneNo::parse(&raw) {
                Ok(ph) => Some(ph.as_str().to_owned()),
                Err(e) => {
                    is.push(Issue::new("phone", "phone_format", e.to_string()));
                    None
                }
            },
        };
        let native_place = trimmed(&p.native_place);
        if let Some(n) = &native_place
            && !(n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()))
        {
            is.push(Issue::new(
                "native_place",
                "bad_code",
                "籍贯应为 6 位行政区划代码",
            ));
        }
        let special_type = self.code(
            &mut is,
            "special_type",
            "special_type",
            "特殊人群类别",
            &p.special_type,
        );
        let json_obj = |is: &mut Vec<Issue>, field: &str, label: &str, v: &Option<Value>| match v {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) if m.values().all(|x| !x.is_object()) => {
                Some(Value::Object(m.clone()).to_string())
            }
            Some(_) => {
                is.push(Issue::new(
                    field,
                    "bad_object",
                    format!("{label}应为字段对象"),
                ));
                None
            }
        };
        let special = json_obj(&mut is, "special", "特殊人群信息", &p.special);
        if special.is_some() && special_type.is_none() && p.special_type.is_none() {
            is.push(Issue::new(
                "special_type",
                "required",
                "填写特殊人群信息时须选择类别",
            ));
        }
        let extra = json_obj(&mut is, "extra", "类别专有信息", &p.extra);
        if let Some(Value::Object(m)) = &p.extra {
            for (key, dict, label) in [
                ("inflow_reason", "inflow_reason", "流入原因"),
                ("hukou_match", "hukou_match", "人户一致标识"),
                ("left_behind_type", "left_behind_type", "留守人员类型"),
            ] {
                if let Some(Value::String(v)) = m.get(key)
                    && !v.is_empty()
                    && self.dicts.code_of(dict, v).is_none()
                {
                    is.push(Issue::new(
                        key,
                        "unknown_code",
                        format!("{label}“{v}”不在代码表中"),
                    ));
                }
            }
        }
        let checked = CheckedPerson {
            kind: kind.unwrap_or_default(),
            name,
            used_name: Self::text(&mut is, "used_name", "曾用名", &p.used_name, 50),
            id_type,
            id_no,
            sex,
            birth_date,
            nation: self.code(&mut is, "nation", "nation", "民族", &p.nation),
            native_place,
            marriage: self.code(&mut is, "marriage", "marriage", "婚姻状况", &p.marriage),
            party: self.code(&mut is, "party", "party", "政治面貌", &p.party),
            education: self.code(&mut is, "education", "education", "学历", &p.education),
            religion: self.code(&mut is, "religion", "religion", "宗教信仰", &p.religion),
            occupation: Self::text(&mut is, "occupation", "职业", &p.occupation, 30),
            employer: Self::text(&mut is, "employer", "服务处所", &p.employer, 100),
            phone,
            relation: self.code(&mut is, "relation", "relation", "与户主关系", &p.relation),
            residence: self.code(&mut is, "residence", "residence", "居住方式", &p.residence),
            special_type,
            special,
            extra,
            warnings,
        };
        if is.is_empty() { Ok(checked) } else { Err(is) }
    }
}

/// A stored person.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub used_name: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub nation: Option<String>,
    pub native_place: Option<String>,
    pub marriage: Option<String>,
    pub party: Option<String>,
    pub education: Option<String>,
    pub religion: Option<String>,
    pub occupation: Option<String>,
    pub employer: Option<String>,
    pub id_type: String,
    pub id_enc: Option<String>,
    pub id_blind: Option<String>,
    pub id_tail4: Option<String>,
    pub id_tail6: Option<String>,
    pub phone_enc: Option<String>,
    pub phone_blind: Option<String>,
    pub household_id: Option<String>,
    pub relation: Option<String>,
    pub house_id: Option<String>,
    pub residence: Option<String>,
    pub address_id: Option<String>,
    pub org_id: Option<String>,
    pub area_code: String,
    pub special_type: Option<String>,
    pub special: Option<String>,
    pub extra: Option<String>,
    pub state: String,
    pub version: i64,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A person as shown: ID number and phone masked unless unmasked on purpose.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub used_name: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub nation: Option<String>,
    pub native_place: Option<String>,
    pub marriage: Option<String>,
    pub party: Option<String>,
    pub education: Option<String>,
    pub religion: Option<String>,
    pub occupation: Option<String>,
    pub employer: Option<String>,
    pub id_type: String,
    /// Masked: 371502********1234
    pub id_no: Option<String>,
    /// Masked: 138****1234
    pub phone: Option<String>,
    pub household_id: Option<String>,
    pub relation: Option<String>,
    pub house_id: Option<String>,
    pub residence: Option<String>,
    pub address_id: Option<String>,
    pub address: Option<String>,
    pub org_id: Option<String>,
    /// The grid.
    pub area_code: String,
    pub grid_name: Option<String>,
    pub special_type: Option<String>,
    /// Only for roles allowed to see special populations.
    #[schema(value_type = Option<Object>)]
    pub special: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Value>,
    pub state: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
    /// Things worth a second look that did not stop the save.
    pub warnings: Vec<Issue>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonQuery {
    /// Name (两个字起), full ID number, its last 4 or 6 characters, or a phone number.
    pub q: Option<String>,
    /// Address fragment (road, 小区, village name …).
    pub address: Option<String>,
    /// Area or grid subtree (default: the caller's area).
    pub area: Option<String>,
    pub kind: Option<String>,
    /// active (default) / moved_out / dead / cancelled / all
    pub state: Option<String>,
    /// Only people of this special-population type (`any` for all of them).
    pub special_type: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct PersonListItem {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    /// Masked.
    pub id_no: Option<String>,
    /// Masked.
    pub phone: Option<String>,
    pub area_code: String,
    pub address: Option<String>,
    pub special_type: Option<String>,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonPage {
    pub items: Vec<PersonListItem>,
    pub page: i64,
    pub per_page: i64,
    /// More results follow this page.
    pub has_more: bool,
}

/// Why personal data is being shown in clear (audited).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UnmaskRequest {
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unmasked {
    pub id_no: Option<String>,
    pub phone: Option<String>,
    /// An organisation's own phone (organisations only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StateChange {
    /// active / moved_out / dead / cancelled
    pub state: String,
    pub note: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct HouseholdInput {
    /// 户号 (up to 9 characters); generated when absent.
    pub household_no: Option<String>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub house_id: Option<String>,
    pub grid: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct HouseholdRow {
    pub id: String,
    pub household_no: String,
    pub address_id: String,
    pub house_id: Option<String>,
    pub area_code: String,
    pub head_person_id: Option<String>,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub relation: Option<String>,
    pub residence: Option<String>,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseholdView {
    #[serde(flatten)]
    pub household: HouseholdRow,
    pub address: Option<String>,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct EventLink {
    pub id: String,
    pub case_no: String,
    pub category_code: String,
    pub state: String,
    pub reported_at: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseLink {
    pub id: String,
    pub house_no: String,
    pub is_rental: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgLink {
    pub id: String,
    pub name: String,
    pub uscc: Option<String>,
}

/// 五码关联 of a person: the house, household, organisation, phone and events it links to,
/// all through one standard address.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonLinks {
    pub person: PersonView,
    pub address: Option<crate::addresses::model::AddressRow>,
    pub household: Option<HouseholdView>,
    pub house: Option<HouseLink>,
    pub org: Option<OrgLink>,
    /// Masked.
    pub phone: Option<String>,
    /// Events reported with this person's phone as contact, or at their address.
    pub events: Vec<EventLink>,
}
