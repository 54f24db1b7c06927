//! Personal and legal-entity identifiers (DOMAIN.md §6): 公民身份号码 (GB 11643), 统一社会信用代码
//! (GB 32100) and phone numbers. Each parses into a newtype whose `Debug` and `Serialize`
//! show only the masked form; the clear text is reached through `as_str`, on purpose.

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};
use std::fmt;

/// GB/T 2261.1 sex codes as derived from an ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sex {
    /// `1` 男
    Male,
    /// `2` 女
    Female,
}

impl Sex {
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "1",
            Sex::Female => "2",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    #[error("身份证号应为 18 位（或 15 位旧号码）")]
    Length,
    #[error("身份证号只能包含数字，第 18 位可以是 X")]
    Chars,
    #[error("身份证号的省级代码 {0} 不存在")]
    Province(String),
    #[error("身份证号中的出生日期 {0} 不是有效日期")]
    Date(String),
    #[error("身份证号校验位错误，应为 {0}")]
    Check(char),
}

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// Province-level codes of GB/T 2260, plus 71 (台湾) and 81/82 (港澳) used on residence permits.
const PROVINCES: [&str; 35] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82", "83",
];

/// The GB 11643 check character of the first 17 digits.
pub fn id_check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| (d - b'0') as u32 * w)
        .sum();
    ID_CHECK[(sum % 11) as usize] as char
}

/// A valid 18-digit citizen ID number (legacy 15-digit numbers are upgraded on parse).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdCardNo(String);

impl IdCardNo {
    /// Parses an ID number: trims, accepts a lower-case `x` and full-width digits, and
    /// upgrades a 15-digit number (YYMMDD, born 19YY) to 18 digits with its check character.
    /// Whether the county code is current is the caller's question (see `county`).
    pub fn parse(input: &str) -> Result<IdCardNo, IdCardError> {
        let s: String = input
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                'x' | 'ｘ' | 'Ｘ' => 'X',
                _ => c,
            })
            .collect();
        let b = s.as_bytes();
        let s = match b.len() {
            18 => {
                if !b[..17].iter().all(u8::is_ascii_digit)
                    || !(b[17].is_ascii_digit() || b[17] == b'X')
                {
                    return Err(IdCardError::Chars);
                }
                s
            }
            15 => {
                if !b.iter().all(u8::is_ascii_digit) {
                    return Err(IdCardError::Chars);
                }
                let mut up = format!("{}19{}", &s[..6], &s[6..]);
                let c = id_check_char(up.as_bytes());
                up.push(c);
                up
            }
            _ if !s.is_ascii() => return Err(IdCardError::Chars),
            _ => return Err(IdCardError::Length),
        };
        if !PROVINCES.contains(&&s[..2]) {
            return Err(IdCardError::Province(s[..2].to_owned()));
        }
        let birth = &s[6..14];
        let date = NaiveDate::parse_from_str(birth, "%Y%m%d")
            .map_err(|_| IdCardError::Date(birth.to_owned()))?;
        if date.year() < 1850 {
            return Err(IdCardError::Date(birth.to_owned()));
        }
        let want = id_check_char(&s.as_bytes()[..17]);
        if s.as_bytes()[17] as char != want {
            return Err(IdCardError::Check(want));
        }
        Ok(IdCardNo(s))
    }

    /// The clear number. Callers that show it must have unmasked it on purpose.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit county code (possibly historical).
    pub fn county(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked at parse")
    }

    /// Odd sequence digit: male.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// `371502********1234`: the county and the last four stay visible.
    pub fn masked(&self) -> String {
        mask_id(&self.0)
    }

    /// The last `n` characters (for tail search).
    pub fn tail(&self, n: usize) -> &str {
        &self.0[18 - n.min(18)..]
    }
}

/// The name of a county-level code in the national GB/T 2260 table of the `gb2260` crate (a
/// 2018 revision: it still knows 茌平县 371523, not its 2019 successor 茌平区 371503). Callers
/// check their own current divisions first; a code in neither is worth a warning only, since
/// ID numbers keep the code of the county that issued them, however long ago.
pub fn gb2260_name(code: &str) -> Option<&'static str> {
    gb2260::Division::get(code).map(|d| d.name)
}

/// Masks any ID-like text: the first six and the last four characters stay.
pub fn mask_id(s: &str) -> String {
    let n = s.chars().count();
    if n <= 10 {
        return "*".repeat(n);
    }
    let head: String = s.chars().take(6).collect();
    let tail: String = s.chars().skip(n - 4).collect();
    format!("{head}{}{tail}", "*".repeat(n - 10))
}

impl fmt::Debug for IdCardNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdCardNo({})", self.masked())
    }
}

