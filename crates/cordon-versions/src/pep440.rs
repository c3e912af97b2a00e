//! Python package versions per PEP 440, ordered as `packaging.version.Version` orders them.
//!
//! A version is `[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local]`. Parsing accepts the
//! alternative spellings that PEP 440's normalisation rules allow: any letter case, a
//! leading `v`, surrounding whitespace, `alpha`/`beta`/`c`/`pre`/`preview`, `-`, `_` or
//! `.` separators, implicit zero numbers, `-N`, `rev` and `r` for post releases.
//!
//! Ordering: epoch, then the release with trailing zeros ignored (`1.0 == 1.0.0`), then
//! dev releases of the release < pre-releases < the release < post releases, then local
//! versions, which sort above the same version without one. Local segments compare
//! segment by segment, where numbers sort above text and compare numerically.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

use crate::numeric::{cmp_digits, strip_leading_zeros};
use crate::{order_by_cmp, Scheme, VersionError};

/// The version pattern from PEP 440's appendix, as `packaging` applies it, without the
/// surrounding whitespace (trimmed before matching).
static VERSION_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)^
        v?
        (?:(?P<epoch>[0-9]+)!)?
        (?P<release>[0-9]+(?:\.[0-9]+)*)
        (?P<pre>
            [-_.]?
            (?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)
            [-_.]?
            (?P<pre_n>[0-9]+)?
        )?
        (?P<post>
            (?:-(?P<post_n1>[0-9]+))
            |
            (?:
                [-_.]?
                (?P<post_l>post|rev|r)
                [-_.]?
                (?P<post_n2>[0-9]+)?
            )
        )?
        (?P<dev>
            [-_.]?
            (?P<dev_l>dev)
            [-_.]?
            (?P<dev_n>[0-9]+)?
        )?
        (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
        $",
    )
    // The pattern is a constant that the unit tests compile.
    .unwrap_or_else(|error| unreachable!("invalid PEP 440 pattern: {error}"))
});

/// Pre-release phase, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PreRelease {
    /// `a`, also spelled `alpha`.
    Alpha,
    /// `b`, also spelled `beta`.
    Beta,
    /// `rc`, also spelled `c`, `pre` and `preview`.
    ReleaseCandidate,
}

impl PreRelease {
    fn as_str(self) -> &'static str {
        match self {
            PreRelease::Alpha => "a",
            PreRelease::Beta => "b",
            PreRelease::ReleaseCandidate => "rc",
        }
    }
}

/// One dot-separated segment of a local version label.
#[derive(Debug, Clone)]
enum LocalSegment {
    Text(String),
    Number(String),
}

impl Ord for LocalSegment {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (LocalSegment::Number(a), LocalSegment::Number(b)) => cmp_digits(a, b),
            (LocalSegment::Number(_), LocalSegment::Text(_)) => Ordering::Greater,
            (LocalSegment::Text(_), LocalSegment::Number(_)) => Ordering::Less,
            (LocalSegment::Text(a), LocalSegment::Text(b)) => a.cmp(b),
        }
    }
}

order_by_cmp!(LocalSegment);

impl fmt::Display for LocalSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalSegment::Text(text) => f.write_str(text),
            LocalSegment::Number(digits) => f.write_str(strip_leading_zeros(digits)),
        }
    }
}

/// A parsed PEP 440 version. Numbers keep their digits, so they have no size limit.
#[derive(Debug, Clone)]
pub struct Version {
    epoch: String,
    release: Vec<String>,
    pre: Option<(PreRelease, String)>,
    post: Option<String>,
    dev: Option<String>,
    local: Vec<LocalSegment>,
}

impl Version {
    /// Returns `true` for a pre-release or a dev release.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    /// Returns `true` when the version has a local label (`+ubuntu1`).
    pub fn has_local(&self) -> bool {
        !self.local.is_empty()
    }

