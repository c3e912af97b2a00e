//! Semantic Versioning 2.0.0 as npm's `node-semver` applies it.
//!
//! Parsing follows node-semver's loose mode: surrounding whitespace and any leading `v`,
//! `=` or whitespace characters are ignored, numbers may have leading zeros, and the `-`
//! before the pre-release is optional (`1.2.3beta`). As in node-semver, the text may be at
//! most 256 characters long and the major, minor and patch numbers at most 2^53 - 1.
//!
//! Ordering follows SemVer 2.0.0 section 11: major, minor and patch numerically, then a
//! version with a pre-release sorts below the same version without one. Pre-release
//! identifiers compare one by one: numeric identifiers numerically and below alphanumeric
//! ones, alphanumeric identifiers in ASCII order, and a shorter list sorts lower when all
//! of its identifiers are equal. Build metadata is ignored. Numeric identifiers compare
//! exactly at any length, where node-semver converts them to JavaScript numbers and loses
//! precision above 2^53.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use crate::numeric::{cmp_digits, strip_leading_zeros};
use crate::{order_by_cmp, Scheme, VersionError};

/// Maximum length of a version string that node-semver accepts (`MAX_LENGTH`).
const MAX_LENGTH: usize = 256;
/// Maximum major, minor or patch number that node-semver accepts (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// node-semver's `LOOSE` pattern, with ASCII classes in place of `\d` and `\s`.
static LOOSE_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    let identifier = "(?:[0-9]+|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*)";
    let pattern = format!(
        r"^[v=\t\n\x0B\x0C\r ]*([0-9]+)\.([0-9]+)\.([0-9]+)(?:-?({identifier}(?:\.{identifier})*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
    );
    // The pattern is a constant that the unit tests compile.
    Regex::new(&pattern).unwrap_or_else(|error| unreachable!("invalid semver pattern: {error}"))
});

/// One pre-release identifier.
#[derive(Debug, Clone)]
pub(crate) enum Identifier {
    /// Only digits, compared numerically.
    Numeric(String),
    /// Contains a letter or `-`, compared in ASCII order.
    Alphanumeric(String),
}

impl Identifier {
    pub(crate) fn new(text: &str) -> Identifier {
        if text.bytes().all(|byte| byte.is_ascii_digit()) {
            Identifier::Numeric(text.to_owned())
        } else {
            Identifier::Alphanumeric(text.to_owned())
        }
    }
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Numeric(a), Identifier::Numeric(b)) => cmp_digits(a, b),
            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alphanumeric(a), Identifier::Alphanumeric(b)) => a.cmp(b),
        }
    }
}

order_by_cmp!(Identifier);

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Numeric(digits) => f.write_str(strip_leading_zeros(digits)),
            Identifier::Alphanumeric(text) => f.write_str(text),
        }
    }
}

/// Compares two pre-release identifier lists. An empty list is a release, which sorts
/// above every pre-release.
pub(crate) fn cmp_prerelease(a: &[Identifier], b: &[Identifier]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.cmp(b),
    }
}

/// Writes `-id.id…` for a non-empty pre-release and `+id.id…` for non-empty build metadata.
pub(crate) fn write_suffixes(
    f: &mut fmt::Formatter<'_>,
    pre: &[Identifier],
    build: &[String],
) -> fmt::Result {
    for (index, identifier) in pre.iter().enumerate() {
        f.write_str(if index == 0 { "-" } else { "." })?;
        write!(f, "{identifier}")?;
    }
    if !build.is_empty() {
        write!(f, "+{}", build.join("."))?;
    }
    Ok(())
}

/// A parsed npm semver version.
#[derive(Debug, Clone)]
pub struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<Identifier>,
    build: Vec<String>,
}

impl Version {
    /// Major, minor and patch numbers.
    pub fn release(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }

    /// Returns `true` when the version has a pre-release part.
    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Version, VersionError> {
        let invalid = |reason: String| VersionError::new(Scheme::Semver, text, reason);

        if text.len() > MAX_LENGTH {
            return Err(invalid(format!(
                "version is longer than {MAX_LENGTH} characters"
            )));
        }
        let Some(captures) = LOOSE_PATTERN.captures(text.trim()) else {
            return Err(invalid(
                "expected MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]".to_owned(),
            ));
        };
        let group = |index: usize| captures.get(index).map_or("", |found| found.as_str());
        let number = |index: usize, name: &str| {
            strip_leading_zeros(group(index))
                .parse::<u64>()
                .ok()
                .filter(|value| *value <= MAX_SAFE_INTEGER)
                .ok_or_else(|| invalid(format!("{name} version is larger than {MAX_SAFE_INTEGER}")))
        };
        let split = |index: usize| -> Vec<&str> {
            let text = group(index);
            if text.is_empty() {
                Vec::new()
            } else {
                text.split('.').collect()
            }
        };

        Ok(Version {
            major: number(1, "major")?,
            minor: number(2, "minor")?,
            patch: number(3, "patch")?,
            pre: split(4).into_iter().map(Identifier::new).collect(),
            build: split(5).into_iter().map(str::to_owned).collect(),
        })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        self.release()
            .cmp(&other.release())
            .then_with(|| cmp_prerelease(&self.pre, &other.pre))
    }
}

