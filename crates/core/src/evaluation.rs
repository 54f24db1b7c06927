//! 督导考核 (DOMAIN.md §4): scoring periods, evaluation schemes (indicators × weights ×
//! targets, grade bands with stars), the score of one subject from its indicator values, and
//! rankings with ties. The server measures the values; everything that turns values into a
//! score lives here, so a score can always be recomputed and explained.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// 周 / 月 / 季 / 年
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Week,
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    pub const ALL: [PeriodKind; 4] = [
        PeriodKind::Week,
        PeriodKind::Month,
        PeriodKind::Quarter,
        PeriodKind::Year,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<PeriodKind> {
        PeriodKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PeriodKind::Week => "周",
            PeriodKind::Month => "月",
            PeriodKind::Quarter => "季度",
            PeriodKind::Year => "年",
        }
    }
}

/// A scoring period: China calendar days `start..=end`. Weeks run Monday to Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub kind: PeriodKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date")
}

impl Period {
    /// The period of `kind` that contains `day`.
    pub fn containing(kind: PeriodKind, day: NaiveDate) -> Period {
        let (start, end) = match kind {
            PeriodKind::Week => {
                let start = day - Duration::days(day.weekday().num_days_from_monday().into());
                (start, start + Duration::days(6))
            }
            PeriodKind::Month => {
                let start = ymd(day.year(), day.month(), 1);
                let next = if day.month() == 12 {
                    ymd(day.year() + 1, 1, 1)
                } else {
                    ymd(day.year(), day.month() + 1, 1)
                };
                (start, next - Duration::days(1))
            }
            PeriodKind::Quarter => {
                let q = (day.month() - 1) / 3;
                let start = ymd(day.year(), q * 3 + 1, 1);
                let next = if q == 3 {
                    ymd(day.year() + 1, 1, 1)
                } else {
                    ymd(day.year(), q * 3 + 4, 1)
                };
                (start, next - Duration::days(1))
            }
            PeriodKind::Year => (ymd(day.year(), 1, 1), ymd(day.year(), 12, 31)),
        };
        Period { kind, start, end }
    }

    /// The period just before this one.
    pub fn previous(&self) -> Period {
        Period::containing(self.kind, self.start - Duration::days(1))
    }

    /// The last period of `kind` that has ended by `today` (it ended yesterday or earlier).
    pub fn last_complete(kind: PeriodKind, today: NaiveDate) -> Period {
        Period::containing(kind, today).previous()
    }

    /// 2026年第47周（11月16日—11月22日） · 2026年10月 · 2026年第四季度 · 2026年
    pub fn label(&self) -> String {
        let y = self.start.year();
        match self.kind {
            PeriodKind::Week => format!(
                "{}年第{}周（{}月{}日—{}月{}日）",
                self.start.iso_week().year(),
                self.start.iso_week().week(),
                self.start.month(),
                self.start.day(),
                self.end.month(),
                self.end.day()
            ),
            PeriodKind::Month => format!("{y}年{}月", self.start.month()),
            PeriodKind::Quarter => {
                let q = ["一", "二", "三", "四"][((self.start.month() - 1) / 3) as usize];
                format!("{y}年第{q}季度")
            }
            PeriodKind::Year => format!("{y}年"),
        }
    }
}

/// Who is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Worker,
    Grid,
    Community,
    Township,
    County,
    Department,
}

impl SubjectKind {
    pub const ALL: [SubjectKind; 6] = [
        SubjectKind::Worker,
        SubjectKind::Grid,
        SubjectKind::Community,
        SubjectKind::Township,
        SubjectKind::County,
        SubjectKind::Department,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Worker => "worker",
            SubjectKind::Grid => "grid",
            SubjectKind::Community => "community",
            SubjectKind::Township => "township",
            SubjectKind::County => "county",
            SubjectKind::Department => "department",
        }
    }

    pub fn parse(s: &str) -> Option<SubjectKind> {
        SubjectKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            SubjectKind::Worker => "网格员",
            SubjectKind::Grid => "网格",
            SubjectKind::Community => "村（社区）",
            SubjectKind::Township => "乡镇（街道）",
            SubjectKind::County => "县（区）",
            SubjectKind::Department => "职能部门",
        }
    }

    /// For an area subject, the length of its code (a grid's code is longer than 12).
    pub fn area_len(self) -> Option<usize> {
        match self {
            SubjectKind::Community => Some(12),
            SubjectKind::Township => Some(9),
            SubjectKind::County => Some(6),
            _ => None,
        }
    }
}

