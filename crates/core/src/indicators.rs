//! Event indicators of DOMAIN.md §4 from raw counts. The server stores the raw facts on each
//! event as its moves happen (late flags, rework and return counts, evaluation, working
//! minutes) and sums them per subject × period; the rates are computed here, in one place.

use serde::Serialize;

/// Raw counts of one subject (an area, a department, a category) over one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Events reported (including voided and merged ones).
    pub reported: i64,
    /// Not accepted or voided (无效上报).
    pub voided: i64,
    /// Merged into another event as duplicates.
    pub merged: i64,
    /// 应派遣: dispatched at least once, or accepted and overdue without dispatch.
    pub should_dispatch: i64,
    /// First dispatched within the accept + dispatch limits.
    pub dispatched_on_time: i64,
    /// Events returned (退回) at least once: a wrong dispatch.
    pub returned: i64,
    /// 应结案: handled (反馈 or 自行处置) plus overdue and not yet handled.
    pub should_close: i64,
    pub closed: i64,
    /// Closed, and never overdue while being signed for or handled.
    pub closed_on_time: i64,
    /// 核查不通过 moves (each one is a rework).
    pub reworks: i64,
    /// 应核查: events that reached verification.
    pub should_verify: i64,
    pub verified_on_time: i64,
    pub evaluated: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub unsatisfied: i64,
    /// Working minutes from report to close of the closed events, time on hold excluded.
    pub handle_minutes: i64,
}

impl Counts {
    /// The field names, in the order of [`Counts::to_array`] (also the SQL column names).
    pub const FIELDS: [&'static str; 17] = [
        "reported",
        "voided",
        "merged",
        "should_dispatch",
        "dispatched_on_time",
        "returned",
        "should_close",
        "closed",
        "closed_on_time",
        "reworks",
        "should_verify",
        "verified_on_time",
        "evaluated",
        "satisfied",
        "basically_satisfied",
        "unsatisfied",
        "handle_minutes",
    ];

    pub fn to_array(&self) -> [i64; 17] {
        [
            self.reported,
            self.voided,
            self.merged,
            self.should_dispatch,
            self.dispatched_on_time,
            self.returned,
            self.should_close,
            self.closed,
            self.closed_on_time,
            self.reworks,
            self.should_verify,
            self.verified_on_time,
            self.evaluated,
            self.satisfied,
            self.basically_satisfied,
            self.unsatisfied,
            self.handle_minutes,
        ]
    }

    pub fn from_array(a: [i64; 17]) -> Counts {
        Counts {
            reported: a[0],
            voided: a[1],
            merged: a[2],
            should_dispatch: a[3],
            dispatched_on_time: a[4],
            returned: a[5],
            should_close: a[6],
            closed: a[7],
            closed_on_time: a[8],
            reworks: a[9],
            should_verify: a[10],
            verified_on_time: a[11],
            evaluated: a[12],
            satisfied: a[13],
            basically_satisfied: a[14],
            unsatisfied: a[15],
            handle_minutes: a[16],
        }
    }

    pub fn add(&mut self, o: &Counts) {
        let mut a = self.to_array();
        for (x, y) in a.iter_mut().zip(o.to_array()) {
            *x += y;
        }
        *self = Counts::from_array(a);
    }
}

/// Rates in percent (two decimals), `None` when the denominator is zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Rates {
    /// 结案率 = closed / should-close
    pub closure_rate: Option<f64>,
    /// 按期结案率 = closed on time / should-close
    pub on_time_closure_rate: Option<f64>,
    /// 返工率 = reworks / should-close
    pub rework_rate: Option<f64>,
    /// 按时派遣率 = dispatched on time / should-dispatch
    pub on_time_dispatch_rate: Option<f64>,
    /// 准确派遣率 = (should-dispatch − returned) / should-dispatch
    pub accurate_dispatch_rate: Option<f64>,
    /// 有效上报率 = (reported − voided) / reported
    pub valid_report_rate: Option<f64>,
    /// 按时核查率 = verified on time / should-verify
    pub on_time_verification_rate: Option<f64>,
    /// 满意率 = (satisfied + 0.9 × basically satisfied) / evaluated
    pub satisfaction_rate: Option<f64>,
    /// Mean working hours from report to close (closed events).
    pub mean_handle_hours: Option<f64>,
}

fn pct(num: f64, den: i64) -> Option<f64> {
    (den > 0).then(|| (num * 10000.0 / den as f64).round() / 100.0)
}

impl Rates {
    pub fn of(c: &Counts) -> Rates {
        Rates {
            closure_rate: pct(c.closed as f64, c.should_close),
            on_time_closure_rate: pct(c.closed_on_time as f64, c.should_close),
            rework_rate: pct(c.reworks as f64, c.should_close),
            on_time_dispatch_rate: pct(c.dispatched_on_time as f64, c.should_dispatch),
            accurate_dispatch_rate: pct((c.should_dispatch - c.returned) as f64, c.should_dispatch),
            valid_report_rate: pct((c.reported - c.voided) as f64, c.reported),
            on_time_verification_rate: pct(c.verified_on_time as f64, c.should_verify),
            satisfaction_rate: pct(
                c.satisfied as f64 + 0.9 * c.basically_satisfied as f64,
                c.evaluated,
            ),
            mean_handle_hours: (c.closed > 0).then(|| {
                (c.handle_minutes as f64 / 60.0 / c.closed as f64 * 100.0).round() / 100.0
            }),
        }
    }
}

/// 满意 / 基本满意 / 不满意
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evaluation {
    Satisfied,
    BasicallySatisfied,
    Unsatisfied,
}

impl Evaluation {
    pub fn as_str(self) -> &'static str {
        match self {
            Evaluation::Satisfied => "satisfied",
            Evaluation::BasicallySatisfied => "basically_satisfied",
            Evaluation::Unsatisfied => "unsatisfied",
        }
    }

    pub fn parse(s: &str) -> Option<Evaluation> {
        [
            Evaluation::Satisfied,
            Evaluation::BasicallySatisfied,
            Evaluation::Unsatisfied,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Evaluation::Satisfied => "满意",
            Evaluation::BasicallySatisfied => "基本满意",
            Evaluation::Unsatisfied => "不满意",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_from_counts() {
        let c = Counts {
            reported: 10,
            voided: 1,
            merged: 1,
            should_dispatch: 8,
            dispatched_on_time: 6,
            returned: 2,
            should_close: 8,
            closed: 6,
            closed_on_time: 5,
            reworks: 2,
            should_verify: 7,
            verified_on_time: 7,
            evaluated: 6,
            satisfied: 4,
            basically_satisfied: 1,
            unsatisfied: 1,
            handle_minutes: 6 * 480,
        };
        let r = Rates::of(&c);
        assert_eq!(r.closure_rate, Some(75.0));
        assert_eq!(r.on_time_closure_rate, Some(62.5));
        assert_eq!(r.rework_rate, Some(25.0));
        assert_eq!(r.on_time_dispatch_rate, Some(75.0));
        assert_eq!(r.accurate_dispatch_rate, Some(75.0));
        assert_eq!(r.valid_report_rate, Some(90.0));
        assert_eq!(r.on_time_verification_rate, Some(100.0));
        assert_eq!(r.satisfaction_rate, Some(81.67)); // (4 + 0.9) / 6
        assert_eq!(r.mean_handle_hours, Some(8.0));
        assert_eq!(Rates::of(&Counts::default()), Rates::default());
    }
}
