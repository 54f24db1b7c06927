//! The working-day calendar: which days are working days (weekends, public holidays and
//! 调休 adjusted workdays, from one data file per year), working hours, and time limits
//! counted in working time — deadlines, remaining time and the warning light.
//!
//! Time limits are kept in working minutes: a limit of N working days is N × the minutes of
//! one working day, so an event received on Friday 16:00 with one working day is due on the
//! next working day at 16:00. Time on hold (挂账) does not count.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Weekday,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// China Standard Time: working hours are local time.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

/// The years shipped with civgrid (`calendars/*.json`).
pub const BUILT_IN_YEARS: &[&str] = &[
    include_str!("../calendars/2025.json"),
    include_str!("../calendars/2026.json"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("日历文件格式不正确：{0}")]
    Malformed(String),
    #[error("日历文件中的日期不属于 {year} 年：{date}")]
    WrongYear { year: i32, date: NaiveDate },
    #[error("工作时间段不正确：{0}")]
    BadHours(String),
}

#[derive(Deserialize)]
struct YearFile {
    year: i32,
    holidays: Vec<HolidaySpan>,
    workdays: Vec<Workday>,
}

#[derive(Deserialize)]
struct HolidaySpan {
    from: NaiveDate,
    to: NaiveDate,
    name: String,
}

#[derive(Deserialize)]
struct Workday {
    date: NaiveDate,
    name: String,
}

/// Holidays and adjusted workdays of one year.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YearRules {
    pub holidays: BTreeMap<NaiveDate, String>,
    pub workdays: BTreeMap<NaiveDate, String>,
}

impl YearRules {
    /// Parses one year file; returns the year and its rules.
    pub fn parse(json: &str) -> Result<(i32, YearRules), CalendarError> {
        let f: YearFile =
            serde_json::from_str(json).map_err(|e| CalendarError::Malformed(e.to_string()))?;
        let mut rules = YearRules::default();
        let check = |d: NaiveDate| {
            if d.year() == f.year {
                Ok(d)
            } else {
                Err(CalendarError::WrongYear {
                    year: f.year,
                    date: d,
                })
            }
        };
        for h in &f.holidays {
            // A span may run into the next year (e.g. 12-31 to 01-01); keep it whole.
            check(h.from)?;
            if h.to < h.from || (h.to - h.from).num_days() > 31 {
                return Err(CalendarError::Malformed(format!(
                    "假期 {} 的起止日期不正确",
                    h.name
                )));
            }
            let mut d = h.from;
            while d <= h.to {
                rules.holidays.insert(d, h.name.clone());
                d = d.succ_opt().expect("date in range");
            }
        }
        for w in &f.workdays {
            rules.workdays.insert(check(w.date)?, w.name.clone());
        }
        Ok((f.year, rules))
    }
}

/// Working periods of a day, e.g. 08:30–12:00 and 13:30–18:00.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    periods: Vec<(NaiveTime, NaiveTime)>,
}

impl Default for WorkingHours {
    fn default() -> Self {
        WorkingHours::parse("08:30-12:00,13:30-18:00").expect("valid default")
    }
}

impl WorkingHours {
    /// Parses `HH:MM-HH:MM[,HH:MM-HH:MM…]`: ordered, non-overlapping periods.
    pub fn parse(s: &str) -> Result<WorkingHours, CalendarError> {
        let mut periods = Vec::new();
        for part in s.split(',') {
            let (a, b) = part
                .trim()
                .split_once('-')
                .ok_or_else(|| CalendarError::BadHours(s.into()))?;
            let t = |x: &str| {
                NaiveTime::parse_from_str(x.trim(), "%H:%M")
                    .map_err(|_| CalendarError::BadHours(s.into()))
            };
            let (a, b) = (t(a)?, t(b)?);
            if b <= a || periods.last().is_some_and(|&(_, end)| a < end) {
                return Err(CalendarError::BadHours(s.into()));
            }
            periods.push((a, b));
        }
        if periods.is_empty() {
            return Err(CalendarError::BadHours(s.into()));
        }
        Ok(WorkingHours { periods })
    }