/// Whether more is better (a closure rate) or less is (a rework rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// One indicator a scheme may weigh.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorDef {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub better: Better,
    pub subjects: &'static [SubjectKind],
}

use SubjectKind as S;
const AREAS: &[SubjectKind] = &[S::Grid, S::Community, S::Township, S::County];
const AREAS_AND_DEPTS: &[SubjectKind] =
    &[S::Grid, S::Community, S::Township, S::County, S::Department];
const CENTRES: &[SubjectKind] = &[S::Township, S::County];
const PEOPLE: &[SubjectKind] = &[S::Worker, S::Grid, S::Community, S::Township, S::County];

/// Every indicator (DOMAIN.md §4 and the grid workers' activity measures). For areas the
/// activity measures are per grid worker of the area.
pub const INDICATORS: &[IndicatorDef] = &[
    IndicatorDef {
        key: "closure_rate",
        label: "结案率",
        unit: "%",
        better: Better::Higher,
        subjects: AREAS_AND_DEPTS,
    },
    IndicatorDef {
        key: "on_time_closure_rate",
        label: "按期结案率",
        unit: "%",
        better: Better::Higher,
        subjects: AREAS_AND_DEPTS,
    },
    IndicatorDef {
        key: "rework_rate",
        label: "返工率",
        unit: "%",
        better: Better::Lower,
        subjects: AREAS_AND_DEPTS,
    },
    IndicatorDef {
        key: "on_time_dispatch_rate",
        label: "按时派遣率",
        unit: "%",
        better: Better::Higher,
        subjects: CENTRES,
    },
    IndicatorDef {
        key: "accurate_dispatch_rate",
        label: "准确派遣率",
        unit: "%",
        better: Better::Higher,
        subjects: CENTRES,
    },
    IndicatorDef {
        key: "valid_report_rate",
        label: "有效上报率",
        unit: "%",
        better: Better::Higher,
        subjects: PEOPLE,
    },
    IndicatorDef {
        key: "on_time_verification_rate",
        label: "按时核查率",
        unit: "%",
        better: Better::Higher,
        subjects: AREAS,
    },
    IndicatorDef {
        key: "satisfaction_rate",
        label: "满意率",
        unit: "%",
        better: Better::Higher,
        subjects: AREAS_AND_DEPTS,
    },
    IndicatorDef {
        key: "mean_handle_hours",
        label: "平均办理时长",
        unit: "小时",
        better: Better::Lower,
        subjects: AREAS_AND_DEPTS,
    },
    IndicatorDef {
        key: "online_hours",
        label: "在线时长",
        unit: "小时",
        better: Better::Higher,
        subjects: PEOPLE,
    },
    IndicatorDef {
        key: "patrols",
        label: "巡查次数",
        unit: "次",
        better: Better::Higher,
        subjects: PEOPLE,
    },
    IndicatorDef {
        key: "patrol_km",
        label: "巡查里程",
        unit: "公里",
        better: Better::Higher,
        subjects: PEOPLE,
    },
    IndicatorDef {
        key: "visits",
        label: "走访次数",
        unit: "次",
        better: Better::Higher,
        subjects: PEOPLE,
    },
    IndicatorDef {
        key: "records",
        label: "基础数据采集更新",
        unit: "条",
        better: Better::Higher,
        subjects: PEOPLE,
    },
    IndicatorDef {
        key: "events_reported",
        label: "有效上报事件",
        unit: "件",
        better: Better::Higher,
        subjects: PEOPLE,
    },
    IndicatorDef {
        key: "verifications",
        label: "核查回访",
        unit: "次",
        better: Better::Higher,
        subjects: PEOPLE,
    },
];

pub fn indicator(key: &str) -> Option<&'static IndicatorDef> {
    INDICATORS.iter().find(|i| i.key == key)
}

/// One weighed indicator of a scheme: its weight and its target (the value that earns the
/// full weight; for lower-is-better indicators the most that still earns it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemeItem {
    pub key: String,
    pub weight: f64,
    pub target: f64,
}

/// A grade: scores of at least `min` get it, with `stars` stars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Band {
    pub grade: String,
    pub min: f64,
    pub stars: u8,
}

