//! Official area codes (统计用区划代码) and grid codes.
//!
//! civgrid stores every code in its *significant* form: the digits that identify the node
//! and nothing more — `37` (province), `3715` (city), `371502` (county), `371502001`
//! (township), `371502001001` (village/community), `371502001001003` (grid). A subtree is
//! then a plain prefix (`area_code LIKE '3715%'`). The zero-padded 12-digit form used in
//! the NBS tables (`371500000000`) is accepted on input and normalised.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Number of digits a grid adds after its community code (DOMAIN.md §1).
pub const GRID_SEQ_DIGITS: usize = 3;

/// The five governance levels plus the province above the city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    City,
    County,
    Township,
    Village,
    Grid,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::Province,
        Level::City,
        Level::County,
        Level::Township,
        Level::Village,
        Level::Grid,
    ];

    /// Length of a code of this level in significant form.
    pub const fn code_len(self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
            Level::Grid => 12 + GRID_SEQ_DIGITS,
        }
    }

    pub fn from_code_len(len: usize) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code_len() == len)
    }

    /// Depth in the tree (province = 0).
    pub fn depth(self) -> usize {
        self as usize
    }

    pub fn parent(self) -> Option<Level> {
        self.depth().checked_sub(1).map(|d| Level::ALL[d])
    }

    pub fn child(self) -> Option<Level> {
        Level::ALL.get(self.depth() + 1).copied()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::City => "city",
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
            Level::Grid => "grid",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Chinese name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Level::Province => "省",
            Level::City => "市",
            Level::County => "县区",
            Level::Township => "乡镇街道",
            Level::Village => "村社区",
            Level::Grid => "网格",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaCodeError {
    #[error("区划代码只能包含数字")]
    NotDigits,
    #[error("区划代码长度不正确")]
    BadLength,
    #[error("区划代码的某一级为 0")]
    ZeroSegment,
}

/// A parsed area or grid code, in significant form.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    /// Parses a code in significant form (2/4/6/9/12/15 digits) or the padded 12-digit NBS
    /// form (`371500000000` → `3715`).
    pub fn parse(input: &str) -> Result<AreaCode, AreaCodeError> {
        let s = input.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AreaCodeError::NotDigits);
        }
        let s = if s.len() == 12 { strip_padding(s) } else { s };
        let level = Level::from_code_len(s.len()).ok_or(AreaCodeError::BadLength)?;
        // Every segment must be non-zero (`3700` is not a city) — except the county segment:
        // cities without counties (东莞 4419, 中山 4420) have their towns under `441900`.
        let mut start = 0;
        for l in Level::ALL.into_iter().take(level.depth() + 1) {
            let end = l.code_len();
            if l != Level::County && s[start..end].bytes().all(|b| b == b'0') {
                return Err(AreaCodeError::ZeroSegment);
            }
            start = end;
        }
        Ok(AreaCode(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> Level {
        Level::from_code_len(self.0.len()).expect("length checked at parse")
    }

    pub fn parent(&self) -> Option<AreaCode> {
        self.level()
            .parent()
            .map(|p| AreaCode(self.0[..p.code_len()].to_owned()))
    }

    /// All ancestors from the province down to the parent.
    pub fn ancestors(&self) -> Vec<AreaCode> {
        Level::ALL
            .into_iter()
            .take(self.level().depth())
            .map(|l| AreaCode(self.0[..l.code_len()].to_owned()))
            .collect()
    }

    /// True when `other` is this node or lies in its subtree.
    pub fn contains(&self, other: &AreaCode) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The 12-digit zero-padded form (villages and above), as printed in NBS tables.
    pub fn padded(&self) -> String {
        if self.0.len() >= 12 {
            self.0.clone()
        } else {
            format!("{:0<12}", self.0)
        }
    }

    /// The code of a grid under this village/community with sequence number `seq` (1-based).
    pub fn grid_child(&self, seq: u32) -> Option<AreaCode> {
        let max = 10u32.pow(GRID_SEQ_DIGITS as u32);
        (self.level() == Level::Village && seq >= 1 && seq < max).then(|| {
            AreaCode(format!(
                "{}{:0width$}",
                self.0,
                seq,
                width = GRID_SEQ_DIGITS
            ))
        })
    }
}

fn strip_padding(s: &str) -> &str {
    // Longest level whose remaining digits are all zero.
    for l in [Level::Province, Level::City, Level::County, Level::Township] {
        if s[l.code_len()..].bytes().all(|b| b == b'0') {
            return &s[..l.code_len()];
        }
    }
    s
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AreaCode({})", self.0)
    }
}

