//! Alpine package versions, ordered as apk-tools 2.x `src/version.c` orders them.
//!
//! A version is `{digit}{.digit}...{letter}{_suffix{number}}...{-r{number}}`. The
//! suffixes `_alpha`, `_beta`, `_pre` and `_rc` sort below the release they qualify, and
//! `_cvs`, `_svn`, `_git`, `_hg` and `_p` sort above it. A dot-separated component with
//! leading zeros sorts below every component without them, and more leading zeros sort
//! lower (`1.001 < 1.01 < 1.1`), as apk-tools orders them. Digit runs compare at any
//! length, where apk-tools stores them in a C `int` and overflows past 2^31 - 1.
//!
//! Parsing accepts what `apk_version_validate` accepts, and also requires the version to
//! start with a digit and to contain only printable ASCII, because apk-tools would treat
//! an empty version as valid and stop reading at a NUL byte.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::numeric::cmp_digits;
use crate::{order_by_cmp, Scheme, VersionError};

/// Suffixes that sort below the release, lowest first.
const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
/// Suffixes that sort above the release, lowest first.
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// A validated apk version.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
}

impl Version {
    /// The version text as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Version, VersionError> {
        let invalid = |reason: &str| VersionError::new(Scheme::Apk, text, reason);

        if text.is_empty() {
            return Err(invalid("version string is empty"));
        }
        if !text.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(invalid("version does not start with a digit"));
        }
        if !text.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(invalid(
                "version contains a character other than printable ASCII",
            ));
        }

        let mut tokens = Tokenizer::new(text);
        while !matches!(tokens.kind, Kind::End | Kind::Invalid) {
            tokens.next_value();
        }
        if tokens.kind == Kind::Invalid {
            return Err(invalid(
                "expected digits separated by dots, an optional letter, `_` suffixes and `-rN`",
            ));
        }

        Ok(Version {
            text: text.to_owned(),
        })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        compare_versions(&self.text, &other.text)
    }
}

order_by_cmp!(Version);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Kind of the next token; the declaration order is the order apk-tools gives the kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    RevisionNumber,
    End,
}

/// Value of one token, a signed integer of any size.
#[derive(Debug, Clone, Copy)]
enum Value<'a> {
    /// Minus this amount: a run of leading zeros, or a pre-release suffix.
    Negative(usize),
    /// A digit run.
    Digits(&'a str),
    /// A letter's code or a post-release suffix's rank.
    Small(usize),
}

impl Value<'_> {
    fn is_negative(self) -> bool {
        matches!(self, Value::Negative(_))
    }
}

impl Ord for Value<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (*self, *other) {
            (Value::Negative(a), Value::Negative(b)) => b.cmp(&a),
            (Value::Negative(_), _) => Ordering::Less,
            (_, Value::Negative(_)) => Ordering::Greater,
            (Value::Digits(a), Value::Digits(b)) => cmp_digits(a, b),
            (Value::Small(a), Value::Small(b)) => a.cmp(&b),
            (Value::Digits(a), Value::Small(b)) => cmp_digits(a, &b.to_string()),
            (Value::Small(a), Value::Digits(b)) => cmp_digits(&a.to_string(), b),
        }
    }
}

impl PartialOrd for Value<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value<'_> {}

/// Reads tokens the way apk-tools' `get_token` and `next_token` do.
#[derive(Debug, Clone)]
struct Tokenizer<'a> {
    rest: &'a str,
    kind: Kind,
}

impl<'a> Tokenizer<'a> {
    fn new(text: &'a str) -> Tokenizer<'a> {
        Tokenizer {
            rest: text,
            kind: Kind::Digit,
        }
    }

    /// Consumes the token of kind `self.kind` and returns its value, then sets `self.kind`
    /// to the kind of the token that follows.
    fn next_value(&mut self) -> Value<'a> {
        let bytes = self.rest.as_bytes();
        let Some(&first) = bytes.first() else {
            self.kind = Kind::End;
            return Value::Small(0);
        };

        let (value, length, follower) = match self.kind {
            Kind::DigitOrZero if first == b'0' => {
                let zeros = bytes.iter().take_while(|&&byte| byte == b'0').count();
                (Value::Negative(zeros), zeros, Some(Kind::Digit))
            }
            Kind::DigitOrZero | Kind::Digit | Kind::SuffixNumber | Kind::RevisionNumber => {
                let digits = bytes
                    .iter()
                    .take_while(|byte| byte.is_ascii_digit())
                    .count();
                (Value::Digits(&self.rest[..digits]), digits, None)
            }
            Kind::Letter => (Value::Small(usize::from(first)), 1, None),
            Kind::Suffix => {
                let pre = PRE_SUFFIXES
                    .iter()
                    .position(|suffix| self.rest.starts_with(suffix));
                let post = POST_SUFFIXES
                    .iter()
                    .position(|suffix| self.rest.starts_with(suffix));
                if let Some(rank) = pre {
                    (
                        Value::Negative(PRE_SUFFIXES.len() - rank),
                        PRE_SUFFIXES[rank].len(),
                        None,
                    )
                } else if let Some(rank) = post {
                    (Value::Small(rank), POST_SUFFIXES[rank].len(), None)
                } else {
                    self.kind = Kind::Invalid;
                    return Value::Negative(1);
                }
            }
            Kind::Invalid | Kind::End => {
                self.kind = Kind::Invalid;
                return Value::Negative(1);
            }
        };

        self.rest = &self.rest[length..];
        if self.rest.is_empty() {
            self.kind = Kind::End;
        } else if let Some(kind) = follower {
            self.kind = kind;
        } else {
            self.advance_kind();
        }
        value
    }