impl Serialize for IdCardNo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    #[error("统一社会信用代码应为 18 位")]
    Length,
    #[error("统一社会信用代码含有不允许的字符 {0}（不用 I、O、Z、S、V）")]
    Chars(char),
    #[error("统一社会信用代码校验位错误，应为 {0}")]
    Check(char),
}

/// The 31 symbols of GB 32100, in value order.
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn uscc_value(c: u8) -> Option<u32> {
    USCC_CHARS.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The GB 32100 check character of the first 17 symbols (all valid).
pub fn uscc_check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(USCC_WEIGHTS)
        .map(|(c, w)| uscc_value(*c).unwrap_or(0) * w)
        .sum();
    USCC_CHARS[((31 - sum % 31) % 31) as usize] as char
}

/// A valid 统一社会信用代码. Not personal data: shown in full.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Uscc(String);

impl Uscc {
    pub fn parse(input: &str) -> Result<Uscc, UsccError> {
        let s = input.trim().to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(UsccError::Length);
        }
        if let Some(c) = s
            .chars()
            .find(|c| !c.is_ascii() || uscc_value(*c as u8).is_none())
        {
            return Err(UsccError::Chars(c));
        }
        let want = uscc_check_char(&s.as_bytes()[..17]);
        if s.as_bytes()[17] as char != want {
            return Err(UsccError::Check(want));
        }
        Ok(Uscc(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("电话号码格式不正确：手机号为 1 开头的 11 位数字，固定电话需带区号（如 0635-8221234）")]
    Format,
}

/// A mobile (11 digits, `1[3-9]…`) or a landline with its area code (`0635-8221234`,
/// optional `-分机`). Stored without spaces; `+86`/`86` prefixes are dropped.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNo(String);

impl PhoneNo {
    pub fn parse(input: &str) -> Result<PhoneNo, PhoneError> {
        let s: String = input
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
                '－' | '—' => '-',
                _ => c,
            })
            .filter(|c| !c.is_whitespace())
            .collect();
        let s = s
            .strip_prefix("+86")
            .map(|r| r.trim_start_matches('-').to_owned())
            .unwrap_or(s);
        let b = s.as_bytes();
        let digits = |x: &[u8]| !x.is_empty() && x.iter().all(u8::is_ascii_digit);
        if b.len() == 11 && digits(b) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            return Ok(PhoneNo(s));
        }
        if b.len() == 13 && b.starts_with(b"86") && digits(b) && b[2] == b'1' {
            return PhoneNo::parse(&s[2..]);
        }
        // Landline: 0 + 2–3 digit area code, 7–8 digit number, optional extension.
        let mut parts = s.split('-');
        let (area, num, ext) = (parts.next(), parts.next(), parts.next());
        if parts.next().is_none()
            && let (Some(a), Some(n)) = (area, num)
            && digits(a.as_bytes())
            && a.starts_with('0')
            && (3..=4).contains(&a.len())
            && digits(n.as_bytes())
            && (7..=8).contains(&n.len())
            && !n.starts_with('0')
            && ext.is_none_or(|e| digits(e.as_bytes()) && e.len() <= 6)
        {
            return Ok(PhoneNo(s));
        }
        Err(PhoneError::Format)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_mobile(&self) -> bool {
        self.0.starts_with('1')
    }

    /// `138****1234`; landlines keep the area code and the last three digits.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

/// Masks any phone-like text.
pub fn mask_phone(s: &str) -> String {
    let n = s.chars().count();
    if let Some((area, rest)) = s.split_once('-') {
        let num = rest.split('-').next().unwrap_or(rest);
        let len = num.chars().count();
        let kept: String = num.chars().take(len.saturating_sub(4)).collect();
        return format!("{area}-{kept}{}", "*".repeat(len.min(4)));
    }
    if n < 7 {
        return "*".repeat(n);
    }
    let head: String = s.chars().take(3).collect();
    let tail: String = s.chars().skip(n - 4).collect();
    format!("{head}{}{tail}", "*".repeat(n - 7))
}

impl fmt::Debug for PhoneNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNo({})", self.masked())
    }
}

