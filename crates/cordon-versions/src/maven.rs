//! Maven versions, ordered as maven-artifact's `ComparableVersion` orders them.
//!
//! This follows the algorithm of maven-artifact 3.9. The text is lower-cased and split into
//! items at `.`, at `-` and at each change between digits and other characters. A `-`, a
//! change between digits and letters, and a qualifier after `.` open a nested list, so
//! `1.x` equals `1-x` and `1x`. Items are numbers or qualifiers, and qualifiers order as
//! `alpha < beta < milestone < rc = cr < snapshot < "" = final = ga = release < sp`, with
//! unknown qualifiers after all of these, in lexical order. A single `a`, `b` or `m`
//! directly followed by a digit means `alpha`, `beta` or `milestone`. Trailing zeros and
//! empty qualifiers are dropped from each list, so `1.0 = 1.0.0 = 1.0-final = 1.0.GA`.
//!
//! NOTE: The order is not transitive on the whole grammar, because maven-artifact orders
//! qualifiers, nested lists and missing items inconsistently: `2.abc-0 > 2 > 2alpha-0 >
//! 2.abc-0`, and `0a < 0ga-snapshot < 0 < 0a` (which maven-artifact 3.8.7 prints too). This
//! module follows Maven there, so sorting such versions with `slice::sort` may panic or give
//! an arbitrary order; callers that sort use an insertion sort. Version 3.9 fixed the
//! same cycle for a qualifier at the end (`2.abc`), which 3.8 had.
//!
//! Only ASCII digits count as digits, where Java's `Character.isDigit` also accepts other
//! Unicode digits. Maven accepts any string, and this parser rejects only the empty one.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::numeric::cmp_digits;
use crate::{order_by_cmp, Scheme, VersionError};

/// Known qualifiers in ascending order, where `""` is the release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
/// Rank of the release in `QUALIFIERS`.
const RELEASE_RANK: usize = 5;

/// Sort key of a qualifier: known ones by rank, unknown ones after them by text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum QualifierKey {
    Known(usize),
    Unknown(String),
}

/// One parsed item.
#[derive(Debug, Clone)]
enum Item {
    /// Digits without leading zeros, empty for zero.
    Number(String),
    /// A qualifier, already mapped from its alias.
    Qualifier(String),
    /// A nested list opened by `-` or by a digit/letter change.
    List(Vec<Item>),
}

impl Item {
    fn qualifier(text: &str, followed_by_digit: bool) -> Item {
        let expanded = match text {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            other => other,
        };
        Item::Qualifier(expanded.to_owned())
    }

    fn number(digits: &str) -> Item {
        Item::Number(digits.trim_start_matches('0').to_owned())
    }

    /// Returns `true` for the items that normalisation drops: zero, the release qualifier
    /// and the empty list.
    fn is_null(&self) -> bool {
        match self {
            Item::Number(digits) => digits.is_empty(),
            Item::Qualifier(text) => text.is_empty(),
            Item::List(items) => items.is_empty(),
        }
    }

    /// Compares this item with a missing item, which is how a shorter list is padded.
    fn cmp_missing(&self) -> Ordering {
        match self {
            Item::Number(digits) if digits.is_empty() => Ordering::Equal,
            Item::Number(_) => Ordering::Greater,
            Item::Qualifier(text) => qualifier_key(text).cmp(&QualifierKey::Known(RELEASE_RANK)),
            Item::List(items) => items
                .iter()
                .map(Item::cmp_missing)
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal),
        }
    }
}

fn qualifier_key(text: &str) -> QualifierKey {
    match QUALIFIERS.iter().position(|known| *known == text) {
        Some(rank) => QualifierKey::Known(rank),
        None => QualifierKey::Unknown(text.to_owned()),
    }
}

impl Ord for Item {
    fn cmp(&self, other: &Item) -> Ordering {
        match (self, other) {
            (Item::Number(a), Item::Number(b)) => cmp_digits(a, b),
            (Item::Number(_), _) => Ordering::Greater,
            (Item::Qualifier(_), Item::Number(_)) => Ordering::Less,
            (Item::Qualifier(a), Item::Qualifier(b)) => qualifier_key(a).cmp(&qualifier_key(b)),
            (Item::Qualifier(_), Item::List(_)) => Ordering::Less,
            (Item::List(_), Item::Number(_)) => Ordering::Less,
            (Item::List(_), Item::Qualifier(_)) => Ordering::Greater,
            (Item::List(a), Item::List(b)) => cmp_lists(a, b),
        }
    }
}