    /// Decides the kind of the next token from its first character and the kind before it,
    /// consuming separator characters.
    fn advance_kind(&mut self) {
        let bytes = self.rest.as_bytes();
        let previous = self.kind;
        let mut next = Kind::Invalid;
        match bytes.first() {
            None => next = Kind::End,
            Some(byte)
                if matches!(previous, Kind::Digit | Kind::DigitOrZero)
                    && byte.is_ascii_lowercase() =>
            {
                next = Kind::Letter;
            }
            Some(byte) if previous == Kind::Letter && byte.is_ascii_digit() => next = Kind::Digit,
            Some(byte) if previous == Kind::Suffix && byte.is_ascii_digit() => {
                next = Kind::SuffixNumber
            }
            Some(byte) => {
                let mut skip = 1;
                match byte {
                    b'.' => next = Kind::DigitOrZero,
                    b'_' => next = Kind::Suffix,
                    b'-' if bytes.get(1) == Some(&b'r') => {
                        next = Kind::RevisionNumber;
                        skip = 2;
                    }
                    _ => {}
                }
                self.rest = &self.rest[skip..];
            }
        }

        // Tokens may only move forward in kind, except for these repetitions.
        let repeat_allowed = matches!(
            (next, previous),
            (Kind::DigitOrZero, Kind::Digit)
                | (Kind::Suffix, Kind::SuffixNumber)
                | (Kind::Digit, Kind::Letter)
        );
        if next < previous && !repeat_allowed {
            next = Kind::Invalid;
        }
        self.kind = next;
    }
}

