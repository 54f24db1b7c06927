//! The event catalog as data: departments (职能部门), a two-level category tree with each
//! leaf's default department, priority, allowed sources, photo rule, duplicate radius and
//! time limits per step. `catalog/default.json` is the seeded default; levels may override it.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The catalog civgrid ships with.
pub const DEFAULT: &str = include_str!("../catalog/default.json");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    pub code: String,
    pub name: String,
    /// The area level it belongs to: township | county | city.
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
}

/// Where a report comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 网格员巡查上报
    GridWorker,
    /// 群众上报 / 随手拍
    Citizen,
    /// 12345 热线
    Hotline,
    /// 视频告警等外部系统
    VideoAlarm,
    /// 部门移交
    Department,
    /// 领导交办
    Leader,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        [Priority::Urgent, Priority::High, Priority::Normal]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

impl Source {
    pub const ALL: [Source; 6] = [
        Source::GridWorker,
        Source::Citizen,
        Source::Hotline,
        Source::VideoAlarm,
        Source::Department,
        Source::Leader,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::GridWorker => "grid_worker",
            Source::Citizen => "citizen",
            Source::Hotline => "hotline",
            Source::VideoAlarm => "video_alarm",
            Source::Department => "department",
            Source::Leader => "leader",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Source::GridWorker => "网格员上报",
            Source::Citizen => "群众上报",
            Source::Hotline => "12345热线",
            Source::VideoAlarm => "视频告警",
            Source::Department => "部门移交",
            Source::Leader => "领导交办",
        }
    }
}

/// A time limit in working hours (`"4h"`) or working days (`"5d"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Limit {
    Hours(u32),
    Days(u32),
}

impl Limit {
    /// Working minutes, given the minutes of one working day.
    pub fn minutes(self, minutes_per_day: i64) -> i64 {
        match self {
            Limit::Hours(h) => h as i64 * 60,
            Limit::Days(d) => d as i64 * minutes_per_day,
        }
    }
}

impl TryFrom<String> for Limit {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let bad = || format!("时限格式不正确：{s}（应为如 4h 或 5d）");
        let unit = s.chars().last().ok_or_else(bad)?;
        let n: u32 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        if n == 0 || n > 365 {
            return Err(bad());
        }
        match unit {
            'h' => Ok(Limit::Hours(n)),
            'd' => Ok(Limit::Days(n)),
            _ => Err(bad()),
        }
    }
}

impl From<Limit> for String {
    fn from(l: Limit) -> String {
        match l {
            Limit::Hours(n) => format!("{n}h"),
            Limit::Days(n) => format!("{n}d"),
        }
    }
}

/// Limits of the steps of the closed loop: 受理, 派遣, 签收, 处置, 核查.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub accept: Limit,
    pub dispatch: Limit,
    pub sign: Limit,
    pub handle: Limit,
    pub verify: Limit,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct RawCategory {
    code: String,
    name: String,
    department: Option<String>,
    priority: Option<Priority>,
    #[serde(default)]
    sources: Vec<Source>,
    #[serde(default)]
    photo_required: bool,
    duplicate_radius_m: Option<u32>,
    limits: Option<Limits>,
    auto_escalate: Option<bool>,
    #[serde(default)]
    children: Vec<RawCategory>,
}

#[derive(Deserialize)]
struct RawCatalog {
    version: String,
    departments: Vec<Department>,
    categories: Vec<RawCategory>,
}

/// A category that events are reported under (a leaf of the tree).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub group_code: String,
    pub group_name: String,
    pub department: String,
    pub priority: Priority,
    pub sources: Vec<Source>,
    pub photo_required: bool,
    pub duplicate_radius_m: u32,
    pub limits: Limits,
    /// Overdue (red) events are escalated to the parent centre automatically. Defaults to
    /// true for urgent categories.
    pub auto_escalate: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub version: String,
    pub departments: Vec<Department>,
    /// (code, name) of the top-level groups.
    pub groups: Vec<(String, String)>,
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("目录文件格式不正确：{0}")]
    Malformed(String),
    #[error("分类编码重复：{0}")]
    DuplicateCode(String),
    #[error("分类 {0} 的编码须以上级编码开头")]
    BadCode(String),
    #[error("分类 {0} 缺少{1}")]
    Missing(String, &'static str),
    #[error("分类 {0} 的责任部门 {1} 不存在")]
    UnknownDepartment(String, String),
    #[error("分类 {0} 的查重半径须在 0–5000 米之间")]
    BadRadius(String),
}