order_by_cmp!(Item);

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    let length = a.len().max(b.len());
    (0..length)
        .map(|index| match (a.get(index), b.get(index)) {
            (Some(left), Some(right)) => left.cmp(right),
            (Some(left), None) => left.cmp_missing(),
            (None, Some(right)) => right.cmp_missing().reverse(),
            (None, None) => Ordering::Equal,
        })
        .find(|ordering| ordering.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Drops trailing null items from a list, looking past non-null nested lists, as
/// `ListItem.normalize` does.
fn normalize(items: &mut Vec<Item>) {
    let mut index = items.len();
    while index > 0 {
        index -= 1;
        if items[index].is_null() {
            items.remove(index);
        } else if !matches!(items[index], Item::List(_)) {
            break;
        }
    }
}

/// Item tree builder with a stack of open lists, innermost last.
struct Parser {
    stack: Vec<Vec<Item>>,
}

impl Parser {
    fn push(&mut self, item: Item) {
        if let Some(list) = self.stack.last_mut() {
            list.push(item);
        }
    }

    fn open_list(&mut self) {
        self.stack.push(Vec::new());
    }

    /// Opens a nested list unless the current one is empty, so that a qualifier after `.`
    /// sorts like one after `-`.
    fn open_list_after_items(&mut self) {
        if self.stack.last().is_some_and(|list| !list.is_empty()) {
            self.open_list();
        }
    }

    /// Normalises and closes every open list, innermost first, and returns the outer one.
    fn finish(mut self) -> Vec<Item> {
        while let Some(mut list) = self.stack.pop() {
            normalize(&mut list);
            match self.stack.last_mut() {
                Some(parent) => parent.push(Item::List(list)),
                None => return list,
            }
        }
        Vec::new()
    }
}

/// Parses a lower-cased version into its normalised item list.
fn parse_items(version: &str) -> Vec<Item> {
    let mut parser = Parser {
        stack: vec![Vec::new()],
    };
    let mut is_digit = false;
    let mut start = 0;

    for (index, character) in version.char_indices() {
        let token = &version[start..index];
        match character {
            '.' | '-' => {
                if token.is_empty() {
                    parser.push(Item::Number(String::new()));
                } else if is_digit {
                    parser.push(Item::number(token));
                } else {
                    parser.push(Item::qualifier(token, false));
                }
                start = index + 1;
                if character == '-' {
                    parser.open_list();
                }
            }
            '0'..='9' => {
                if !is_digit && !token.is_empty() {
                    parser.open_list_after_items();
                    parser.push(Item::qualifier(token, true));
                    start = index;
                    parser.open_list();
                }
                is_digit = true;
            }
            _ => {
                if is_digit && !token.is_empty() {
                    parser.push(Item::number(token));
                    start = index;
                    parser.open_list();
                }
                is_digit = false;
            }
        }
    }

    let token = &version[start..];
    if !token.is_empty() {
        if is_digit {
            parser.push(Item::number(token));
        } else {
            parser.open_list_after_items();
            parser.push(Item::qualifier(token, false));
        }
    }
    parser.finish()
}

/// A parsed Maven version.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
    items: Vec<Item>,
}

impl Version {
    /// The version text as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Canonical form of the item tree, as `ComparableVersion.getCanonical` writes it:
    /// equal versions have equal canonical forms.
    pub fn canonical(&self) -> String {
        let mut canonical = String::new();
        write_canonical(&self.items, &mut canonical);
        canonical
    }
}

fn write_canonical(items: &[Item], out: &mut String) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(if matches!(item, Item::List(_)) {
                '-'
            } else {
                '.'
            });
        }
        match item {
            Item::Number(digits) if digits.is_empty() => out.push('0'),
            Item::Number(digits) => out.push_str(digits),
            Item::Qualifier(text) => out.push_str(text),
            Item::List(nested) => write_canonical(nested, out),
        }
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Version, VersionError> {
        if text.is_empty() {
            return Err(VersionError::new(
                Scheme::Maven,
                text,
                "version string is empty",
            ));
        }
        Ok(Version {
            text: text.to_owned(),
            items: parse_items(&text.to_lowercase()),
        })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}