/// What a scheme says; the version and validity live with the stored row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scheme {
    pub items: Vec<SchemeItem>,
    pub bands: Vec<Band>,
}

/// Why a scheme is refused, with the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemeError {
    #[error("至少需要一项考核指标")]
    NoItems,
    #[error("指标 {0} 不存在")]
    UnknownIndicator(String),
    #[error("指标 {0} 不适用于该考核对象")]
    NotForSubject(String),
    #[error("指标 {0} 重复")]
    Duplicate(String),
    #[error("指标 {0} 的权重必须大于 0")]
    BadWeight(String),
    #[error("指标 {0} 的目标值必须大于 0")]
    BadTarget(String),
    #[error("等级划分须有 1–10 档，分数线在 0–100 之间且互不相同，星级 0–5，最低一档分数线为 0")]
    BadBands,
}

impl SchemeError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            SchemeError::BadBands => "bands",
            _ => "items",
        }
    }
}

impl Scheme {
    /// Checks the scheme can score `subject`; bands come back sorted from the highest.
    pub fn checked(mut self, subject: SubjectKind) -> Result<Scheme, SchemeError> {
        if self.items.is_empty() {
            return Err(SchemeError::NoItems);
        }
        let mut seen = std::collections::HashSet::new();
        for it in &self.items {
            let def =
                indicator(&it.key).ok_or_else(|| SchemeError::UnknownIndicator(it.key.clone()))?;
            if !def.subjects.contains(&subject) {
                return Err(SchemeError::NotForSubject(def.label.into()));
            }
            if !seen.insert(it.key.as_str()) {
                return Err(SchemeError::Duplicate(def.label.into()));
            }
            if !(it.weight.is_finite() && it.weight > 0.0) {
                return Err(SchemeError::BadWeight(def.label.into()));
            }
            if !(it.target.is_finite() && it.target > 0.0) {
                return Err(SchemeError::BadTarget(def.label.into()));
            }
        }
        self.bands.sort_by(|a, b| {
            b.min
                .partial_cmp(&a.min)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut grades = std::collections::HashSet::new();
        let ok = (1..=10).contains(&self.bands.len())
            && self.bands.iter().all(|b| {
                (0.0..=100.0).contains(&b.min)
                    && b.stars <= 5
                    && !b.grade.trim().is_empty()
                    && grades.insert(b.grade.trim().to_string())
            })
            && self.bands.windows(2).all(|w| w[0].min > w[1].min)
            && self.bands.last().is_some_and(|b| b.min == 0.0);
        if !ok {
            return Err(SchemeError::BadBands);
        }
        Ok(self)
    }

    /// DOMAIN.md §4's grade bands: ≥ 90 A ★★★★★, ≥ 75 B, ≥ 60 C, ≥ 40 D, else E.
    pub fn default_bands() -> Vec<Band> {
        [
            ("A", 90.0, 5),
            ("B", 75.0, 4),
            ("C", 60.0, 3),
            ("D", 40.0, 2),
            ("E", 0.0, 1),
        ]
        .into_iter()
        .map(|(g, min, stars)| Band {
            grade: g.into(),
            min,
            stars,
        })
        .collect()
    }

    /// The scheme civgrid starts with for each subject (weights sum to 100).
    pub fn default_for(subject: SubjectKind) -> Scheme {
        let items: &[(&str, f64, f64)] = match subject {
            S::Worker => &[
                ("online_hours", 25.0, 160.0),
                ("patrols", 15.0, 20.0),
                ("visits", 20.0, 30.0),
                ("records", 15.0, 40.0),
                ("events_reported", 15.0, 8.0),
                ("verifications", 10.0, 8.0),
            ],
            S::Grid | S::Community => &[
                ("closure_rate", 20.0, 95.0),
                ("on_time_closure_rate", 20.0, 90.0),
                ("rework_rate", 10.0, 5.0),
                ("on_time_verification_rate", 10.0, 90.0),
                ("satisfaction_rate", 15.0, 90.0),
                ("online_hours", 10.0, 160.0),
                ("visits", 15.0, 30.0),
            ],
            S::Township | S::County => &[
                ("closure_rate", 20.0, 95.0),
                ("on_time_closure_rate", 20.0, 90.0),
                ("rework_rate", 10.0, 5.0),
                ("on_time_dispatch_rate", 15.0, 95.0),
                ("accurate_dispatch_rate", 10.0, 95.0),
                ("satisfaction_rate", 15.0, 90.0),
                ("online_hours", 10.0, 160.0),
            ],
            S::Department => &[
                ("closure_rate", 25.0, 95.0),
                ("on_time_closure_rate", 30.0, 90.0),
                ("rework_rate", 15.0, 5.0),
                ("satisfaction_rate", 20.0, 90.0),
                ("mean_handle_hours", 10.0, 48.0),
            ],
        };
        Scheme {
            items: items
                .iter()
                .map(|&(key, weight, target)| SchemeItem {
                    key: key.into(),
                    weight,
                    target,
                })
                .collect(),
            bands: Scheme::default_bands(),
        }
    }
}

/// One indicator's share of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemScore {
    pub key: String,
    /// The measured value; `None` when there was nothing to measure (no events to close).
    pub value: Option<f64>,
    pub target: f64,
    pub weight: f64,
    /// 0–1: how much of the target was reached.
    pub attainment: Option<f64>,
    /// The points this indicator earned out of 100.
    pub points: Option<f64>,
}

/// A subject's score under a scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub score: f64,
    pub grade: String,
    pub stars: u8,
    pub items: Vec<ItemScore>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// How much of `target` a value reaches (0–1).
pub fn attainment(better: Better, value: f64, target: f64) -> f64 {
    let a = match better {
        Better::Higher => value / target,
        Better::Lower if value <= target => 1.0,
        Better::Lower => target / value,
    };
    a.clamp(0.0, 1.0)
}

impl Scheme {
    /// The score of one subject: each indicator earns `weight × attainment`; indicators with
    /// nothing to measure leave the score, and the others' weights are rescaled to 100.
    pub fn score(&self, value: impl Fn(&str) -> Option<f64>) -> Scored {
        let measured: f64 = self
            .items
            .iter()
            .filter(|it| value(&it.key).is_some())
            .map(|it| it.weight)
            .sum();
        let items: Vec<ItemScore> = self
            .items
            .iter()
            .map(|it| {
                let better = indicator(&it.key).map_or(Better::Higher, |d| d.better);
                let v = value(&it.key);
                let a = v.map(|v| attainment(better, v, it.target));
                ItemScore {
                    key: it.key.clone(),
                    value: v.map(round2),
                    target: it.target,
                    weight: it.weight,
                    attainment: a.map(|a| (a * 10000.0).round() / 10000.0),
                    points: a.map(|a| round2(a * it.weight * 100.0 / measured)),
                }
            })
            .collect();
        let score = round2(
            items
                .iter()
                .filter_map(|i| i.points)
                .sum::<f64>()
                .min(100.0),
        );
        let band = self.band(score);
        Scored {
            score,
            grade: band.map_or_else(String::new, |b| b.grade.clone()),
            stars: band.map_or(0, |b| b.stars),
            items,
        }
    }

