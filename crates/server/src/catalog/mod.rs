//! Catalog: event categories and their time limits (overridable per area), the admission
//! list (事项准入清单), departments, the working-day calendar and API keys of external systems.

pub mod handlers;
pub mod model;
pub mod store;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use civgrid_core::AreaCode;
use civgrid_core::catalog::{Category, Limits, Priority, Source};
use model::{AdmissionItem, CategoryRow, DepartmentView};
use sqlx::AnyConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::new()
        .routes(routes!(list_categories))
        .routes(routes!(update_category))
        .routes(routes!(set_limits))
        .routes(routes!(admission_list))
        .routes(routes!(list_admission_requests, request_admission))
        .routes(routes!(approve_admission))
        .routes(routes!(reject_admission))
        .routes(routes!(list_departments, create_department))
        .routes(routes!(set_webhook))
        .routes(routes!(deliveries))
        .routes(routes!(calendar_info))
        .routes(routes!(get_year, put_year))
        .routes(routes!(deadline))
        .routes(routes!(create_api_key))
        .routes(routes!(list_dicts))
        .routes(routes!(put_dict_item))
}

/// The code tables in force (`valid_to` unset): lookups by code or by label.
#[derive(Debug, Default)]
pub struct Dicts {
    /// type → items in order.
    items: std::collections::HashMap<String, Vec<model::DictItem>>,
    /// type → (code or label → code).
    codes: std::collections::HashMap<String, std::collections::HashMap<String, String>>,
}

impl Dicts {
    pub fn new(rows: Vec<model::DictItem>) -> Dicts {
        let mut d = Dicts::default();
        for r in rows {
            let codes = d.codes.entry(r.dict_type.clone()).or_default();
            codes.insert(r.label.clone(), r.code.clone());
            codes.insert(r.code.clone(), r.code.clone());
            d.items.entry(r.dict_type.clone()).or_default().push(r);
        }
        d
    }

    pub async fn load(c: &mut AnyConnection) -> AppResult<Dicts> {
        Ok(Dicts::new(store::current_dicts(c).await?))
    }

    /// The code of `v` (a code, or a label as typed in spreadsheets).
    pub fn code_of(&self, dict: &str, v: &str) -> Option<&str> {
        self.codes.get(dict)?.get(v).map(String::as_str)
    }

    pub fn label(&self, dict: &str, code: &str) -> Option<&str> {
        self.items
            .get(dict)?
            .iter()
            .find(|i| i.code == code)
            .map(|i| i.label.as_str())
    }

    pub fn labels(&self, dict: &str) -> Vec<String> {
        self.items
            .get(dict)
            .map(|v| v.iter().map(|i| i.label.clone()).collect())
            .unwrap_or_default()
    }

    pub fn all(&self) -> Vec<&model::DictItem> {
        let mut v: Vec<&model::DictItem> = self.items.values().flatten().collect();
        v.sort_by(|a, b| (&a.dict_type, a.sort, &a.code).cmp(&(&b.dict_type, b.sort, &b.code)));
        v
    }
}

/// A category as the workflow uses it, with the limits in force for an area.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub category: Category,
    /// The area whose override applies (None: the catalog default).
    pub limits_from: Option<String>,
}

/// The area and every area above it, most specific first.
pub fn chain(area: &AreaCode) -> Vec<String> {
    let mut v: Vec<String> = area.ancestors().into_iter().map(String::from).collect();
    v.push(area.as_str().to_owned());
    v.reverse();
    v
}

pub(crate) fn to_core(r: &CategoryRow, limits: Option<&str>) -> AppResult<Category> {
    let bad = |what: &str| AppError::Internal(anyhow::anyhow!("category {}: bad {what}", r.code));
    let limits: Limits = serde_json::from_str(
        limits
            .or(r.limits.as_deref())
            .ok_or_else(|| bad("limits"))?,
    )
    .map_err(|_| bad("limits"))?;
    let sources = r
        .sources
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Source::parse(s).ok_or_else(|| bad("source")))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Category {
        code: r.code.clone(),
        name: r.name.clone(),
        group_code: r.parent_code.clone().unwrap_or_default(),
        group_name: String::new(),
        department: r.department_code.clone().unwrap_or_default(),
        priority: r
            .priority
            .as_deref()
            .and_then(Priority::parse)
            .unwrap_or(Priority::Normal),
        sources,
        photo_required: r.photo_required != 0,
        duplicate_radius_m: r.duplicate_radius_m.max(0) as u32,
        limits,
        auto_escalate: r.auto_escalate != 0,
    })
}