impl Catalog {
    pub fn parse(json: &str) -> Result<Catalog, CatalogError> {
        let raw: RawCatalog =
            serde_json::from_str(json).map_err(|e| CatalogError::Malformed(e.to_string()))?;
        let deps: HashSet<&str> = raw.departments.iter().map(|d| d.code.as_str()).collect();
        let mut seen = HashSet::new();
        let mut groups = Vec::new();
        let mut categories = Vec::new();
        for g in &raw.categories {
            if !seen.insert(g.code.clone()) {
                return Err(CatalogError::DuplicateCode(g.code.clone()));
            }
            groups.push((g.code.clone(), g.name.clone()));
            for c in &g.children {
                if !seen.insert(c.code.clone()) {
                    return Err(CatalogError::DuplicateCode(c.code.clone()));
                }
                if !c.code.starts_with(&g.code) || c.code.len() <= g.code.len() {
                    return Err(CatalogError::BadCode(c.code.clone()));
                }
                let department = c
                    .department
                    .clone()
                    .ok_or(CatalogError::Missing(c.code.clone(), "责任部门"))?;
                if !deps.contains(department.as_str()) {
                    return Err(CatalogError::UnknownDepartment(c.code.clone(), department));
                }
                let radius = c.duplicate_radius_m.unwrap_or(100);
                if radius > 5000 {
                    return Err(CatalogError::BadRadius(c.code.clone()));
                }
                if c.sources.is_empty() {
                    return Err(CatalogError::Missing(c.code.clone(), "允许的来源"));
                }
                let priority = c.priority.unwrap_or(Priority::Normal);
                categories.push(Category {
                    auto_escalate: c.auto_escalate.unwrap_or(priority == Priority::Urgent),
                    code: c.code.clone(),
                    name: c.name.clone(),
                    group_code: g.code.clone(),
                    group_name: g.name.clone(),
                    department,
                    priority,
                    sources: c.sources.clone(),
                    photo_required: c.photo_required,
                    duplicate_radius_m: radius,
                    limits: c
                        .limits
                        .ok_or(CatalogError::Missing(c.code.clone(), "处置时限"))?,
                });
            }
        }
        Ok(Catalog {
            version: raw.version,
            departments: raw.departments,
            groups,
            categories,
        })
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_catalog() {
        let c = Catalog::parse(DEFAULT).unwrap();
        assert!(c.categories.len() >= 40, "{}", c.categories.len());
        let groups: Vec<&str> = c.groups.iter().map(|(_, n)| n.as_str()).collect();
        for g in [
            "矛盾纠纷",
            "治安隐患",
            "安全生产",
            "消防安全",
            "环境卫生",
            "市政设施",
            "食品药品",
            "特殊人群",
            "民生服务",
            "劳动保障",
        ] {
            assert!(groups.contains(&g), "{g}");
        }
        let manhole = c.category("0602").unwrap();
        assert_eq!(manhole.name, "井盖缺失损坏");
        assert_eq!(manhole.priority, Priority::Urgent);
        assert!(manhole.photo_required);
        assert_eq!(manhole.limits.handle.minutes(480), 480);
        assert_eq!(manhole.limits.accept.minutes(480), 120);
        assert!(manhole.auto_escalate);
        assert!(!c.category("0101").unwrap().auto_escalate);
    }

    #[test]
    fn bad_catalogs() {
        let base = |cat: &str| {
            format!(
                r#"{{"version": "t", "departments": [{{"code": "d", "name": "部门", "level": "county"}}], "categories": [{{"code": "01", "name": "组", "children": [{cat}]}}]}}"#
            )
        };
        let ok = r#"{"code": "0101", "name": "x", "department": "d", "sources": ["citizen"], "limits": {"accept": "2h", "dispatch": "4h", "sign": "4h", "handle": "5d", "verify": "2d"}}"#;
        assert!(Catalog::parse(&base(ok)).is_ok());
        assert_eq!(
            Catalog::parse(&base(&format!("{ok},{ok}"))),
            Err(CatalogError::DuplicateCode("0101".into()))
        );
        assert!(matches!(
            Catalog::parse(&base(&ok.replace("0101", "0201"))),
            Err(CatalogError::BadCode(_))
        ));
        assert!(matches!(
            Catalog::parse(&base(&ok.replace("\"d\"", "\"x\""))),
            Err(CatalogError::UnknownDepartment(..))
        ));
        assert!(matches!(
            Catalog::parse(&base(&ok.replace("5d", "5w"))),
            Err(CatalogError::Malformed(_))
        ));
        assert!(matches!(
            Catalog::parse(&base(&ok.replace("5d", "0d"))),
            Err(CatalogError::Malformed(_))
        ));
        assert!(matches!(
            Catalog::parse(&base(&ok.replace("[\"citizen\"]", "[]"))),
            Err(CatalogError::Missing(..))
        ));
        assert!(matches!(
            Catalog::parse(&base(&ok.replace("[\"citizen\"]", "[\"alien\"]"))),
            Err(CatalogError::Malformed(_))
        ));
    }
}