    fn band(&self, score: f64) -> Option<&Band> {
        self.bands
            .iter()
            .find(|b| score >= b.min)
            .or(self.bands.last())
    }
}

/// Competition ranks ("1224") of scores, highest first: equal scores (to two decimals) share
/// a rank and the next rank skips. `ranks[i]` is the rank of `scores[i]`.
pub fn ranks(scores: &[f64]) -> Vec<u32> {
    let key = |x: f64| (x * 100.0).round() as i64;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(key(scores[i])));
    let mut out = vec![0; scores.len()];
    for (pos, &i) in order.iter().enumerate() {
        out[i] = if pos > 0 && key(scores[order[pos - 1]]) == key(scores[i]) {
            out[order[pos - 1]]
        } else {
            pos as u32 + 1
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods() {
        let w = Period::containing(PeriodKind::Week, day("2026-11-28"));
        assert_eq!((w.start, w.end), (day("2026-11-23"), day("2026-11-29")));
        assert_eq!(w.label(), "2026年第48周（11月23日—11月29日）");
        assert_eq!(w.previous().start, day("2026-11-16"));
        let m = Period::containing(PeriodKind::Month, day("2026-02-10"));
        assert_eq!((m.start, m.end), (day("2026-02-01"), day("2026-02-28")));
        assert_eq!(
            Period::containing(PeriodKind::Month, day("2026-12-31")).end,
            day("2026-12-31")
        );
        let q = Period::containing(PeriodKind::Quarter, day("2026-11-28"));
        assert_eq!((q.start, q.end), (day("2026-10-01"), day("2026-12-31")));
        assert_eq!(q.label(), "2026年第四季度");
        assert_eq!(q.previous().label(), "2026年第三季度");
        let y = Period::last_complete(PeriodKind::Year, day("2026-11-28"));
        assert_eq!((y.start, y.end), (day("2025-01-01"), day("2025-12-31")));
        assert_eq!(
            Period::last_complete(PeriodKind::Month, day("2026-12-01")).label(),
            "2026年11月"
        );
    }

    fn scheme(items: &[(&str, f64, f64)]) -> Scheme {
        Scheme {
            items: items
                .iter()
                .map(|&(k, w, t)| SchemeItem {
                    key: k.into(),
                    weight: w,
                    target: t,
                })
                .collect(),
            bands: Scheme::default_bands(),
        }
    }

    #[test]
    fn scores_with_known_answers() {
        let s = scheme(&[("closure_rate", 60.0, 95.0), ("rework_rate", 40.0, 5.0)]);
        // 结案率 76 % of a 95 % target = 0.8 → 48 points; 返工率 10 % against at most 5 % = 0.5 → 20.
        let r = s.score(|k| match k {
            "closure_rate" => Some(76.0),
            "rework_rate" => Some(10.0),
            _ => None,
        });
        assert_eq!(r.score, 68.0);
        assert_eq!((r.grade.as_str(), r.stars), ("C", 3));
        assert_eq!(r.items[0].points, Some(48.0));
        assert_eq!(r.items[1].attainment, Some(0.5));
        // Over the target earns no more than the weight; under the rework limit earns it all.
        let r = s.score(|k| Some(if k == "closure_rate" { 100.0 } else { 0.0 }));
        assert_eq!((r.score, r.grade.as_str(), r.stars), (100.0, "A", 5));
        // Nothing to measure for one indicator: the other is worth the whole 100.
        let r = s.score(|k| (k == "closure_rate").then_some(47.5));
        assert_eq!(r.score, 50.0);
        assert_eq!(r.items[1].points, None);
        assert_eq!(r.grade, "D");
        let r = s.score(|_| None);
        assert_eq!((r.score, r.grade.as_str(), r.stars), (0.0, "E", 1));
    }

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks(&[80.0, 95.5, 80.0, 70.0, 95.5]), vec![3, 1, 3, 5, 1]);
        assert_eq!(ranks(&[50.004, 50.0]), vec![1, 1]);
        assert!(ranks(&[]).is_empty());
    }