impl TryFrom<String> for AreaCode {
    type Error = AreaCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        AreaCode::parse(&s)
    }
}

impl From<AreaCode> for String {
    fn from(c: AreaCode) -> String {
        c.0
    }
}

impl std::str::FromStr for AreaCode {
    type Err = AreaCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AreaCode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn levels_and_parents() {
        let v = AreaCode::parse("371502001001").unwrap();
        assert_eq!(v.level(), Level::Village);
        assert_eq!(v.parent().unwrap().as_str(), "371502001");
        let names: Vec<_> = v.ancestors().iter().map(|a| a.to_string()).collect();
        assert_eq!(names, ["37", "3715", "371502", "371502001"]);
        assert!(AreaCode::parse("3715").unwrap().contains(&v));
        assert!(!AreaCode::parse("3716").unwrap().contains(&v));
        assert!(v.contains(&v));
        let g = v.grid_child(3).unwrap();
        assert_eq!(g.as_str(), "371502001001003");
        assert_eq!(g.level(), Level::Grid);
        assert_eq!(g.parent().unwrap(), v);
        assert!(v.grid_child(0).is_none());
        assert!(v.grid_child(1000).is_none());
        assert!(g.grid_child(1).is_none());
    }

    #[test]
    fn padded_input_is_normalised() {
        assert_eq!(AreaCode::parse("371500000000").unwrap().as_str(), "3715");
        assert_eq!(AreaCode::parse("371502000000").unwrap().as_str(), "371502");
        assert_eq!(
            AreaCode::parse("371502001000").unwrap().as_str(),
            "371502001"
        );
        assert_eq!(AreaCode::parse("3715").unwrap().padded(), "371500000000");
    }

    #[test]
    fn bad_codes() {
        assert_eq!(AreaCode::parse(""), Err(AreaCodeError::NotDigits));
        assert_eq!(AreaCode::parse("37a5"), Err(AreaCodeError::NotDigits));
        assert_eq!(AreaCode::parse("' OR 1=1"), Err(AreaCodeError::NotDigits));
        assert_eq!(AreaCode::parse("37150"), Err(AreaCodeError::BadLength));
        assert_eq!(AreaCode::parse("3700"), Err(AreaCodeError::ZeroSegment));
        assert_eq!(AreaCode::parse("00"), Err(AreaCodeError::ZeroSegment));
        assert_eq!(AreaCode::parse("441900").unwrap().level(), Level::County);
        assert_eq!(
            AreaCode::parse("371502001000001"),
            Err(AreaCodeError::ZeroSegment)
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = AreaCode::parse(&s);
        }

        #[test]
        fn ancestors_contain_and_roundtrip(p in 11u32..99, c in 1u32..99, d in 1u32..99,
                                           t in 1u32..999, v in 1u32..999, g in 1u32..999) {
            let s = format!("{p:02}{c:02}{d:02}{t:03}{v:03}{g:03}");
            let code = AreaCode::parse(&s).unwrap();
            prop_assert_eq!(code.level(), Level::Grid);
            for a in code.ancestors() {
                prop_assert!(a.contains(&code));
                prop_assert!(!code.contains(&a));
                prop_assert_eq!(AreaCode::parse(&a.padded()).unwrap(), a.clone());
            }
            prop_assert_eq!(code.ancestors().len(), 5);
        }
    }
}