order_by_cmp!(Version);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        let a: Version = a.parse().unwrap();
        let b: Version = b.parse().unwrap();
        a.cmp(&b)
    }

    fn assert_ascending(chain: &[&str]) {
        for (index, low) in chain.iter().enumerate() {
            for high in &chain[index + 1..] {
                assert_eq!(cmp(low, high), Ordering::Less, "{low} < {high}");
                assert_eq!(cmp(high, low), Ordering::Greater, "{high} > {low}");
            }
        }
    }

    #[test]
    fn qualifier_chain_ascending() {
        // Qualifiers, aliases and shorthands in ascending order.
        assert_ascending(&[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ]);
    }

    #[test]
    fn number_chain_ascending() {
        // Numbers, nested lists and trailing qualifiers in ascending order, as maven-artifact 3.9
        // orders them (3.8 put `2-1` before `2.0.a`).
        assert_ascending(&[
            "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
            "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
            "11", "11.a", "11b", "11c", "11m",
        ]);
    }

    #[test]
    fn equal_spellings_compare_equal() {
        let rows = [
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1.0", "1.0.0"),
            ("1", "1-0"),
            ("1", "1.0-0"),
            ("1.0", "1.0-0"),
            ("1a", "1-a"),
            ("1a", "1.a"),
            ("1.0x", "1.0.x"),
            ("2.0.a", "2.0.0.a"),
            ("1a", "1.0-a"),
            ("1a", "1.0.0-a"),
            ("1.0a", "1-a"),
            ("1.0.0a", "1-a"),
            ("1x", "1-x"),
            ("1x", "1.0-x"),
            ("1.0.0x", "1-x"),
            ("1ga", "1"),
            ("1release", "1"),
            ("1final", "1"),
            ("1.0-final", "1.0"),
            ("1.0.GA", "1.0"),
            ("1cr", "1rc"),
            ("1a1", "1-alpha-1"),
            ("1b2", "1-beta-2"),
            ("1m3", "1-milestone-3"),
            ("1X", "1x"),
            ("1A", "1a"),
            ("1B", "1b"),
            ("1M", "1m"),
            ("1Ga", "1"),
            ("1GA", "1"),
            ("1RELEASE", "1"),
            ("1Final", "1"),
            ("1CR", "1rc"),
            ("1.0.0-00001", "1-1"),
            ("1.0.0010", "1.0.10"),
        ];
        for (a, b) in rows {
            assert_eq!(cmp(a, b), Ordering::Equal, "{a} == {b}");
            let canonical_a = a.parse::<Version>().unwrap().canonical();
            let canonical_b = b.parse::<Version>().unwrap().canonical();
            assert_eq!(canonical_a, canonical_b, "canonical {a} == {b}");
        }
    }

    #[test]
    fn ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let rows = [
            ("2.414.2-cb-5", "2.414.2", Greater),
            ("1.0-alpha-1", "1.0-rc1", Less),
            ("1.0-rc1", "1.0", Less),
            ("1.0", "1.0-sp1", Less),
            ("1.0-SNAPSHOT", "1.0", Less),
            ("1.0-alpha", "1.0-beta", Less),
            ("1.0-beta", "1.0-milestone", Less),
            ("1.0-milestone", "1.0-rc", Less),
            ("1.0-rc", "1.0-snapshot", Less),
            ("1.0-sp", "1.0-unknown", Less),
            ("1.0-abc", "1.0-abd", Less),
            ("1.0.0.x1", "1.0.0-x2", Less),
            // maven-artifact 3.9 breaks transitivity here, and this module keeps its answers.
            ("2.abc-0", "2", Greater),
            ("2", "2alpha-0", Greater),
            ("2alpha-0", "2.abc-0", Greater),
            ("2.alphaalpha", "2", Greater),
            ("2", "2alpha-0", Greater),
            ("2alpha-0", "2.alphaalpha", Less),
            // A cycle that maven-artifact 3.8.7 (Debian's) prints the same way.
            ("0a", "0ga-snapshot", Less),
            ("0ga-snapshot", "0", Less),
            ("0", "0a", Less),
            ("1-ga-SNAPSHOT", "1-jre", Greater),
            ("1-jre", "1", Greater),
            ("1", "1-ga-SNAPSHOT", Greater),
            ("2.0-1", "2.0.1", Less),
            ("2.0.1-xyz", "2.0.1-123", Less),
            ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1", Less),
            ("1.0", "1.0-1", Less),
            ("1-1", "1.1", Less),
            ("1.0.1", "1.0-sp", Greater),
            ("2.12.7.1", "2.12.7", Greater),
            ("2.9.10.8", "2.10.0", Less),
            ("5.3.18", "5.3.2", Greater),
            ("1.2.3.RELEASE", "1.2.3", Equal),
            ("1.10", "1.9", Greater),
            (
                "1.0.0-99999999999999999999999",
                "1.0.0-99999999999999999999998",
                Greater,
            ),
            ("31.1-jre", "31.1-android", Greater),
            ("32.0.0-jre", "31.1-jre", Greater),
        ];
        for (a, b, expected) in rows {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn empty_version_rejected() {
        assert!("".parse::<Version>().is_err());
    }

    #[test]
    fn canonical_form_drops_null_items() {
        let version: Version = "1.0.0-RC-01".parse().unwrap();
        assert_eq!(version.canonical(), "1-rc-1");
    }
}