    /// Working minutes in one working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.periods
            .iter()
            .map(|(a, b)| (*b - *a).num_minutes())
            .sum()
    }
}

/// The warning light of a time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    /// Less than 80 % of the limit used.
    Green,
    /// 80 % to 100 % used.
    Yellow,
    /// Over the limit (overdue).
    Red,
}

impl Light {
    pub fn of(used: i64, limit: i64) -> Light {
        if limit <= 0 || used > limit {
            Light::Red
        } else if used * 5 >= limit * 4 {
            Light::Yellow
        } else {
            Light::Green
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Light::Green => "绿灯",
            Light::Yellow => "黄灯",
            Light::Red => "红灯",
        }
    }
}

/// A span of time on hold; `to` is `None` while the hold lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    pub from: DateTime<FixedOffset>,
    pub to: Option<DateTime<FixedOffset>>,
}

/// Where a time limit stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Working minutes used, holds excluded.
    pub used: i64,
    /// Working minutes left (negative when overdue).
    pub remaining: i64,
    pub light: Light,
    /// When the limit runs out if no further hold comes.
    pub deadline: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearRules>,
    hours: WorkingHours,
}

impl Default for WorkCalendar {
    fn default() -> Self {
        WorkCalendar::with_years(BUILT_IN_YEARS, WorkingHours::default())
            .expect("built-in calendars are valid")
    }
}

impl WorkCalendar {
    pub fn with_years(files: &[&str], hours: WorkingHours) -> Result<WorkCalendar, CalendarError> {
        let mut years = BTreeMap::new();
        for f in files {
            let (y, rules) = YearRules::parse(f)?;
            years.insert(y, rules);
        }
        Ok(WorkCalendar { years, hours })
    }

    /// Adds or replaces one year's rules.
    pub fn set_year(&mut self, year: i32, rules: YearRules) {
        self.years.insert(year, rules);
    }

    pub fn years(&self) -> BTreeSet<i32> {
        self.years.keys().copied().collect()
    }