impl Serialize for PhoneNo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn id_vectors_of_domain_md() {
        assert!(IdCardNo::parse("440524188001010014").is_ok());
        assert!(IdCardNo::parse("34052419800101001X").is_ok());
        assert!(IdCardNo::parse("34052419800101001x").is_ok());
        assert!(IdCardNo::parse("11010519491231002X").is_ok());
        assert_eq!(
            IdCardNo::parse("340524198001010013"),
            Err(IdCardError::Check('X'))
        );
        assert_eq!(IdCardNo::parse("3405241980"), Err(IdCardError::Length));
        assert_eq!(
            IdCardNo::parse("340524198002300011").unwrap_err(),
            IdCardError::Date("19800230".into())
        );
        assert_eq!(
            IdCardNo::parse("990524198001010011").unwrap_err(),
            IdCardError::Province("99".into())
        );
    }

    #[test]
    fn id_fields_and_mask() {
        let id = IdCardNo::parse("  34052419800101001X ").unwrap();
        assert_eq!(id.county(), "340524");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1980, 1, 1).unwrap()
        );
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.masked(), "340524********001X");
        assert_eq!(format!("{id:?}"), "IdCardNo(340524********001X)");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"340524********001X\""
        );
        assert_eq!(id.tail(4), "001X");
        assert_eq!(id.tail(6), "01001X");
        assert_eq!(
            IdCardNo::parse("11010519491231002X").unwrap().sex(),
            Sex::Female
        );
    }

    #[test]
    fn fifteen_digit_numbers_upgrade() {
        // 340524 800101 001 → 340524 19800101 001 + check X.
        let id = IdCardNo::parse("340524800101001").unwrap();
        assert_eq!(id.as_str(), "34052419800101001X");
        assert_eq!(IdCardNo::parse("34052480010100A"), Err(IdCardError::Chars));
    }

    #[test]
    fn uscc_vectors() {
        assert!(Uscc::parse("91350100M000100Y43").is_ok());
        assert!(Uscc::parse("91350100m000100y43").is_ok());
        assert_eq!(
            Uscc::parse("91350100M000100Y44"),
            Err(UsccError::Check('3'))
        );
        assert_eq!(
            Uscc::parse("91350100M000100I43"),
            Err(UsccError::Chars('I'))
        );
        assert_eq!(Uscc::parse("9135"), Err(UsccError::Length));
    }

    #[test]
    fn phones() {
        let m = PhoneNo::parse("138 0635 1234").unwrap();
        assert_eq!(m.as_str(), "13806351234");
        assert_eq!(m.masked(), "138****1234");
        assert_eq!(
            PhoneNo::parse("+86 13806351234").unwrap().as_str(),
            "13806351234"
        );
        assert_eq!(
            PhoneNo::parse("８６13806351234").unwrap().as_str(),
            "13806351234"
        );
        let l = PhoneNo::parse("0635-8221234").unwrap();
        assert!(!l.is_mobile());
        assert_eq!(l.masked(), "0635-822****");
        assert!(PhoneNo::parse("0635-8221234-801").is_ok());
        for bad in [
            "12806351234",
            "1380635123",
            "8221234",
            "0635-0221234",
            "abc",
        ] {
            assert!(PhoneNo::parse(bad).is_err(), "{bad}");
        }
    }

    fn digits17() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec!["371502", "371503", "371521", "110105", "440524"]),
            1900i32..2025,
            1u32..13,
            1u32..29,
            0u32..1000,
        )
            .prop_map(|(c, y, m, d, s)| format!("{c}{y:04}{m:02}{d:02}{s:03}"))
    }

    proptest! {
        #[test]
        fn id_with_its_check_char_parses(first in digits17()) {
            let c = id_check_char(first.as_bytes());
            let id = IdCardNo::parse(&format!("{first}{c}")).unwrap();
            prop_assert_eq!(id.as_str().len(), 18);
            let seq: u32 = first[14..17].parse().unwrap();
            prop_assert_eq!(id.sex() == Sex::Male, seq % 2 == 1);
        }

        #[test]
        fn any_single_digit_change_is_caught(first in digits17(), pos in 0usize..17, delta in 1u8..10) {
            let c = id_check_char(first.as_bytes());
            let mut b = format!("{first}{c}").into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let s = String::from_utf8(b).unwrap();
            // The date or province may break first; what must never happen is acceptance.
            prop_assert!(IdCardNo::parse(&s).is_err());
        }

        #[test]
        fn fifteen_to_eighteen_keeps_fields(first in digits17()) {
            prop_assume!(first[6..8] == *"19");
            let old = format!("{}{}", &first[..6], &first[8..17]);
            let id = IdCardNo::parse(&old).unwrap();
            prop_assert_eq!(&id.as_str()[..17], first.as_str());
        }

        #[test]
        fn uscc_with_its_check_char_parses(body in "[0-9A-HJ-NP-RTUW-Y]{17}") {
            let c = uscc_check_char(body.as_bytes());
            let good = format!("{body}{c}");
            prop_assert!(Uscc::parse(&good).is_ok());
            let wrong = USCC_CHARS.iter().map(|&x| x as char).find(|&x| x != c).unwrap();
            let bad = format!("{body}{wrong}");
            prop_assert!(Uscc::parse(&bad).is_err());
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,30}") {
            let _ = IdCardNo::parse(&s);
            let _ = Uscc::parse(&s);
            let _ = PhoneNo::parse(&s);
        }

        #[test]
        fn masks_hide_the_middle(s in "[0-9]{11}") {
            let m = mask_phone(&s);
            prop_assert_eq!(m.chars().count(), 11);
            prop_assert_eq!(&m[3..7], "****");
        }
    }
}