/// Compares two validated versions the way `apk_version_compare_blob` does.
fn compare_versions(a: &str, b: &str) -> Ordering {
    let mut left = Tokenizer::new(a);
    let mut right = Tokenizer::new(b);
    let mut left_value = Value::Small(0);
    let mut right_value = Value::Small(0);

    while left.kind == right.kind
        && !matches!(left.kind, Kind::End | Kind::Invalid)
        && left_value == right_value
    {
        left_value = left.next_value();
        right_value = right.next_value();
    }

    let by_value = left_value.cmp(&right_value);
    if by_value != Ordering::Equal {
        return by_value;
    }
    if left.kind == right.kind {
        return Ordering::Equal;
    }

    // The common tokens are equal, so the longer version is greater unless its next token
    // is a pre-release suffix.
    if left.kind == Kind::Suffix && left.clone().next_value().is_negative() {
        return Ordering::Less;
    }
    if right.kind == Kind::Suffix && right.clone().next_value().is_negative() {
        return Ordering::Greater;
    }
    right.kind.cmp(&left.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        let a: Version = a.parse().unwrap();
        let b: Version = b.parse().unwrap();
        a.cmp(&b)
    }

    #[test]
    fn ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let rows = [
            ("1.6_rc1-r0", "1.6-r0", Less),
            ("1.6_alpha1", "1.6_rc1", Less),
            ("1.6_rc1", "1.6", Less),
            ("1.6", "1.6_p1", Less),
            ("9.6_p1-r1", "9.8_p1-r0", Less),
            ("1.2.3-r10", "1.2.3-r9", Greater),
            // Rows from apk-tools' test/version.data.
            ("2.34", "0.1.0_alpha", Greater),
            ("0.1.0_alpha", "0.1.0_alpha", Equal),
            ("0.1.0_alpha2", "0.1.0_alpha", Greater),
            ("1.0.4-r3", "1.0.4-r4", Less),
            ("1.1", "1.1_alpha1", Greater),
            ("1.2.1", "1.2", Greater),
            ("1.2", "1.3_alpha", Less),
            ("1.3_alpha2", "1.3_alpha3", Less),
            ("0.7.0", "0.8_beta1", Less),
            ("3.10.18-r1", "2.3.0b-r1", Greater),
            ("2.3.0b-r1", "2.3.0b-r2", Less),
            ("0.12.3", "0.12", Greater),
            ("1.2.12.1", "1.2.13", Less),
            ("3.1_p16", "3.1_p17", Less),
            ("1.06-r6", "006", Less),
            ("006", "1.0.0", Greater),
            ("1.2.2-r1", "1.2.2", Greater),
            ("2.59", "20050718-r1", Less),
            ("3.9.8-r5", "2.01.01_alpha10", Greater),
            ("2.01.01_alpha10", "0.94", Greater),
            ("1.0", "0.99.3.20040818", Greater),
            ("1.00_beta2", "0.9.2", Greater),
            ("1.39", "1.00_beta2", Greater),
            ("20060720", "3.0.20060720", Greater),
            ("2.5.1-r8", "2.5.1a-r1", Less),
            ("1.3.5-r10", "1.3.5-r8", Greater),
            ("20040401", "2.0.0_rc3-r1", Greater),
            ("3.0.0-r2", "021109-r3", Less),
            ("0.9.16-r1", "3.9_pre20060124", Less),
            ("3.9_pre20060124", "0.01", Greater),
            ("1.1.7", "6b-r7", Less),
            ("0.10.0", "0.10.1_rc1", Less),
            ("2.0.2", "1.1a", Greater),
            ("1.1a", "1.3a", Less),
            ("1.0-r1", "0.15.1b", Greater),
            ("22.7-r1", "22.7.3-r1", Less),
            ("22.7", "2.1_pre20", Greater),
            ("2.1_pre20", "2.1_pre26", Less),
            ("2.10.1", "02.08.01b", Greater),
            ("3.81", "1.6d", Greater),
            ("1.6d", "1.2.07.8", Greater),
            ("1.2.07.8", "1.2.12.04", Less),
            ("1.2.12.04", "1.2.12.05", Less),
            ("1.07-r1", "1.07.5", Less),
            ("0.1_pre20060810", "0.1_pre20060817", Less),
            ("3.3.17", "0.59s-r11", Greater),
            ("4.20", "0.20070118", Greater),
            ("0.20070118", "0.20070207_rc1", Less),
            ("4.5_p1-r1", "4.5_p1", Greater),
            ("4.5_p1", "0.9.8c-r1", Greater),
            ("0.9.8c-r1", "0.9.8d", Less),
            ("1.7", "1.7b", Less),
            ("1.8.5", "1.8.5_p2", Less),
            ("2.9.11_pre20051101-r3", "2.9.11_pre20051101", Greater),
            ("1.6.8_p12-r1", "1.6.8_p9-r2", Greater),
            ("0.9.28-r2", "0.9.28.1", Less),
            ("0.9.28.1", "087-r1", Less),
            ("104-r11", "104-r9", Greater),
            ("5.52-r1", "1.2.5_rc2", Greater),
            ("20040406-r1", "2.12r-r4", Greater),
            ("2.12r-r4", "2.12r-r5", Less),
            ("7.0.17", "7.0.174", Less),
            ("1.3-r0", "1.3.1-r0", Less),
            ("1.3_pre1-r1", "1.3.2", Less),
            ("1.0_p10-r0", "1.0_p9-r0", Greater),
            ("0.1.0_alpha_pre2", "0.1.0_alpha", Less),
            (
                "1.0.0_pre20191002222144-r0",
                "1.0.0_pre20210530193627-r0",
                Less,
            ),
            // Suffix ranks and leading zeros.
            ("1.0_alpha", "1.0_beta", Less),
            ("1.0_beta", "1.0_pre", Less),
            ("1.0_pre", "1.0_rc", Less),
            ("1.0_cvs", "1.0_svn", Less),
            ("1.0_svn", "1.0_git", Less),
            ("1.0_git", "1.0_hg", Less),
            ("1.0_hg", "1.0_p", Less),
            ("1.0", "1.0_cvs", Less),
            ("1.0-r0", "1.0", Greater),
            ("1.01", "1.1", Less),
            ("1.001", "1.01", Less),
            ("1", "1.0", Less),
            ("1.0.0-r1", "1.0.0-r01", Equal),
            ("1.99999999999999999999", "1.99999999999999999998", Greater),
        ];
        for (a, b, expected) in rows {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn invalid_versions_rejected() {
        for text in [
            "",
            "a1",
            "1.0bc",
            "23_foo",
            "1.0_rc1.2",
            "1.0-1",
            "1.0 ",
            "1.0a.1",
            "1.0A",
            "1.0_x",
            "1.0\0",
            "v1.0",
        ] {
            assert!(
                text.parse::<Version>().is_err(),
                "{text:?} should be rejected"
            );
        }
    }

    #[test]
    fn valid_versions_accepted() {
        for text in [
            "1",
            "1.0",
            "1.0a",
            "1.2a3",
            "1.0_alpha_pre2",
            "1.0_p1-r5",
            "006",
            "1.0-r0",
            "1.0_rc",
        ] {
            assert!(text.parse::<Version>().is_ok(), "{text:?} should parse");
        }
    }
}