    /// Whether a year has its holiday file. Without one, only weekends are days off.
    pub fn has_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }

    pub fn is_workday(&self, d: NaiveDate) -> bool {
        if let Some(rules) = self.years.get(&d.year()) {
            if rules.workdays.contains_key(&d) {
                return true;
            }
            if rules.holidays.contains_key(&d) {
                return false;
            }
        }
        // A span from one year's file may reach into the next year.
        if let Some(rules) = self.years.get(&(d.year() - 1))
            && rules.holidays.contains_key(&d)
        {
            return false;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The working periods of a date as instants (none on a day off).
    fn periods(
        &self,
        d: NaiveDate,
    ) -> impl Iterator<Item = (DateTime<FixedOffset>, DateTime<FixedOffset>)> + '_ {
        let work = self.is_workday(d);
        self.hours
            .periods
            .iter()
            .filter(move |_| work)
            .map(move |&(a, b)| (local(d, a), local(d, b)))
    }

    /// The instant `minutes` working minutes after `start`. Starting outside working hours
    /// counts from the next working period.
    pub fn add_minutes(&self, start: DateTime<FixedOffset>, minutes: i64) -> DateTime<FixedOffset> {
        let start = start.with_timezone(&cst());
        let mut left = minutes.max(0);
        let mut day = start.date_naive();
        // Ten years of days off in a row cannot happen; the bound keeps a bad file finite.
        for _ in 0..3660 {
            for (a, b) in self.periods(day) {
                let from = a.max(start);
                if from >= b {
                    continue;
                }
                let span = (b - from).num_minutes();
                if left <= span {
                    return from + Duration::minutes(left);
                }
                left -= span;
            }
            day = day.succ_opt().expect("date in range");
        }
        start + Duration::days(3660)
    }

    /// `n` working days after `start` (n × the minutes of a working day).
    pub fn add_days(&self, start: DateTime<FixedOffset>, n: i64) -> DateTime<FixedOffset> {
        self.add_minutes(start, n * self.hours.minutes_per_day())
    }

    /// Working minutes between two instants (0 when `to` is not after `from`).
    pub fn minutes_between(&self, from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> i64 {
        if to <= from {
            return 0;
        }
        let (from, to) = (from.with_timezone(&cst()), to.with_timezone(&cst()));
        let mut total = 0;
        let mut day = from.date_naive();
        while day <= to.date_naive() {
            for (a, b) in self.periods(day) {
                let (s, e) = (a.max(from), b.min(to));
                if e > s {
                    total += (e - s).num_minutes();
                }
            }
            day = day.succ_opt().expect("date in range");
        }
        total
    }

    /// How a limit of `limit` working minutes that started at `start` stands at `now`, with
    /// time on hold excluded.
    pub fn progress(
        &self,
        start: DateTime<FixedOffset>,
        limit: i64,
        holds: &[Hold],
        now: DateTime<FixedOffset>,
    ) -> Progress {
        let on_hold: i64 = holds
            .iter()
            .map(|h| {
                let end = h.to.unwrap_or(now).min(now);
                self.minutes_between(h.from.max(start), end)
            })
            .sum();
        let used = (self.minutes_between(start, now) - on_hold).max(0);
        let remaining = limit - used;
        let deadline = if remaining >= 0 {
            self.add_minutes(now, remaining)
        } else {
            // Already overdue: the limit ran out `remaining` working minutes ago.
            self.add_minutes(start, limit + on_hold)
        };
        Progress {
            used,
            remaining,
            light: Light::of(used, limit),
            deadline,
        }
    }
}

fn local(d: NaiveDate, t: NaiveTime) -> DateTime<FixedOffset> {
    cst()
        .from_local_datetime(&NaiveDateTime::new(d, t))
        .single()
        .expect("fixed offset has one local time")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn real_2025_and_2026_days() {
        let c = WorkCalendar::default();
        assert!(c.has_year(2025) && c.has_year(2026) && !c.has_year(2027));
        for d in [
            "2026-01-01",
            "2026-02-16",
            "2026-02-23",
            "2026-10-07",
            "2026-09-25",
            "2025-01-28",
            "2025-10-08",
        ] {
            assert!(!c.is_workday(date(d)), "{d} is a holiday");
        }
        for d in [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
            "2025-01-26",
            "2025-10-11",
        ] {
            assert!(
                c.is_workday(date(d)),
                "{d} is an adjusted workday (a weekend day)"
            );
            assert!(matches!(date(d).weekday(), Weekday::Sat | Weekday::Sun));
        }
        assert!(c.is_workday(date("2026-11-27")), "a Friday");
        assert!(!c.is_workday(date("2026-11-28")), "a Saturday");
        // Both years have 248 working days (as chinesecalendar 1.11.0 counts them).
        for y in [2025, 2026] {
            let n = (1..=365)
                .filter(|&n| c.is_workday(NaiveDate::from_yo_opt(y, n).unwrap()))
                .count();
            assert_eq!(n, 248, "{y}");
        }
    }

    #[test]
    fn deadlines_in_working_time() {
        let c = WorkCalendar::default();
        // Friday 16:00 + 1 working day (480 min) = Monday 16:00.
        assert_eq!(
            c.add_days(at("2026-11-27T16:00:00+08:00"), 1),
            at("2026-11-30T16:00:00+08:00")
        );
        // 2 working hours from Friday 17:00: one hour Friday, one Monday morning.
        assert_eq!(
            c.add_minutes(at("2026-11-27T17:00:00+08:00"), 120),
            at("2026-11-30T09:30:00+08:00")
        );
        // Lunch break does not count.
        assert_eq!(
            c.add_minutes(at("2026-11-30T11:00:00+08:00"), 90),
            at("2026-11-30T14:00:00+08:00")
        );
        // Received on New Year's Eve evening: counting starts on 2026-01-04 (a Sunday, worked).
        assert_eq!(
            c.add_minutes(at("2025-12-31T20:00:00+08:00"), 30),
            at("2026-01-04T09:00:00+08:00")
        );
        // Spring Festival: 2026-02-13 (Fri) 17:00 + 2 h → 02-14 (Sat, adjusted workday) 09:30.
        assert_eq!(
            c.add_minutes(at("2026-02-13T17:00:00+08:00"), 120),
            at("2026-02-14T09:30:00+08:00")
        );
        // … and 2 days from 02-14 17:00 skip the whole holiday to 02-25 17:00 (24th, 25th worked).
        assert_eq!(
            c.add_days(at("2026-02-14T17:00:00+08:00"), 2),
            at("2026-02-25T17:00:00+08:00")
        );
        // UTC input is read in China time.
        assert_eq!(
            c.add_minutes(at("2026-11-30T01:00:00Z"), 60),
            at("2026-11-30T10:00:00+08:00")
        );
    }

    #[test]
    fn lights_and_holds() {
        assert_eq!(Light::of(0, 100), Light::Green);
        assert_eq!(Light::of(79, 100), Light::Green);
        assert_eq!(Light::of(80, 100), Light::Yellow);
        assert_eq!(Light::of(100, 100), Light::Yellow);
        assert_eq!(Light::of(101, 100), Light::Red);
        let c = WorkCalendar::default();
        let start = at("2026-11-30T08:30:00+08:00");
        let now = at("2026-11-30T14:30:00+08:00"); // 3.5 h + 1 h = 270 min worked
        let p = c.progress(start, 300, &[], now);
        assert_eq!((p.used, p.remaining, p.light), (270, 30, Light::Yellow));
        assert_eq!(p.deadline, at("2026-11-30T15:00:00+08:00"));
        // One hour on hold in the morning: 210 used, green, deadline an hour later.
        let hold = Hold {
            from: at("2026-11-30T09:00:00+08:00"),
            to: Some(at("2026-11-30T10:00:00+08:00")),
        };
        let p = c.progress(start, 300, &[hold], now);
        assert_eq!((p.used, p.light), (210, Light::Green));
        assert_eq!(p.deadline, at("2026-11-30T16:00:00+08:00"));
        // A hold still open stops the clock.
        let open = Hold {
            from: at("2026-11-30T13:30:00+08:00"),
            to: None,
        };
        let later = c.progress(start, 300, &[open], at("2026-12-01T17:00:00+08:00"));
        assert_eq!(later.used, 210);
        // Overdue.
        let p = c.progress(start, 60, &[], now);
        assert_eq!((p.remaining, p.light), (-210, Light::Red));
        assert_eq!(p.deadline, at("2026-11-30T09:30:00+08:00"));
    }

    #[test]
    fn bad_files_and_hours() {
        assert!(matches!(
            YearRules::parse("{"),
            Err(CalendarError::Malformed(_))
        ));
        let wrong = r#"{"year": 2027, "holidays": [{"from": "2026-01-01", "to": "2026-01-01", "name": "x"}], "workdays": []}"#;
        assert!(matches!(
            YearRules::parse(wrong),
            Err(CalendarError::WrongYear { .. })
        ));
        assert!(WorkingHours::parse("09:00-08:00").is_err());
        assert!(WorkingHours::parse("09:00-12:00,11:00-13:00").is_err());
        assert!(WorkingHours::parse("nine to five").is_err());
        assert_eq!(
            WorkingHours::parse("09:00-12:00,13:00-17:00")
                .unwrap()
                .minutes_per_day(),
            420
        );
        assert_eq!(WorkingHours::default().minutes_per_day(), 480);
    }

    proptest! {
        /// Adding working minutes and measuring them back agree.
        #[test]
        fn add_then_measure(day in 0i64..700, minute in 0i64..1440, m in 0i64..20_000) {
            let c = WorkCalendar::default();
            let start = at("2025-01-01T00:00:00+08:00") + Duration::days(day) + Duration::minutes(minute);
            let end = c.add_minutes(start, m);
            prop_assert_eq!(c.minutes_between(start, end), m);
        }
    }
}