order_by_cmp!(Version);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        write_suffixes(f, &self.pre, &self.build)
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

    #[test]
    fn specification_chain_ascending() {
        // The example precedence chain of SemVer 2.0.0, plus releases around it.
        let chain = [
            "0.0.0",
            "0.0.1",
            "0.1.0",
            "1.0.0-0",
            "1.0.0-1",
            "1.0.0-2",
            "1.0.0-10",
            "1.0.0--",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1-0",
            "1.0.1",
            "1.1.0",
            "1.10.0",
            "2.0.0",
            "10.0.0",
        ];
        for pair in chain.windows(2) {
            assert_eq!(
                cmp(pair[0], pair[1]),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
            assert_eq!(
                cmp(pair[1], pair[0]),
                Ordering::Greater,
                "{} > {}",
                pair[1],
                pair[0]
            );
        }
    }

    #[test]
    fn ordering_table() {
        use Ordering::{Equal, Greater, Less};
        let rows = [
            // Build metadata is ignored.
            ("1.0.0+build.1", "1.0.0+build.2", Equal),
            ("1.0.0+build", "1.0.0", Equal),
            ("1.0.0-rc.1+build", "1.0.0-rc.1", Equal),
            // Loose parsing.
            ("v1.2.3", "1.2.3", Equal),
            ("=1.2.3", "1.2.3", Equal),
            ("v=  1.2.3", "1.2.3", Equal),
            ("  1.2.3  ", "1.2.3", Equal),
            ("01.02.03", "1.2.3", Equal),
            ("1.2.3beta", "1.2.3-beta", Equal),
            ("1.2.3-01", "1.2.3-1", Equal),
            // Loose mode reads a lone trailing `-` as the pre-release identifier `-`.
            ("1.2.3-", "1.2.3--", Equal),
            ("1.2.3-", "1.2.3", Less),
            // Releases, pre-releases and identifier kinds.
            ("0.0.0", "0.0.0-foo", Greater),
            ("0.0.1", "0.0.0", Greater),
            ("1.0.0", "0.9.9", Greater),
            ("0.10.0", "0.9.0", Greater),
            ("0.99.0", "0.10.0", Greater),
            ("2.0.0", "1.2.3", Greater),
            ("v0.0.0", "0.0.0-foo", Greater),
            ("1.2.3", "1.2.3-asdf", Greater),
            ("1.2.3", "1.2.3-4", Greater),
            ("1.2.3", "1.2.3-4-foo", Greater),
            ("1.2.3-5-foo", "1.2.3-5", Greater),
            ("1.2.3-5", "1.2.3-4", Greater),
            ("1.2.3-5-foo", "1.2.3-5-Foo", Greater),
            ("3.0.0", "2.7.2+asdf", Greater),
            ("1.2.3-a.10", "1.2.3-a.5", Greater),
            ("1.2.3-a.b", "1.2.3-a.5", Greater),
            ("1.2.3-a.b", "1.2.3-a", Greater),
            ("1.2.3-a.b.c.10.d.5", "1.2.3-a.b.c.5.d.100", Greater),
            ("1.2.3-r2", "1.2.3-r100", Greater),
            ("1.2.3-r100", "1.2.3-R2", Greater),
            // Numbers of any length in pre-releases.
            (
                "1.0.0-99999999999999999999",
                "1.0.0-99999999999999999998",
                Greater,
            ),
            ("9007199254740991.0.0", "9007199254740990.0.0", Greater),
        ];
        for (a, b, expected) in rows {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn invalid_versions_rejected() {
        let too_long = format!("1.2.3-{}", "a".repeat(MAX_LENGTH));
        let rows = [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "a.b.c",
            "1.2.3+",
            "1.2.3-a..b",
            "1.2.3+a..b",
            "1.2.3 4",
            "9007199254740992.0.0",
            "1.2.3-é",
            "x1.2.3",
            too_long.as_str(),
        ];
        for text in rows {
            assert!(
                text.parse::<Version>().is_err(),
                "{text:?} should be rejected"
            );
        }
    }

    #[test]
    fn display_normalizes_loose_text() {
        let version: Version = "v=01.2.3beta.01+build.5".parse().unwrap();
        assert_eq!(version.to_string(), "1.2.3-beta.1+build.5");
        assert!(version.is_prerelease());
        assert_eq!(version.release(), (1, 2, 3));
    }
}
