//! The event closed loop (DOMAIN.md §3) as a state machine: the states an event passes
//! through from 发现报告 to 评价结案, and which move is allowed from which state. Who may make a
//! move is the server's business (permissions and scope); this module only knows order.

use serde::{Deserialize, Serialize};

/// Where an event stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// 待受理: reported, waiting for a centre to accept it.
    Reported,
    /// 待派遣: accepted (立案), waiting to be dispatched.
    Accepted,
    /// 待签收: dispatched to a department or lower centre, not yet signed for.
    Dispatched,
    /// 处置中: signed for and being handled (also after rework).
    Handling,
    /// 挂账: on hold with approval; the clock stops.
    OnHold,
    /// 待核查: handled (or fixed on the spot), waiting for verification (跟踪回访).
    Verifying,
    /// 待评价: verified, waiting for the evaluation.
    Evaluating,
    /// 已结案
    Closed,
    /// 已作废: not accepted (不予受理) or voided.
    Voided,
    /// 已合并: merged into another event as a duplicate.
    Merged,
}

impl State {
    pub const ALL: [State; 10] = [
        State::Reported,
        State::Accepted,
        State::Dispatched,
        State::Handling,
        State::OnHold,
        State::Verifying,
        State::Evaluating,
        State::Closed,
        State::Voided,
        State::Merged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Reported => "reported",
            State::Accepted => "accepted",
            State::Dispatched => "dispatched",
            State::Handling => "handling",
            State::OnHold => "on_hold",
            State::Verifying => "verifying",
            State::Evaluating => "evaluating",
            State::Closed => "closed",
            State::Voided => "voided",
            State::Merged => "merged",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            State::Reported => "待受理",
            State::Accepted => "待派遣",
            State::Dispatched => "待签收",
            State::Handling => "处置中",
            State::OnHold => "挂账",
            State::Verifying => "待核查",
            State::Evaluating => "待评价",
            State::Closed => "已结案",
            State::Voided => "已作废",
            State::Merged => "已合并",
        }
    }

    /// No move leaves these.
    pub fn is_final(self) -> bool {
        matches!(self, State::Closed | State::Voided | State::Merged)
    }

    /// States in which the event is still being worked on (supervision, merging apply).
    pub fn is_open(self) -> bool {
        !self.is_final()
    }
}

/// A move on an event. Moves that change no state (督办, extension requests, replies) are
/// records on the timeline, kept here so that their allowed states live in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Move {
    /// 受理/立案
    Accept,
    /// 不予受理 / 作废 (with a reason)
    Void,
    /// 派遣 to a department or a lower centre
    Dispatch,
    /// 签收
    SignFor,
    /// 退回: the receiver says it is not theirs; back to the dispatching centre
    Return,
    /// 延期申请
    RequestExtension,
    /// 延期批准 / 驳回 (no state change either way)
    DecideExtension,
    /// 挂账 (approved)
    Hold,
    /// 恢复
    Resume,
    /// 上报上级: the parent centre takes over, to dispatch again
    Escalate,
    /// 自行处置: the grid worker fixed it on the spot (with a photo)
    SelfHandle,
    /// 处置反馈
    Handle,
    /// 核查通过
    VerifyPass,
    /// 核查不通过 → 返工
    VerifyFail,
    /// 评价 (满意 / 基本满意 / 不满意) → 结案
    Evaluate,
    /// 督办 by a higher centre or a leader
    Supervise,
    /// 合并 as a duplicate of another event
    Merge,
    /// 督办回复: the one supervised answers the supervision
    Reply,
}