    /// Sort key of the pre-release part: a dev release of the final release (`1.0.dev0`)
    /// sorts below every pre-release, and a version without pre-release sorts above them.
    fn pre_key(&self) -> PreKey<'_> {
        match (&self.pre, &self.post, &self.dev) {
            (None, None, Some(_)) => PreKey::BelowAll,
            (None, _, _) => PreKey::AboveAll,
            (Some((phase, number)), _, _) => PreKey::Pre(*phase, Number::from(number)),
        }
    }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum PreKey<'a> {
    BelowAll,
    Pre(PreRelease, Number<'a>),
    AboveAll,
}

/// Digit run ordered by numeric value.
#[derive(Debug, PartialEq, Eq)]
struct Number<'a>(&'a str);

impl PartialOrd for Number<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_digits(self.0, other.0)
    }
}

impl<'a> From<&'a String> for Number<'a> {
    fn from(digits: &'a String) -> Number<'a> {
        Number(digits)
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<Version, VersionError> {
        let invalid = |reason: &str| VersionError::new(Scheme::Pep440, text, reason);

        let trimmed = text.trim();
        if !trimmed.is_ascii() {
            return Err(invalid("version contains a non-ASCII character"));
        }
        let Some(captures) = VERSION_PATTERN.captures(trimmed) else {
            return Err(invalid("does not match the PEP 440 version pattern"));
        };
        let group = |name: &str| captures.name(name).map(|found| found.as_str());
        let number = |name: &str| group(name).unwrap_or("0").to_owned();

        let release = group("release")
            .unwrap_or_default()
            .split('.')
            .map(str::to_owned)
            .collect();

        let pre = group("pre_l").map(|letter| {
            let phase = match letter.to_ascii_lowercase().as_str() {
                "a" | "alpha" => PreRelease::Alpha,
                "b" | "beta" => PreRelease::Beta,
                _ => PreRelease::ReleaseCandidate,
            };
            (phase, number("pre_n"))
        });

        let post = group("post").map(|_| match group("post_n1") {
            Some(digits) => digits.to_owned(),
            None => number("post_n2"),
        });

        let dev = group("dev").map(|_| number("dev_n"));

        let local = group("local")
            .map(|label| {
                label
                    .split(['-', '_', '.'])
                    .map(|segment| {
                        if segment.bytes().all(|byte| byte.is_ascii_digit()) {
                            LocalSegment::Number(segment.to_owned())
                        } else {
                            LocalSegment::Text(segment.to_ascii_lowercase())
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();

        Ok(Version {
            epoch: number("epoch"),
            release,
            pre,
            post,
            dev,
            local,
        })
    }
}

/// Compares two releases as if the shorter were padded with zeros.
fn cmp_release(a: &[String], b: &[String]) -> Ordering {
    let length = a.len().max(b.len());
    (0..length)
        .map(|index| {
            let left = a.get(index).map_or("0", String::as_str);
            let right = b.get(index).map_or("0", String::as_str);
            cmp_digits(left, right)
        })
        .find(|ordering| ordering.is_ne())
        .unwrap_or(Ordering::Equal)
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        cmp_digits(&self.epoch, &other.epoch)
            .then_with(|| cmp_release(&self.release, &other.release))
            .then_with(|| self.pre_key().cmp(&other.pre_key()))
            // No post release sorts below any post release.
            .then_with(|| {
                self.post
                    .as_ref()
                    .map(Number::from)
                    .cmp(&other.post.as_ref().map(Number::from))
            })
            // No dev release sorts above any dev release.
            .then_with(|| match (&self.dev, &other.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => cmp_digits(a, b),
            })
            // No local label sorts below any local label.
            .then_with(|| self.local.cmp(&other.local))
    }
}

order_by_cmp!(Version);

/// Writes the normalised form, as `str(packaging.version.Version(...))` does.
impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let epoch = strip_leading_zeros(&self.epoch);
        if epoch != "0" {
            write!(f, "{epoch}!")?;
        }
        for (index, part) in self.release.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            f.write_str(strip_leading_zeros(part))?;
        }
        if let Some((phase, number)) = &self.pre {
            write!(f, "{}{}", phase.as_str(), strip_leading_zeros(number))?;
        }
        if let Some(number) = &self.post {
            write!(f, ".post{}", strip_leading_zeros(number))?;
        }
        if let Some(number) = &self.dev {
            write!(f, ".dev{}", strip_leading_zeros(number))?;
        }
        for (index, segment) in self.local.iter().enumerate() {
            f.write_str(if index == 0 { "+" } else { "." })?;
            write!(f, "{segment}")?;
        }
        Ok(())
    }
}

/// Normalises a version to its canonical PEP 440 text (`1.0-ALPHA_1` to `1.0a1`).
pub fn normalize(version: &str) -> Result<String, VersionError> {
    Ok(version.parse::<Version>()?.to_string())
}

/// Normalises a distribution name per PEP 503: lower case, and each run of `-`, `_` and
/// `.` replaced by one `-`.
pub fn normalize_pypi_name(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut in_separator_run = false;
    for character in name.chars() {
        if matches!(character, '-' | '_' | '.') {
            if !in_separator_run {
                normalized.push('-');
            }
            in_separator_run = true;
        } else {
            normalized.extend(character.to_lowercase());
            in_separator_run = false;
        }
    }
    normalized
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
    fn chain_sorts_strictly_ascending() {
        // Each version is lower than the next one.
        let chains: [&[&str]; 3] = [
            &[
                "1.0.dev0",
                "1.0a1.dev0",
                "1.0a1",
                "1.0a1.post1.dev0",
                "1.0a1.post1",
                "1.0b1",
                "1.0rc1",
                "1.0",
                "1.0+local",
                "1.0.post1.dev0",
                "1.0.post1",
            ],
            // Dev, pre, post and local releases across two epochs.
            &[
                "1.0.dev456",
                "1.0a1",
                "1.0a2.dev456",
                "1.0a12.dev456",
                "1.0a12",
                "1.0b1.dev456",
                "1.0b2",
                "1.0b2.post345.dev456",
                "1.0b2.post345",
                "1.0b2-346",
                "1.0c1.dev456",
                "1.0c1",
                "1.0rc2",
                "1.0c3",
                "1.0",
                "1.0.post456.dev34",
                "1.0.post456",
                "1.1.dev1",
                "1.2+123abc",
                "1.2+123abc456",
                "1.2+abc",
                "1.2+abc123",
                "1.2+abc123def",
                "1.2+1234.abc",
                "1.2+123456",
                "1.2.r32+123456",
                "1.2.rev33+123456",
                "1!1.0.dev456",
                "1!1.0a1",
                "1!1.0",
                "1!1.2.rev33+123456",
            ],
            &["0.9", "1.0", "1.0.1", "1.1", "1.10", "2!0.1"],
        ];
        for chain in chains {
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
    }

    #[test]
    fn equal_spellings_compare_equal() {
        let rows = [
            ("1.0", "1.0.0"),
            ("1.0", "1"),
            ("1.0", "0!1.0"),
            ("1.0", "v1.0"),
            ("1.0", "V1.0"),
            ("1.0", "  1.0\n"),
            ("1.0a1", "1.0alpha1"),
            ("1.0a1", "1.0.a.1"),
            ("1.0a1", "1.0-A-1"),
            ("1.0b2", "1.0beta2"),
            ("1.0rc1", "1.0c1"),
            ("1.0rc1", "1.0pre1"),
            ("1.0rc1", "1.0preview1"),
            ("1.0rc0", "1.0rc"),
            ("1.0.post1", "1.0-1"),
            ("1.0.post1", "1.0rev1"),
            ("1.0.post1", "1.0r1"),
            ("1.0.post1", "1.0-post-1"),
            ("1.0.post0", "1.0.post"),
            ("1.0.dev0", "1.0dev"),
            ("1.0.dev0", "1.0-DEV"),
            ("1.0+ubuntu.1", "1.0+Ubuntu-1"),
            ("1.0+ubuntu.1", "1.0+ubuntu_01"),
            ("1.01", "1.1"),
            ("1.0.0.0.0", "1"),
        ];
        for (a, b) in rows {
            assert_eq!(cmp(a, b), Ordering::Equal, "{a} == {b}");
        }
    }

    #[test]
    fn local_labels_compare_per_segment() {
        use Ordering::{Greater, Less};
        let rows = [
            ("1.0+ubuntu1", "1.0", Greater),
            ("1.0+ubuntu1", "1.0+ubuntu2", Less),
            ("1.0+1", "1.0+a", Greater),
            ("1.0+a", "1.0+a.1", Less),
            ("1.0+9", "1.0+10", Less),
            ("1.0+local", "1.0.post0", Less),
            ("1.0+local", "1.0.1", Less),
            ("1.0rc1+local", "1.0", Less),
        ];
        for (a, b, expected) in rows {
            assert_eq!(cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn huge_numbers_compare_numerically() {
        assert_eq!(
            cmp("1.99999999999999999999999", "1.100000000000000000000000"),
            Ordering::Less
        );
        assert_eq!(
            cmp(
                "1.0.post99999999999999999999",
                "1.0.post100000000000000000000"
            ),
            Ordering::Less
        );
    }

    #[test]
    fn normalize_produces_canonical_text() {
        let rows = [
            ("1.0", "1.0"),
            ("v1.0", "1.0"),
            ("1.0-ALPHA_1", "1.0a1"),
            ("1.0.beta", "1.0b0"),
            ("1.0c1", "1.0rc1"),
            ("1.0preview2", "1.0rc2"),
            ("1.0-1", "1.0.post1"),
            ("1.0rev", "1.0.post0"),
            ("1.0-dev", "1.0.dev0"),
            ("0!1.0", "1.0"),
            ("01!01.002", "1!1.2"),
            ("1.0+Ubuntu-01_x", "1.0+ubuntu.1.x"),
            (" 1.0a1.post2.dev3+abc ", "1.0a1.post2.dev3+abc"),
        ];
        for (input, expected) in rows {
            assert_eq!(normalize(input).unwrap(), expected, "{input}");
        }
    }

    #[test]
    fn invalid_versions_rejected() {
        for text in [
            "",
            "   ",
            "french toast",
            "1.0+",
            "1.0+.a",
            "1.0+a..b",
            "1.0a1a1",
            "1.0.post1.post2",
            "1!",
            "!1.0",
            "1.0-",
            "v",
            "1.0 1",
            "1.0é",
            "1.0dev1.post1",
            "1.0.dev1a1",
            "1..0",
            ".1.0",
        ] {
            assert!(
                text.parse::<Version>().is_err(),
                "{text:?} should be rejected"
            );
            assert!(normalize(text).is_err(), "{text:?} should not normalize");
        }
    }

    #[test]
    fn prerelease_flags_reported() {
        let version: Version = "1.0rc1+local".parse().unwrap();
        assert!(version.is_prerelease());
        assert!(version.has_local());
        let version: Version = "1.0.post1".parse().unwrap();
        assert!(!version.is_prerelease());
    }

    #[test]
    fn pypi_names_normalized() {
        let rows = [
            ("Django", "django"),
            ("zope.interface", "zope-interface"),
            ("ruamel_yaml", "ruamel-yaml"),
            ("A__B--C..D", "a-b-c-d"),
            ("a-_.b", "a-b"),
            ("already-normal", "already-normal"),
        ];
        for (input, expected) in rows {
            assert_eq!(normalize_pypi_name(input), expected, "{input}");
        }
    }
}