    #[test]
    fn schemes_are_checked() {
        for k in SubjectKind::ALL {
            assert!(Scheme::default_for(k).checked(k).is_ok(), "{k:?}");
            let total: f64 = Scheme::default_for(k).items.iter().map(|i| i.weight).sum();
            assert_eq!(total, 100.0, "{k:?}");
        }
        let bad = |s: Scheme| s.checked(S::Worker).unwrap_err();
        assert_eq!(bad(scheme(&[])), SchemeError::NoItems);
        assert_eq!(
            bad(scheme(&[("closure_rate", 1.0, 1.0)])),
            SchemeError::NotForSubject("结案率".into())
        );
        assert_eq!(
            bad(scheme(&[("visits", 1.0, 1.0), ("visits", 2.0, 1.0)])),
            SchemeError::Duplicate("走访次数".into())
        );
        assert_eq!(
            bad(scheme(&[("visits", 0.0, 1.0)])),
            SchemeError::BadWeight("走访次数".into())
        );
        assert_eq!(
            bad(scheme(&[("visits", 1.0, -1.0)])),
            SchemeError::BadTarget("走访次数".into())
        );
        assert_eq!(
            bad(scheme(&[("nope", 1.0, 1.0)])),
            SchemeError::UnknownIndicator("nope".into())
        );
        let mut s = scheme(&[("visits", 1.0, 1.0)]);
        s.bands.pop();
        assert_eq!(bad(s), SchemeError::BadBands);
        let mut s = scheme(&[("visits", 1.0, 1.0)]);
        s.bands.reverse();
        assert_eq!(s.checked(S::Worker).unwrap().bands[0].grade, "A");
    }
}