impl Move {
    pub fn as_str(self) -> &'static str {
        match self {
            Move::Accept => "accept",
            Move::Void => "void",
            Move::Dispatch => "dispatch",
            Move::SignFor => "sign_for",
            Move::Return => "return",
            Move::RequestExtension => "request_extension",
            Move::DecideExtension => "decide_extension",
            Move::Hold => "hold",
            Move::Resume => "resume",
            Move::Escalate => "escalate",
            Move::SelfHandle => "self_handle",
            Move::Handle => "handle",
            Move::VerifyPass => "verify_pass",
            Move::VerifyFail => "verify_fail",
            Move::Evaluate => "evaluate",
            Move::Supervise => "supervise",
            Move::Merge => "merge",
            Move::Reply => "reply",
        }
    }

    pub fn parse(s: &str) -> Option<Move> {
        Move::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub const ALL: [Move; 18] = [
        Move::Accept,
        Move::Void,
        Move::Dispatch,
        Move::SignFor,
        Move::Return,
        Move::RequestExtension,
        Move::DecideExtension,
        Move::Hold,
        Move::Resume,
        Move::Escalate,
        Move::SelfHandle,
        Move::Handle,
        Move::VerifyPass,
        Move::VerifyFail,
        Move::Evaluate,
        Move::Supervise,
        Move::Merge,
        Move::Reply,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Move::Accept => "受理",
            Move::Void => "不予受理",
            Move::Dispatch => "派遣",
            Move::SignFor => "签收",
            Move::Return => "退回",
            Move::RequestExtension => "延期申请",
            Move::DecideExtension => "延期审批",
            Move::Hold => "挂账",
            Move::Resume => "恢复",
            Move::Escalate => "上报上级",
            Move::SelfHandle => "自行处置",
            Move::Handle => "处置反馈",
            Move::VerifyPass => "核查通过",
            Move::VerifyFail => "核查不通过",
            Move::Evaluate => "评价结案",
            Move::Supervise => "督办",
            Move::Merge => "合并",
            Move::Reply => "督办回复",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("事件当前为“{}”，不能执行“{}”", .from.label(), .action.label())]
pub struct NotAllowed {
    pub from: State,
    pub action: Move,
}

/// The state after `action` from `from`. `resume_to` is the state an on-hold event returns
/// to (the one it was held in).
pub fn next(from: State, action: Move, resume_to: Option<State>) -> Result<State, NotAllowed> {
    use Move as M;
    use State as S;
    let to = match (from, action) {
        (S::Reported, M::Accept) => S::Accepted,
        (S::Reported, M::Void) => S::Voided,
        (S::Reported, M::SelfHandle) => S::Verifying,
        (S::Accepted, M::Dispatch) => S::Dispatched,
        (S::Accepted, M::Void) => S::Voided,
        (S::Dispatched, M::SignFor) => S::Handling,
        (S::Dispatched | S::Handling, M::Return) => S::Accepted,
        (S::Accepted | S::Dispatched | S::Handling, M::Escalate) => S::Accepted,
        (S::Handling, M::RequestExtension | M::DecideExtension) => S::Handling,
        (S::Handling, M::Handle) => S::Verifying,
        (S::Accepted | S::Dispatched | S::Handling, M::Hold) => S::OnHold,
        (S::OnHold, M::Resume) => match resume_to {
            Some(s @ (S::Accepted | S::Dispatched | S::Handling)) => s,
            _ => return Err(NotAllowed { from, action }),
        },
        (S::Verifying, M::VerifyPass) => S::Evaluating,
        (S::Verifying, M::VerifyFail) => S::Handling,
        (S::Evaluating, M::Evaluate) => S::Closed,
        (s, M::Supervise | M::Reply) if s.is_open() => s,
        (s, M::Merge) if s.is_open() => S::Merged,
        _ => return Err(NotAllowed { from, action }),
    };
    Ok(to)
}

/// The moves allowed from a state (what a UI may offer, before permissions).
pub fn allowed(from: State) -> Vec<Move> {
    Move::ALL
        .into_iter()
        .filter(|m| next(from, *m, Some(State::Handling)).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_closed_loop() {
        let mut s = State::Reported;
        for m in [
            Move::Accept,
            Move::Dispatch,
            Move::SignFor,
            Move::Handle,
            Move::VerifyPass,
            Move::Evaluate,
        ] {
            s = next(s, m, None).unwrap();
        }
        assert_eq!(s, State::Closed);
        // Rework, return, escalation, hold and resume.
        assert_eq!(
            next(State::Verifying, Move::VerifyFail, None),
            Ok(State::Handling)
        );
        assert_eq!(
            next(State::Handling, Move::Return, None),
            Ok(State::Accepted)
        );
        assert_eq!(
            next(State::Handling, Move::Escalate, None),
            Ok(State::Accepted)
        );
        assert_eq!(next(State::Handling, Move::Hold, None), Ok(State::OnHold));
        assert_eq!(
            next(State::OnHold, Move::Resume, Some(State::Handling)),
            Ok(State::Handling)
        );
        assert!(next(State::OnHold, Move::Resume, Some(State::Closed)).is_err());
        assert_eq!(
            next(State::Reported, Move::SelfHandle, None),
            Ok(State::Verifying)
        );
    }

    #[test]
    fn nothing_skips_verification_or_leaves_a_final_state() {
        for s in State::ALL {
            if s != State::Evaluating {
                assert!(next(s, Move::Evaluate, None).is_err(), "{s:?}");
            }
        }
        for s in [State::Closed, State::Voided, State::Merged] {
            assert!(allowed(s).is_empty(), "{s:?}");
        }
        let e = next(State::Closed, Move::Dispatch, None).unwrap_err();
        assert_eq!(e.to_string(), "事件当前为“已结案”，不能执行“派遣”");
        assert!(allowed(State::Handling).contains(&Move::Supervise));
    }

    proptest! {
        /// Any sequence of allowed moves reaches Closed only through Evaluating, which only
        /// Verifying reaches: no path closes an event without verification and evaluation.
        #[test]
        fn closing_needs_verification(moves in proptest::collection::vec(0usize..18, 0..40)) {
            let mut s = State::Reported;
            let mut held_in = None;
            let mut verified = false;
            for i in moves {
                let m = Move::ALL[i];
                if let Ok(t) = next(s, m, held_in) {
                    if t == State::OnHold { held_in = Some(s); }
                    if m == Move::VerifyPass { verified = true; }
                    if m == Move::VerifyFail { verified = false; }
                    if t == State::Closed { prop_assert!(verified); }
                    s = t;
                }
            }
        }
    }
}