/// The category `code` with the limits in force at `area` (the most specific override on
/// the area's chain, else the default). Groups and unknown codes are `unknown_category`.
pub async fn resolve(c: &mut AnyConnection, code: &str, area: &AreaCode) -> AppResult<Resolved> {
    let row = store::category(c, code).await?;
    let overrides = store::overrides(c, &chain(area), Some(code)).await?;
    pick(row.as_ref(), &overrides, area)
}

fn pick(
    row: Option<&CategoryRow>,
    overrides: &[(String, String, String)],
    area: &AreaCode,
) -> AppResult<Resolved> {
    let row = row
        .filter(|r| r.parent_code.is_some())
        .ok_or(AppError::UnknownCategory)?;
    let best = chain(area).into_iter().find_map(|a| {
        overrides
            .iter()
            .find(|(oa, oc, _)| *oa == a && *oc == row.code)
    });
    Ok(Resolved {
        category: to_core(row, best.map(|(_, _, l)| l.as_str()))?,
        limits_from: best.map(|(a, _, _)| a.clone()),
    })
}

/// The whole catalog in memory (a few hundred rows), for the hot paths: intake and names.
/// Reloaded after an edit in this process and at least every `SNAPSHOT_TTL`.
pub struct Snapshot {
    rows: std::collections::HashMap<String, CategoryRow>,
    overrides: Vec<(String, String, String)>,
    admitted: Vec<(String, String)>,
}

pub const SNAPSHOT_TTL: std::time::Duration = std::time::Duration::from_secs(10);

impl Snapshot {
    pub async fn load(c: &mut AnyConnection) -> AppResult<Snapshot> {
        let rows = store::categories(c)
            .await?
            .into_iter()
            .map(|r| (r.code.clone(), r))
            .collect();
        let overrides = store::all_overrides(c).await?;
        let admitted = store::all_admitted(c).await?;
        Ok(Snapshot {
            rows,
            overrides,
            admitted,
        })
    }

    pub fn resolve(&self, code: &str, area: &AreaCode) -> AppResult<Resolved> {
        pick(self.rows.get(code), &self.overrides, area)
    }

    /// Whether grid workers at `area` may report `cat` (see [`is_admitted`]).
    pub fn is_admitted(&self, cat: &Category, area: &AreaCode) -> bool {
        cat.sources.contains(&Source::GridWorker)
            || chain(area).iter().any(|a| {
                self.admitted
                    .iter()
                    .any(|(c, aa)| *c == cat.code && aa == a)
            })
    }

    pub fn name(&self, code: &str) -> &str {
        self.rows.get(code).map_or("", |r| r.name.as_str())
    }

    pub fn names(&self) -> std::collections::HashMap<String, String> {
        self.rows
            .iter()
            .map(|(k, r)| (k.clone(), r.name.clone()))
            .collect()
    }
}

/// The admission list in force for grid workers at `area`.
pub async fn admission_list(
    c: &mut AnyConnection,
    area: &AreaCode,
) -> AppResult<Vec<AdmissionItem>> {
    let rows = store::categories(c).await?;
    let approved = store::admitted(c, &chain(area)).await?;
    let mut out = Vec::new();
    for r in rows.iter().filter(|r| r.parent_code.is_some()) {
        let default = r
            .sources
            .as_deref()
            .is_some_and(|s| s.split(',').any(|x| x == Source::GridWorker.as_str()));
        let added = approved.iter().find(|(c, _)| *c == r.code);
        if default || added.is_some() {
            out.push(AdmissionItem {
                code: r.code.clone(),
                name: r.name.clone(),
                group_code: r.parent_code.clone().unwrap_or_default(),
                origin: if default { "default" } else { "approved" }.into(),
                area_code: if default {
                    None
                } else {
                    added.map(|a| a.1.clone())
                },
            });
        }
    }
    Ok(out)
}

/// Whether grid workers at `area` may report `category`.
pub async fn is_admitted(
    c: &mut AnyConnection,
    cat: &Category,
    area: &AreaCode,
) -> AppResult<bool> {
    if cat.sources.contains(&Source::GridWorker) {
        return Ok(true);
    }
    let approved = store::admitted(c, &chain(area)).await?;
    Ok(approved.iter().any(|(code, _)| *code == cat.code))
}

/// Departments a centre at `area` can dispatch to: those of its own area and of the areas
/// above it, nearest first.
pub async fn departments_for(
    c: &mut AnyConnection,
    area: &AreaCode,
) -> AppResult<Vec<DepartmentView>> {
    Ok(store::departments_in(c, &chain(area)).await?)
}
